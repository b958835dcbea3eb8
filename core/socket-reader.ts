// Reading a socket without a stream per read: net's `onread` option (Node ≥ 12.1) makes libuv read
// into a buffer we own and calls us with the byte count, skipping the Readable machinery, the
// per-read 64 KiB allocation and the ArrayBuffer it becomes (about a quarter of the user-space CPU
// of a proxied small request, measured with perf on the bench's hello case).
//
// Ownership rule: every chunk handed to `sink` belongs to the receiver, which may keep it (a
// partial head, a body piece queued behind a slow socket). Small reads are copied out of the read
// buffer into a pooled Buffer; a large read hands the read buffer itself over and the next read
// gets a fresh one, so nothing ever writes over bytes someone still holds.
import { Buffer } from 'node:buffer';
import type net from 'node:net';

/** Where the bytes of each read go. */
export type ByteSink = (chunk: Buffer) => void;

/** Reads up to this size are copied (Buffer.allocUnsafe serves them from its shared pool). */
const COPY_MAX_BYTES = 4095;
/**
 * The first read buffer of a socket: a request head, a small response. Every socket holds one
 * while it is open (libuv reads into it), so it is small: 10 000 idle keep-alive clients hold
 * 40 MB; a body that fills it makes the next one twice as big, up to MAX_BYTES.
 */
const INITIAL_BYTES = 4 * 1024;
/** The largest read buffer: what Node reads at once by default (a 64 KiB piece of a big body). */
const MAX_BYTES = 64 * 1024;

function ignore(): void { /* no reader (yet, or any more) */ }

export class SocketReader {
  /** Receives each read; may be replaced (a connection handing its socket to a tunnel). */
  sink: ByteSink;
  private buf: Buffer | null = null;
  /** `buf`'s memory and where in it `buf` starts, for copying out without Buffer#copy. */
  private mem: ArrayBuffer | null = null;
  private memOffset = 0;
  /** The current read buffer was given away: the next read needs a new one. */
  private handedOut = false;
  /** The last read filled its buffer: the next one may be bigger. */
  private filled = false;
  /** The last read was small: a grown buffer is halved (down to INITIAL_BYTES). */
  private small = false;
  /** For net.connect() / new net.Socket(): `{ onread: reader.onread }`. */
  readonly onread: net.OnReadOpts;

  constructor(sink: ByteSink = ignore) {
    this.sink = sink;
    this.onread = {
      buffer: () => this.nextBuffer(),
      callback: (bytes: number, buf: Uint8Array) => {
        this.deliver(bytes, buf as Buffer);
        return true;
      },
    };
  }

  /** Size of the buffer the next read goes into (0 before the socket asked for one). */
  get readBufferBytes(): number { return this.buf?.length ?? 0; }

  /** Drop whatever is read from now on (a connection giving its socket away; the new owner sets `sink`). */
  drop(): void { this.sink = ignore; }

  /** For a socket made without `onread` (the stdin socket of -1, a TLS socket): its 'data' events. */
  listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.sink(chunk));
  }

  private nextBuffer(): Buffer {
    let b = this.buf;
    const shrink = b !== null && this.small && b.length > INITIAL_BYTES;
    if (b === null || this.handedOut || shrink) {
      // A read that filled its buffer asks for a bigger one next time (a body is streaming); a
      // small read halves a grown one (a transfer is over: an idle socket ends up with a small one).
      const size = b === null ? INITIAL_BYTES
        : this.filled ? Math.min(MAX_BYTES, b.length * 2)
          : shrink ? Math.max(INITIAL_BYTES, b.length >> 1) : b.length;
      this.small = false;
      b = Buffer.allocUnsafeSlow(size);
      this.buf = b;
      this.mem = b.buffer as ArrayBuffer;
      this.memOffset = b.byteOffset;
      this.handedOut = false;
    }
    return b;
  }

  private deliver(bytes: number, buf: Buffer): void {
    let chunk: Buffer;
    this.filled = bytes === buf.length;
    this.small = bytes <= COPY_MAX_BYTES;
    if (bytes <= COPY_MAX_BYTES) {
      chunk = Buffer.allocUnsafe(bytes);
      // A view of the bytes read, from the ArrayBuffer kept at allocation: Buffer#copy would
      // read `.buffer` and `.byteOffset` through generic property loads on every read.
      const mem = this.mem;
      if (mem !== null && buf === this.buf) chunk.set(new Uint8Array(mem, this.memOffset, bytes));
      else buf.copy(chunk, 0, 0, bytes);
    } else {
      chunk = buf.subarray(0, bytes);
      this.handedOut = true;
    }
    this.sink(chunk);
  }
}

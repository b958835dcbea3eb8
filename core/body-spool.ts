// A request body read whole before a backend is taken (design.md §3 "Buffering protects the pool",
// lighttpd's `server.stream-request-body = 0`): memory up to a threshold, then an unlinked temp file
// in `server.upload-dirs`, as lighttpd's chunkqueue does (src/chunk.c, chunkqueue_get_append_tempfile).
//
// Why: CGI-family backends (FastCGI, SCGI) need CONTENT_LENGTH, so a chunked upload is read to its
// end first; a large upload must never sit in memory. Memory held while spooling is at most
// `memoryBytes` (or one write batch) plus the chunk being handled; the client is paused while a
// file operation is pending (design.md §2, back-pressure).
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LanternError } from './errors.js';
import type { HeaderList } from './http1/types.js';
import type { RequestBody } from './request-body.js';

export interface SpoolOptions {
  /**
   * Bytes kept in memory; a body longer than this goes, whole, to a temp file (a body of declared
   * length above it goes there from its first byte). 0 sends every non-empty body to a file.
   * Default: DEFAULT_SPOOL_MEMORY_BYTES (64 KiB, where lighttpd moves to a temp file).
   */
  memoryBytes: number;
  /**
   * Largest body accepted, in bytes (server.max-request-size is in KiB: multiply by 1024);
   * a longer body rejects with LanternError('LT_ERR_BODY_TOO_LARGE') and leaves the client paused.
   * 0: no limit.
   */
  maxBytes: number;
  /**
   * Directories for the temp file (server.upload-dirs, lighttpd's default ['/var/tmp']), tried in
   * order: a file that cannot be created in one is tried in the next; none usable rejects with
   * LanternError('LT_ERR_INTERNAL') naming each directory and why.
   */
  dirs: readonly string[];
}

/** lighttpd moves a request body to a temp file after 64 KiB. */
export const DEFAULT_SPOOL_MEMORY_BYTES = 64 * 1024;
/** The largest piece a reader returns; once in a file, writes gather up to min(this, memoryBytes). */
export const SPOOL_PIECE_BYTES = 64 * 1024;
/** Tries per directory when a random temp name already exists (`wx` refuses it). */
const NAME_TRIES = 3;

/** What spoolBody needs of a RequestBody (RequestBody itself; tests may pass a stand-in). */
export type SpoolableBody = Pick<RequestBody, 'length' | 'read' | 'pause' | 'resume'>;

/**
 * Reads `body` to its end; resolves with the spooled body, which the caller must dispose() when
 * the request ends. Rejects on a client error (the sink's `error()`), on LT_ERR_BODY_TOO_LARGE
 * (the client is left paused: answer 413 and close), and on a temp file that cannot be created or
 * written (LT_ERR_INTERNAL). An open temp file is closed before the rejection; one still being
 * opened is closed as soon as the open completes.
 */
export function spoolBody(body: SpoolableBody, opts: SpoolOptions): Promise<SpooledBody> {
  return new Promise<SpooledBody>((resolve, reject) => {
    // A declared length over the limit is refused before reading starts, so the client is not
    // sent `100 Continue` (RequestBody.read() is where it goes out) for a body that is refused.
    if (opts.maxBytes > 0 && body.length > opts.maxBytes) {
      reject(tooLarge(opts.maxBytes));
      return;
    }
    try {
      body.read(new Spooler(body, opts, resolve, reject));
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * A complete request body, in memory or in an unlinked temp file. Read it with reader(), as many
 * times as needed (a retry replays it); each reader starts at the first byte.
 */
export class SpooledBody {
  readonly length: number;
  readonly trailers: HeaderList;
  /** The body is in a temp file (false: in memory, the disk was never touched). */
  readonly inFile: boolean;
  /** The body when it is in memory (one buffer, so a piece is a view of it). */
  private memory: Buffer;
  private file: FileHandle | null;
  private disposing: Promise<void> | null = null;

  /** Built by spoolBody(): the body is `file` when there is one, else `memory`. */
  constructor(memory: Buffer, file: FileHandle | null, length: number, trailers: HeaderList) {
    this.memory = memory;
    this.file = file;
    this.length = length;
    this.trailers = trailers;
    this.inFile = file !== null;
  }

  /** A new reader from the first byte; readers are independent and may run at the same time. */
  reader(): SpoolReader {
    return new SpoolReader((offset) => this.pieceAt(offset));
  }

  /** Closes the temp file and drops the memory (idempotent); the caller calls it when the request ends. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      const file = this.file;
      this.file = null;
      this.memory = Buffer.alloc(0);
      // FileHandle.close() waits for a read in flight, so a reader never reads a reused fd.
      this.disposing = file ? file.close() : Promise.resolve();
    }
    return this.disposing;
  }

  get disposed(): boolean { return this.disposing !== null; }

  /** The whole body when it is held in memory (null when it is in a temp file, or disposed). */
  get memoryBody(): Buffer | null {
    return this.file === null && this.disposing === null ? this.memory : null;
  }

  /** The piece at `offset` (at most SPOOL_PIECE_BYTES), or null at the end. */
  private async pieceAt(offset: number): Promise<Buffer | null> {
    if (this.disposing) throw new Error('the spooled request body was disposed');
    if (offset >= this.length) return null;
    const want = Math.min(SPOOL_PIECE_BYTES, this.length - offset);
    if (this.file) {
      // A fresh buffer each time: the caller may keep it (a socket write still queued).
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.file.read(buf, 0, want, offset);
      if (bytesRead === 0) throw new Error(`the request body temp file ends at ${offset} of ${this.length} bytes`);
      return buf.subarray(0, bytesRead);
    }
    return this.memory.subarray(offset, offset + want);
  }
}

/**
 * Pulls a SpooledBody in order, one piece (≤ SPOOL_PIECE_BYTES) at a time. Pull-based so that a
 * writer with back-pressure asks for the next piece only when its socket can take it:
 *
 *   for await (const piece of spooled.reader()) {
 *     if (!socket.write(piece)) await drained(socket);   // wait for 'drain' (or close/error)
 *   }
 *
 * `next()` calls are served in order even if issued before the previous one settled.
 */
export class SpoolReader implements AsyncIterable<Buffer> {
  private readonly pieceAt: (offset: number) => Promise<Buffer | null>;
  private offset = 0;
  private tail: Promise<unknown> = Promise.resolve();

  /** Built by SpooledBody.reader(). */
  constructor(pieceAt: (offset: number) => Promise<Buffer | null>) {
    this.pieceAt = pieceAt;
  }

  /** Bytes handed out so far. */
  get position(): number { return this.offset; }

  /** The next piece, or null once the whole body was returned. */
  next(): Promise<Buffer | null> {
    const piece = this.tail.then(async () => {
      const buf = await this.pieceAt(this.offset);
      if (buf) this.offset += buf.length;
      return buf;
    });
    this.tail = piece.catch(() => undefined);
    return piece;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let piece = await this.next(); piece !== null; piece = await this.next()) yield piece;
  }
}

function tooLarge(maxBytes: number): LanternError {
  return new LanternError('LT_ERR_BODY_TOO_LARGE', `more than ${maxBytes} bytes`);
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Creates a temp file in the first usable directory and unlinks it at once: the fd stays valid
 * (POSIX) and nothing is left on disk, even after a crash.
 */
export async function openTempFile(dirs: readonly string[], kind: 'upload' | 'response' = 'upload'): Promise<FileHandle> {
  const what = kind === 'upload' ? 'request body' : 'response body';
  const failures: string[] = [];
  const causes: unknown[] = [];
  for (const dir of dirs) {
    for (let attempt = 0; attempt < NAME_TRIES; attempt++) {
      const file = path.join(dir, `lantern-${kind}-${process.pid}-${randomBytes(8).toString('hex')}`);
      let handle: FileHandle;
      try {
        handle = await open(file, 'wx+', 0o600);
      } catch (err) {
        if (errorCode(err) === 'EEXIST' && attempt + 1 < NAME_TRIES) continue;
        failures.push(`${dir}: ${errorCode(err)}`);
        causes.push(err);
        break;
      }
      try {
        await unlink(file);
        return handle;
      } catch (err) {
        // A file we cannot remove would outlive the request: give up on this directory.
        await handle.close().catch(() => undefined);
        failures.push(`${dir}: unlink ${errorCode(err)}`);
        causes.push(err);
        break;
      }
    }
  }
  const err = new LanternError('LT_ERR_INTERNAL', dirs.length === 0
    ? `no directory for ${what} temp files (server.upload-dirs is empty)`
    : `cannot create a ${what} temp file in server.upload-dirs (${failures.join(', ')})`);
  err.cause = causes;
  return Promise.reject(err);
}

/** The sink that reads the client's body into memory, then into the temp file. */
class Spooler {
  private readonly body: SpoolableBody;
  private readonly opts: SpoolOptions;
  private readonly resolve: (spooled: SpooledBody) => void;
  private readonly reject: (err: unknown) => void;
  /** Bytes not yet in the file: the whole body while in memory, a write batch after. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private file: FileHandle | null = null;
  private fileBytes = 0;
  private totalBytes = 0;
  /** Once in the file, bytes gathered before one write (never more than memoryBytes). */
  private readonly batchBytes: number;
  /** An open or a write is pending; the client is paused meanwhile. */
  private busy = false;
  /** The client's trailers once its body ended. */
  private ended: HeaderList | null = null;
  /** Resolved or rejected. */
  private done = false;

  constructor(body: SpoolableBody, opts: SpoolOptions, resolve: (s: SpooledBody) => void, reject: (e: unknown) => void) {
    this.body = body;
    this.opts = opts;
    this.resolve = resolve;
    this.reject = reject;
    this.batchBytes = Math.min(SPOOL_PIECE_BYTES, opts.memoryBytes);
  }

  data(chunk: Buffer): void {
    if (this.done || chunk.length === 0) return;
    this.totalBytes += chunk.length;
    if (this.opts.maxBytes > 0 && this.totalBytes > this.opts.maxBytes) {
      this.body.pause();
      this.fail(tooLarge(this.opts.maxBytes));
      return;
    }
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    if (this.busy) return; // a stand-in body that ignored pause(): the pending drain writes it too
    const toFile = this.file !== null
      ? this.partsBytes >= this.batchBytes
      : this.totalBytes > this.opts.memoryBytes || this.body.length > this.opts.memoryBytes;
    if (toFile) void this.drain();
  }

  end(trailers: HeaderList): void {
    if (this.done) return;
    this.ended = trailers;
    if (this.busy) return; // drain() finishes
    if (this.file && this.partsBytes > 0) void this.drain();
    else this.finish();
  }

  error(err: Error): void {
    this.fail(err);
  }

  /** Moves `parts` to the file (opening it first), with the client paused until it is done. */
  private async drain(): Promise<void> {
    this.busy = true;
    this.body.pause();
    try {
      let file = this.file;
      if (!file) {
        file = await openTempFile(this.opts.dirs);
        if (this.done) { await file.close().catch(() => undefined); return; }
        this.file = file;
      }
      while (this.partsBytes > 0 && !this.done) {
        const batch = this.parts;
        const bytes = this.partsBytes;
        this.parts = [];
        this.partsBytes = 0;
        await writeAll(file, batch, this.fileBytes);
        this.fileBytes += bytes;
      }
    } catch (err) {
      this.fail(err instanceof LanternError ? err : writeFailed(err));
      return;
    }
    this.busy = false;
    if (this.done) return;
    // The client was paused for the writes: resume it in every case, or a body that ended
    // meanwhile would leave its connection paused and the next request on it unread.
    const endedBefore = this.ended !== null;
    this.body.resume(); // may deliver more data (and end, which finishes or drains) synchronously
    if (endedBefore && !this.done && !this.busy) this.finish();
  }

  private finish(): void {
    this.done = true;
    // In memory: one buffer (≤ memoryBytes, copied once) so the reader hands out whole pieces,
    // not the client's many small chunks.
    const memory = this.file ? Buffer.alloc(0) : this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partsBytes);
    const spooled = new SpooledBody(memory, this.file, this.totalBytes, this.ended ?? []);
    this.parts = [];
    this.file = null;
    this.resolve(spooled);
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.parts = [];
    this.partsBytes = 0;
    const file = this.file;
    this.file = null;
    // Closed before the rejection is seen; close() waits for a write in flight.
    if (file) void file.close().catch(() => undefined).then(() => this.reject(err));
    else this.reject(err);
  }
}

function writeFailed(err: unknown): LanternError {
  const wrapped = new LanternError('LT_ERR_INTERNAL', `writing the request body temp file: ${errorCode(err)}`);
  wrapped.cause = err;
  return wrapped;
}

/** Writes `buffers` at `position`, continuing after short writes. */
async function writeAll(file: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, at);
    if (bytesWritten === 0) throw new Error('a write to the request body temp file wrote nothing');
    at += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i].length) skip -= rest[i++].length;
    rest = rest.slice(i);
    if (skip > 0) rest[0] = rest[0].subarray(skip);
  }
}

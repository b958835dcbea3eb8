// A request body as the core delivers it to the handler: streamed with back-pressure
// (design.md §2, lighttpd's chunkqueue), never buffered whole unless the handler asks for it.
import { Buffer } from 'node:buffer';
import { LanternError } from './errors.js';
import type { HeaderList } from './http1/types.js';

export interface BodySink {
  /** A piece of the (de-chunked) body. Return `false` to pause until `body.resume()`. */
  data(chunk: Buffer): boolean | void;
  /** The body is complete; trailers of a chunked body (forbidden names already dropped). */
  end(trailers: HeaderList): void;
  /** The body cannot complete: the client went away, stalled, or sent bad framing. */
  error(err: Error): void;
}

/** What the connection does for the body (implemented by Connection). */
export interface BodySource {
  /** First read: the place for `100 Continue` (RFC 9110 §10.1.1). */
  bodyReadStarted(): void;
  pauseBody(): void;
  resumeBody(): void;
}

/** Bytes buffered for a handler that has not started reading, before the client is paused. */
const PENDING_HIGH_WATER_BYTES = 64 * 1024;

export class RequestBody {
  /** Declared length; -1 when chunked (unknown until the end); 0 when there is no body. */
  readonly length: number;
  /** De-chunked bytes received so far. */
  received = 0;
  complete: boolean;
  failed: Error | null = null;
  trailers: HeaderList = [];
  private sink: BodySink | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private paused = false;
  /** end() or error() was delivered to the sink. */
  private settled = false;
  private readonly source: BodySource;

  constructor(source: BodySource, length: number) {
    this.source = source;
    this.length = length;
    this.complete = length === 0;
  }

  /** Whether the request has a body at all. */
  get present(): boolean { return this.length !== 0; }

  /** Start receiving the body. Call once. */
  read(sink: BodySink): void {
    if (this.sink) throw new Error('request body is already being read');
    this.sink = sink;
    if (!this.complete && !this.failed) this.source.bodyReadStarted();
    if (this.paused) {
      // Paused at the high-water mark while nobody read: the reader decides from now on.
      this.resume();
      return;
    }
    this.flush();
  }

  pause(): void {
    if (!this.paused) { this.paused = true; this.source.pauseBody(); }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
    if (!this.paused) this.source.resumeBody();
  }

  /** Collect the whole body in memory; rejects with 413 past `limitBytes`. */
  buffer(limitBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      this.read({
        data: (chunk) => {
          size += chunk.length;
          if (size > limitBytes) { reject(new LanternError('LT_ERR_BODY_TOO_LARGE')); return false; }
          parts.push(chunk);
          return true;
        },
        end: () => resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts, size)),
        error: reject,
      });
    });
  }

  /** Whether a handler has started reading. */
  get reading(): boolean { return this.sink !== null; }

  // --- fed by the connection ---

  push(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.sink && !this.paused && this.pending.length === 0) {
      if (this.sink.data(chunk) === false) this.pause();
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= PENDING_HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      this.source.pauseBody();
    }
  }

  end(trailers: HeaderList): void {
    this.complete = true;
    this.trailers = trailers;
    if (this.sink && this.pending.length === 0 && !this.paused) this.settle();
  }

  fail(err: Error): void {
    if (this.complete || this.failed) return;
    this.failed = err;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.sink) this.settle();
  }

  private flush(): void {
    const sink = this.sink;
    if (!sink) return;
    while (this.pending.length > 0 && !this.paused) {
      const chunk = this.pending.shift()!;
      this.pendingBytes -= chunk.length;
      if (sink.data(chunk) === false) { this.paused = true; this.source.pauseBody(); }
    }
    if (this.pending.length === 0 && !this.paused && (this.failed || this.complete)) this.settle();
  }

  private settle(): void {
    if (this.settled || !this.sink) return;
    this.settled = true;
    if (this.failed) this.sink.error(this.failed);
    else this.sink.end(this.trailers);
  }
}

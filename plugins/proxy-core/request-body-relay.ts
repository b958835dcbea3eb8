// The client's request body on its way to the backend (design.md §3 "Streaming", checklist C2,
// G1-G4): streamed with back-pressure both ways and kept for a replay up to
// retry-body-buffer-size (E7); or, for a backend that needs its length, read whole first (memory
// up to 64 KiB, then an unlinked temp file) and sent from there as the backend drains.
import { Buffer } from 'node:buffer';
import { LanternError } from '../../core/errors.js';
import { DEFAULT_SPOOL_MEMORY_BYTES, spoolBody } from '../../core/body-spool.js';
import type { HeaderList } from '../../core/http1/types.js';
import type { BodySink } from '../../core/request-body.js';
import { BodyMode, ProxyRequestState } from './proxy-request-state.js';
import { Phase, type UpstreamConnection } from './upstream-connection.js';
import type { Exchange } from './types.js';

export abstract class RequestBodyRelay extends ProxyRequestState {
  /**
   * server.stream-request-body = 0 (lighttpd's default): the body is read whole before a backend
   * connection is taken, up to server.max-request-size: in memory up to 64 KiB, above that in a
   * temp file in server.upload-dirs (never a large upload in memory), and sent with its length
   * (C2: a chunked body reaches a backend that needs a length de-chunked).
   */
  protected bufferWholeBody(): void {
    const req = this.req;
    this.bodyMode = BodyMode.Buffered;
    const server = req.conn.server;
    spoolBody(req.body, { memoryBytes: DEFAULT_SPOOL_MEMORY_BYTES, maxBytes: server.limits.maxRequestBytes, dirs: server.uploadDirs }).then((spooled) => {
      if (this.done) { void spooled.dispose(); return; }
      this.spooled = spooled;
      this.up.bodyLength = spooled.length;
      this.bodyComplete = true;
      this.bodyTrailers = spooled.trailers;
      this.attempt();
    }, (err: unknown) => {
      if (this.done) return;
      if (!(err instanceof LanternError)) this.core.log(`${req.method} ${req.target}: cannot hold the request body: ${(err as Error).message}`);
      this.finish();
      if (!req.finished) req.fail(err);
    });
  }

  /** Send a spooled body from its temp file, a piece at a time, waiting for the backend to drain. */
  protected pumpSpooled(c: UpstreamConnection, ex: Exchange): void {
    const reader = this.spooled!.reader();
    const step = (): void => {
      reader.next().then((piece) => {
        if (this.conn !== c || this.exchange !== ex || !this.attemptLive || this.done) return;
        if (piece === null) {
          this.writeFramed(ex.end(this.bodyTrailers));
          this.bodyWritten(c);
          this.spoolStep = null;
          this.armAfterWrite();
          return;
        }
        const framed = ex.body(piece);
        c.socket.cork();
        const ok = this.writeFramed(framed);
        c.socket.uncork();
        if (ok) step();
        else { this.spoolStep = step; c.setPhase(Phase.Write); }
      }, (err: unknown) => {
        if (this.done) return;
        this.core.log(`${this.req.method} ${this.req.target}: cannot read the spooled request body: ${(err as Error).message}`);
        this.giveUpAttempt();
        this.finishWithError('LT_ERR_INTERNAL');
      });
    };
    step();
  }

  bodyData(chunk: Buffer): boolean {
    if (this.discardBody || this.done) return true;
    if (!this.replayLost) {
      this.replayBytes += chunk.length;
      if (this.replayBytes <= this.backend.options.retryBodyBufferBytes) (this.replay ??= []).push(chunk);
      else { this.replay = null; this.replayLost = true; }
    }
    const c = this.conn;
    if (c === null || c.state !== 'busy' || this.exchange === null || !this.attemptLive) {
      // Between attempts: kept for the replay (if it fits); the client waits.
      this.bodyPaused = true;
      return false;
    }
    const framed = this.exchange.body(chunk);
    let ok: boolean;
    if (Array.isArray(framed)) {
      c.socket.cork();
      ok = this.writeFramed(framed);
      c.socket.uncork();
    } else {
      ok = this.writeFramed(framed);
    }
    if (!ok) {
      // The backend is slower than the client: pause the client (back-pressure).
      this.bodyPaused = true;
      c.setPhase(Phase.Write);
    }
    return ok;
  }

  bodyEnd(trailers: HeaderList): void {
    this.bodyComplete = true;
    this.bodyTrailers = trailers;
    if (this.discardBody || this.done) return;
    const c = this.conn;
    if (c === null || c.state !== 'busy' || this.exchange === null || !this.attemptLive) return; // sent with the replay
    const framed = this.exchange.end(trailers);
    if (Array.isArray(framed)) {
      c.socket.cork();
      this.writeFramed(framed);
      c.socket.uncork();
    } else {
      this.writeFramed(framed);
    }
    this.bodyWritten(c);
    this.armAfterWrite();
  }

  bodyError(): void {
    // G1, A13, F2: the body cannot complete (client gone, bad framing, too slow). The core
    // answers the client or has closed it; the upstream request is aborted, never completed.
    if (this.done) return;
    this.abandon();
  }
}

/** The client's request body as RequestBody delivers it, passed to its ProxyRequest. */
export class BodyRelay implements BodySink {
  private readonly pr: RequestBodyRelay;
  constructor(pr: RequestBodyRelay) { this.pr = pr; }
  data(chunk: Buffer): boolean { return this.pr.bodyData(chunk); }
  end(trailers: HeaderList): void { this.pr.bodyEnd(trailers); }
  error(): void { this.pr.bodyError(); }
}

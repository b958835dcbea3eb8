// The connection state machine (lighttpd's connections.c): read head → handle (body streams to
// the handler) → write → keep-alive or close. Pipelined requests wait in the read buffer until
// the previous response is finished (RFC 9112 §9.3.2). Timeouts are deadlines checked by the
// server's once-a-second tick, not timers per request.
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { ERRORS, errorPage, LanternError, statusText, type ErrorCode } from './errors.js';
import { ChunkedDecoder } from './http1/chunked.js';
import { parseRequestHead } from './http1/request-head.js';
import type { FramingError, RequestHead } from './http1/types.js';
import type { BodySource } from './request-body.js';
import { Request } from './request.js';
import type { Listener } from './listeners.js';
import type { Server } from './server.js';
import type { SocketReader } from './socket-reader.js';
import { BATCH_MAX_BYTES, batchWrite, flushBatched, type BatchedWriter } from './write-batch.js';

type State = 'head' | 'body' | 'linger' | 'closed';

const EMPTY = Buffer.alloc(0);

/** Unparsed pipelined bytes kept while a response is in progress, before reading pauses. */
const PIPELINE_HIGH_WATER_BYTES = 64 * 1024;
/** How long a closing connection keeps draining the client's bytes (RFC 9112 §9.6, F6). */
const LINGER_MS = 2000;

export class Connection implements BodySource, BatchedWriter {
  readonly server: Server;
  readonly socket: Socket;
  /** Where the socket's bytes arrive (owned chunks, see socket-reader.ts). */
  readonly reader: SocketReader;
  readonly listener: Listener;
  /**
   * The client's address and port. Replaceable: mod_extforward puts the address a trusted proxy
   * forwarded (for one request, restored at requestReset) or a PROXY protocol header gave (for
   * the connection); everything after it (conditions, logs, CGI REMOTE_ADDR) reads this.
   */
  remoteAddress: string;
  remotePort: number;
  /** The local end, read once (socket.localAddress is a getsockname() call each time). */
  private local: { address: string; port: number | undefined } | null = null;
  readonly scheme: string;
  /** Requests started on this connection. */
  requests = 0;
  /** The request being handled (the oldest one, with pipelining). */
  req: Request | null = null;
  closed = false;
  /** Close after the first response (-1). */
  singleRequest = false;
  /** Per-plugin connection state. */
  readonly pluginData = new Map<string, unknown>();
  /** Small writes held for the end of the event loop's turn (write-batch.ts). */
  held: Buffer | string | null = null;
  heldMore: Array<Buffer | string> | null = null;
  heldBytes = 0;

  private state: State = 'head';
  private buf: Buffer | null = null;
  private bodyRemaining = 0;
  private decoder: ChunkedDecoder | null = null;
  private readPaused = false;
  private bodyPaused = false;
  private waitingDrain = false;
  private clientEnded = false;
  /** Deadline (server clock, ms) of the current wait; 0 = none. */
  deadlineMs = 0;
  /** When the current request's body started (server clock). */
  private bodyStartMs = 0;
  private headStartedMs = 0;
  private lastWriteProgressMs = 0;
  private lastBytesWritten = 0;

  /** The address this connection was accepted on ('' for a unix socket), read once per connection. */
  get localAddress(): string {
    return (this.local ??= { address: this.socket.localAddress ?? '', port: this.socket.localPort }).address;
  }

  /** The port this connection was accepted on (undefined for a unix socket), read once per connection. */
  get localPort(): number | undefined {
    return (this.local ??= { address: this.socket.localAddress ?? '', port: this.socket.localPort }).port;
  }

  constructor(server: Server, socket: Socket, listener: Listener, reader: SocketReader) {
    this.server = server;
    this.socket = socket;
    this.reader = reader;
    this.listener = listener;
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '') || (listener.unixPath ? '127.0.0.1' : '');
    this.remotePort = socket.remotePort ?? 0;
    this.scheme = listener.scheme;
    socket.setNoDelay(true);
    reader.sink = (chunk: Buffer) => this.onData(chunk);
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
    socket.on('error', () => { /* 'close' follows; a reset client is not a server error */ });
    socket.on('drain', () => this.onDrain());
    this.armIdle(server.limits.readIdleMs);
  }

  /** The listener as lighttpd's $SERVER["socket"] names it. */
  get serverSocket(): string { return this.listener.name; }

  // --- reading ---

  private onData(chunk: Buffer): void {
    if (this.state === 'linger' || this.state === 'closed') return; // drained and dropped
    this.buf = this.buf === null || this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.state === 'body') this.deadlineMs = this.bodyDeadline();
    this.process();
  }

  private process(): void {
    this.processBuffered();
    // After the client's FIN nothing more will come: what is buffered was all of it.
    if (this.clientEnded && !this.closed) this.settleAfterEnd();
  }

  private processBuffered(): void {
    while (this.buf !== null && this.buf.length > 0 && !this.closed) {
      if (this.state === 'body') {
        if (!this.feedBody()) return;
        continue;
      }
      if (this.state !== 'head') return;
      if (this.req !== null || this.waitingDrain) {
        // A pipelined request waits for the current response (and the client to read it).
        if (this.buf.length > PIPELINE_HIGH_WATER_BYTES) this.pauseReading();
        return;
      }
      const r = parseRequestHead(this.buf, this.server.limits.request);
      if (r.kind === 'incomplete') {
        if (this.headStartedMs === 0) {
          this.headStartedMs = this.server.nowMs;
          this.deadlineMs = this.server.nowMs + this.server.limits.readIdleMs;
        }
        return;
      }
      if (r.kind === 'empty') {
        this.buf = r.consumed >= this.buf.length ? null : this.buf.subarray(r.consumed);
        continue;
      }
      if (r.kind === 'error') {
        this.rejectHead(r.error);
        return;
      }
      this.buf = r.consumed >= this.buf.length ? null : this.buf.subarray(r.consumed);
      this.headStartedMs = 0;
      this.startRequest(r.head);
    }
  }

  private startRequest(head: RequestHead): void {
    this.requests++;
    const server = this.server;
    server.counters.requests++;
    const bodyLength = head.chunked ? -1 : head.contentLength > 0 ? head.contentLength : 0;
    const req = new Request(this, head, bodyLength);
    this.req = req;
    if (bodyLength !== 0) {
      this.state = 'body';
      this.bodyRemaining = bodyLength;
      this.decoder = head.chunked ? new ChunkedDecoder() : null;
      this.bodyStartMs = server.nowMs;
      this.deadlineMs = this.bodyDeadline();
    } else {
      this.deadlineMs = 0;
    }
    server.pipeline.run(req);
  }

  /** Feed buffered bytes to the body. Returns false when processing must stop. */
  private feedBody(): boolean {
    const req = this.req!;
    const buf = this.buf!;
    const body = req.body;
    const maxBytes = this.server.limits.maxRequestBytes;
    if (this.decoder === null) {
      const n = Math.min(this.bodyRemaining, buf.length);
      const piece = n === buf.length ? buf : buf.subarray(0, n);
      this.buf = n === buf.length ? null : buf.subarray(n);
      this.bodyRemaining -= n;
      body.push(piece);
      if (this.bodyRemaining === 0) this.bodyDone([]);
      return true;
    }
    const used = this.decoder.push(buf, (chunk) => body.push(chunk));
    if (used < 0) {
      this.buf = null;
      this.bodyFramingError(this.decoder.error ?? { code: 'LT_ERR_CHUNK_INVALID', detail: 'bad chunk' });
      return false;
    }
    this.buf = used >= buf.length ? null : buf.subarray(used);
    if (maxBytes > 0 && body.received > maxBytes) {
      this.bodyFramingError({ code: 'LT_ERR_BODY_TOO_LARGE', detail: `${body.received} bytes` });
      return false;
    }
    if (this.decoder.done) this.bodyDone(this.decoder.trailers);
    return true;
  }

  private bodyDone(trailers: string[]): void {
    this.state = 'head';
    this.decoder = null;
    this.deadlineMs = 0;
    const req = this.req!;
    req.body.end(trailers);
    if (req.finished) this.nextRequest();
  }

  /** Bad chunked framing or too much body: the connection can no longer be trusted (A8-A12, A17). */
  private bodyFramingError(err: FramingError): void {
    const req = this.req!;
    const lerr = new LanternError(err.code, err.detail);
    this.server.debugLog('body error %s: %s', err.code, err.detail);
    this.state = 'head';
    req.keepAlive = false;
    req.body.fail(lerr);
    if (!req.headSent && !req.finished) req.sendError(lerr.status, err.code);
    else this.closeNow();
  }

  private onEnd(): void {
    this.clientEnded = true;
    if (this.state === 'linger') { this.closeNow(); return; }
    if (this.req !== null && this.state !== 'body') {
      // A reset that came in before this socket was read (still in the accept queue, or under
      // load) is reported by read() as the data and then EOF. A write of nothing tells the two
      // apart without sending a byte: it fails on a reset socket ('close' follows and the request
      // is abandoned at once) and succeeds on a half-closed or closed one (lighttpd reads the
      // TCP state for the same purpose).
      this.socket.write(EMPTY);
    }
    this.settleAfterEnd();
  }

  /**
   * The client half-closed (allowHalfOpen) and every byte it sent has been parsed as far as it
   * goes: the request in progress is still answered and, after it, the requests it pipelined
   * before its FIN (lighttpd answers them too); an unfinished body fails (A13); with nothing
   * left to answer the connection ends.
   */
  private settleAfterEnd(): void {
    const req = this.req;
    if (req !== null) {
      if (this.state === 'body') {
        this.state = 'head';
        req.keepAlive = false;
        req.body.fail(new LanternError('LT_ERR_BAD_REQUEST', 'client closed before the body was complete'));
        if (!req.headSent && !req.finished) req.sendError(400, 'LT_ERR_BAD_REQUEST');
        // Answered before its body was in (a 404, a 405, an early backend answer) and the rest
        // will never come: nothing is left to do on this connection.
        else if (req.finished) this.closeNow();
        return;
      }
      req.halfClosed();
      return;
    }
    // Answers wait for the client to read them (F4): the drain carries on with the rest.
    if (this.waitingDrain) return;
    // Nothing in progress and nothing complete buffered: a partial head, blank lines or nothing
    // at all (A16: no answer). What was written before still goes out, then the close.
    this.linger();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closed = true;
    const req = this.req;
    if (req !== null && !req.finished) {
      req.body.fail(new LanternError('LT_ERR_BAD_REQUEST', 'client went away'));
      req.clientGone();
      this.server.counters.clientAborts++;
      this.requestDone(req);
    }
    this.req = null;
    this.server.connectionClosed(this);
  }

  private rejectHead(err: FramingError): void {
    const spec = ERRORS[err.code];
    this.server.counters.badRequests++;
    this.server.debugLog('reject %s: %s', err.code, err.detail);
    this.writeErrorAndClose(spec.status, err.code);
  }

  /** An error answer outside any request (bad head): minimal response, then lingering close. */
  writeErrorAndClose(status: number, code: ErrorCode): void {
    const body = errorPage(status);
    const head = `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\nDate: ${this.server.httpDate()}\r\n` +
      this.server.serverField + '\r\n';
    flushBatched(this);
    this.socket.write(head + body);
    this.server.logRejected(this, status, code);
    this.linger();
  }

  // --- BodySource ---

  bodyReadStarted(): void {
    const req = this.req;
    // RFC 9110 §10.1.1: the 100 goes out when the handler wants the body, once.
    if (req && req.head.expectContinue && !req.headSent && !this.closed && req.body.received === 0) {
      flushBatched(this);
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  pauseBody(): void { this.bodyPaused = true; this.pauseReading(); }

  resumeBody(): void {
    this.bodyPaused = false;
    this.resumeReading();
  }

  private pauseReading(): void {
    if (!this.readPaused) { this.readPaused = true; this.socket.pause(); }
  }

  private resumeReading(): void {
    if (this.readPaused && !this.bodyPaused && !this.waitingDrain) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  // --- writing (used by Request) ---

  /**
   * Write bytes; strings (heads, chunk framing) are latin1: header values are bytes, not UTF-8.
   * Small writes leave at the end of the event loop's turn, with every other socket's (see
   * write-batch.ts); a large one goes at once, after what is held.
   */
  writeRaw(data: string | Buffer): boolean {
    if (this.closed) return false;
    return batchWrite(this, data);
  }

  writeChunk(head: string, data: Buffer, tail: string): boolean {
    if (this.closed) return false;
    if (data.length <= BATCH_MAX_BYTES) {
      batchWrite(this, head);
      batchWrite(this, data);
      return batchWrite(this, tail);
    }
    flushBatched(this);
    const s = this.socket;
    s.cork();
    s.write(head, 'latin1');
    s.write(data);
    const ok = s.write(tail, 'latin1');
    s.uncork();
    return ok;
  }

  writable(): boolean { return !this.closed && !this.socket.writableNeedDrain; }

  onceDrain(cb: () => void): void {
    if (this.closed) return;
    if (!this.socket.writableNeedDrain) { queueMicrotask(cb); return; }
    this.socket.once('drain', cb);
  }

  cork(): void { this.socket.cork(); }
  uncork(): void { if (!this.socket.destroyed) this.socket.uncork(); }

  /** Whether this exchange may keep the connection (asked when the head is written). */
  canKeepAlive(req: Request): boolean {
    if (!req.keepAlive || this.server.stopping || this.singleRequest) return false;
    // After the client's FIN only the requests it pipelined before it are left to answer.
    if (this.clientEnded && (this.buf === null || this.buf.length === 0)) return false;
    if (this.requests >= this.server.limits.maxKeepAliveRequests) return false;
    const body = req.body;
    if (body.failed) return false;
    // An early answer to `Expect: 100-continue` without reading the body: the client may or may
    // not send it, so the connection cannot be reused (G4).
    if (!body.complete && req.head.expectContinue && !body.reading) return false;
    return true;
  }

  /** Request.end(): the response is complete on the wire. */
  responseFinished(req: Request): void {
    if (req !== this.req) return;
    this.server.counters.responses++;
    if (!req.keepAlive) {
      this.requestDone(req);
      this.req = null;
      this.linger();
      return;
    }
    if (!req.body.complete) {
      // The handler answered without the whole body: discard the rest, then go on.
      if (!req.body.reading) req.body.read({ data: () => true, end: () => {}, error: () => {} });
      return; // bodyDone() calls nextRequest()
    }
    this.nextRequest();
  }

  /** The response cannot be completed: close without finishing its framing (D6). */
  responseAborted(req: Request): void {
    if (req !== this.req) return;
    this.requestDone(req);
    this.req = null;
    this.closeNow();
  }

  private nextRequest(): void {
    const req = this.req;
    if (req === null) return;
    this.requestDone(req);
    this.req = null;
    this.state = 'head';
    this.deadlineMs = this.server.nowMs + this.server.limits.keepAliveIdleMs;
    if (this.socket.writableNeedDrain) {
      // A client that pipelines without reading gets no more answers until it reads (F4).
      this.waitingDrain = true;
      this.pauseReading();
      return;
    }
    if (this.buf !== null && this.buf.length > 0) {
      this.deadlineMs = this.server.nowMs + this.server.limits.readIdleMs;
      queueMicrotask(() => { if (!this.closed) { this.socket.cork(); this.process(); this.uncork(); } });
    }
    this.resumeReading();
  }

  private onDrain(): void {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    this.resumeReading();
    if (this.buf !== null && this.buf.length > 0 && this.req === null) this.process();
  }

  private requestDone(req: Request): void {
    const hooks = this.server.hooks;
    try {
      hooks.requestDone.call(req);
      hooks.requestReset.call(req);
    } catch (err) {
      this.server.logError(`requestDone hook failed: ${(err as Error).stack ?? err}`);
    }
  }

  // --- closing ---

  /** Send what is queued, FIN, then drain the client's bytes for a while (F6 lingering close). */
  linger(): void {
    if (this.state === 'closed' || this.state === 'linger') return;
    this.state = 'linger';
    this.buf = null;
    if (this.readPaused) { this.readPaused = false; this.socket.resume(); }
    flushBatched(this);
    this.socket.end();
    if (this.clientEnded) { this.socket.once('finish', () => this.closeNow()); return; }
    this.deadlineMs = this.server.nowMs + LINGER_MS;
  }

  closeNow(): void {
    if (this.closed) return;
    // What the batch holds (the end of a response) goes out before the close.
    flushBatched(this);
    this.socket.destroy();
  }

  /**
   * Give the socket up (an Upgrade tunnel after a 101, RFC 9110 §7.8; checklist G5): the
   * connection stops reading and writing it, the current request is done (requestDone runs with
   * the status the handler set) and the server forgets the connection. Returns the socket,
   * possibly paused, its reader (whose sink the caller replaces), and the bytes already read past
   * the current request (the client may send right after its handshake): the caller handles them
   * first.
   */
  detach(): { socket: Socket; reader: SocketReader; buffered: Buffer | null } {
    const socket = this.socket;
    flushBatched(this);
    const buffered = this.buf !== null && this.buf.length > 0 ? this.buf : null;
    this.buf = null;
    this.reader.drop();
    for (const ev of ['end', 'close', 'error', 'drain']) socket.removeAllListeners(ev);
    this.state = 'closed';
    this.closed = true;
    const req = this.req;
    this.req = null;
    if (req !== null) {
      req.headSent = true;
      req.finished = true;
      this.requestDone(req);
    }
    this.server.connectionClosed(this);
    return { socket, reader: this.reader, buffered };
  }

  /** Arm the idle deadline for a fresh connection. */
  /**
   * While a body arrives: the next pause may last server.max-read-idle, and the whole body must be
   * in by server.request-body-timeout plus a second per server.request-body-min-rate bytes, so a
   * client trickling a byte now and then cannot hold its connection for ever (F2).
   */
  private bodyDeadline(): number {
    const l = this.server.limits;
    const idle = this.server.nowMs + l.readIdleMs;
    if (l.bodyTimeoutMs <= 0) return idle;
    const total = this.bodyStartMs + l.bodyTimeoutMs + (this.req!.body.received * 1000) / l.bodyMinRate;
    return total < idle ? total : idle;
  }

  private armIdle(ms: number): void { this.deadlineMs = this.server.nowMs + ms; }

  /** Called once a second by the server: enforce deadlines (F1, F2, F3, F5). */
  tick(nowMs: number): void {
    if (this.closed) return;
    const s = this.socket;
    if (s.writableLength > 0) {
      if (s.bytesWritten !== this.lastBytesWritten) {
        this.lastBytesWritten = s.bytesWritten;
        this.lastWriteProgressMs = nowMs;
      } else if (this.lastWriteProgressMs === 0) {
        this.lastWriteProgressMs = nowMs;
      } else if (nowMs - this.lastWriteProgressMs > this.server.limits.writeIdleMs) {
        this.server.counters.writeTimeouts++;
        this.closeNow(); // F3: a reader that stopped reading
        return;
      }
    } else {
      this.lastWriteProgressMs = 0;
    }
    if (this.deadlineMs === 0 || nowMs < this.deadlineMs) return;
    if (this.state === 'linger') { this.closeNow(); return; }
    const req = this.req;
    if (this.state === 'body' && req !== null) {
      // F2: the body stopped arriving.
      this.server.counters.readTimeouts++;
      req.keepAlive = false;
      req.body.fail(new LanternError('LT_ERR_REQUEST_TIMEOUT'));
      if (!req.headSent && !req.finished) req.sendError(408, 'LT_ERR_REQUEST_TIMEOUT');
      else this.closeNow();
      return;
    }
    if (req === null) {
      if (this.buf !== null && this.buf.length > 0 && this.headStartedMs !== 0) {
        // F1: a head that never completed.
        this.server.counters.readTimeouts++;
        this.writeErrorAndClose(408, 'LT_ERR_REQUEST_TIMEOUT');
      } else {
        this.closeNow(); // F5: idle keep-alive, silent close
      }
    }
  }
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

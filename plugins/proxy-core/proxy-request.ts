// One proxied request (design.md §3): pick a member, take a pooled connection (or queue for one),
// stream the request body up and the response down with back-pressure both ways, and on a failed
// attempt apply the retry rule (retry.ts) or answer 502/503/504. Checklist C-G rows noted inline.
// A protocol only frames bytes (Exchange); everything else about the attempt lives here.
import { Buffer } from 'node:buffer';
import { ERRORS, LanternError, type ErrorCode } from '../../core/errors.js';
import { DEFAULT_SPOOL_MEMORY_BYTES, spoolBody, type SpooledBody } from '../../core/body-spool.js';
import { turnNowMs } from '../../core/turn.js';
import { equalsLower } from '../../core/http1/field-lines.js';
import type { HeaderList, ResponseHead } from '../../core/http1/types.js';
import { formatResponseHead } from '../../core/http1/response-writer.js';
import type { BodySink } from '../../core/request-body.js';
import type { Request } from '../../core/request.js';
import type { Backend } from './backend.js';
import type { Member, FailureKind } from './member.js';
import type { ProxyCore } from './proxy-core.js';
import { retryDecision, type RetryDecision } from './retry.js';
import { stripHopByHop, xSendfilePath } from './response-fields.js';
import type { ProxyUpstreamRequest } from './upstream-request.js';
import { Phase, type UpstreamConnection, type UpstreamOwner } from './upstream-connection.js';
import type { QueueEntry } from './wait-queue.js';
import type { Tunnel } from './tunnel.js';
import type { Exchange, ExchangeContext, MemberView, ResponseSink } from './types.js';
import type { ForwardOptions } from './api.js';
import { checkResponseHead, isValidatedHead } from '../../core/http1/response-head.js';
import { serveXSendfile } from './x-sendfile.js';

const EMPTY = Buffer.alloc(0);
const NO_TRAILERS: HeaderList = [];
const FRESH: ExchangeContext = Object.freeze({ fresh: true });
const REUSED: ExchangeContext = Object.freeze({ fresh: false });
const NONE_TRIED: ReadonlySet<MemberView> = new Set();
/** Response bytes held to leave with the head in one write, at most (the core's single-write size). */
const HOLD_MAX_BYTES = 16 * 1024;

/** The backend's head has a Transfer-Encoding field (the parser accepts no coding but `chunked`). */
function hasTransferEncoding(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.length === 17 && equalsLower(headers[i]!, 0, 'transfer-encoding')) return true;
  return false;
}

/** How the request body reaches the backend. */
const enum BodyMode { None, Stream, Buffered }

/** Which failure counter an error code bumps. */
function failureKind(code: ErrorCode): FailureKind {
  switch (code) {
    case 'LT_ERR_BACKEND_REFUSED': return 'refused';
    case 'LT_ERR_BACKEND_CONNECT_TIMEOUT': return 'connectTimeout';
    case 'LT_ERR_BACKEND_READ_TIMEOUT': return 'readTimeout';
    case 'LT_ERR_BACKEND_WRITE_TIMEOUT': return 'writeTimeout';
    case 'LT_ERR_BACKEND_RESET': return 'reset';
    default: return 'badResponse';
  }
}

export class ProxyRequest implements UpstreamOwner, ResponseSink, QueueEntry {
  readonly core: ProxyCore;
  readonly req: Request;
  readonly backend: Backend;
  readonly up: ProxyUpstreamRequest;
  queuedAtMs = 0;
  private tried: Set<MemberView> | null = null;
  private member: Member | null = null;
  private conn: UpstreamConnection | null = null;
  private exchange: Exchange | null = null;
  /** The attempt's sink calls count (false once it was given up: late calls are ignored). */
  private attemptLive = false;
  /** The current connection carried a request before (E5). */
  private reused = false;
  private freshRetryUsed = false;
  private forceFresh = false;
  private responseBytes = 0;
  private lastError: ErrorCode | null = null;
  /** The request is over for proxy-core (answered, failed, aborted, tunnelled). */
  private done = false;

  // request body
  private bodyMode: BodyMode = BodyMode.None;
  private bodyStarted = false;
  private bodyComplete = false;
  private bodyTrailers: HeaderList = NO_TRAILERS;
  /** The exchange's end() went out on the current attempt. */
  private bodyEndWritten = false;
  /** Body bytes kept for a replay (E7). */
  private replay: Buffer[] | null = null;
  private replayBytes = 0;
  /** The body outgrew retryBodyBufferBytes (or no replay can be needed any more): nothing is kept. */
  private replayLost = false;
  private bodyPaused = false;
  /** The response is complete: the rest of the request body is read and dropped (G3). */
  private discardBody = false;
  /** A body read whole before the attempt (BodyMode.Buffered): in memory or a temp file. */
  private spooled: SpooledBody | null = null;
  /** The spooled body's sender, waiting for the backend to drain. */
  private spoolStep: (() => void) | null = null;

  // response
  private finalHead = false;
  private responseDone = false;
  /** Body bytes held back to leave with the head: one piece (the usual case), or several. */
  private held: Buffer | Buffer[] | null = null;
  private heldBytes = 0;
  /** X-Sendfile serves the answer; the backend's body is dropped. */
  private discardResponse = false;
  private tunnel: Tunnel | null = null;
  /** After the response: the request goes on (authorizer 200) or restarts at a local URL (CGI Location). */
  private continuation: 'authorized' | 'redirect' | null = null;
  private redirectTarget = '';
  private readonly opts: ForwardOptions | undefined;

  constructor(core: ProxyCore, req: Request, backend: Backend, up: ProxyUpstreamRequest, opts?: ForwardOptions) {
    this.core = core;
    this.req = req;
    this.backend = backend;
    this.up = up;
    this.opts = opts;
  }

  /** What this request already tried, for the balancer (E8). */
  get triedSet(): ReadonlySet<MemberView> { return this.tried ?? NONE_TRIED; }

  start(): void {
    const req = this.req;
    const b = this.backend;
    b.requests++;
    b.inFlight++;
    // G1/G2: the client went away (or the response was aborted): the upstream request stops.
    req.onAbort(() => this.clientAborted());
    const body = req.body;
    if (!body.present || b.options.authorizer) {
      // An authorizer gets no body (FastCGI §6.3); it stays unread for the handler after it.
      this.bodyComplete = true;
    } else if (body.length >= 0 || b.streamsUnknownLength) {
      this.bodyMode = BodyMode.Stream;
    } else {
      this.bufferWholeBody();
      return;
    }
    this.attempt();
  }

  /**
   * C2: a body of unknown length for a backend that needs one (HTTP/1.0, CGI-family) is read
   * whole first and sent with its length, up to server.max-request-size: in memory up to 64 KiB,
   * above that in a temp file in server.upload-dirs (never a large upload in memory). With
   * server.stream-request-body set, streaming was asked for and cannot be had: 411.
   */
  private bufferWholeBody(): void {
    const req = this.req;
    if (((req.config.values.get('server.stream-request-body') as number | undefined) ?? 0) > 0) {
      this.finishWithError('LT_ERR_LENGTH_REQUIRED');
      return;
    }
    this.bodyMode = BodyMode.Buffered;
    const server = req.conn.server;
    const dirs = server.globalValues.get('server.upload-dirs') as string[] | undefined;
    spoolBody(req.body, { memoryBytes: DEFAULT_SPOOL_MEMORY_BYTES, maxBytes: server.limits.maxRequestBytes, dirs: dirs ?? ['/var/tmp'] }).then((spooled) => {
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

  // --- attempts ---

  /** Pick a member and start on it; or queue (E12); or answer (E9). */
  private attempt(): void {
    if (this.done) return;
    const b = this.backend;
    const now = turnNowMs();
    const m = this.forceFresh ? this.member : b.select(this.req, this.triedSet, now);
    if (m !== null) { this.startOn(m); return; }
    if (b.waitable(this.triedSet, now)) {
      if (b.queue.push(this, now)) return;
      b.queueFull++;
      this.finishWithError('LT_ERR_BACKEND_QUEUE_FULL');
      return;
    }
    this.noMemberLeft();
  }

  /** Nothing (more) to try: the last attempt's error, or 503 at once when nothing was tried (E9). */
  noMemberLeft(): void {
    if (this.lastError !== null) { this.finishWithError(this.lastError); return; }
    this.backend.allDown++;
    this.finishWithError('LT_ERR_BACKEND_ALL_DOWN');
  }

  /** E12: waited in the queue longer than queueTimeoutMs. */
  queueTimedOut(): void {
    this.backend.queueTimeouts++;
    this.finishWithError('LT_ERR_BACKEND_QUEUE_TIMEOUT');
  }

  /** Run an attempt on `m` (from attempt() or from the backend's queue). */
  startOn(m: Member): void {
    if (this.done) return;
    if (this.bodyStarted && this.replayLost && this.bodyMode === BodyMode.Stream) {
      // The body overflowed the replay buffer while the retry waited: it cannot be sent again.
      this.noMemberLeft();
      return;
    }
    const fresh = this.forceFresh;
    this.forceFresh = false;
    this.member = m;
    m.startAttempt();
    this.attemptLive = true;
    this.responseBytes = 0;
    this.bodyEndWritten = false;
    const c = m.acquire(this, fresh);
    this.conn = c;
    this.reused = c.requests > 0;
    if (c.state === 'busy') this.sendRequest();
  }

  /** Connected (or taken from the pool): write the head, then the body as it comes. */
  private sendRequest(): void {
    const c = this.conn!;
    const b = this.backend;
    const up = this.up;
    const fresh = c.requests === 0;
    c.requests++;
    if (up.hostFromMember) up.headers[1] = this.member!.hostField;
    let ex: Exchange;
    let head: Buffer | string;
    try {
      // The environment is built once, now that the body length is known (CGI-family).
      if (b.protocolDef!.usesEnv) up.prepareEnv(this.opts?.cgi);
      ex = b.protocolDef!.createExchange(up, b.protocolOptions, fresh ? FRESH : REUSED);
      head = ex.head();
    } catch (err) {
      this.core.log(`backend "${b.name}": the protocol refused the request: ${(err as Error).message}`);
      this.giveUpAttempt();
      this.finishWithError('LT_ERR_INTERNAL');
      return;
    }
    this.exchange = ex;
    const s = c.socket;
    const preamble = fresh ? b.preamble : null;
    if (this.bodyMode === BodyMode.None) {
      const tail = ex.end(NO_TRAILERS);
      this.bodyEndWritten = true;
      if (preamble === null && (tail === null || (!Array.isArray(tail) && tail.length === 0))) {
        // The common case: the head alone, one write without corking.
        if (b.writeAtOnce) c.writeNow(head);
        else c.write(head);
      } else {
        s.cork();
        if (preamble !== null) c.write(preamble);
        c.write(head);
        this.writeFramed(tail);
        s.uncork();
      }
      this.armAfterWrite();
      return;
    }
    s.cork();
    if (preamble !== null) c.write(preamble);
    c.write(head);
    let resume = false;
    switch (this.bodyMode) {
      case BodyMode.Buffered: {
        const memory = this.spooled!.memoryBody;
        if (memory === null) {
          // In a temp file: read and sent piece by piece, as the backend takes them.
          s.uncork();
          this.armAfterWrite();
          this.pumpSpooled(c, ex);
          return;
        }
        if (memory.length > 0) this.writeFramed(ex.body(memory));
        this.writeFramed(ex.end(this.bodyTrailers));
        this.bodyEndWritten = true;
        break;
      }
      case BodyMode.Stream:
        if (!this.bodyStarted) {
          // The first read sends `100 Continue` if the client asked (G4), and hands over what
          // already arrived: a small body leaves with the head in one write.
          this.bodyStarted = true;
          this.req.body.read(new BodyRelay(this));
          // RequestBody pauses itself when 64 KiB arrived before anyone read (the connect took
          // that long), and read() does not lift that pause: we are reading now.
          if (!this.bodyPaused) this.req.body.resume();
        } else {
          if (this.replay !== null) for (const chunk of this.replay) this.writeFramed(ex.body(chunk));
          if (this.bodyComplete) {
            this.writeFramed(ex.end(this.bodyTrailers));
            this.bodyEndWritten = true;
          } else {
            resume = this.bodyPaused;
          }
        }
        break;
    }
    s.uncork();
    this.armAfterWrite();
    if (resume && this.conn === c && !s.writableNeedDrain) {
      this.bodyPaused = false;
      this.req.body.resume();
    }
  }

  /** Send a spooled body from its temp file, a piece at a time, waiting for the backend to drain. */
  private pumpSpooled(c: UpstreamConnection, ex: Exchange): void {
    const reader = this.spooled!.reader();
    const step = (): void => {
      reader.next().then((piece) => {
        if (this.conn !== c || this.exchange !== ex || !this.attemptLive || this.done) return;
        if (piece === null) {
          this.writeFramed(ex.end(this.bodyTrailers));
          this.bodyEndWritten = true;
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

  private writeFramed(x: Buffer | string | Array<Buffer | string> | null): boolean {
    const c = this.conn!;
    if (x === null) return !c.socket.writableNeedDrain;
    if (!Array.isArray(x)) return x.length === 0 ? !c.socket.writableNeedDrain : c.write(x);
    let ok = true;
    for (const part of x) if (part.length > 0) ok = c.write(part);
    return ok;
  }

  /** Re-arm the connection's timer for what it waits for now. */
  private armAfterWrite(): void {
    const c = this.conn;
    if (c === null) return;
    if (c.clientPaused) c.setPhase(Phase.ClientPaused);
    else if (c.socket.writableNeedDrain) c.setPhase(Phase.Write);
    else if (!this.bodyEndWritten && !this.finalHead) c.setPhase(Phase.ClientBody);
    else c.setPhase(Phase.Read);
  }

  // --- the client's request body (through BodyRelay) ---

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
    this.bodyEndWritten = true;
    this.armAfterWrite();
  }

  bodyError(): void {
    // G1, A13, F2: the body cannot complete (client gone, bad framing, too slow). The core
    // answers the client or has closed it; the upstream request is aborted, never completed.
    if (this.done) return;
    this.abandon();
  }

  // --- UpstreamOwner: the backend connection's events ---

  onUpstreamConnect(c: UpstreamConnection): void {
    if (c !== this.conn) return;
    this.sendRequest();
  }

  onUpstreamData(c: UpstreamConnection, chunk: Buffer): void {
    if (c !== this.conn || !this.attemptLive) { c.destroy(); return; }
    this.responseBytes += chunk.length;
    this.exchange!.receive(chunk, this);
    this.afterReceive(c);
  }

  onUpstreamEnd(c: UpstreamConnection): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (!this.responseDone) this.exchange!.receiveEnd(this);
    if (c !== this.conn || !this.attemptLive) return;
    if (this.responseDone) this.completeAttempt();
    else this.attemptFailed('LT_ERR_BACKEND_RESET', 'backend closed the connection');
  }

  onUpstreamError(c: UpstreamConnection, err: NodeJS.ErrnoException | null): void {
    if (c !== this.conn || !this.attemptLive) return;
    const detail = err?.code ?? err?.message ?? 'connection closed';
    if (this.finalHead && (!this.bodyEndWritten || c.writeFailed) && !this.responseDone) {
      // The backend answered before it took the whole request body, then closed: an app that
      // does not read its input closes with our bytes unread, which the kernel turns into a
      // reset (or our next write into EPIPE). Its answer ends where its stream did, as after a
      // FIN: complete when its framing says so (a CGI body delimited by the close), else cut
      // short. Not a failure of the member.
      this.exchange!.receiveEnd(this);
      if (c !== this.conn || !this.attemptLive) return;
      if (this.responseDone) { this.completeAttempt(); return; }
    }
    // E1: anything failing before the connection is up means no byte reached the backend.
    if (c.phase === Phase.Connect && c.state === 'connecting') this.attemptFailed('LT_ERR_BACKEND_REFUSED', detail);
    else this.attemptFailed('LT_ERR_BACKEND_RESET', detail);
  }

  onUpstreamWriteError(c: UpstreamConnection, err: NodeJS.ErrnoException): boolean {
    if (c !== this.conn || !this.attemptLive) return false;
    // The backend closed its input (it answered early, or died): read what it sent. The rest
    // of the client's body is read and dropped; the connection is never reused.
    this.core.debug('%s %s → %s: write failed (%s); reading the answer', this.up.method, this.up.target, this.member!.key, err.code);
    this.spoolStep = null;
    if (this.bodyPaused) { this.bodyPaused = false; this.req.body.resume(); }
    c.setPhase(Phase.Read);
    return true;
  }

  onUpstreamDrain(c: UpstreamConnection): void {
    if (c !== this.conn) return;
    this.armAfterWrite();
    const step = this.spoolStep;
    if (step !== null && this.attemptLive) { this.spoolStep = null; step(); return; }
    if (this.bodyPaused && !this.discardBody && this.attemptLive) {
      this.bodyPaused = false;
      this.req.body.resume();
    }
  }

  onUpstreamTimeout(c: UpstreamConnection, phase: Phase): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (phase === Phase.Connect) this.attemptFailed('LT_ERR_BACKEND_CONNECT_TIMEOUT', 'connect timeout');
    else if (phase === Phase.Write) this.attemptFailed('LT_ERR_BACKEND_WRITE_TIMEOUT', 'write timeout');
    else if (phase === Phase.Read) this.attemptFailed('LT_ERR_BACKEND_READ_TIMEOUT', 'read timeout');
  }

  onClientDrain(c: UpstreamConnection): void {
    if (c !== this.conn || !c.clientPaused) return;
    c.clientPaused = false;
    c.socket.resume();
    this.armAfterWrite();
  }

  /** F3: the client is slower than the backend: stop reading the backend until it drains. */
  private pauseForClient(): void {
    const c = this.conn;
    if (c === null || c.clientPaused) return;
    c.clientPaused = true;
    c.socket.pause();
    c.setPhase(Phase.ClientPaused);
    this.req.onDrain(c.clientDrained);
  }

  // --- ResponseSink: what the protocol decoded ---

  head(h: ResponseHead): void {
    if (!this.attemptLive || this.done) return;
    if (!isValidatedHead(h)) {
      // G7: a head a protocol built itself must not split the response.
      const why = checkResponseHead(h);
      if (why !== null) { this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', `the protocol's head: ${why}`); return; }
    }
    const req = this.req;
    const status = h.status;
    if (status < 200) {
      if (status === 101) {
        if (this.up.upgrade !== null) this.startTunnel(h);
        else this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', '101 without an Upgrade request');
        return;
      }
      // G4: the core already sent its own 100 when the body was read; never twice.
      if (status === 100 && req.head.expectContinue) return;
      // D12: other 1xx (103 Early Hints...) are forwarded.
      if (!req.headSent) req.writeInformational(status, stripHopByHop(h.headers, false));
      return;
    }
    const b = this.backend;
    const m = this.member!;
    if (status === 500 || status === 502 || status === 503 || status === 504) {
      if (b.options.retryOn5xx) {
        // E6: a 5xx counts toward disabling; retried only under the retry rule.
        m.recordFailure('status5xx', `status ${status}`, false);
        const d = this.decide('LT_ERR_BACKEND_BAD_RESPONSE', true, false);
        if (d !== 'fail') { this.retry(d, m); return; }
      } else {
        // Counted, but an answer all the same: the member is alive (a probe succeeded).
        m.failures.status5xx++;
        b.failures.status5xx++;
        m.recordSuccess();
      }
    } else {
      m.recordSuccess();
    }
    this.finalHead = true;
    // Committed to this response: no replay can be needed any more.
    this.replay = null;
    this.replayLost = true;
    if (b.options.authorizer && status === 200) {
      // FastCGI §6.3: the authorizer said yes; its Variable-* fields join the environment and
      // the request goes on to its handler once this response is complete.
      const env = req.env;
      const hs = h.headers;
      for (let i = 0; i < hs.length; i += 2) {
        if (hs[i]!.length > 9 && equalsLower(hs[i]!, 0, 'variable-')) env.push([hs[i]!.slice(9), hs[i + 1]!]);
      }
      this.continuation = 'authorized';
      this.discardResponse = true;
      return;
    }
    if (h.localRedirect !== null) {
      // RFC 3875 §6.2.2: a CGI-style `Location: /local` without Status is served by the server
      // itself, as if the client had asked for it (lighttpd's local redirect).
      this.continuation = 'redirect';
      this.redirectTarget = h.localRedirect;
      this.discardResponse = true;
      return;
    }
    // D10: a HEAD answered `Transfer-Encoding: chunked` gets it too (the core writes it); the
    // parser never reports chunked for a HEAD, so the field is looked at before it is stripped.
    if (req.method === 'HEAD') req.headWouldBeChunked = hasTransferEncoding(h.headers);
    h.headers = stripHopByHop(h.headers, false);
    const hooks = this.core.hooks;
    if (hooks.upstreamResponse.isUsed()) hooks.upstreamResponse.call(h, req);
    if (b.options.allowXSendfile && h.status >= 200 && h.status < 300) {
      const file = xSendfilePath(h.headers);
      if (file !== null) { this.sendFileInstead(file, h.headers); return; }
    }
    // The backend's fields came through the strict response parser: valid, unless a hook or a
    // plugin's own fields are in the list.
    if (req.responseHeaders.length > 0) req.writeHead(h.status, req.responseHeaders.concat(h.headers));
    else req.writeHead(h.status, h.headers, !hooks.upstreamResponse.isUsed());
    this.armAfterWrite();
  }

  data(chunk: Buffer): void {
    if (!this.attemptLive) return;
    if (this.tunnel !== null) { this.tunnel.toClient(chunk); return; }
    if (!this.finalHead || this.discardResponse || this.done) return;
    const req = this.req;
    if (!req.headSent) {
      // Hold small pieces so that the head and the body leave in one write (design.md §6).
      if (this.heldBytes + chunk.length <= HOLD_MAX_BYTES) {
        const held = this.held;
        if (held === null) this.held = chunk;
        else if (Array.isArray(held)) held.push(chunk);
        else this.held = [held, chunk];
        this.heldBytes += chunk.length;
        return;
      }
      req.conn.cork();
      this.flushHeld();
      const ok = req.finished || req.write(chunk);
      req.conn.uncork();
      if (!ok) this.pauseForClient();
      return;
    }
    if (!req.write(chunk)) this.pauseForClient();
  }

  end(trailers?: HeaderList): void {
    if (!this.attemptLive || this.tunnel !== null) return;
    this.responseDone = true;
    if (this.discardResponse || this.done) return;
    const req = this.req;
    if (req.finished) return;
    const body = this.takeHeld();
    // D8: the response ends when its framing says so, whatever the connection does next. Trailers
    // keep the response chunked to an HTTP/1.1 client even when the whole body was held.
    req.end(body, trailers);
  }

  error(code: ErrorCode, detail: string): void {
    if (!this.attemptLive || this.tunnel !== null) return;
    this.attemptFailed(code, detail);
  }

  capacity(maxConnections: number): void {
    if (this.attemptLive) this.member!.setCapacity(maxConnections);
  }

  log(message: string): void {
    // G8: a protocol's side channel goes to the error log, never to the client.
    this.core.log(`backend "${this.backend.name}" ${this.member?.key ?? ''}: ${message}`);
  }

  /** The head (and the body held with it) goes out now; the rest streams. */
  private flushHeld(): void {
    const req = this.req;
    if (!req.write(this.takeHeld() ?? EMPTY)) this.pauseForClient();
  }

  /** The body bytes held back, as one Buffer (undefined when none), and nothing held any more. */
  private takeHeld(): Buffer | undefined {
    const held = this.held;
    this.held = null;
    const bytes = this.heldBytes;
    this.heldBytes = 0;
    return held === null ? undefined : Array.isArray(held) ? Buffer.concat(held, bytes) : held;
  }

  private afterReceive(c: UpstreamConnection): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (this.responseDone) { this.completeAttempt(); return; }
    const req = this.req;
    if (this.finalHead && !this.discardResponse && !req.headSent && !req.finished) {
      req.conn.cork();
      this.flushHeld();
      req.conn.uncork();
    }
  }

  // --- ending attempts and the request ---

  /** The response is complete: the connection goes back to the pool when it may carry another request. */
  private completeAttempt(): void {
    const c = this.conn!;
    const ex = this.exchange!;
    const m = this.member!;
    const b = this.backend;
    // D7, D10, D11, G3: reused only after a clean exchange with the whole request sent.
    const reusable = b.keepAlive && this.bodyEndWritten && !c.writeFailed && ex.reusable() &&
      c.requests < b.options.maxKeepAliveRequests && !c.socket.writableNeedDrain;
    this.attemptLive = false;
    this.conn = null;
    this.exchange = null;
    // A whole exchange and no announcement: the member does not say (maxPoolSize applies).
    if (!m.capacityKnown) m.setCapacity(0);
    m.endAttempt();
    m.release(c, reusable);
    this.finish();
    if (this.continuation !== null) this.continueRequest();
  }

  /** After an authorizer's 200 or a local redirect: the request goes through the pipeline again. */
  private continueRequest(): void {
    const req = this.req;
    if (req.finished) return;
    const pipeline = req.conn.server.pipeline;
    if (this.continuation === 'authorized') {
      if (this.opts?.onAuthorized) this.opts.onAuthorized(req);
      else pipeline.restart(req, req.target, { keepPluginData: true });
      return;
    }
    // A local redirect is a GET of the new URL (HEAD stays HEAD); the body was the script's.
    if (req.method !== 'HEAD') req.method = 'GET';
    pipeline.restart(req, this.redirectTarget);
  }

  /** Drop the current attempt: its connection is closed, never pooled. */
  private giveUpAttempt(): void {
    if (!this.attemptLive) return;
    const c = this.conn;
    this.attemptLive = false;
    this.conn = null;
    this.exchange = null;
    this.held = null;
    this.heldBytes = 0;
    if (c !== null) c.destroy();
    this.member?.endAttempt();
  }

  private attemptFailed(code: ErrorCode, detail: string): void {
    const m = this.member!;
    // E5: a reused connection that died before any response byte was most likely closed by the
    // backend while idle: the pool's race, not a failure of the member.
    const stale = this.reused && this.responseBytes === 0 && code === 'LT_ERR_BACKEND_RESET';
    if (!stale) m.recordFailure(failureKind(code), `${ERRORS[code].message} (${detail})`, code === 'LT_ERR_BACKEND_REFUSED' || code === 'LT_ERR_BACKEND_CONNECT_TIMEOUT');
    this.lastError = code;
    this.core.debug('%s %s → %s: %s (%s)', this.up.method, this.up.target, m.key, code, detail);
    this.giveUpAttempt();
    const d = this.decide(code, false, stale);
    if (d === 'fail') this.finishWithError(code);
    else this.retry(d, m);
  }

  private decide(code: ErrorCode, status5xx: boolean, stale: boolean): RetryDecision {
    const o = this.backend.options;
    return retryDecision({ code, status5xx, staleConnection: stale }, {
      method: this.up.method,
      bodyReplayable: this.bodyMode !== BodyMode.Stream || !this.bodyStarted || !this.replayLost,
      responseStarted: this.req.headSent || this.finalHead,
      triesLeft: o.maxTries - (this.triedSet.size + 1),
      freshRetryUsed: this.freshRetryUsed,
      retryReadTimeout: o.retryReadTimeout,
      retryOn5xx: o.retryOn5xx,
    });
  }

  private retry(d: RetryDecision, m: Member): void {
    this.giveUpAttempt();
    this.backend.retries++;
    if (d === 'fresh-connection') {
      this.freshRetryUsed = true;
      this.forceFresh = true;
    } else {
      (this.tried ??= new Set()).add(m);
    }
    // Not inside the failed exchange's receive loop: its late calls must find the attempt gone.
    queueMicrotask(() => this.attempt());
  }

  /** The client is gone or its body failed: stop the upstream request (G1, G2). */
  private abandon(): void {
    const c = this.conn;
    const m = this.member;
    if (this.attemptLive && c !== null && this.exchange !== null && c.state === 'busy') {
      const bytes = this.exchange.abort?.() ?? null;
      if (bytes !== null && bytes.length > 0) {
        // A protocol's own abort (FastCGI ABORT_REQUEST) is sent before the connection closes.
        this.attemptLive = false;
        this.conn = null;
        this.exchange = null;
        c.closeAfter(bytes);
        m?.endAttempt();
      }
    }
    if (this.attemptLive) this.giveUpAttempt();
    m?.probeAbandoned();
    this.finish();
  }

  private clientAborted(): void {
    if (!this.done) this.abandon();
  }

  /** The request is over for proxy-core. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.spooled !== null) { void this.spooled.dispose(); this.spooled = null; }
    this.spoolStep = null;
    if (this.queuedAtMs !== 0) this.backend.queue.remove(this);
    this.backend.requestFinished();
    if (this.bodyMode === BodyMode.Stream && this.bodyStarted && !this.bodyComplete) {
      // G3: the rest of the request body is read and dropped; the core goes on once it is in.
      this.discardBody = true;
      if (this.bodyPaused) { this.bodyPaused = false; this.req.body.resume(); }
    }
  }

  /** Answer with the error's status, or cut the response short if its head already went out (D6). */
  private finishWithError(code: ErrorCode): void {
    if (this.done) return;
    this.finish();
    const req = this.req;
    if (req.finished) return;
    if (req.headSent) { req.abort(); return; }
    if (this.finalHead) req.responseHeaders = [];
    req.sendError(ERRORS[code].status, code);
  }

  // --- Upgrade and X-Sendfile ---

  /** G5: the backend switched protocols: the 101 goes to the client and both sockets become a tunnel. */
  private startTunnel(h: ResponseHead): void {
    const req = this.req;
    const c = this.conn!;
    const m = this.member!;
    let head: string;
    try {
      head = formatResponseHead(1, 101, [...stripHopByHop(h.headers, true), 'Connection', 'upgrade']);
    } catch {
      this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', 'invalid field in the 101 head');
      return;
    }
    m.recordSuccess();
    this.finalHead = true;
    req.status = 101;
    const upstream = c.detach();
    this.conn = null;
    m.endAttempt();
    const { socket, reader, buffered } = req.conn.detach();
    this.tunnel = this.core.openTunnel({ socket, reader }, upstream, head, buffered, this.backend.options.readTimeoutMs);
    this.finish();
  }

  private sendFileInstead(file: string, headers: HeaderList): void {
    this.discardResponse = true;
    const req = this.req;
    const log = (msg: string): void => this.core.log(msg);
    serveXSendfile(req, file, this.backend.options.xSendfileDocroots, headers, log).catch((err: unknown) => {
      log(`X-Sendfile ${file}: ${(err as Error).stack ?? err}`);
      if (!req.finished) req.fail(err);
    });
  }
}

/** The client's request body as RequestBody delivers it, passed to its ProxyRequest. */
class BodyRelay implements BodySink {
  private readonly pr: ProxyRequest;
  constructor(pr: ProxyRequest) { this.pr = pr; }
  data(chunk: Buffer): boolean { return this.pr.bodyData(chunk); }
  end(trailers: HeaderList): void { this.pr.bodyEnd(trailers); }
  error(): void { this.pr.bodyError(); }
}

// One proxied request (design.md §3): pick a member, take a pooled connection (or queue for one),
// and on a failed attempt apply the retry rule (retry.ts) or answer 502/503/504; the backend
// connection's events arrive here. The request body's relay (request-body-relay.ts) and the
// response's (response-relay.ts) are the classes below this one, over the shared state of
// proxy-request-state.ts. A protocol only frames bytes (Exchange). Checklist rows noted inline.
import { ERRORS, LanternError, type ErrorCode } from '../../core/errors.js';
import { turnNowMs, turnNumber } from '../../core/turn.js';
import type { Member, FailureKind } from './member.js';
import { isIdempotent, retryDecision, type RetryDecision } from './retry.js';
import { BodyMode, NO_TRAILERS } from './proxy-request-state.js';
import { BodyRelay } from './request-body-relay.js';
import { ResponseRelay } from './response-relay.js';
import { Phase, type UpstreamConnection, type UpstreamOwner } from './upstream-connection.js';
import type { QueueEntry } from './wait-queue.js';
import type { Exchange, ExchangeContext, MemberView } from './types.js';

const FRESH: ExchangeContext = Object.freeze({ fresh: true });
const REUSED: ExchangeContext = Object.freeze({ fresh: false });

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

export class ProxyRequest extends ResponseRelay implements UpstreamOwner, QueueEntry {
  start(): void {
    const req = this.req;
    const b = this.backend;
    b.requests++;
    b.inFlight++;
    // G1/G2: the client went away (or the response was aborted): the upstream request stops.
    req.onAbort(() => this.clientAborted());
    // HAProxy's abortonclose: a client's FIN ends its request, queued or at the backend.
    if (b.options.abortOnClose) req.onHalfClose(() => { if (!this.done) req.abort(); });
    const body = req.body;
    if (!body.present || b.options.authorizer) {
      // An authorizer gets no body (FastCGI §6.3); it stays unread for the handler after it.
      this.bodyComplete = true;
    } else if (((req.config.values.get('server.stream-request-body') as number | undefined) ?? 0) === 0) {
      // lighttpd's default: the whole body is in before a backend connection is taken, so a
      // slow uploader holds its own connection, never a backend's.
      this.bufferWholeBody();
      return;
    } else if (body.length >= 0 || b.streamsUnknownLength) {
      this.bodyMode = BodyMode.Stream;
    } else {
      // Streaming was asked for and a body of unknown length cannot be streamed to this backend.
      this.finishWithError('LT_ERR_LENGTH_REQUIRED');
      return;
    }
    this.attempt();
  }

  /** Pick a member and start on it; or queue (E12); or answer (E9). */
  protected override attempt(): void {
    if (this.done) return;
    const b = this.backend;
    const now = turnNowMs();
    const m = this.forceFresh ? this.member : b.select(this.req, this.triedSet, now);
    if (m !== null) { this.startOn(m); return; }
    if (b.waitable(this.triedSet, now)) {
      if (b.queue.push(this, now)) return;
      b.queueFull++;
      this.core.log(`backend "${b.name}": the queue is full (proxy-core.max-backlog-size ${b.options.maxBacklog}) for ${this.req.method} ${this.req.target}: 503`);
      this.finishWithError('LT_ERR_BACKEND_QUEUE_FULL');
      return;
    }
    this.noMemberLeft();
  }

  /** Nothing (more) to try: the last attempt's error, or 503 at once when nothing was tried (E9). */
  noMemberLeft(): void {
    if (this.lastError !== null) { this.finishWithError(this.lastError); return; }
    this.backend.allDown++;
    // lighttpd: "all handlers for ... are down."
    this.core.log(`backend "${this.backend.name}": no member is available for ${this.req.method} ${this.req.target}: 503`);
    this.finishWithError('LT_ERR_BACKEND_ALL_DOWN');
  }

  /** E12: waited in the queue longer than queueTimeoutMs. */
  queueTimedOut(): void {
    const b = this.backend;
    b.queueTimeouts++;
    this.core.log(`backend "${b.name}": ${this.req.method} ${this.req.target} waited ${b.options.queueTimeoutMs / 1000} s for a free connection (proxy-core.queue-timeout): 504`);
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
    let c: UpstreamConnection;
    if (m.perRequest) {
      // A process per request starts with the request's environment: built now (the body
      // length is known: such protocols never stream a body of unknown length).
      if (this.backend.protocolDef!.usesEnv) this.up.prepareEnv(this.opts?.cgi);
      c = m.acquire(this, true, this.up);
    } else {
      c = m.acquire(this, fresh);
    }
    this.conn = c;
    this.reused = c.requests > 0;
    if (c.state !== 'busy') return;
    if (this.reused && c.idleSinceTurn === turnNumber() && !isIdempotent(this.up.method)) this.settleFirst(c);
    else this.sendRequest();
  }

  /**
   * E5 for a request that is never sent twice (RFC 9112 §9.3.1): a connection whose previous
   * exchange ended in this very turn may be one the backend closes right after its answer (php-cgi
   * after PHP_FCGI_MAX_REQUESTS: END_REQUEST, then the close), and its close cannot have been
   * read yet. Nothing is written until the sockets were polled once more: a close seen by then
   * costs nothing (nothing was sent: a fresh connection is taken), where writing at once would
   * leave a POST that cannot be retried on a dead connection. Idempotent requests do not wait:
   * they are retried on a fresh connection when that happens.
   */
  private settleFirst(c: UpstreamConnection): void {
    this.settling = true;
    // An immediate set from the poll phase runs before the next poll; the one it sets, after it.
    setImmediate(() => setImmediate(() => {
      if (!this.settling || this.conn !== c || !this.attemptLive || this.done) return;
      this.settling = false;
      const s = c.socket;
      if (s.destroyed || s.readableEnded || !s.writable) this.settleFailed();
      else this.sendRequest();
    }));
  }

  /** The connection that was settling closed (or spoke) before anything was written: a fresh one. */
  private settleFailed(): void {
    this.settling = false;
    this.core.debug('%s %s → %s: the reused connection closed before the request was written; a fresh one', this.up.method, this.up.target, this.member!.key);
    this.retry('fresh-connection', this.member!);
  }

  /** Connected (or taken from the pool): write the head, then the body as it comes. */
  protected sendRequest(): void {
    const c = this.conn!;
    const b = this.backend;
    const up = this.up;
    const fresh = c.requests === 0;
    if (up.hostFromMember) up.setHost(this.member!.hostField);
    let ex: Exchange;
    let head: Buffer | string;
    try {
      // The environment is built once, now that the body length is known (CGI-family).
      if (b.protocolDef!.usesEnv) up.prepareEnv(this.opts?.cgi);
      ex = b.protocolDef!.createExchange(up, b.protocolOptions, fresh ? FRESH : REUSED);
      head = ex.head();
    } catch (err) {
      if (LanternError.is(err)) {
        // The protocol answers the request itself (one it cannot carry: a key memcached cannot
        // take, a method it does not serve): nothing was sent, so the connection stays pooled
        // and the member did nothing wrong.
        // Still fresh: its preamble goes with the next exchange's head.
        const m = this.member!;
        this.attemptLive = false;
        this.conn = null;
        m.endAttempt();
        m.release(c, true);
        this.answerLocally(err);
        return;
      }
      this.core.log(`backend "${b.name}": the protocol refused the request: ${(err as Error).message}`);
      this.giveUpAttempt();
      this.finishWithError('LT_ERR_INTERNAL');
      return;
    }
    this.exchange = ex;
    c.requests++;
    const s = c.socket;
    const preamble = fresh ? b.preamble : null;
    if (this.bodyMode === BodyMode.None) {
      const tail = ex.end(NO_TRAILERS);
      if (preamble === null && (tail === null || (!Array.isArray(tail) && tail.length === 0))) {
        // The common case: the head alone, one write without corking.
        if (b.writeAtOnce) c.writeNow(head);
        else c.write(head);
        this.bodyWritten(c);
      } else {
        s.cork();
        if (preamble !== null) c.write(preamble);
        c.write(head);
        this.writeFramed(tail);
        this.bodyWritten(c);
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
        this.bodyWritten(c);
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
            this.bodyWritten(c);
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

  onUpstreamConnect(c: UpstreamConnection): void {
    if (c !== this.conn) return;
    this.sendRequest();
  }

  onUpstreamData(c: UpstreamConnection, chunk: Buffer): void {
    if (c !== this.conn || !this.attemptLive) { c.destroy(); return; }
    if (this.settling) { this.settleFailed(); return; }
    this.responseBytes += chunk.length;
    try {
      this.exchange!.receive(chunk, this);
    } catch (err) {
      this.protocolThrew(err);
      return;
    }
    this.afterReceive(c);
  }

  /**
   * The protocol threw while decoding the backend's bytes. A LanternError is its answer (with its
   * status, unless the response has begun); anything else is a bug in the protocol, logged with
   * its stack and answered 502. The connection is closed; the member is not blamed.
   */
  private protocolThrew(err: unknown): void {
    if (!this.attemptLive) return;
    this.giveUpAttempt();
    if (LanternError.is(err)) { this.answerLocally(err); return; }
    this.core.log(`backend "${this.backend.name}": protocol "${this.backend.protocolDef!.name}" failed on the response to ${this.req.method} ${this.req.target}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    this.finishWithError('LT_ERR_BACKEND_BAD_RESPONSE');
  }

  /** A protocol's or transport's own answer: its status and the fields it carries. */
  private answerLocally(err: LanternError): void {
    // A LanternError of another copy of lantern may predate `headers`.
    const h = (err.headers as readonly string[] | undefined) ?? [];
    if (h.length > 0 && !this.req.headSent) for (let i = 0; i + 1 < h.length; i += 2) this.req.responseHeaders.push(h[i]!, h[i + 1]!);
    this.finishWithError(err.code);
  }

  onUpstreamEnd(c: UpstreamConnection): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (this.settling) { this.settleFailed(); return; }
    if (!this.responseDone) {
      try {
        this.exchange!.receiveEnd(this);
      } catch (err) {
        this.protocolThrew(err);
        return;
      }
    }
    if (c !== this.conn || !this.attemptLive) return;
    if (this.responseDone) this.completeAttempt();
    else this.attemptFailed('LT_ERR_BACKEND_RESET', 'backend closed the connection');
  }

  onUpstreamError(c: UpstreamConnection, err: NodeJS.ErrnoException | null): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (this.settling) { this.settleFailed(); return; }
    if (err !== null && LanternError.is(err)) {
      // The transport's own answer (a script that cannot be run: 403, 404, 500): nothing was
      // sent, and the member is not to blame.
      this.backend.logMember(this.member!, `${err.message} for ${this.req.method} ${this.req.target}`);
      this.giveUpAttempt();
      this.answerLocally(err);
      return;
    }
    if (err !== null && (err as { tlsHandshakeFailed?: boolean }).tlsHandshakeFailed === true) {
      // ssl-upstream: the TLS handshake failed (the certificate did not verify...): the member
      // answered, wrongly: 502 (not the 503 of a refused connect), with the reason.
      this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', err.message, 'tls');
      return;
    }
    const detail = err?.code ?? err?.message ?? 'connection closed';
    // The stream's end, not a reset, in two cases; the protocol then answers as after a FIN:
    // - The backend answered before it took the whole request body, then closed: an app that
    //   does not read its input closes with our bytes unread, which the kernel turns into a reset
    //   (or our next write into EPIPE). Its answer ends where its stream did: complete when its
    //   framing says so (a CGI body delimited by the close), else cut short. Not the member's fault.
    // - A process (CGI) whose output closed or failed before its 'end' was seen: its output is
    //   over (no header block: the script failed, 500), never a backend that reset (502).
    const answeredEarly = this.finalHead && (!this.bodyEndWritten || c.writeFailed);
    const processOutputOver = !this.finalHead && this.member!.perRequest && this.exchange !== null;
    if ((answeredEarly || processOutputOver) && !this.responseDone) {
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
    this.resumeUpstream(c);
  }

  protected override resumeUpstream(c: UpstreamConnection): void {
    if (c !== this.conn || !c.clientPaused) return;
    c.clientPaused = false;
    c.socket.resume();
    this.armAfterWrite();
  }

  /** The response is complete: the connection goes back to the pool when it may carry another request. */
  protected override completeAttempt(): void {
    const c = this.conn!;
    const ex = this.exchange!;
    const m = this.member!;
    const b = this.backend;
    // D7, D10, D11, G3: reused only after a clean exchange with the whole request sent.
    const reusable = b.keepAlive && this.bodyEndWritten && !c.writeFailed && ex.reusable() &&
      c.requests < b.options.maxKeepAliveRequests && c.requests < m.requestsPerConnection && !c.socket.writableNeedDrain;
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

  /** Drop the current attempt: its connection is closed, never pooled. */
  protected override giveUpAttempt(): void {
    this.settling = false;
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

  /** `kind`: the failure counter, when the code does not say it (a TLS handshake: `tls`). */
  protected override attemptFailed(code: ErrorCode, detail: string, kind?: FailureKind): void {
    const m = this.member!;
    // E5: a reused connection that died before any response byte was most likely closed by the
    // backend while idle: the pool's race, not a failure of the member.
    const stale = this.reused && this.responseBytes === 0 && code === 'LT_ERR_BACKEND_RESET';
    if (!stale) {
      const message = `${ERRORS[code].message} (${detail})`;
      this.backend.logMember(m, `${message} for ${this.req.method} ${this.req.target}`);
      m.recordFailure(kind ?? failureKind(code), message, this.req.path);
    }
    this.lastError = code;
    this.core.debug('%s %s → %s: %s (%s)', this.up.method, this.up.target, m.key, code, detail);
    this.giveUpAttempt();
    // Nothing of the request went out before a failed TLS handshake: retried as after a refused connect.
    const d = this.decide(kind === 'tls' ? 'LT_ERR_BACKEND_REFUSED' : code, false, stale);
    if (d === 'fail') {
      // A stale connection is the pool's race and retried quietly; when it cannot be (a
      // non-idempotent request, RFC 9112 §9.3.1), the client gets an error: the log says why.
      if (stale) {
        this.backend.logMember(m, `${ERRORS[code].message} (${detail}) on a reused connection, before any response byte, for ${this.req.method} ${this.req.target}: not sent again (${isIdempotent(this.up.method) ? 'the body cannot be replayed' : 'not idempotent'})`);
      }
      this.finishWithError(code);
    } else {
      this.retry(d, m);
    }
  }

  protected override decide(code: ErrorCode, status5xx: boolean, stale: boolean): RetryDecision {
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

  protected override retry(d: RetryDecision, m: Member): void {
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
  protected override abandon(): void {
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

  protected clientAborted(): void {
    if (!this.done) this.abandon();
  }

  /** The request is over for proxy-core. */
  protected override finish(): void {
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
  protected override finishWithError(code: ErrorCode): void {
    if (this.done) return;
    this.finish();
    const req = this.req;
    if (req.finished) return;
    if (req.headSent) { req.abort(); return; }
    if (this.finalHead) req.responseHeaders = [];
    req.sendError(ERRORS[code].status, code);
  }
}

// One proxied request's state (design.md §3), shared by the three parts that run it: the
// request-body relay (request-body-relay.ts), the response relay (response-relay.ts) and the
// attempts with their retry rule (proxy-request.ts). Each part is one class in a chain of
// subclasses over this one, so the request stays one object with monomorphic fields.
import { Buffer } from 'node:buffer';
import type { ErrorCode } from '../../core/errors.js';
import type { HeaderList } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import type { SpooledBody } from '../../core/body-spool.js';
import { BACKLOG_MEMORY_BYTES, ResponseBacklog } from '../../core/response-backlog.js';
import type { ForwardOptions } from './api.js';
import type { Backend } from './backend.js';
import type { Member } from './member.js';
import type { ProxyCore } from './proxy-core.js';
import type { RetryDecision } from './retry.js';
import type { Tunnel } from './tunnel.js';
import type { ProxyUpstreamRequest } from './upstream-request.js';
import { Phase, type UpstreamConnection } from './upstream-connection.js';
import type { Exchange, MemberView } from './types.js';

/** req.pluginData key: the backends that fell through for this request (ResponseSink.fallThrough). */
const PASSED_KEY = 'proxy-core:passed';

/** The backends that had no answer for `req` and let it go on (created on first use). */
export function passedBackends(req: Request): Set<object> {
  let set = req.pluginData.get(PASSED_KEY) as Set<object> | undefined;
  if (set === undefined) {
    set = new Set();
    req.pluginData.set(PASSED_KEY, set);
  }
  return set;
}

/** Whether `backend` fell through for `req` already: it is skipped for the rest of the request. */
export function backendPassed(req: Request, backend: object): boolean {
  const set = req.peekPluginData(PASSED_KEY) as Set<object> | undefined;
  return set !== undefined && set.has(backend);
}

export const EMPTY = Buffer.alloc(0);
export const NO_TRAILERS: HeaderList = [];
const NONE_TRIED: ReadonlySet<MemberView> = new Set();

/** How the request body reaches the backend. */
export const enum BodyMode { None, Stream, Buffered }

export abstract class ProxyRequestState {
  readonly core: ProxyCore;
  readonly req: Request;
  readonly backend: Backend;
  readonly up: ProxyUpstreamRequest;
  queuedAtMs = 0;
  protected tried: Set<MemberView> | null = null;
  protected member: Member | null = null;
  protected conn: UpstreamConnection | null = null;
  protected exchange: Exchange | null = null;
  /** The attempt's sink calls count (false once it was given up: late calls are ignored). */
  protected attemptLive = false;
  /** The current connection carried a request before (E5). */
  protected reused = false;
  /** A non-idempotent request waits one poll before writing on a just-released connection (E5; ProxyRequest.settleFirst). */
  protected settling = false;
  protected freshRetryUsed = false;
  protected forceFresh = false;
  protected responseBytes = 0;
  protected lastError: ErrorCode | null = null;
  /** The request is over for proxy-core (answered, failed, aborted, tunnelled). */
  protected done = false;

  // request body
  protected bodyMode: BodyMode = BodyMode.None;
  protected bodyStarted = false;
  protected bodyComplete = false;
  protected bodyTrailers: HeaderList = NO_TRAILERS;
  /** The exchange's end() went out on the current attempt. */
  protected bodyEndWritten = false;

  /**
   * The end of the request body was written on `c`. A process per request (CGI) then gets EOF on
   * its stdin; an upgrade keeps it open for the tunnel's bytes.
   */
  protected bodyWritten(c: UpstreamConnection): void {
    this.bodyEndWritten = true;
    if (c.transport !== null && this.up.upgrade === null) c.requestWritten();
  }
  /** Body bytes kept for a replay (E7). */
  protected replay: Buffer[] | null = null;
  protected replayBytes = 0;
  /** The body outgrew retryBodyBufferBytes (or no replay can be needed any more): nothing is kept. */
  protected replayLost = false;
  protected bodyPaused = false;
  /** The response is complete: the rest of the request body is read and dropped (G3). */
  protected discardBody = false;
  /** A body read whole before the attempt (BodyMode.Buffered): in memory or a temp file. */
  protected spooled: SpooledBody | null = null;
  /** The spooled body's sender, waiting for the backend to drain. */
  protected spoolStep: (() => void) | null = null;

  // response
  protected finalHead = false;
  protected responseDone = false;
  /** Body bytes held back to leave with the head: one piece (the usual case), or several. */
  protected held: Buffer | Buffer[] | null = null;
  protected heldBytes = 0;
  /** X-Sendfile serves the answer; the backend's body is dropped. */
  protected discardResponse = false;
  protected tunnel: Tunnel | null = null;
  /** After the response: the request goes on (authorizer 200) or restarts at a local URL (CGI Location). */
  protected continuation: 'authorized' | 'redirect' | 'fall-through' | null = null;
  /** Response bytes waiting for a client slower than the backend (server.stream-response-body 0, 1). */
  protected backlog: ResponseBacklog | null = null;
  protected redirectTarget = '';
  protected readonly opts: ForwardOptions | undefined;

  constructor(core: ProxyCore, req: Request, backend: Backend, up: ProxyUpstreamRequest, opts?: ForwardOptions) {
    this.core = core;
    this.req = req;
    this.backend = backend;
    this.up = up;
    this.opts = opts;
  }

  /** What this request already tried, for the balancer (E8). */
  get triedSet(): ReadonlySet<MemberView> { return this.tried ?? NONE_TRIED; }

  protected writeFramed(x: Buffer | string | Array<Buffer | string> | null): boolean {
    const c = this.conn!;
    if (x === null) return !c.socket.writableNeedDrain;
    if (!Array.isArray(x)) return x.length === 0 ? !c.socket.writableNeedDrain : c.write(x);
    let ok = true;
    for (const part of x) if (part.length > 0) ok = c.write(part);
    return ok;
  }

  /** Re-arm the connection's timer for what it waits for now. */
  protected armAfterWrite(): void {
    const c = this.conn;
    if (c === null) return;
    if (c.clientPaused) c.setPhase(Phase.ClientPaused);
    else if (c.socket.writableNeedDrain) c.setPhase(Phase.Write);
    else if (!this.bodyEndWritten && !this.finalHead) c.setPhase(Phase.ClientBody);
    else c.setPhase(Phase.Read);
  }

  /**
   * The client's socket is full (req.write returned false). With server.stream-response-body 0
   * or 1 the backend is still read as fast as it sends and the bytes wait in a backlog (memory,
   * then a temp file), so its connection is free as soon as the response is in. With 2 (pure
   * streaming, F3) the backend is not read until the client drains.
   */
  protected pauseForClient(): void {
    if (this.backlog === null && ((this.req.config.values.get('server.stream-response-body') as number | undefined) ?? 0) !== 2) {
      const b = this.backend;
      this.backlog = new ResponseBacklog(this.req, {
        memoryBytes: BACKLOG_MEMORY_BYTES,
        maxFileBytes: b.options.maxTempFileBytes,
        dirs: this.req.conn.server.uploadDirs,
        onRoom: () => { const c = this.conn; if (c !== null) this.resumeUpstream(c); },
        onSpill: (n) => { b.responseBytesToDisk += n; },
        onError: (err) => this.core.log(`backend "${b.name}": ${this.req.method} ${this.req.target}: cannot hold the response for the client: ${err.message}`),
      });
    }
    if (this.backlog !== null) { this.backlog.blocked(); return; }
    this.pauseUpstream();
  }

  /** The bytes for the client, through the backlog once there is one. */
  protected toClient(chunk: Buffer): void {
    const bl = this.backlog;
    if (bl === null) { if (!this.req.write(chunk)) this.pauseForClient(); return; }
    if (!bl.push(chunk)) this.pauseUpstream();
  }

  /** The client's drain or room in the backlog: read the backend again. */
  protected abstract resumeUpstream(c: UpstreamConnection): void;

  /** F3 / a full backlog: stop reading the backend until the client drains. */
  protected pauseUpstream(): void {
    const c = this.conn;
    if (c === null || c.clientPaused) return;
    c.clientPaused = true;
    c.socket.pause();
    c.setPhase(Phase.ClientPaused);
    // A full backlog says when it has room again (onRoom); without one the client's drain does.
    if (this.backlog === null) this.req.onDrain(c.clientDrained);
  }

  // --- implemented by ProxyRequest (proxy-request.ts): the attempts and the retry rule ---

  /** Pick a member and start on it; or queue (E12); or answer (E9). */
  protected abstract attempt(): void;
  /** The client is gone or its body failed: stop the upstream request (G1, G2). */
  protected abstract abandon(): void;
  protected abstract attemptFailed(code: ErrorCode, detail: string): void;
  protected abstract decide(code: ErrorCode, status5xx: boolean, stale: boolean): RetryDecision;
  protected abstract retry(d: RetryDecision, m: Member): void;
  /** The response is complete: the connection goes back to the pool when it may carry another request. */
  protected abstract completeAttempt(): void;
  /** Drop the current attempt: its connection is closed, never pooled. */
  protected abstract giveUpAttempt(): void;
  /** The request is over for proxy-core. */
  protected abstract finish(): void;
  /** Answer with the error's status, or cut the response short if its head already went out (D6). */
  protected abstract finishWithError(code: ErrorCode): void;
}

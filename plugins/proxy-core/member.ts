// One backend member (an address): its connection pool (keep-alive, at most maxPoolSize
// connections, idle ones reused last-in first-out), its health (lighttpd gw_backend's
// disabled_until, then one probe: half-open; checklist E1, E2, E10) and its counters.
import { WORKER_COUNT_ENV } from '../../core/hooks.js';
import { turnNowMs, turnNumber } from '../../core/turn.js';
import type { MemberSnapshot } from './api.js';
import type { Backend } from './backend.js';
import { execTransport } from './process-transport.js';
import type { FailureCounters, MemberAddress, MemberState, MemberView, TransportDefinition, UpstreamRequest } from './types.js';
import { hostFieldFor } from './address.js';
import { Phase, UpstreamConnection, type UpstreamOwner } from './upstream-connection.js';

export type FailureKind = keyof FailureCounters;

/** Response-level failures eject a member only when they came from this many different paths. */
export const FAILING_PATHS_NEEDED = 2;

export function newFailureCounters(): FailureCounters {
  return { refused: 0, connectTimeout: 0, readTimeout: 0, writeTimeout: 0, reset: 0, badResponse: 0, status5xx: 0, tls: 0 };
}

/** Processes that share each backend (server.max-worker; 1 without workers). */
const WORKERS = Math.max(1, Number(process.env[WORKER_COUNT_ENV]) || 1);

export class Member implements MemberView {
  readonly key: string;
  readonly address: MemberAddress;
  weight: number;
  state: MemberState = 'up';
  readonly backend: Backend;
  /** The hostname entry this address was resolved from; null for a literal address. */
  readonly hostname: string | null;
  /** The Host value when preserveHost is off. */
  readonly hostField: string;
  /** Attempts in flight. */
  active = 0;
  /** Open connections: connecting, busy and idle. */
  open = 0;
  /** Idle keep-alive connections; the most recently used is last, so the first has waited longest. */
  readonly idle: UpstreamConnection[] = [];
  /**
   * Closes connections idle for keepAliveIdleMs. One timer per member, armed only when none is
   * pending: re-arming a socket timer on every release and acquire cost two timer objects per
   * request (measured: ~400 bytes and ~1 300 instructions of each proxied request).
   */
  private idleTimer: NodeJS.Timeout | null = null;
  /** Until when it is left out (Date.now() clock). */
  disabledUntilMs = 0;
  /** Disable periods in a row without a success between them: each one doubles the next (E10). */
  ejections = 0;
  /**
   * Response-level outcomes (answers, bad responses, resets, timeouts) in the current failure
   * window of failureWindowMs: a member is ejected on a failure rate over different requests,
   * never on one URL's failures (a client cannot switch a member off by asking for it).
   */
  private windowStartMs = 0;
  private windowAnswers = 0;
  private windowFailures = 0;
  /** Distinct paths among the window's failures (at most FAILING_PATHS_NEEDED kept). */
  private windowFailingPaths: string[] = [];
  requests = 0;
  /** When the last attempt started (turn clock); for the spawner's idle-timeout. */
  lastUsedMs = 0;
  readonly failures: FailureCounters = newFailureCounters();
  lastError: string | null = null;
  lastErrorAtMs = 0;
  /** Taken out of the backend: no new requests, in-flight ones finish. */
  removing = false;
  private removedWaiters: Array<() => void> | null = null;

  /**
   * What carries its connections when it is not a plain socket (exec: members: a process per
   * request, process-transport.ts; TLS when the backend asks for it, the backend's transport),
   * else null.
   */
  readonly transport: TransportDefinition | null;
  /** The transport's state for this member, kept across connections (a TLS session to resume); null without. */
  readonly transportState: unknown;
  /**
   * A connection carries one request, opened with that request's environment, never pooled (a
   * process per request).
   */
  readonly perRequest: boolean;

  constructor(backend: Backend, key: string, address: MemberAddress, weight: number, hostname: string | null) {
    this.backend = backend;
    this.transport = address.kind === 'exec' ? execTransport : backend.transport;
    this.transportState = this.transport?.memberState?.() ?? null;
    this.perRequest = this.transport?.perRequest ?? false;
    this.key = key;
    this.address = address;
    this.weight = weight;
    this.hostname = hostname;
    this.hostField = hostFieldFor(address);
    this.capacityKnown = !backend.announcesCapacity;
    this.poolLimit = this.capacityKnown ? backend.options.maxPoolSize : 1;
  }

  /**
   * Most connections kept to this member: maxPoolSize, or fewer when the member said how many it
   * serves (FCGI_MAX_CONNS) or the spawner knows (PHP_FCGI_CHILDREN); 1 while a protocol that
   * announces its capacity has not answered yet.
   */
  poolLimit: number;
  /** The member's capacity is known (announced, spawner knowledge, or the protocol does not announce). */
  capacityKnown: boolean;
  /**
   * Requests after which the backend closes a connection itself, when known (the spawner's
   * PHP_FCGI_MAX_REQUESTS): the connection is retired after that many instead of being reused
   * into the backend's close (E5). Infinity: not known.
   */
  requestsPerConnection = Infinity;

  /** A connection can be had now: idle, or room for a new one. */
  get hasCapacity(): boolean {
    return this.idle.length > 0 || this.open < this.poolLimit;
  }

  /**
   * What the member serves at once (0: unknown, maxPoolSize applies). Idle connections beyond
   * the new limit are closed; busy ones finish their exchange and are not pooled.
   */
  setCapacity(maxConnections: number): void {
    const max = this.backend.options.maxPoolSize;
    // server.max-worker: every worker keeps its own pool, so each takes its share; together
    // they never hold more connections than the backend serves.
    const share = maxConnections > 0 ? Math.max(1, Math.floor(maxConnections / WORKERS)) : 0;
    const limit = share > 0 ? Math.min(max, share) : max;
    const grew = limit > this.poolLimit;
    this.capacityKnown = true;
    this.poolLimit = limit;
    while (this.open > limit && this.idle.length > 0) this.idle.shift()!.destroy();
    if (grew) this.backend.capacityFreed();
  }

  /** Up, or disabled and due for its probe; capacity aside (a request may wait for it). */
  healthy(nowMs: number): boolean {
    if (this.removing) return false;
    return this.state === 'up' || (this.state === 'disabled' && nowMs >= this.disabledUntilMs);
  }

  /** MemberView: a request may be sent to it now (healthy, one probe at a time, a free connection). */
  available(nowMs: number): boolean {
    return this.healthy(nowMs) && this.hasCapacity;
  }

  /** A request starts on this member; a disabled one that is due becomes the probe (half-open). */
  startAttempt(): void {
    this.requests++;
    this.active++;
    this.lastUsedMs = turnNowMs();
    if (this.state === 'disabled') this.state = 'probing';
  }

  /** The attempt is over (answered, failed or abandoned). */
  endAttempt(): void {
    this.active--;
    if (this.removing) this.checkRemoved();
  }

  /** The client went away during the probe: the member is due for another one. */
  probeAbandoned(): void {
    if (this.state === 'probing') this.state = 'disabled';
  }

  /** Take a connection for `owner`: the newest idle one (unless `fresh`), else a new one. */
  acquire(owner: UpstreamOwner, fresh: boolean, request: UpstreamRequest | null = null): UpstreamConnection {
    if (!fresh && !this.perRequest) {
      while (this.idle.length > 0) {
        const c = this.idle.pop()!;
        if (!c.usable) { c.destroy(); continue; }
        c.state = 'busy';
        c.owner = owner;
        return c;
      }
    }
    this.open++;
    return new UpstreamConnection(this, owner, this.perRequest ? request : null);
  }

  /** A finished exchange hands its connection back: pooled when it may be reused, else closed. */
  release(c: UpstreamConnection, reusable: boolean): void {
    c.owner = null;
    const s = c.socket;
    if (!reusable || this.open > this.poolLimit || this.removing || this.backend.removed || s.destroyed || s.readableEnded || !s.writable) {
      c.destroy();
      return;
    }
    c.state = 'idle';
    // Idle sockets keep reading, so that a backend's FIN is seen at once (E5).
    if (c.clientPaused) { c.clientPaused = false; s.resume(); }
    c.setPhase(Phase.Idle);
    c.idleSinceMs = turnNowMs();
    c.idleSinceTurn = turnNumber();
    this.idle.push(c);
    if (this.idleTimer === null) this.armIdleTimer(this.backend.options.keepAliveIdleMs);
    this.backend.capacityFreed();
  }

  private armIdleTimer(ms: number): void {
    if (this.backend.options.keepAliveIdleMs <= 0) return;
    this.idleTimer = setTimeout(() => this.closeExpiredIdle(), ms);
    this.idleTimer.unref();
  }

  /** The idle timer: close what waited keepAliveIdleMs, then wait for the next oldest. */
  private closeExpiredIdle(): void {
    this.idleTimer = null;
    const limitMs = this.backend.options.keepAliveIdleMs;
    const now = Date.now();
    const idle = this.idle;
    while (idle.length > 0 && now - idle[0]!.idleSinceMs >= limitMs) idle.shift()!.destroy();
    if (idle.length > 0) this.armIdleTimer(idle[0]!.idleSinceMs + limitMs - now);
  }

  /** The socket closed (or went to a tunnel): the slot is free. */
  connectionClosed(c: UpstreamConnection): void {
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.removing) this.checkRemoved();
    else this.backend.capacityFreed();
  }

  /** Close every idle connection. */
  closeIdle(): void {
    for (const c of this.idle.splice(0)) c.destroy();
    if (this.idleTimer !== null) { clearTimeout(this.idleTimer); this.idleTimer = null; }
  }

  /** The window's counts start again once failureWindowMs has passed. */
  private windowAt(nowMs: number): void {
    if (nowMs - this.windowStartMs < this.backend.options.failureWindowMs) return;
    this.windowStartMs = nowMs;
    this.windowAnswers = 0;
    this.windowFailures = 0;
    if (this.windowFailingPaths.length > 0) this.windowFailingPaths = [];
  }

  /** An answer came (the probe, if this was one, succeeded). */
  recordSuccess(): void {
    this.windowAt(turnNowMs());
    this.windowAnswers++;
    if (this.state !== 'up') {
      this.state = 'up';
      this.ejections = 0;
      this.disabledUntilMs = 0;
      this.backend.logMember(this, 're-enabled: its probe request was answered');
    }
  }

  /**
   * Count a failure of a request for `path`. Connect-level failures (refused, connect timeout)
   * disable at once, as lighttpd does; a failed probe always (twice the previous disable time).
   * Response-level failures eject only when, within failureWindowMs, at least maxFails requests
   * for FAILING_PATHS_NEEDED different paths failed and they are failurePercent of the outcomes.
   */
  recordFailure(kind: FailureKind, message: string, path: string): void {
    this.failures[kind]++;
    this.backend.failures[kind]++;
    this.lastError = message;
    const now = Date.now();
    this.lastErrorAtMs = now;
    // A failing script is that script's failure, never the member's.
    if (this.transport !== null && !this.transport.blamesMember) return;
    // A failed TLS handshake is connect-level too: the member's certificate fails every request alike.
    if (kind === 'refused' || kind === 'connectTimeout' || kind === 'tls') { this.backend.disable(this, message, false); return; }
    if (this.state === 'probing') { this.backend.disable(this, `its probe failed: ${message}`, true); return; }
    this.windowAt(turnNowMs());
    const f = ++this.windowFailures;
    const paths = this.windowFailingPaths;
    if (paths.length < FAILING_PATHS_NEEDED && !paths.includes(path)) paths.push(path);
    const o = this.backend.options;
    if (f < o.maxFails || paths.length < FAILING_PATHS_NEEDED) return;
    const outcomes = f + this.windowAnswers;
    if (f * 100 < o.failurePercent * outcomes) return;
    this.backend.disable(this, `${f} of ${outcomes} requests failed within ${o.failureWindowMs / 1000} s (last: ${message})`, true);
  }

  /** Leave the member out for the current disable time, doubling it after each failed probe (E10); returns that time. */
  disable(nowMs: number): number {
    const o = this.backend.options;
    this.ejections++;
    const capMs = Math.max(o.disableTimeMs, o.maxDisableTimeMs);
    const ms = Math.min(o.disableTimeMs * 2 ** Math.min(this.ejections - 1, 30), capMs);
    this.state = 'disabled';
    this.disabledUntilMs = nowMs + ms;
    this.windowStartMs = 0;
    // Its pooled connections are as suspect as the one that failed.
    this.closeIdle();
    return ms;
  }

  /** Stop taking requests; resolves once the in-flight ones are done and no connection is open. */
  remove(): Promise<void> {
    this.removing = true;
    this.closeIdle();
    return new Promise((resolve) => {
      (this.removedWaiters ??= []).push(resolve);
      this.checkRemoved();
    });
  }

  private checkRemoved(): void {
    if (this.active > 0) return;
    this.closeIdle();
    const ws = this.removedWaiters;
    if (ws === null) return;
    this.removedWaiters = null;
    for (const w of ws) w();
  }

  snapshot(): MemberSnapshot {
    const snap: MemberSnapshot = {
      key: this.key,
      hostname: this.hostname,
      weight: this.weight,
      state: this.state,
      requests: this.requests,
      active: this.active,
      idle: this.idle.length,
      connections: this.open,
      failures: { ...this.failures },
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAtMs,
      disabledUntilMs: this.state === 'up' ? 0 : this.disabledUntilMs,
    };
    const counters = this.transport?.counters;
    if (counters !== undefined) snap.transport = counters(this.transportState);
    return snap;
  }
}

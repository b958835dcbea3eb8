// A backend (design.md §3): its members (literal addresses and hostnames resolved to all their
// addresses, re-resolved at runtime), its balancer, its wait queue (E12) and its counters.
// Members come and go at runtime without losing a request: a removed member takes no new
// requests and is forgotten once its in-flight ones are done.
import dns from 'node:dns';
import { booleanValue } from '../../core/options.js';
import { parseIpInto, parseIpMask, ipMatches, type IpMask } from '../../config/ip-address.js';
import type { Request } from '../../core/request.js';
import { turnNowMs } from '../../core/turn.js';
import type { SourceLoc } from '../../config/model.js';
import type { BackendHandle, BackendOptions, BackendSnapshot } from './api.js';
import { parseMemberEntry, tcpKey } from './address.js';
import { Member, newFailureCounters } from './member.js';
import type { ProxyRequest } from './proxy-request.js';
import type { Balancer, FailureCounters, MemberView, ProtocolDefinition, ProtocolOptions, TransportDefinition } from './types.js';
import { WaitQueue } from './wait-queue.js';
import type { SpawnHost } from './spawned-backends.js';
import { tlsTransport } from '../ssl-upstream/tls-transport.js';

/** A `hostname:port` member entry and the member keys it resolved to last time. */
interface HostnameSource {
  host: string;
  port: number;
  weight: number;
  keys: Set<string>;
}

export interface BackendInit {
  name: string;
  protocol: string;
  balancer: string;
  hashKey: string;
  options: BackendOptions;
  protocolOptions: ProtocolOptions;
  loc?: SourceLoc;
  keyLocs?: { protocol?: SourceLoc; balancer?: SourceLoc };
  /** Hosts proxy-core starts (bin-path); their processes become members at startup. */
  spawnHosts?: SpawnHost[];
  log: (message: string) => void;
}

/** Options every protocol receives from proxy-core itself. */
const CORE_PROTOCOL_OPTIONS = new Set(['maxResponseHeadBytes']);

/**
 * Check `options` against the protocol's schema (ProtocolDefinition.options) and fill in its
 * defaults: an unknown key, a wrong type or a value out of range throws with the key's name.
 */
export function checkProtocolOptions(protocol: ProtocolDefinition, options: ProtocolOptions): void {
  const schema = protocol.options ?? {};
  for (const [key, given] of Object.entries(options)) {
    if (CORE_PROTOCOL_OPTIONS.has(key) || given === undefined) continue;
    const spec = schema[key];
    // A config gives numbers and booleans as lighttpd writes them too: "2", "enable".
    let value = given;
    if (spec?.type === 'integer' && typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value)) value = Number(value);
    else if (spec?.type === 'boolean' && typeof value !== 'boolean') value = booleanValue(value) ?? value;
    options[key] = value;
    if (!spec) {
      const known = Object.keys(schema);
      throw new Error(`protocol "${protocol.name}" has no option "${key}" (${known.length > 0 ? `its options: ${known.join(', ')}` : 'it takes none'})`);
    }
    const bad = (want: string) => new Error(`protocol "${protocol.name}" option "${key}": expected ${want}, got ${JSON.stringify(value)}`);
    switch (spec.type) {
      case 'string':
        if (typeof value !== 'string') throw bad('a string');
        if (spec.enum && !spec.enum.includes(value)) throw bad(`one of ${spec.enum.map((x) => `"${x}"`).join(', ')}`);
        break;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value) || (spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
          throw bad(`an integer${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` <= ${spec.max}` : ''}`);
        }
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false');
        break;
      case 'string-list':
        if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) throw bad('a list of strings');
        break;
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    if (options[key] === undefined && spec.default !== undefined) options[key] = spec.default;
  }
}

function defaultResolve(host: string): Promise<string[]> {
  return dns.promises.lookup(host, { all: true }).then((list) => list.map((a) => a.address));
}

export class Backend implements BackendHandle {
  readonly name: string;
  readonly protocol: string;
  readonly balancer: string;
  readonly hashKey: string;
  readonly options: BackendOptions;
  readonly protocolOptions: ProtocolOptions;
  readonly loc: SourceLoc | undefined;
  /** Where the protocol and balancer were named, when that is another line than `loc`. */
  readonly keyLocs: { protocol?: SourceLoc; balancer?: SourceLoc };
  /** Hosts proxy-core starts (bin-path): their processes become members at startup. */
  readonly spawnHosts: readonly SpawnHost[];
  /** Bound at startup (or at once when added later). */
  protocolDef: ProtocolDefinition | null = null;
  balancerImpl: Balancer | null = null;
  /** From the protocol (and its options): connections carry more than one request. */
  keepAlive = true;
  /** From the protocol: a body of unknown length can be streamed (else buffered for a length). */
  streamsUnknownLength = true;
  /** From the protocol: bytes written once on each new connection, before its first head. */
  preamble: Buffer | null = null;
  /** From the protocol: members announce how many connections they serve (ResponseSink.capacity). */
  announcesCapacity = false;
  /**
   * A bodiless request is written at once, not at the end of the event loop's turn: CGI-family
   * backends (php-cgi, uWSGI workers) are a process per connection, idle until their request
   * arrives, and holding writes to batch them saves none of their wake-ups (measured with
   * php-cgi, 4 workers, wrk -c50: 10.3-10.8k → 12.0-14.9k req/s, p99 8.5 → 6.7-7.6 ms). An
   * event-loop HTTP origin serves several batched requests per wake-up (core/write-batch.ts).
   */
  writeAtOnce = false;
  /**
   * What carries the members' connections when it is not a plain socket: TLS when options.tls is
   * set (ssl-upstream), chosen once here so that a plain backend's connections test nothing more.
   */
  readonly transport: TransportDefinition | null;
  /** Members requests may go to; what the balancer sees. */
  members: Member[] = [];
  readonly queue: WaitQueue<ProxyRequest>;
  readonly failures: FailureCounters = newFailureCounters();
  requests = 0;
  queueFull = 0;
  queueTimeouts = 0;
  allDown = 0;
  retries = 0;
  /** Response bytes written to temp files for clients slower than the backend. */
  responseBytesToDisk = 0;
  /** Requests forwarded and not finished. */
  inFlight = 0;
  removed = false;
  /** Hostname lookups in flight: with no member yet, requests wait for them. */
  resolving = 0;
  nextResolveMs = 0;
  private readonly byKey = new Map<string, Member>();
  private readonly hostnames = new Map<string, HostnameSource>();
  private readonly trusted: IpMask[] = [];
  private readonly scratchIp = new Uint8Array(16);
  private draining = false;
  private readonly lookups = new Set<Promise<void>>();
  private readonly log: (message: string) => void;
  private idleWaiters: Array<() => void> | null = null;

  constructor(init: BackendInit) {
    this.name = init.name;
    this.protocol = init.protocol;
    this.balancer = init.balancer;
    this.hashKey = init.hashKey;
    this.options = init.options;
    this.protocolOptions = init.protocolOptions;
    this.loc = init.loc;
    this.keyLocs = init.keyLocs ?? {};
    this.spawnHosts = init.spawnHosts ?? [];
    this.log = init.log;
    this.queue = new WaitQueue(init.options.maxBacklog, init.options.queueTimeoutMs);
    // TLS files are read and checked now: a bad one stops the start (addBackend names the line).
    this.transport = init.options.tls ? tlsTransport.bound({ name: init.name, protocol: init.protocol }, init.options.tls) : null;
    for (const t of init.options.trustForwardedFrom) {
      const mask = parseIpMask(t);
      if (mask === null) throw new Error(`trust-forwarded-from: "${t}" is not an address or CIDR mask`);
      this.trusted.push(mask);
    }
  }

  /**
   * Attach the protocol and balancer (startup, or at once for a backend added later). The
   * protocol options are checked against the protocol's schema and completed with its defaults;
   * a bad one throws (the caller names the config line).
   */
  bind(protocol: ProtocolDefinition, balancer: Balancer): void {
    this.checkProtocol(protocol, this.protocolOptions);
    this.protocolDef = protocol;
    this.balancerImpl = balancer;
    const caps = protocol.capabilities?.(this.protocolOptions);
    this.keepAlive = caps?.keepAlive ?? protocol.keepAlive;
    this.streamsUnknownLength = caps?.streamsUnknownLength ?? protocol.streamsUnknownLength;
    this.preamble = protocol.preamble?.(this.protocolOptions) ?? null;
    this.announcesCapacity = protocol.announcesCapacity === true;
    this.writeAtOnce = protocol.usesEnv;
    // Members made before the protocol was bound: one connection each until they answer.
    for (const m of this.members) {
      if (!this.announcesCapacity) m.setCapacity(0);
      else if (m.open === 0) { m.capacityKnown = false; m.poolLimit = 1; }
    }
  }

  /**
   * Check `options` (this backend's protocol options, or a copy under -t) against `protocol`,
   * filling in its defaults; throws with the key's name.
   */
  checkProtocol(protocol: ProtocolDefinition, options: ProtocolOptions): void {
    if (this.options.authorizer) {
      // The authorizer role is proxy-core's behaviour (no body; a 200 lets the request go on),
      // and the protocol's framing (FastCGI FCGI_AUTHORIZER).
      if (!protocol.options?.role?.enum?.includes('authorizer')) throw new Error(`protocol "${protocol.name}" has no authorizer role`);
      options.role = 'authorizer';
    }
    checkProtocolOptions(protocol, options);
  }

  /** Whether `peer`'s own X-Forwarded-* / Forwarded values are kept (C3). */
  trusts(peer: string): boolean {
    if (this.trusted.length === 0) return false;
    if (!parseIpInto(peer, this.scratchIp)) return false;
    for (const m of this.trusted) if (ipMatches(m, this.scratchIp)) return true;
    return false;
  }

  // --- members ---

  /** The member at a literal address (`host:port`, `[v6]:port`, `unix:/path`), if there is one. */
  memberFor(address: string): Member | undefined {
    const e = parseMemberEntry(address);
    return 'error' in e || e.kind !== 'address' ? undefined : this.byKey.get(e.key);
  }

  addMember(address: string, weight = 1): void {
    const e = parseMemberEntry(address);
    if ('error' in e) throw new Error(`backend "${this.name}": ${e.error}`);
    if (e.kind === 'address') {
      this.addAddress(e.key, e.address, weight, null);
      return;
    }
    if (this.hostnames.has(e.key)) return;
    const src: HostnameSource = { host: e.host, port: e.port, weight, keys: new Set() };
    this.hostnames.set(e.key, src);
    this.nextResolveMs = Date.now() + this.options.resolveIntervalMs;
    this.track(this.resolveSource(e.key, src));
  }

  /** Remember a lookup in flight, for settled(). */
  private track(p: Promise<void>): void {
    this.lookups.add(p);
    void p.finally(() => this.lookups.delete(p));
  }

  /** Resolves once the lookups in flight now are done (startup waits for the first ones). */
  settled(): Promise<void> {
    return Promise.all([...this.lookups]).then(() => undefined);
  }

  private addAddress(key: string, address: Member['address'], weight: number, hostname: string | null): void {
    if (this.byKey.has(key)) return;
    const m = new Member(this, key, address, weight, hostname);
    this.byKey.set(key, m);
    // A new array: a balancer may hold the old one while selecting.
    this.members = [...this.members, m];
    this.capacityFreed();
  }

  removeMember(address: string): Promise<void> {
    const e = parseMemberEntry(address);
    if ('error' in e) return Promise.reject(new Error(`backend "${this.name}": ${e.error}`));
    if (e.kind === 'address') return this.removeKey(e.key);
    const src = this.hostnames.get(e.key);
    if (!src) return Promise.resolve();
    this.hostnames.delete(e.key);
    return Promise.all([...src.keys].map((k) => this.removeKey(k))).then(() => undefined);
  }

  private removeKey(key: string): Promise<void> {
    const m = this.byKey.get(key);
    if (!m) return Promise.resolve();
    this.byKey.delete(key);
    this.members = this.members.filter((x) => x !== m);
    const done = m.remove();
    // Queued requests may have been waiting for this member only.
    this.capacityFreed();
    return done;
  }

  /** Resolve every hostname member again now. */
  resolveNow(): Promise<void> {
    return Promise.all([...this.hostnames].map(([k, src]) => this.resolveSource(k, src))).then(() => undefined);
  }

  /** Look a hostname up and make its member set match the answer (new addresses join, vanished ones leave gracefully). */
  private async resolveSource(key: string, src: HostnameSource): Promise<void> {
    this.resolving++;
    let addresses: string[];
    try {
      addresses = await (this.options.resolve ?? defaultResolve)(src.host);
    } catch (err) {
      this.log(`backend "${this.name}": cannot resolve ${src.host}: ${(err as Error).message}`);
      addresses = [];
      // Keep the members we had: a resolver hiccup is not a reason to drop working addresses.
      if (src.keys.size > 0) { this.resolving--; return; }
    }
    this.resolving--;
    if (this.removed || this.hostnames.get(key) !== src) { this.failIfNothingLeft(); return; }
    const keys = new Set<string>();
    for (const a of addresses) {
      const k = tcpKey(a, src.port);
      if (keys.has(k)) continue;
      keys.add(k);
      if (!src.keys.has(k)) this.addAddress(k, { kind: 'tcp', host: a, port: src.port }, src.weight, src.host);
    }
    const gone = [...src.keys].filter((k) => !keys.has(k));
    src.keys = keys;
    for (const k of gone) void this.removeKey(k);
    this.failIfNothingLeft();
  }

  /** Requests that waited for a first resolution that gave nothing: 503. */
  private failIfNothingLeft(): void {
    if (this.resolving > 0 || this.queue.length === 0) return;
    const now = Date.now();
    for (const m of this.members) if (m.healthy(now)) return;
    for (const pr of this.queue.drain()) pr.noMemberLeft();
  }

  /** Called once a second: hostnames are resolved again every resolveIntervalMs. */
  tick(nowMs: number): void {
    if (this.hostnames.size === 0 || nowMs < this.nextResolveMs) return;
    this.nextResolveMs = nowMs + this.options.resolveIntervalMs;
    this.track(this.resolveNow());
  }

  // --- selection, health, queue ---

  select(req: Request, tried: ReadonlySet<MemberView>, nowMs: number): Member | null {
    if (this.members.length === 0) return null;
    return this.balancerImpl!.select(this.members, req, tried, nowMs) as Member | null;
  }

  /** Whether a request that found no free member should wait: some untried member is healthy but busy, or a lookup is pending. */
  waitable(tried: ReadonlySet<MemberView>, nowMs: number): boolean {
    if (this.resolving > 0 && this.members.length === 0) return true;
    for (const m of this.members) if (!tried.has(m) && m.healthy(nowMs)) return true;
    return false;
  }

  /** An error-log line about one member: `backend "name" address: message`. */
  logMember(m: Member, message: string): void {
    this.log(`backend "${this.name}" ${m.key}: ${message}`);
  }

  /**
   * Disable `m` for `reason` unless that would leave out more than maxEjectPercent of the members
   * or, for a response-level failure, the last member still in use (E10). Logged either way.
   */
  disable(m: Member, reason: string, responseLevel: boolean): void {
    const now = Date.now();
    if (m.state === 'up') {
      let out = 0;
      let inUse = 0;
      for (const x of this.members) {
        if (x === m) continue;
        if (x.state !== 'up') out++;
        if (x.healthy(now)) inUse++;
      }
      if ((out + 1) * 100 > this.options.maxEjectPercent * this.members.length) {
        this.logMember(m, `not disabled (proxy-core.max-eject-percent ${this.options.maxEjectPercent}): ${reason}`);
        return;
      }
      if (responseLevel && inUse === 0) {
        this.logMember(m, `not disabled: it is the last member in use: ${reason}`);
        return;
      }
    }
    const ms = m.disable(now);
    this.logMember(m, `disabled for ${ms / 1000} s: ${reason}`);
  }

  /** A connection slot or member became free: start queued requests, oldest first. */
  capacityFreed(): void {
    if (this.queue.length === 0 || this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const pr = this.queue.peek()!;
        const now = turnNowMs();
        const m = this.select(pr.req, pr.triedSet, now);
        if (m === null) {
          if (this.waitable(pr.triedSet, now)) break;
          this.queue.shift();
          pr.noMemberLeft();
          continue;
        }
        this.queue.shift();
        pr.startOn(m);
      }
    } finally {
      this.draining = false;
    }
  }

  /** A forwarded request is over. */
  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters !== null) {
      const ws = this.idleWaiters;
      this.idleWaiters = null;
      for (const w of ws) w();
    }
  }

  /** Removal: new requests are refused by the caller; resolves when the in-flight ones are done and the connections closed. */
  remove(): Promise<void> {
    this.removed = true;
    this.hostnames.clear();
    const idle = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (this.idleWaiters ??= []).push(r));
    return idle.then(() => Promise.all(this.members.map((m) => m.remove()))).then(() => {
      this.members = [];
      this.byKey.clear();
    });
  }

  /** Shutdown: close everything now. */
  destroy(): void {
    this.removed = true;
    for (const pr of this.queue.drain()) pr.noMemberLeft();
    for (const m of this.members) { m.removing = true; m.closeIdle(); }
  }

  snapshot(): BackendSnapshot {
    let active = 0;
    let idle = 0;
    for (const m of this.members) { active += m.active; idle += m.idle.length; }
    const members = this.members.map((m) => m.snapshot());
    const snap: BackendSnapshot = {
      name: this.name,
      protocol: this.protocol,
      balancer: this.balancer,
      requests: this.requests,
      active,
      idle,
      queued: this.queue.length,
      queueFull: this.queueFull,
      queueTimeouts: this.queueTimeouts,
      allDown: this.allDown,
      retries: this.retries,
      responseBytesToDisk: this.responseBytesToDisk,
      failures: { ...this.failures },
      members,
    };
    if (this.transport?.counters !== undefined) {
      const sum: Record<string, number> = {};
      for (const m of members) for (const [k, n] of Object.entries(m.transport ?? {})) sum[k] = (sum[k] ?? 0) + n;
      snap.transport = sum;
    }
    return snap;
  }
}

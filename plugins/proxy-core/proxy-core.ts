// The engine behind proxy-core's API (design.md §3, lighttpd 1.5 mod_proxy_core): registries of
// protocols and balancers, the backends, forward(), the status snapshot, tunnels, and the
// once-a-second housekeeping (hostname re-resolution, tunnel idle timeouts).
import type net from 'node:net';
import tapable from 'tapable';
import { ConfigError, type SourceLoc } from '../../config/model.js';
import type { ResponseHead } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import type { Server } from '../../core/server.js';
import {
  DEFAULT_BACKEND_OPTIONS, type BackendHandle, type BackendSpec, type ForwardOptions, type ProxyCoreApi,
  type ProxyHooks, type ProxySnapshot,
} from './api.js';
import { parseMemberEntry } from './address.js';
import { Backend } from './backend.js';
import { stopAllProcesses } from './process-transport.js';
import { ProxyRequest } from './proxy-request.js';
import { backendPassed } from './proxy-request-state.js';
import { SpawnedBackends, SPAWNED_BY_PRIMARY_ENV } from './spawned-backends.js';
import { Tunnel, type TunnelEnd } from './tunnel.js';
import type { BalancerDefinition, ProtocolDefinition, ProtocolOptions, UpstreamRequest } from './types.js';
import { normalizeTarget } from '../../core/http1/url.js';
import { buildUpstreamRequest, checkUpstreamRequest, originFormTarget } from './upstream-request.js';

const { SyncHook } = tapable;

/** Largest response head a protocol accepts by default (D5). */
const DEFAULT_MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/** Most backends X-Rewrite-Backend may make (each address a backend asks for is one). */
const MAX_REDIRECT_BACKENDS = 64;

export class ProxyCore implements ProxyCoreApi {
  readonly hooks: ProxyHooks = Object.freeze({
    upstreamRequest: new SyncHook<[UpstreamRequest]>(['up']),
    upstreamResponse: new SyncHook<[ResponseHead, Request]>(['head', 'req']),
  });
  readonly server: Server;
  readonly tunnels = new Set<Tunnel>();
  /** Startup ran: protocols and balancers are bound, and a new backend must name registered ones. */
  started = false;
  private readonly protocols = new Map<string, ProtocolDefinition>();
  private readonly balancers = new Map<string, BalancerDefinition>();
  private readonly byName = new Map<string, Backend>();
  /** forwardNextTo(): the address the next forward() of a request goes to (X-Rewrite-Backend). */
  private readonly nextAddress = new WeakMap<Request, string>();
  /** Backends made for X-Rewrite-Backend addresses so far. */
  private redirectBackends = 0;
  private readonly logError: (message: string) => void;
  readonly debug: (fmt: string, ...args: unknown[]) => void;
  private readonly spawned: SpawnedBackends;

  constructor(server: Server, logError: (message: string) => void, debug: (fmt: string, ...args: unknown[]) => void) {
    this.server = server;
    this.logError = logError;
    this.debug = debug;
    this.spawned = new SpawnedBackends(logError, debug);
  }

  log(message: string): void { this.logError(message); }

  registerProtocol(def: ProtocolDefinition): void {
    if (this.protocols.has(def.name)) throw new Error(`proxy-core: protocol "${def.name}" is already registered`);
    this.protocols.set(def.name, def);
  }

  registerBalancer(def: BalancerDefinition): void {
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      if (this.balancers.has(name)) throw new Error(`proxy-core: balancer "${name}" is already registered`);
    }
    for (const name of [def.name, ...(def.aliases ?? [])]) this.balancers.set(name, def);
  }

  addBackend(spec: BackendSpec): Backend {
    if (this.byName.has(spec.name)) throw new Error(`proxy-core: a backend named "${spec.name}" exists already`);
    const options = { ...DEFAULT_BACKEND_OPTIONS, ...spec.options };
    const protocolOptions: ProtocolOptions = { maxResponseHeadBytes: DEFAULT_MAX_RESPONSE_HEAD_BYTES, ...spec.protocolOptions };
    let b: Backend;
    try {
      b = new Backend({
        name: spec.name,
        protocol: spec.protocol,
        balancer: spec.balancer,
        hashKey: spec.hashKey ?? 'url',
        options,
        protocolOptions,
        loc: spec.loc,
        keyLocs: spec.keyLocs,
        spawnHosts: spec.spawn,
        log: (m) => this.log(m),
      });
      if (this.started) this.bind(b);
      for (const m of spec.members) {
        if (typeof m === 'string') b.addMember(m);
        else b.addMember(m.address, m.weight ?? 1);
      }
      if (this.started) this.spawned.join(b);
    } catch (err) {
      // A backend from a config file: the error names the line.
      if (spec.loc && !(err instanceof ConfigError)) throw new ConfigError(spec.loc, (err as Error).message);
      throw err;
    }
    this.byName.set(spec.name, b);
    return b;
  }

  /** Attach the backend's protocol and balancer; a missing one is a config error. */
  private bind(b: Backend): void {
    const { protocol, balancer } = this.lookup(b);
    try {
      b.bind(protocol, balancer.create({ hashKey: b.hashKey }));
    } catch (err) {
      throw this.bindError(b, b.keyLocs.protocol, (err as Error).message);
    }
  }

  /** The protocol and balancer a backend names; a ConfigError (file:line) when one is missing. */
  private lookup(b: Backend) {
    const protocol = this.protocols.get(b.protocol);
    if (!protocol) {
      throw this.bindError(b, b.keyLocs.protocol, `proxy-core.protocol: no protocol "${b.protocol}" is registered (have: ${[...this.protocols.keys()].join(', ') || 'none'}); load the module that provides it, e.g. "mod_proxy_backend_${b.protocol.replace(/[^a-z0-9]/gi, '_')}"`);
    }
    const balancer = this.balancers.get(b.balancer);
    if (!balancer) {
      throw this.bindError(b, b.keyLocs.balancer, `proxy-core.balancer: no balancer "${b.balancer}" is registered (have: ${[...this.balancers.keys()].join(', ') || 'none'}); built in: round-robin, rr, fair, sqf (balancer-rr), hash, carp, sticky (balancer-hash)`);
    }
    return { protocol, balancer };
  }

  /** The `configured` hook (also under -t/-tt): every backend names a registered protocol and balancer. */
  check(): void {
    for (const b of this.byName.values()) {
      const { protocol } = this.lookup(b);
      try {
        b.checkProtocol(protocol, { ...b.protocolOptions });
      } catch (err) {
        throw this.bindError(b, b.keyLocs.protocol, (err as Error).message);
      }
    }
  }

  private bindError(b: Backend, keyLoc: SourceLoc | undefined, message: string): Error {
    const loc = keyLoc ?? b.loc;
    return loc ? new ConfigError(loc, message) : new Error(`backend "${b.name}": ${message}`);
  }

  /** The startup hook: bind every backend made so far, then wait for the first hostname lookups. */
  async startup(): Promise<void> {
    for (const b of this.byName.values()) this.bind(b);
    this.started = true;
    // In a server.max-worker worker the primary started the spawned backends already.
    await this.spawned.start(this.byName.values(), process.env[SPAWNED_BY_PRIMARY_ENV] !== '1');
    await Promise.all([...this.byName.values()].map((b) => b.settled()));
  }

  /** A server.max-worker primary: start the spawned backends once for all workers. */
  async primaryStartup(): Promise<void> {
    await this.spawned.startOnly(this.byName.values());
  }

  removeBackend(name: string): Promise<void> {
    const b = this.byName.get(name);
    if (!b) return Promise.resolve();
    this.byName.delete(name);
    return b.remove();
  }

  getBackend(name: string): Backend | undefined { return this.byName.get(name); }

  backends(): Backend[] { return [...this.byName.values()]; }

  /**
   * The target sent upstream: normalised as lighttpd's mod_proxy sends it (server.http-parseopts),
   * so the backend sees the path lantern routed on; as received with forwardRawTarget. The
   * CGI family gets it as received (REQUEST_URI is the original target, as in lighttpd).
   */
  private forwardedTarget(req: Request, b: Backend): string {
    const t = originFormTarget(req);
    const norm = this.server.targetNormalization;
    if (norm === null || b.options.forwardRawTarget || b.protocolDef!.usesEnv) return t;
    return normalizeTarget(t, norm);
  }

  forwardNextTo(req: Request, address: string): string | undefined {
    const entry = parseMemberEntry(address);
    if ('error' in entry) return entry.error;
    this.nextAddress.set(req, address);
    return undefined;
  }

  /**
   * The backend for an X-Rewrite-Backend address: `route`'s protocol, balancer and options with
   * that one member, made on first use and kept (at most MAX_REDIRECT_BACKENDS of them).
   */
  private redirectBackend(route: Backend, address: string): Backend | string {
    const name = `${route.name} -> ${address}`;
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    if (this.redirectBackends >= MAX_REDIRECT_BACKENDS) return `more than ${MAX_REDIRECT_BACKENDS} backends made for X-Rewrite-Backend`;
    this.redirectBackends++;
    return this.addBackend({
      name, protocol: route.protocol, balancer: route.balancer, hashKey: route.hashKey,
      members: [address], options: route.options, protocolOptions: route.protocolOptions,
    });
  }

  forward(req: Request, handle: BackendHandle, opts?: ForwardOptions): void {
    let b = handle instanceof Backend ? handle : this.byName.get(handle.name);
    const next = this.nextAddress.get(req);
    if (next !== undefined && b !== undefined) {
      this.nextAddress.delete(req);
      const r = this.redirectBackend(b, next);
      if (typeof r === 'string') {
        this.log(`X-Rewrite-Backend ${JSON.stringify(next)} for ${req.method} ${JSON.stringify(req.target)}: ${r}`);
        req.sendError(502, 'LT_ERR_BACKEND_BAD_RESPONSE');
        return;
      }
      b = r;
    }
    if (b === undefined || b.removed || b.protocolDef === null) {
      req.sendError(503, 'LT_ERR_BACKEND_ALL_DOWN');
      return;
    }
    if (backendPassed(req, b)) {
      // It had no answer for this request already (fallThrough) and nothing else took it.
      req.sendError(404, 'LT_ERR_NOT_FOUND');
      return;
    }
    const up = buildUpstreamRequest(req, b, opts?.target ?? this.forwardedTarget(req, b), b.protocolDef.usesEnv);
    if (typeof up === 'number') {
      req.sendError(up, 'LT_ERR_BAD_REQUEST');
      return;
    }
    if (this.hooks.upstreamRequest.isUsed() || opts?.target !== undefined) {
      if (this.hooks.upstreamRequest.isUsed()) {
        up.cgi = opts?.cgi;
        this.hooks.upstreamRequest.call(up);
        // A tap may change the CGI path split (the rewrite plugin's _pathinfo / _scriptname).
        if (up.cgi !== opts?.cgi) opts = { ...opts, cgi: up.cgi };
      }
      const bad = checkUpstreamRequest(up);
      if (bad !== null) {
        this.log(`backend "${b.name}": refusing to send ${bad}`);
        req.sendError(500, 'LT_ERR_INTERNAL');
        return;
      }
    }
    new ProxyRequest(this, req, b, up, opts).start();
  }

  snapshot(): ProxySnapshot {
    return { backends: this.backends().map((b) => b.snapshot()), tunnels: this.tunnels.size };
  }

  openTunnel(client: TunnelEnd, upstream: TunnelEnd, head: string, buffered: Buffer | null, idleMs: number): Tunnel {
    const t = new Tunnel(client, upstream, head, buffered, idleMs, Date.now(), (x) => this.tunnels.delete(x));
    this.tunnels.add(t);
    return t;
  }

  /** Once a second (the server's trigger hook). */
  tick(nowMs: number): void {
    for (const b of this.byName.values()) b.tick(nowMs);
    for (const t of this.tunnels) t.tick(nowMs);
  }

  /** Shutdown: close pools and tunnels, stop the spawned backends and the CGI processes (G10). */
  async close(): Promise<void> {
    for (const b of this.byName.values()) b.destroy();
    for (const t of this.tunnels) t.destroy();
    // CGI scripts still running (exec: members): TERM, then KILL; reaped before the exit.
    await Promise.all([this.spawned.stop(), stopAllProcesses()]);
  }
}

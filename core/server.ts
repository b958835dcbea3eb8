// The server: owns the config, hooks, plugins, listeners and connections (design.md §2).
import fs from 'node:fs';
import type net from 'node:net';
import createDebug from 'debug';
import { ConfigMerger, globalValues, socketBlocks } from '../config/merge.js';
import { ConfigError, type ConfigBlock, type ConfigHash, type ConfigModel, type ConfigValue, type MergedConfig, type SourceLoc } from '../config/model.js';
import { Connection } from './connection.js';
import { ErrorLog } from './error-log.js';
import { createHooks, type Hooks } from './hooks.js';
import type { RequestLimits } from './http1/types.js';
import { targetNormalizationFrom, urlCtrlsRejectFrom, type TargetNormalization } from './http1/url.js';
import {
  activatedFds, inheritedAddress, listen, parseSocketName, sameAddress, socketName, type Listener, type ListenerTls, type ListenSpec,
} from './listeners.js';
import { Pipeline } from './pipeline.js';
import { SocketReader } from './socket-reader.js';
import { StatCache } from './stat-cache.js';
import { turnNowMs } from './turn.js';
import { PluginHost } from './plugin-host.js';
import type { ErrorCode } from './errors.js';

const trace = createDebug('lantern:core');

export interface ServerOptions {
  model: ConfigModel;
  /** Working directory for relative paths in plugin names. */
  cwd?: string;
  /** Extra plugin folders searched before plugins/ (-m). */
  pluginDirs?: string[];
  /** Listen here instead of what the config says (tests: port 0). */
  listen?: Array<Omit<ListenSpec, 'scheme' | 'origin' | 'name'> & { name?: string }>;
  /** Print warnings here (default: the error log). */
  warn?: (msg: string) => void;
}

export interface ServerLimits {
  request: RequestLimits;
  maxRequestBytes: number;
  readIdleMs: number;
  /** A request body must be in within this time plus its bytes at bodyMinRate (0: no limit). */
  bodyTimeoutMs: number;
  /** Bytes per second a request body earns beyond bodyTimeoutMs (Apache mod_reqtimeout's MinRate). */
  bodyMinRate: number;
  writeIdleMs: number;
  keepAliveIdleMs: number;
  maxKeepAliveRequests: number;
  /** Most client connections at once (0: no limit). */
  maxConnections: number;
  /** maxConnections is not configured but derived from the open-files limit. */
  maxConnectionsDerived: boolean;
  reject100With417: boolean;
  gracefulStopMs: number;
}

/**
 * The soft open-files limit (RLIMIT_NOFILE) from /proc/self/limits, or null where it cannot be
 * read (not Linux) or is unlimited.
 */
export function openFilesLimit(limitsText?: string): number | null {
  let text: string;
  if (limitsText !== undefined) text = limitsText;
  else {
    try { text = fs.readFileSync('/proc/self/limits', 'utf8'); } catch { return null; }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/**
 * server.max-connections, or when it is 0 (unset) a third of the open-files limit, as lighttpd
 * derives its connection limit from its descriptors: each connection may hold a backend socket
 * and a file besides its own, and a process out of descriptors fails every one of them (libuv
 * then closes new connections unseen). 0 stays "no limit" only where the limit is unknown.
 */
export function connectionLimit(configured: number, files: number | null = openFilesLimit()): { maxConnections: number; maxConnectionsDerived: boolean } {
  if (configured > 0 || files === null) return { maxConnections: configured, maxConnectionsDerived: false };
  return { maxConnections: Math.max(1, Math.floor(files / 3)), maxConnectionsDerived: true };
}

/** debug.log-* options set to enable somewhere in the config. */
export interface DebugFlags {
  any: boolean;
  requestHeader: boolean;
  responseHeader: boolean;
  requestHandling: boolean;
  fileNotFound: boolean;
  conditionHandling: boolean;
}

function debugFlags(model: ConfigModel): DebugFlags {
  const on = new Set<string>();
  const visit = (b: ConfigBlock) => {
    for (const e of b.entries) if (e.key.startsWith('debug.log-') && e.value === true) on.add(e.key);
    for (const c of b.children) for (let x: ConfigBlock | null = c; x; x = x.else) visit(x);
  };
  visit(model.root);
  const f = {
    requestHeader: on.has('debug.log-request-header'),
    responseHeader: on.has('debug.log-response-header'),
    requestHandling: on.has('debug.log-request-handling'),
    fileNotFound: on.has('debug.log-file-not-found'),
    conditionHandling: on.has('debug.log-condition-handling'),
  };
  return { ...f, any: Object.values(f).some(Boolean) };
}

export interface ServerCounters {
  connections: number;
  requests: number;
  responses: number;
  badRequests: number;
  clientAborts: number;
  readTimeouts: number;
  writeTimeouts: number;
  pluginErrors: number;
  /** Connections the listeners could not accept (ENOBUFS...). */
  acceptErrors: number;
  /** Connections closed at once because server.max-connections were open. */
  refusedConnections: number;
}

export class Server {
  readonly hooks: Hooks = createHooks();
  readonly model: ConfigModel;
  readonly merger: ConfigMerger;
  /** The config has condition blocks: requests need a merge (else they use globalMerged). */
  readonly conditional: boolean;
  readonly host: PluginHost;
  readonly globalValues: Map<string, ConfigValue>;
  /** server.upload-dirs: where request and response bodies held for a backend spill to temp files. */
  readonly uploadDirs: readonly string[];
  /**
   * The one stat cache every plugin asks (lighttpd's stat_cache.c): what a path is, trusted for a
   * second, swept by the tick; off with server.stat-cache-engine "disable" or "none".
   */
  readonly statCache: StatCache;
  /** How a target forwarded to a backend is normalised (server.http-parseopts); null: as received. */
  readonly targetNormalization: TargetNormalization | null;
  /** server.http-parseopts url-ctrls-reject: a query with an encoded control character is a 400. */
  readonly rejectQueryControls: boolean;
  readonly globalLocs = new Map<string, SourceLoc>();
  /** The global scope as a MergedConfig: what a request sees before its blocks are merged. */
  readonly globalMerged: MergedConfig;
  readonly pipeline = new Pipeline(this);
  readonly connections = new Set<Connection>();
  readonly listeners: Listener[] = [];
  readonly counters: ServerCounters = {
    connections: 0, requests: 0, responses: 0, badRequests: 0, clientAborts: 0,
    readTimeouts: 0, writeTimeouts: 0, pluginErrors: 0, acceptErrors: 0, refusedConnections: 0,
  };
  readonly limits: ServerLimits;
  readonly tag: string;
  /** `Server: <tag>\r\n` of the global scope, or '' when server.tag is empty. */
  readonly serverField: string;
  /** Which debug.log-* options are enabled anywhere (so the hot path checks a flag, not the config). */
  readonly debugFlags: DebugFlags;
  private readonly serverFields = new WeakMap<Map<string, ConfigValue>, string>();
  readonly warnings: string[] = [];
  /**
   * TLS for a listener (set by plugins/openssl in create()): called for each listen spec at
   * start; a spec it returns TLS for is served as https. Null: every listener is plain TCP.
   */
  listenerTls: ((spec: ListenSpec) => ListenerTls | null) | null = null;
  /** Coarse clock (ms since epoch), updated by the tick. */
  nowMs = Date.now();
  stopping = false;
  private dateString = '';
  private dateSecond = -1;
  private tailDate = '';
  private tailServer = '';
  private tail = '';
  private tickTimer: NodeJS.Timeout | null = null;
  private errorLog: ErrorLog;
  private readonly opts: ServerOptions;

  private constructor(opts: ServerOptions, host: PluginHost) {
    this.opts = opts;
    this.model = opts.model;
    this.host = host;
    this.globalValues = globalValues(opts.model);
    for (const e of opts.model.root.entries) this.globalLocs.set(e.key, e.loc);
    this.globalMerged = { values: this.globalValues, locs: this.globalLocs, captures: [], matched: [0] };
    this.merger = new ConfigMerger(opts.model);
    this.conditional = opts.model.root.children.length > 0;
    const g = <T>(key: string, dflt: T): T => (this.globalValues.get(key) as T | undefined) ?? dflt;
    const fieldBytes = Math.max(g<number>('server.max-request-field-size', 8192), 256);
    // lighttpd 1.4.69 limits the whole request head with server.max-request-field-size: when
    // the config sets it, it caps server.max-request-head-size too (431 above it).
    const headBytes = this.globalLocs.has('server.max-request-field-size')
      ? Math.min(fieldBytes, g<number>('server.max-request-head-size', 32768))
      : g<number>('server.max-request-head-size', 32768);
    this.limits = {
      request: {
        maxRequestLineBytes: 8192,
        maxFieldBytes: fieldBytes,
        maxHeadBytes: headBytes,
        maxHeaderCount: 256,
      },
      maxRequestBytes: g<number>('server.max-request-size', 0) * 1024,
      readIdleMs: g<number>('server.max-read-idle', 60) * 1000,
      bodyTimeoutMs: g<number>('server.request-body-timeout', 60) * 1000,
      bodyMinRate: Math.max(1, g<number>('server.request-body-min-rate', 500)),
      writeIdleMs: g<number>('server.max-write-idle', 360) * 1000,
      keepAliveIdleMs: g<number>('server.max-keep-alive-idle', 5) * 1000,
      maxKeepAliveRequests: g<number>('server.max-keep-alive-requests', 1000),
      ...connectionLimit(g<number>('server.max-connections', 0)),
      reject100With417: g<boolean>('server.reject-expect-100-with-417', false),
      gracefulStopMs: g<number>('server.graceful-shutdown-timeout', 8) * 1000,
    };
    this.uploadDirs = g<string[]>('server.upload-dirs', ['/var/tmp']);
    this.statCache = StatCache.forEngine(this.globalValues.get('server.stat-cache-engine'));
    const parseopts = this.globalValues.get('server.http-parseopts') as ConfigHash | undefined;
    this.targetNormalization = targetNormalizationFrom(parseopts);
    this.rejectQueryControls = urlCtrlsRejectFrom(parseopts);
    this.tag = g<string>('server.tag', 'lantern');
    this.serverField = this.tag ? `Server: ${this.tag}\r\n` : '';
    this.debugFlags = debugFlags(opts.model);
    const errorLogPath = g<string>('server.errorlog', '');
    try {
      this.errorLog = new ErrorLog(errorLogPath);
    } catch (err) {
      throw new ConfigError(this.globalLocs.get('server.errorlog') ?? { file: this.model.file, line: 0 },
        `server.errorlog: cannot open "${errorLogPath}": ${(err as Error).message}`);
    }
  }

  /** Load plugins, check the config against their schemas, create them. Throws ConfigError. */
  static async create(opts: ServerOptions): Promise<Server> {
    const host = new PluginHost({ pluginDirs: opts.pluginDirs, cwd: opts.cwd ?? process.cwd() });
    await host.load(opts.model);
    const warnings: string[] = [...opts.model.warnings];
    host.validate(opts.model, (m) => warnings.push(m));
    const server = new Server(opts, host);
    for (const w of warnings) {
      server.warnings.push(w);
      if (opts.warn) opts.warn(w); else server.logError(w);
    }
    await host.create(server);
    server.hooks.configured.call(server);
    return server;
  }

  /** When acceptFailed() last wrote to the error log (once a second at most: a flood would fill it). */
  private acceptErrorLoggedMs = 0;

  /**
   * A connection could not be accepted (ENOBUFS, ENOMEM...; libuv itself drops connections it
   * cannot accept for want of a descriptor, which the connection limit keeps from happening).
   * Logged at most once a second.
   */
  private acceptFailed(err: NodeJS.ErrnoException, l: Listener): void {
    this.counters.acceptErrors++;
    const now = Date.now();
    if (now - this.acceptErrorLoggedMs < 1000) return;
    this.acceptErrorLoggedMs = now;
    this.logError(`cannot accept a connection on ${l.name}: ${err.code ?? err.message}; ${this.counters.acceptErrors} so far`);
  }

  /** When the connection limit was last said to be reached (once every 10 s at most). */
  private limitLoggedMs = 0;
  /** Connections closed at once for the limit since the last log line. */
  private refusedSinceLog = 0;

  /** Run the startup hook and open the listeners. */
  async start(): Promise<void> {
    await this.hooks.startup.promise(this);
    const specs = this.listenSpecs();
    for (const spec of specs) {
      const secure = this.listenerTls?.(spec) ?? null;
      if (secure !== null) { spec.tls = secure; spec.scheme = 'https'; }
      this.listeners.push(await listen(spec, (socket, reader, l) => this.accept(socket, reader, l), (err, l) => this.acceptFailed(err, l)));
    }
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.tickTimer.unref();
    trace('listening on %s', this.listeners.map((l) => l.name).join(', '));
  }

  /**
   * What to listen on, as lighttpd's network_init() decides: server.bind:server.port (first, so
   * `port` below is the main one) and every `$SERVER["socket"] == ...` block. With socket
   * activation (LISTEN_FDS), a configured address that an inherited socket already holds uses
   * that socket; server.bind:port is only added when server.bind is set (no extra wildcard
   * listener); inherited sockets the config does not name are served too.
   */
  listenSpecs(): ListenSpec[] {
    if (this.opts.listen) {
      return this.opts.listen.map((l) => ({ ...l, name: l.name ?? socketName(l.host, l.port ?? 0, l.unixPath), scheme: 'http' as const, origin: 'test' }));
    }
    const g = this.globalValues;
    const fds = g.get('server.systemd-socket-activation') === false ? [] : activatedFds();
    const port = (g.get('server.port') as number | undefined) ?? 80;
    const bind = (g.get('server.bind') as string | undefined) ?? '';
    const backlog = (g.get('server.listen-backlog') as number | undefined) ?? 1024;
    // IPV6_V6ONLY only means something for an IPv6 address (libuv refuses the flag on IPv4).
    const v6only = (host: string) => (host.includes(':') ? g.get('server.set-v6only') !== false : undefined);
    const portLoc = this.globalLocs.get('server.port') ?? this.globalLocs.get('server.bind');
    const origin = portLoc ? `${portLoc.file}:${portLoc.line}` : this.model.file;
    const out: ListenSpec[] = [];
    const add = (spec: ListenSpec) => {
      const same = out.find((o) => o.name === spec.name);
      // A $SERVER["socket"] block naming the main address configures that listener (ssl.*).
      if (same === undefined) out.push(spec); else same.block ??= spec.block;
    };
    if (fds.length === 0 || bind !== '') {
      if (bind.startsWith('/') || bind.startsWith('unix:')) {
        const unixPath = bind.startsWith('unix:') ? bind.slice(5) : bind;
        add({ name: unixPath, unixPath, scheme: 'http', origin, backlog });
      } else {
        // server.use-ipv6 without server.bind: `[::]`, dual-stack, as lighttpd gets from the kernel default.
        const wildcard6 = bind === '' && g.get('server.use-ipv6') === true;
        const host = wildcard6 ? '::' : bind === '' ? '0.0.0.0' : bind.replace(/^\[|\]$/g, '');
        add({ name: socketName(host, port), host, port, scheme: 'http', origin, backlog, ipv6Only: wildcard6 ? false : v6only(host) });
      }
    }
    for (const s of socketBlocks(this.model)) {
      const parsed = parseSocketName(s.value, port);
      if (!parsed) throw new ConfigError(s.loc, `$SERVER["socket"]: cannot parse "${s.value}"`);
      const at = `${s.loc.file}:${s.loc.line}`;
      if (parsed.unixPath) { add({ name: parsed.unixPath, unixPath: parsed.unixPath, scheme: 'http', origin: at, backlog, block: s.block }); continue; }
      const host = parsed.host ?? '0.0.0.0';
      const sport = parsed.port ?? port;
      add({ name: socketName(host, sport), host, port: sport, scheme: 'http', origin: at, backlog, ipv6Only: v6only(host), block: s.block });
    }
    if (fds.length === 0) return out;
    const unclaimed = new Set(fds);
    for (const spec of out) {
      for (const fd of unclaimed) {
        const addr = inheritedAddress(fd);
        if (addr && sameAddress(spec, addr)) {
          spec.fd = fd;
          unclaimed.delete(fd);
          break;
        }
      }
    }
    // Inherited sockets whose address cannot be read (no /proc) cannot be matched: then the
    // config's own addresses are left out, as before lighttpd matched them, to avoid EADDRINUSE.
    const unknown = [...unclaimed].some((fd) => inheritedAddress(fd) === null);
    const kept = unknown ? out.filter((s) => s.fd !== undefined) : out;
    for (const fd of unclaimed) kept.push({ name: `fd:${fd}`, fd, scheme: 'http', origin: 'LISTEN_FDS', backlog });
    return kept;
  }

  private accept(socket: net.Socket, reader: SocketReader, listener: Listener): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const max = this.limits.maxConnections;
    if (max > 0 && this.connections.size >= max) {
      // lighttpd: "sockets disabled, connection limit reached". The connection is closed at once:
      // the descriptors left serve the connections that are in, their backends and files.
      socket.destroy();
      this.counters.refusedConnections++;
      this.refusedSinceLog++;
      const now = Date.now();
      if (now - this.limitLoggedMs >= 10_000) {
        this.limitLoggedMs = now;
        this.logError(`connection limit reached (${max} connections, server.max-connections${this.limits.maxConnectionsDerived ? ' unset: a third of the open-files limit' : ''}): ${this.refusedSinceLog} new connection(s) closed at once`);
        this.refusedSinceLog = 0;
      }
      return;
    }
    this.counters.connections++;
    const conn = new Connection(this, socket, listener, reader);
    this.connections.add(conn);
    if (this.hooks.connectionAccept.isUsed() && this.hooks.connectionAccept.call(conn) === false) conn.closeNow();
  }

  /**
   * Serve an already-connected socket (-1: the stdin socket). With `single`, the connection
   * closes after one request and `onDone` runs when it is gone. Its listener is named after the
   * socket's local address, as lighttpd names it, so `$SERVER["socket"]` blocks apply.
   */
  adopt(socket: net.Socket, opts: { single?: boolean; onDone?: () => void } = {}): Connection {
    const local = socket.localAddress;
    const host = local?.startsWith('::ffff:') && local.includes('.') ? local.slice(7) : local;
    const name = host ? socketName(host, socket.localPort ?? 0) : 'stdin';
    const listener = { name, scheme: 'http', origin: '-1', server: null as unknown as net.Server, boundPort: socket.localPort ?? 0 } as Listener;
    this.counters.connections++;
    const reader = new SocketReader();
    reader.listen(socket);
    const conn = new Connection(this, socket, listener, reader);
    if (opts.single) conn.singleRequest = true;
    this.connections.add(conn);
    if (opts.onDone) socket.once('close', opts.onDone);
    return conn;
  }

  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    if (this.hooks.connectionClose.isUsed()) this.hooks.connectionClose.call(conn);
  }

  private tick(): void {
    const now = Date.now();
    this.nowMs = now;
    for (const c of this.connections) c.tick(now);
    this.statCache.sweep();
    try {
      this.hooks.trigger.call(now);
    } catch (err) {
      this.logError(`trigger hook failed: ${(err as Error).stack ?? err}`);
    }
  }

  /** The Server field for a request's merged config (server.tag may differ per block). */
  serverFieldFor(values: Map<string, ConfigValue>): string {
    if (!this.conditional) return this.serverField;
    let f = this.serverFields.get(values);
    if (f === undefined) {
      const tag = (values.get('server.tag') as string | undefined) ?? 'lantern';
      f = tag ? `Server: ${tag}\r\n` : '';
      this.serverFields.set(values, f);
    }
    return f;
  }

  /** The Date header value, formatted once a second (RFC 9110 §5.6.7), from the turn's clock. */
  httpDate(): string {
    const now = turnNowMs();
    const sec = (now / 1000) | 0;
    if (sec !== this.dateSecond) {
      this.dateSecond = sec;
      this.dateString = new Date(now).toUTCString();
      this.nowMs = now;
    }
    return this.dateString;
  }

  /**
   * The end of every response head: `Date`, the Server field for `values` (server.tag), and the
   * blank line. One string for as long as both stay the same (a second, usually), so a head is
   * not built from four more pieces each time.
   */
  headTail(values: Map<string, ConfigValue>): string {
    const date = this.httpDate();
    const server = this.serverFieldFor(values);
    if (date !== this.tailDate || server !== this.tailServer) {
      this.tailDate = date;
      this.tailServer = server;
      this.tail = 'Date: ' + date + '\r\n' + server + '\r\n';
    }
    return this.tail;
  }

  logError(message: string): void { this.errorLog.write(message); }

  debugLog(fmt: string, ...args: unknown[]): void { trace(fmt, ...args); }

  /** A request refused before it had a Request object (bad head): the access log may want it. */
  logRejected(_conn: Connection, status: number, code: ErrorCode): void {
    trace('rejected with %d (%s)', status, code);
  }

  /** SIGHUP. */
  reopenLogs(): void {
    this.errorLog.reopen();
    this.hooks.sighup.call();
  }

  /**
   * Graceful stop: close the listeners, let requests in flight finish for up to `graceMs`,
   * close idle keep-alive connections at once, then the shutdown hook and plugin close().
   */
  async stop(graceMs = this.limits.gracefulStopMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // net.Server.close() stops accepting at once, but its callback waits for every connection
    // to end: waiting for it first would let an idle keep-alive client or a stalled reader
    // hold the stop past the grace period. Close now, collect the 'close' events at the end.
    const closed = this.listeners.map((l) => new Promise<void>((r) => l.server.close(() => r())));
    // A connection is done once no request is in flight and its last bytes left our buffer
    // (a response already finished may still be queued behind a slow reader).
    const closeDone = () => {
      for (const c of this.connections) if (c.req === null && c.socket.writableLength === 0) c.closeNow();
    };
    closeDone();
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      closeDone();
    }
    for (const c of this.connections) c.closeNow();
    await Promise.all(closed);
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.hooks.shutdown.promise(this);
    await this.host.closeAll();
    this.errorLog.close();
  }

  /** The port of the first TCP listener (tests). */
  get port(): number { return this.listeners.find((l) => !l.unixPath)?.boundPort ?? 0; }
}

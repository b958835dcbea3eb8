// proxy-core's public API (design.md §3): what other plugins (the lighttpd 1.4 proxy.server
// mapping, the status page, balancers, protocols) call through ctx.server.host.api('proxy-core').
import type { SyncHook } from 'tapable';
import type { ResponseHead } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import type { SourceLoc } from '../../config/model.js';
import type { CgiPath } from './cgi-path.js';
import type { SpawnHostOptions } from './gateway/server-config.js';
import type { UpstreamTlsOptions } from '../ssl-upstream/tls-options.js';
import type {
  BalancerDefinition, FailureCounters, MemberState, MemberView, ProtocolDefinition, UpstreamRequest,
} from './types.js';

export interface ProxyCoreApi {
  /** Add a protocol (`http`, `fastcgi`, ...). A second definition with the same name is an error. */
  registerProtocol(def: ProtocolDefinition): void;
  /** Add a balancer (`round-robin`, `hash`, ...), under its name and aliases. */
  registerBalancer(def: BalancerDefinition): void;
  /**
   * Create a backend (at boot or at runtime). Members are `host:port`, `[v6]:port`, `unix:/path`
   * or `hostname:port` (resolved to all its addresses, re-resolved every resolveIntervalMs).
   * Before startup the protocol and balancer may be registered later; after startup they must exist.
   */
  addBackend(spec: BackendSpec): BackendHandle;
  /** Remove at runtime: new requests stop going there; in-flight and queued ones finish; idle connections close. */
  removeBackend(name: string): Promise<void>;
  getBackend(name: string): BackendHandle | undefined;
  backends(): BackendHandle[];
  /** Take `req` (from a subrequestStart tap, which then returns true) and proxy it to `backend`. */
  forward(req: Request, backend: BackendHandle, opts?: ForwardOptions): void;
  /**
   * lighttpd 1.5's X-Rewrite-Backend: the next forward() of `req` (after the internal redirect a
   * backend asked for) goes to `address` instead of the backend its route names, with that
   * backend's protocol and options. Returns why when the address cannot be used.
   */
  forwardNextTo(req: Request, address: string): string | undefined;
  /** Counters and state for the status page. */
  snapshot(): ProxySnapshot;
  /** proxy-core's own hooks (tapable SyncHooks; tap at startup only). */
  hooks: ProxyHooks;
}

export interface ProxyHooks {
  /** The request about to go upstream: change method, target, headers (never framing fields). */
  upstreamRequest: SyncHook<[UpstreamRequest]>;
  /** A backend's final response head, hop-by-hop fields already removed: change status and headers. */
  upstreamResponse: SyncHook<[ResponseHead, Request]>;
}

export interface ForwardOptions {
  /** Origin-form target to send instead of the request's own (path + query, still percent-encoded). */
  target?: string;
  /**
   * The script/path-info split for the CGI environment (SCRIPT_NAME, PATH_INFO, SCRIPT_FILENAME,
   * DOCUMENT_ROOT...), from the route that matched; without it SCRIPT_NAME is the whole path.
   */
  cgi?: CgiPath;
  /**
   * For an authorizer backend: called once its 200 is complete (Variable-* already in req.env);
   * it must let the request go on (typically `req.conn.server.pipeline.restart(req, req.target,
   * { keepPluginData: true })` after marking the request authorized). Default: that restart.
   */
  onAuthorized?: (req: Request) => void;
}

export interface BackendSpec {
  /** Unique name (status page, removeBackend). */
  name: string;
  /** A registered protocol name (`http`). */
  protocol: string;
  /** A registered balancer name or alias (`round-robin`, `hash`). */
  balancer: string;
  /** What a hashing balancer hashes (see BalancerOptions.hashKey); default `url`. */
  hashKey?: string;
  members: Array<string | { address: string; weight?: number }>;
  options?: Partial<BackendOptions>;
  protocolOptions?: Record<string, unknown>;
  /** Where the backend was configured, for error messages (extension). */
  loc?: SourceLoc;
  /** Where its protocol and balancer were named, when not at `loc` (error messages name that line). */
  keyLocs?: { protocol?: SourceLoc; balancer?: SourceLoc };
  /**
   * Local backends lantern starts (lighttpd's bin-path): each is started at startup by the
   * spawner, and every process it runs becomes a member (`member` is the listen address the
   * processes' addresses derive from). Stopped at shutdown.
   */
  spawn?: Array<SpawnHostOptions & { member: string }>;
}

/** Per-backend settings; every field has a default (DEFAULT_BACKEND_OPTIONS). */
export interface BackendOptions {
  /** Most connections per member (connecting, busy and idle together). Default 16. */
  maxPoolSize: number;
  /** Requests a backend connection carries before it is closed. Default 1000 (nginx's keepalive_requests). */
  maxKeepAliveRequests: number;
  /** How long an idle pooled connection is kept. Default 30000. */
  keepAliveIdleMs: number;
  /** How long a failed member is left out (lighttpd 1.5 disable-time). Default 1000. */
  disableTimeMs: number;
  /** Cap of the doubling disable time after consecutive failed probes (extension). Default 60000. */
  maxDisableTimeMs: number;
  /**
   * Response-level failures (resets, timeouts, bad responses; 5xx with retryOn5xx) within
   * failureWindowMs, for at least two different paths, before a member is disabled (extension).
   * Refused connections and connect timeouts disable at once. Default 3.
   */
  maxFails: number;
  /** The window in which response-level failures are counted (extension). Default 10000. */
  failureWindowMs: number;
  /** Share of the window's requests that must have failed to disable a member (extension). Default 50. */
  failurePercent: number;
  /**
   * Never disable more than this percentage of the members (extension; 100 = lighttpd). Response-
   * level failures never disable the last member in use, whatever this says. Default 100.
   */
  maxEjectPercent: number;
  /** Requests waiting for a free connection, per backend. Default 64; a full queue answers 503. */
  maxBacklog: number;
  /** How long a request may wait in the queue before 504. Default 10000. */
  queueTimeoutMs: number;
  /** Connect timeout; then the next member, else 504. Default 5000. */
  connectTimeoutMs: number;
  /** Longest wait for response bytes; then 504. Default 60000 (0: none). */
  readTimeoutMs: number;
  /** Longest wait for the backend to take request bytes; then 504. Default 60000 (0: none). */
  writeTimeoutMs: number;
  /** Members tried per request, at most. Default 3. */
  maxTries: number;
  /** Retry an idempotent request after a read timeout (E3). Default false. */
  retryReadTimeout: boolean;
  /** Retry an idempotent request after a 500/502/503/504 (E6); 5xx then count as failures. Default false. */
  retryOn5xx: boolean;
  /** Request body bytes kept for a replay (E7); a larger body is never retried once sent. Default 65536. */
  retryBodyBufferBytes: number;
  /**
   * A client's FIN (TCP half-close) after its request aborts the request, queued or at the
   * backend (HAProxy's abortonclose). Default false: a half-closed client still gets its answer,
   * as in lighttpd; a reset client always aborts at once.
   */
  abortOnClose: boolean;
  /** Honour X-Sendfile / X-LIGHTTPD-send-file from the backend. Default false. */
  allowXSendfile: boolean;
  /** Directories X-Sendfile may serve from; empty = the request's document root. */
  xSendfileDocroots: string[];
  /** Tunnel `Upgrade: websocket` requests after the backend's 101. Default false. */
  upgrade: boolean;
  /**
   * A CGI-style `Location: /local/path` without a Status is served by lantern itself, as if the
   * client had asked for it (RFC 3875 §6.2.2, lighttpd's cgi.local-redir); false: answered as a
   * 302 to the client. Default true (mod_cgi sets it from cgi.local-redir, default disabled).
   */
  localRedirect: boolean;
  /**
   * Send the target as the client sent it, not normalised (dot segments removed, unreserved
   * escapes decoded) as lighttpd's mod_proxy sends it. Default false.
   */
  forwardRawTarget: boolean;
  /**
   * Response bytes a slow client has not taken may wait in a temp file up to this many bytes
   * (server.stream-response-body 0 or 1; nginx's proxy_max_temp_file_size); then the backend is
   * read only as fast as the client takes. 0: memory only (64 KiB). Default 1 GiB.
   */
  maxTempFileBytes: number;
  /** Send X-Forwarded-For / -Host / -Proto. Default true. */
  forwardedFor: boolean;
  /** Send RFC 7239 Forwarded. Default false. */
  forwarded: boolean;
  /** Forwarded parameters to send (extension): any of for, proto, host, by. Default for, proto, host. */
  forwardedParams: string[];
  /** Peers (addresses or CIDR masks) whose own X-Forwarded-* / Forwarded values are kept and appended to. Default none. */
  trustForwardedFrom: string[];
  /** Send the client's Host; false: the member's address. Default true. */
  preserveHost: boolean;
  /** How often hostnames are resolved again. Default 30000. */
  resolveIntervalMs: number;
  /**
   * The authorizer role (FastCGI FCGI_AUTHORIZER; lighttpd's "mode" => "authorizer"): no request
   * body is sent; a 200 puts the response's Variable-* fields into the request's environment and
   * the request goes on to its handler (ForwardOptions.onAuthorized); any other status is the
   * answer. The protocol must offer the role (its `role` option). Default false (responder).
   */
  authorizer: boolean;
  /** Resolver for hostname members (tests); default dns.promises.lookup(host, { all: true }). */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * TLS to the members (ssl-upstream, extension): the protocol's bytes go over TLS, with the
   * backend's CA verification, SNI, client certificate and minimum version (UpstreamTlsOptions in
   * plugins/ssl-upstream/tls-options.ts). null: plain sockets. Default null.
   */
  tls: UpstreamTlsOptions | null;
}

export const DEFAULT_BACKEND_OPTIONS: Readonly<BackendOptions> = Object.freeze({
  maxPoolSize: 16,
  maxKeepAliveRequests: 1000,
  keepAliveIdleMs: 30000,
  disableTimeMs: 1000,
  maxDisableTimeMs: 60000,
  maxFails: 3,
  failureWindowMs: 10000,
  failurePercent: 50,
  maxEjectPercent: 100,
  maxBacklog: 64,
  queueTimeoutMs: 10000,
  connectTimeoutMs: 5000,
  readTimeoutMs: 60000,
  writeTimeoutMs: 60000,
  maxTries: 3,
  retryReadTimeout: false,
  abortOnClose: false,
  forwardRawTarget: false,
  maxTempFileBytes: 1024 * 1024 * 1024,
  retryOn5xx: false,
  retryBodyBufferBytes: 64 * 1024,
  allowXSendfile: false,
  xSendfileDocroots: [],
  upgrade: false,
  localRedirect: true,
  forwardedFor: true,
  forwarded: false,
  forwardedParams: ['for', 'proto', 'host'],
  trustForwardedFrom: [],
  preserveHost: true,
  resolveIntervalMs: 30000,
  authorizer: false,
  tls: null,
});

export interface BackendHandle {
  readonly name: string;
  /** Add a member (an address or a hostname) at runtime. */
  addMember(address: string, weight?: number): void;
  /** Remove a member (or every member a hostname resolved to): no new requests; in-flight ones finish. */
  removeMember(address: string): Promise<void>;
  /** The members requests may go to now (removed and draining ones excluded). */
  readonly members: readonly MemberView[];
  /** The protocol name (extension). */
  readonly protocol: string;
  /** The balancer name as given (extension). */
  readonly balancer: string;
  /** The effective options (extension). */
  readonly options: Readonly<BackendOptions>;
  /** Resolve hostname members now instead of waiting for resolveIntervalMs (extension). */
  resolveNow(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The status page's view

export interface ProxySnapshot {
  backends: BackendSnapshot[];
  /** Upgrade tunnels open now. */
  tunnels: number;
}

export interface BackendSnapshot {
  name: string;
  protocol: string;
  balancer: string;
  /** Requests forwarded to this backend (each counted once, however many tries). */
  requests: number;
  /** Requests in flight (sent to a member, response not complete). */
  active: number;
  /** Idle pooled connections over all members. */
  idle: number;
  /** Requests waiting in the queue now. */
  queued: number;
  /** Requests refused because the queue was full (503). */
  queueFull: number;
  /** Requests that waited longer than queueTimeoutMs (504). */
  queueTimeouts: number;
  /** Requests answered 503 at once because every member was down. */
  allDown: number;
  /** Attempts retried on another member or connection. */
  retries: number;
  /** Response bytes written to temp files for clients slower than the backend (stream-response-body 0, 1). */
  responseBytesToDisk: number;
  /** Failures over all members, by kind. */
  failures: FailureCounters;
  /** The members' transport counters added up (TLS: full and resumed handshakes), when the transport keeps any. */
  transport?: Record<string, number>;
  members: MemberSnapshot[];
}

export interface MemberSnapshot {
  key: string;
  /** The hostname entry it came from, or null for a literal address. */
  hostname: string | null;
  weight: number;
  state: MemberState;
  /** Attempts sent to this member. */
  requests: number;
  active: number;
  idle: number;
  /** Open connections (connecting, busy, idle). */
  connections: number;
  failures: FailureCounters;
  lastError: string | null;
  /** Wall clock of the last error, 0 if none. */
  lastErrorAtMs: number;
  /** While disabled: when it may be probed (wall clock ms), else 0. */
  disabledUntilMs: number;
  /**
   * The transport's counters, when it keeps any (TLS, ssl-upstream: tlsFullHandshakes,
   * tlsResumedHandshakes, tlsFailedHandshakes).
   */
  transport?: Readonly<Record<string, number>>;
}

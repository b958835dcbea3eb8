// proxy-core's public contracts (design.md §3): what a protocol plugin and a balancer plugin
// implement, and the backend/member model they see. Third parties implement these interfaces;
// everything else (sockets, pools, queueing, timeouts, failover, retries, streaming) is
// proxy-core's and never a protocol's.
import type { ErrorCode } from '../../core/errors.js';
import type { HeaderList, ResponseHead } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';

// ---------------------------------------------------------------------------------------------
// Addresses, members, backends

/**
 * Where a member listens: `host:port`, `[v6]:port`, `unix:/path`; or `exec:<program>`, a process
 * started per request (CGI): the program run with the script as its argument, or, with no
 * program (`exec:`), the script itself.
 */
export type MemberAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'exec'; program: string };

/** A member's health as failover sees it (lighttpd gw_backend: up / disabled / probing). */
export type MemberState = 'up' | 'disabled' | 'probing';

/** Failures by kind, as the status page shows them. */
export interface FailureCounters {
  refused: number;
  connectTimeout: number;
  readTimeout: number;
  writeTimeout: number;
  reset: number;
  badResponse: number;
  status5xx: number;
  /** A TLS handshake with the member failed (ssl-upstream: its certificate did not verify, no common protocol version). */
  tls: number;
}

/** What a balancer may read about a member. */
export interface MemberView {
  /** Stable key: `127.0.0.1:8080`, `[::1]:8080`, `unix:/run/app.sock`. */
  readonly key: string;
  readonly address: MemberAddress;
  /** Relative weight for weighted balancers (default 1). */
  readonly weight: number;
  readonly state: MemberState;
  /** Requests in flight on this member right now. */
  readonly active: number;
  /** Whether a request may be sent to it now (up, or due for its probe). */
  available(nowMs: number): boolean;
}

// ---------------------------------------------------------------------------------------------
// Balancers (h2o's two-function table: select + what this request already tried)

export interface Balancer {
  /**
   * Pick the member for `req` among `members`, skipping members in `tried` and those not
   * `available(nowMs)`. Return null when none is left. Must be fast and allocation-free on the
   * common path; a member going down must move only its own share of requests (hash).
   */
  select(members: readonly MemberView[], req: Request, tried: ReadonlySet<MemberView>, nowMs: number): MemberView | null;
}

export interface BalancerDefinition {
  /** `round-robin`, `hash`, ... (the value of proxy-core.balancer / proxy.balance). */
  name: string;
  /** Other names that select it (`rr`; lighttpd 1.5 `carp` for hash; 1.4 `sticky`). */
  aliases?: readonly string[];
  /** One balancer per backend, with the backend's balancer options. */
  create(options: BalancerOptions): Balancer;
}

export interface BalancerOptions {
  /**
   * What a hashing balancer hashes: `url` (path + query, the default), `path`, `host`,
   * `client-ip`, `header:<Name>`, `cookie:<name>`.
   */
  hashKey: string;
}

// ---------------------------------------------------------------------------------------------
// Protocols (lighttpd 1.5's five callbacks: encode head, encode body, encode end, decode, reuse)

/** The request as proxy-core hands it to a protocol: already rewritten, hop-by-hop removed. */
export interface UpstreamRequest {
  method: string;
  /** Path and query to send (origin-form), after rewriting; raw percent-encoding kept. */
  target: string;
  /** Fields to send: client fields minus hop-by-hop (C1), plus X-Forwarded-For/-Host/-Proto and Forwarded (C3), exactly one Host (C4). */
  headers: HeaderList;
  /** Body length after de-chunking: -1 unknown (streamed), 0 none. */
  bodyLength: number;
  /** `Upgrade` value when the request asks for a tunnel and the backend allows it (G5), else null. */
  upgrade: string | null;
  /**
   * The CGI/1.1 environment (RFC 3875 §4.1) for CGI-family protocols (`usesEnv`), built once by
   * proxy-core from the client's request after the body length is known: CONTENT_LENGTH first
   * and always present ("0" without a body), REQUEST_METHOD, QUERY_STRING, SCRIPT_NAME,
   * PATH_INFO, PATH_TRANSLATED, SCRIPT_FILENAME, REQUEST_URI, REDIRECT_STATUS, SERVER_*,
   * REMOTE_*, CONTENT_TYPE, HTTP_* (no HTTP_PROXY: C5; names with `_` dropped: B12), plus
   * req.env. Values are the bytes received (latin1 strings), never re-encoded. Empty for
   * protocols that do not use it. A pair may be shared with other requests (the constant ones,
   * and a connection's addresses): read it, never change it.
   */
  readonly env: ReadonlyArray<readonly [string, string]>;
  /**
   * Runs of `env` pairs that a client connection's requests share (EnvRun): a protocol may
   * encode such a run once instead of on every request. Empty when env is. Optional to use.
   */
  readonly envRuns?: ReadonlyArray<EnvRun>;
  /** The client request (read-only for protocols). */
  readonly req: Request;
  /**
   * The SCRIPT_NAME / PATH_INFO split the CGI environment is built from (ForwardOptions.cgi);
   * an upstreamRequest tap may replace it (proxy-core.rewrite-request `_pathinfo`, `_scriptname`,
   * `_docroot`). Undefined: SCRIPT_NAME is the whole path.
   */
  cgi?: import('./cgi-path.js').CgiPath;
}

/**
 * Pairs that stand together in UpstreamRequest.env on every request of a client connection, the
 * very same objects in the same order (SERVER_SOFTWARE to SERVER_ADDR; REQUEST_SCHEME, HTTPS and
 * REDIRECT_STATUS; DOCUMENT_ROOT, REMOTE_ADDR and REMOTE_PORT), until what they come from changes: then the connection's requests get new runs.
 * A protocol may keep its encoding of a run in `encoded`, under a name of its own, and use it
 * where env holds exactly these objects one after another, from `pairs[0]` on (a setenv value or
 * an authorizer's variable replaces a pair with another object, and the run is then not whole).
 */
export interface EnvRun {
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  readonly encoded: Map<string, string | Buffer>;
}

/** What a protocol reports while decoding a backend's bytes. */
export interface ResponseSink {
  /**
   * A response head: 1xx interim heads may come first (D12), then exactly one final head. Pass
   * the backend's fields as received: proxy-core strips the hop-by-hop ones, and reads
   * `Transfer-Encoding` first so that a HEAD answered "chunked" says so to the client (D10).
   */
  head(head: ResponseHead): void;
  /** Body bytes of the final response (already de-chunked / de-framed). */
  data(chunk: Buffer): void;
  /**
   * The response is complete. `trailers`: the trailer fields of a chunked response, if any. They
   * reach the client in its last chunk when its response is chunked (HTTP/1.1, no
   * Content-Length), minus fields that must not be trailers (RFC 9110 §6.5.1) or that are
   * invalid; with any other framing (HTTP/1.0 client, HEAD) they are dropped.
   */
  end(trailers?: HeaderList): void;
  /** The backend's bytes are invalid (D1-D5, LT_ERR_BACKEND_BAD_RESPONSE) or the exchange cannot complete. */
  error(code: ErrorCode, detail: string): void;
  /**
   * The backend has no answer for this request (a cache miss): instead of a head, the exchange
   * is over (the connection pooled when reusable() says so) and the request goes on to the
   * handlers after this backend, as if it were not configured for it: a `proxy.server`,
   * FastCGI or the static file in the same config scope (nginx's memcached miss handed to an
   * `error_page 404 = @fallback`). The backend is skipped for the rest of the request; a request
   * whose body was already taken cannot go on and is answered 404.
   */
  fallThrough(): void;
  /** A protocol's side channel (FastCGI STDERR): logged, never sent to the client (G8). */
  log?(message: string): void;
  /**
   * The backend said how many connections it serves at once (FastCGI FCGI_MAX_CONNS in the
   * answer to the preamble; 0: it did not say). proxy-core then keeps at most that many
   * connections to the member, so that kept-alive connections never hold every worker while
   * other requests wait in the backend's listen backlog.
   */
  capacity?(maxConnections: number): void;
}

/** What proxy-core tells a protocol about the connection an exchange runs on. */
export interface ExchangeContext {
  /** The connection is new: no exchange ran on it before (the protocol's preamble went just before this head). */
  readonly fresh: boolean;
}

/** One per-protocol option (a protocol's `options` schema): checked when a backend is added. */
export interface ProtocolOptionSpec {
  type: 'string' | 'integer' | 'boolean' | 'string-list';
  default?: unknown;
  /** Allowed values of a string option. */
  enum?: readonly string[];
  min?: number;
  max?: number;
  /** Meaning, default and interactions, in full sentences (the published reference). */
  doc: string;
}

/** One request/response exchange on one backend connection. */
export interface Exchange {
  /** The bytes that start the request (HTTP head; FastCGI BEGIN_REQUEST + PARAMS; SCGI netstring). */
  head(): Buffer | string;
  /** Frame a piece of request body. */
  body(chunk: Buffer): Buffer | string | Array<Buffer | string>;
  /** The end of the request body (trailers when the client sent some). May be empty. */
  end(trailers: HeaderList): Buffer | string | null;
  /** Backend bytes arrived: decode them and report through `sink`. */
  receive(data: Buffer, sink: ResponseSink): void;
  /** The backend closed its side: ends a close-delimited body, else reports an error (D6). */
  receiveEnd(sink: ResponseSink): void;
  /** After `sink.end()`: whether the connection may carry another request (keep-alive). */
  reusable(): boolean;
  /** The client went away mid-exchange: bytes to send before closing (FCGI_ABORT_REQUEST), or null. */
  abort?(): Buffer | null;
}

export interface ProtocolDefinition {
  /** `http`, `fastcgi`, `scgi`, ... (the value of proxy-core.protocol). */
  name: string;
  /** Connections may carry more than one request (HTTP/1.1, FastCGI with FCGI_KEEP_CONN). */
  keepAlive: boolean;
  /** A body of unknown length can be streamed (HTTP/1.1 chunked); else proxy-core buffers it for a length, or answers 411. */
  streamsUnknownLength: boolean;
  /**
   * The backend announces its capacity on each new connection (ResponseSink.capacity): until a
   * member's first answer, proxy-core opens one connection to it, not maxPoolSize at once.
   */
  announcesCapacity?: boolean;
  /** Uses UpstreamRequest.env (CGI-family): proxy-core then drops header names with `_` (B12). */
  usesEnv: boolean;
  /**
   * (Extension) keepAlive / streamsUnknownLength for one backend's protocol options, when they
   * depend on them (HTTP/1.0 to the backend: neither). Asked once per backend, never per request.
   */
  capabilities?(options: ProtocolOptions): { keepAlive: boolean; streamsUnknownLength: boolean };
  /**
   * The protocol's own options (camelCase names), reachable from every config form: a backend
   * whose protocolOptions hold an unknown key or a bad value is refused when it is added (with the
   * config line). Defaults are filled in before createExchange() sees them.
   */
  options?: Readonly<Record<string, ProtocolOptionSpec>>;
  /**
   * Bytes sent once on each new connection, before its first exchange's head (FastCGI
   * FCGI_GET_VALUES, a handshake), or null. Asked once per backend.
   */
  preamble?(options: ProtocolOptions): Buffer | null;
  /** Start one exchange; `options` are the backend's protocol options. */
  createExchange(up: UpstreamRequest, options: ProtocolOptions, ctx: ExchangeContext): Exchange;
}

export interface ProtocolOptions {
  /** HTTP: speak HTTP/1.0 to the backend (no chunked, no keep-alive unless asked). */
  httpVersion?: '1.0' | '1.1';
  /** Largest response head accepted (D5). */
  maxResponseHeadBytes: number;
  /** Extra protocol-specific values from the config. */
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Transports (what carries a protocol's bytes; chosen by proxy-core from the member's address)

/**
 * One connection's byte pipe as proxy-core drives it: the part of net.Socket it uses. A socket
 * is one (TCP, unix); a child process's stdin and stdout are another (exec: members); TLS a third.
 * Events: 'connect' (ready for bytes), 'end' (the peer's output ended), 'error' (Error),
 * 'close' (gone, after any error), 'drain' (writable again), 'write-error' (a failed write that
 * leaves the read side open: the peer closed its input; pipes only). Bytes read go to the
 * `onData` callback given to open(), never through 'data' events.
 */
export interface TransportStream {
  write(data: Buffer | string, encoding?: BufferEncoding): boolean;
  /** Close the write side (after these bytes): the peer reads EOF. */
  end(): unknown;
  end(data: Buffer): unknown;
  cork(): void;
  uncork(): void;
  /** Stop / start reading (back-pressure from a slow client). */
  pause(): unknown;
  resume(): unknown;
  destroy(err?: Error): unknown;
  readonly writableNeedDrain: boolean;
  /** Bytes accepted by write() and not yet taken by the peer. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly readableEnded: boolean;
  readonly writable: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** What a transport is told when proxy-core opens a connection. */
export interface TransportOpenContext {
  readonly address: MemberAddress;
  /**
   * The request the connection is opened for, when the transport is per request (a process gets
   * its environment from it); null for a pooled socket.
   */
  readonly request: UpstreamRequest | null;
  /** Where the peer's bytes go. */
  readonly onData: (chunk: Buffer) => void;
  /** A line for the error log (a script's stderr). */
  log(message: string): void;
  /** (Extension) The name the member's address was resolved from, or null for a literal address (TLS: the default SNI). */
  readonly hostname?: string | null;
  /** (Extension) The member's own state, kept across its connections (TransportDefinition.memberState(): a TLS session to resume). */
  readonly memberState?: unknown;
}

export interface TransportDefinition {
  /** `socket`, `exec`, ... */
  name: string;
  /**
   * One request per connection, and the request body ends when the write side closes (a CGI
   * script reads stdin to EOF). proxy-core then builds the request's environment before it
   * opens the connection, and never pools it.
   */
  perRequest: boolean;
  /**
   * A failure says something about the member (a socket's peer), so it counts toward disabling
   * it. False for a process per request: one failing script never takes the others down.
   */
  blamesMember: boolean;
  open(ctx: TransportOpenContext): TransportStream;
  /** (Extension) A new member's state, kept across its connections (ctx.memberState). */
  memberState?(): unknown;
  /** (Extension) The member's counters for the status snapshot (MemberSnapshot.transport). */
  counters?(memberState: unknown): Readonly<Record<string, number>>;
}

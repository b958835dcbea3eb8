// The config keys proxy-core owns: lighttpd 1.5's proxy-core.* (mod_proxy_core) plus lantern's
// extensions under the same prefix. Each doc text is the published reference (docs/proxy-core.md).
import { ConfigHash } from '../../config/model.js';
import type { OptionSchema } from '../../core/options.js';

/** A duration in seconds: an integer, a fraction (native configs) or a numeric string ("0.5"). */
export function secondsValue(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

const checkSeconds = (v: unknown): string | undefined =>
  secondsValue(v) === null ? `expected a number of seconds (e.g. 5 or "0.5"), got ${JSON.stringify(v)}` : undefined;

/** RFC 7239 §5 parameters lantern can send. */
export const FORWARDED_PARAMS = ['for', 'proto', 'host', 'by'] as const;

/** The enabled keys of a proxy-core.forwarded hash, in FORWARDED_PARAMS order. */
export function forwardedParams(v: unknown): string[] {
  if (!(v instanceof ConfigHash)) return [];
  return FORWARDED_PARAMS.filter((p) => {
    const x = v.get(p);
    return x === true || x === 1 || x === '1' || x === 'enable';
  });
}

const checkForwarded = (v: unknown): string | undefined => {
  if (!(v instanceof ConfigHash)) return undefined;
  for (const k of v.keys()) {
    if (!(FORWARDED_PARAMS as readonly string[]).includes(k)) return `unknown parameter "${k}" (use ${FORWARDED_PARAMS.join(', ')})`;
  }
  return undefined;
};

export const PROXY_CORE_OPTIONS = {
  'proxy-core.backends': {
    type: 'string-list', default: [],
    doc: 'Backend addresses for the requests this block matches: "host:port", "[v6]:port", "unix:/path" or "hostname:port" (every address the name resolves to becomes a member, resolved again every proxy-core.resolve-interval). A block that sets it makes proxy-core handle its requests. Blocks with the same backends, protocol, balancer and options share one backend and its connection pools. Default: none.',
  },
  'proxy-core.protocol': {
    type: 'string', default: 'http',
    doc: 'The protocol spoken to the backends, as registered by a protocol plugin: "http" (mod_proxy_backend_http), "fastcgi" (mod_proxy_backend_fastcgi), "scgi" or "uwsgi" (mod_proxy_backend_scgi); the module of a built-in name is loaded by itself. An unregistered name stops the start. Default: "http".',
  },
  'proxy-core.protocol-options': {
    type: 'hash', default: new ConfigHash(),
    doc: 'Options of the protocol named by proxy-core.protocol, as ( "name" => value ); names as the protocol declares them (dashes allowed: "keep-conn" is keepConn). FastCGI: "role" ("responder" or "authorizer"), "keep-conn" (FCGI_KEEP_CONN). An option the protocol does not declare stops the start. Default: none (the protocol\'s defaults).',
  },
  'proxy-core.balancer': {
    type: 'string', default: 'round-robin',
    doc: 'How a member is picked, as registered by a balancer plugin: "round-robin" (also "rr"), "fair" (also "sqf") from balancer-rr, "hash" (also "carp"), "sticky" from balancer-hash; the module of a built-in name is loaded by itself. An unregistered name stops the start, naming this line. Default: "round-robin".',
  },
  'proxy-core.max-pool-size': {
    type: 'integer', default: 16, min: 1,
    doc: 'Most connections to each member (connecting, busy and idle). Requests beyond it wait in the queue. Default: 16.',
  },
  'proxy-core.max-keep-alive-requests': {
    type: 'integer', default: 1000, min: 0,
    doc: 'Requests one backend connection carries before it is closed (as nginx\'s keepalive_requests); 0 disables keep-alive to the backends. Default: 1000.',
  },
  'proxy-core.disable-time': {
    type: 'any', default: 1, check: checkSeconds,
    doc: 'Seconds a failed member is left out before one probe request is sent to it; each failed probe doubles it, up to proxy-core.max-disable-time. Default: 1.',
  },
  'proxy-core.max-backlog-size': {
    type: 'integer', default: 64, min: 0,
    doc: 'Requests that may wait for a free connection, per backend; when the queue is full the answer is 503. Default: 64.',
  },
  'proxy-core.allow-x-sendfile': {
    type: 'boolean', default: false,
    doc: 'Let a 2xx backend response name a file in X-Sendfile or X-LIGHTTPD-send-file instead of sending a body; the file is served as a static file if it lies within proxy-core.x-sendfile-docroot, else the answer is 403. Default: disabled.',
  },
  'proxy-core.x-sendfile-docroot': {
    type: 'string-list', default: [],
    doc: 'Directories X-Sendfile may serve files from (symbolic links resolved). Default: the request\'s document root.',
  },
  'proxy-core.connect-timeout': {
    type: 'any', default: 5, check: checkSeconds,
    doc: 'Seconds to wait for a connection to a member; then the next member is tried, else 504. Default: 5.',
  },
  'proxy-core.read-timeout': {
    type: 'any', default: 60, check: checkSeconds,
    doc: 'Seconds to wait for response bytes from a member (0: no limit); then 504, retried only with proxy-core.retry-read-timeout. Default: 60.',
  },
  'proxy-core.write-timeout': {
    type: 'any', default: 60, check: checkSeconds,
    doc: 'Seconds a member may take no request bytes while some are waiting (0: no limit); then 504. Default: 60.',
  },
  'proxy-core.queue-timeout': {
    type: 'any', default: 10, check: checkSeconds,
    doc: 'Seconds a request may wait in the queue for a connection; then 504. Default: 10.',
  },
  'proxy-core.keep-alive-idle': {
    type: 'any', default: 30, check: checkSeconds,
    doc: 'Seconds an idle backend connection is kept in the pool. Default: 30.',
  },
  'proxy-core.max-tries': {
    type: 'integer', default: 3, min: 1,
    doc: 'Most members one request is tried on (each at most once). Default: 3.',
  },
  'proxy-core.max-fails': {
    type: 'integer', default: 3, min: 1,
    doc: 'Response-level failures (resets, timeouts, bad responses; 5xx with proxy-core.retry-on-5xx) within proxy-core.failure-window, for at least two different paths and at least proxy-core.failure-percent of that window\'s requests, after which a member is disabled; one URL that fails can never disable a member, and response-level failures never disable the last member in use. A refused connection or a connect timeout disables it at once, as in lighttpd. Default: 3.',
  },
  'proxy-core.failure-window': {
    type: 'any', default: 10, check: checkSeconds,
    doc: 'Seconds over which a member\'s response-level failures are counted against proxy-core.max-fails and proxy-core.failure-percent. Default: 10.',
  },
  'proxy-core.failure-percent': {
    type: 'integer', default: 50, min: 1, max: 100,
    doc: 'Percentage of a member\'s requests in proxy-core.failure-window that must have failed before response-level failures disable it. Default: 50.',
  },
  'proxy-core.max-eject-percent': {
    type: 'integer', default: 100, min: 0, max: 100,
    doc: 'Never disable more than this percentage of a backend\'s members at once (the others stay in use even when failing); response-level failures never disable the last member in use. Default: 100, as lighttpd.',
  },
  'proxy-core.max-disable-time': {
    type: 'any', default: 60, check: checkSeconds,
    doc: 'Upper bound, in seconds, of the doubling disable time. Default: 60.',
  },
  'proxy-core.retry-read-timeout': {
    type: 'boolean', default: false,
    doc: 'Retry an idempotent request on the next member after a read timeout. Default: disabled (504).',
  },
  'proxy-core.abort-on-close': {
    type: 'boolean', default: false,
    doc: 'A client that half-closes (FIN) after its request aborts it, queued or at the backend, as HAProxy\'s abortonclose; TCP cannot tell a client that closed from one that only shut down its sending side. A reset client always aborts at once. Default: disabled (a half-closed client gets its answer, as in lighttpd).',
  },
  'proxy-core.forward-raw-target': {
    type: 'boolean', default: false,
    doc: 'Send the request target to an HTTP backend as the client sent it. By default it is normalised as lighttpd\'s mod_proxy sends it (server.http-parseopts: dot segments removed, `//` collapsed, escapes of unreserved characters decoded, the others upper-cased), so the backend sees the path lantern routed on. Default: disabled.',
  },
  'proxy-core.max-temp-file-size': {
    type: 'integer', default: 1073741824, min: 0,
    doc: 'Bytes of a response that a slow client has not taken yet that may wait in a temp file in server.upload-dirs (after 64 KiB in memory), so that the backend connection is free once the response is read (server.stream-response-body 0 or 1, as nginx\'s proxy_max_temp_file_size); beyond it the backend is read only as fast as the client takes. 0: memory only. Default: 1073741824 (1 GiB).',
  },
  'proxy-core.retry-on-5xx': {
    type: 'boolean', default: false,
    doc: 'Retry an idempotent request whose body is still buffered on the next member after a 500, 502, 503 or 504, and count those statuses as member failures. Default: disabled (the response is passed on).',
  },
  'proxy-core.retry-body-buffer-size': {
    type: 'integer', default: 65536, min: 0,
    doc: 'Request body bytes kept so that a request can be sent again; a request with a larger body is not retried once bytes reached a member. Default: 65536.',
  },
  'proxy-core.hash-key': {
    type: 'string', default: 'url',
    doc: 'What a hashing balancer hashes: "url", "path", "host", "client-ip", "header:<Name>" or "cookie:<name>". Default: "url".',
  },
  'proxy-core.upgrade': {
    type: 'boolean', default: false,
    doc: 'Pass WebSocket upgrades (Connection: upgrade, Upgrade: websocket) to the backend and, after its 101, relay bytes both ways. Other upgrades (h2c) are never passed. Default: disabled.',
  },
  'proxy-core.x-forwarded': {
    type: 'boolean', default: true,
    doc: 'Send X-Forwarded-For (the client address appended), X-Forwarded-Host and X-Forwarded-Proto; a client\'s own values are kept only from proxy-core.trust-forwarded-from peers. Default: enabled.',
  },
  'proxy-core.forwarded': {
    type: 'hash', default: new ConfigHash(), check: checkForwarded,
    doc: 'RFC 7239 Forwarded parameters to send, e.g. ( "for" => "enable", "proto" => "enable", "host" => "enable", "by" => "enable" ); IPv6 nodes are written "[v6]" in quotes. Default: none (no Forwarded field).',
  },
  'proxy-core.trust-forwarded-from': {
    type: 'string-list', default: [],
    doc: 'Peers (addresses or CIDR masks) whose X-Forwarded-* and Forwarded values are kept and appended to; from anyone else they are replaced. Default: none.',
  },
  'proxy-core.preserve-host': {
    type: 'boolean', default: true,
    doc: 'Send the client\'s Host to the backend; when disabled, the member\'s address. Default: enabled.',
  },
  'proxy-core.http-version': {
    type: 'string', default: '1.1', enum: ['1.1', '1.0'],
    doc: 'HTTP version spoken to "http" backends: "1.0" sends no chunked bodies (an unknown length is buffered first) and closes each connection. Default: "1.1".',
  },
  'proxy-core.tls': {
    type: 'boolean', default: false,
    doc: 'Speak TLS to the backends of this block (ssl-upstream), under any protocol (https, FastCGI or SCGI over TLS). Their certificates are verified against the system\'s CAs (or proxy-core.tls-ca-file) and the host name; a failed handshake answers 502, says why in the error log and disables the member like a refused connect. Sessions are resumed across pooled connections. Default: disabled.',
  },
  'proxy-core.tls-ca-file': {
    type: 'string', default: undefined,
    doc: 'PEM file of the CA certificates that sign the backends\' certificates, trusted instead of the system\'s (as nginx\'s proxy_ssl_trusted_certificate). Read at startup: a missing file stops the start. Default: the system\'s CAs.',
  },
  'proxy-core.tls-sni': {
    type: 'string', default: undefined,
    doc: 'Server name sent in SNI, which the backends\' certificates must also match; "" sends none. Default: the host name of a backend given by name, none for an IP address (whose certificate must then name the IP).',
  },
  'proxy-core.tls-cert': {
    type: 'string', default: undefined,
    doc: 'PEM client certificate for backends that require one (mutual TLS); its key is read from the same file unless proxy-core.tls-key is set. Default: none.',
  },
  'proxy-core.tls-key': {
    type: 'string', default: undefined,
    doc: 'PEM private key of proxy-core.tls-cert. Default: read from the proxy-core.tls-cert file.',
  },
  'proxy-core.tls-insecure-skip-verify': {
    type: 'boolean', default: false,
    doc: 'UNSAFE: do not verify the backends\' certificates (chain, expiry, name), so that anyone on the path can read and change the traffic. For tests only. Default: disabled (certificates are verified).',
  },
  'proxy-core.tls-min-version': {
    type: 'string', default: 'TLSv1.2', enum: ['TLSv1.2', 'TLSv1.3'],
    doc: 'Lowest TLS version accepted from the backends: "TLSv1.2" or "TLSv1.3". Default: "TLSv1.2".',
  },
  'proxy-core.resolve-interval': {
    type: 'any', default: 30, check: checkSeconds,
    doc: 'Seconds between lookups of hostname members; new addresses become members, vanished ones are removed after their requests finish. Default: 30.',
  },
} as const satisfies OptionSchema;

export type ProxyCoreKey = keyof typeof PROXY_CORE_OPTIONS;

// mod_extforward (lighttpd 1.4.69): behind a trusted proxy, the client address (and scheme) the
// rest of lantern sees is the one the proxy forwarded: X-Forwarded-For-style fields, RFC 7239
// Forwarded, or a HAProxy PROXY protocol header at the start of the connection. Taps uriRaw
// (first), so conditions, access logs, CGI REMOTE_ADDR and proxied X-Forwarded-For all follow.
import { ConfigHash, type ConditionContext, type ConfigValue } from '../../config/model.js';
import type { Connection } from '../../core/connection.js';
import { booleanValue } from '../../core/options.js';
import { RequestConditions } from '../../core/pipeline.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { addressTokens, forwardedClient, lastUntrusted } from './forwarded-header.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { checkForwarder, clientAddress, isTrustedPeer, trustList } from './trust-list.js';

/** Tap stage in `uriRaw`: before every other plugin (rewrites, access rules) looks at the request. */
export const EXTFORWARD_STAGE = -1000;

const DEFAULT_HEADERS: readonly string[] = ['X-Forwarded-For', 'Forwarded-For'];

/** What the connection got from extforward. */
interface ConnState {
  /** The peer's own address while a request runs with a forwarded one (restored at requestReset). */
  saved: { address: string; port: number } | null;
  /** From a PROXY v2 header: the client spoke TLS to the proxy. */
  https: boolean;
  sslClientVerified: boolean;
  /** From PROXY v2 TLVs, for every request's environment. */
  env: Array<[string, string]> | null;
}

/** extforward.params: which Forwarded parameters are used. */
interface Params { for: boolean; proto: boolean; host: boolean; remoteUser: boolean }

const PARAM_KEYS: Record<string, keyof Params> = { for: 'for', proto: 'proto', host: 'host', remote_user: 'remoteUser' };

function checkParams(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return 'expected ( "host" => "enable", "remote_user" => "enable" )';
  for (const [k, v] of value.entries) {
    if (PARAM_KEYS[k] === undefined) return `keys must be one of: for, proto, host, remote_user, but not: "${k}"`;
    if (booleanValue(v) === undefined) return `"${k}": expected "enable" or "disable" (or 1 / 0), got ${JSON.stringify(v)}`;
  }
  return undefined;
}

const paramCache = new WeakMap<ConfigHash, Params>();
function paramsOf(hash: ConfigHash | undefined): Params {
  if (hash === undefined) return { for: true, proto: true, host: false, remoteUser: false };
  let p = paramCache.get(hash);
  if (p === undefined) {
    p = { for: true, proto: true, host: false, remoteUser: false };
    for (const [k, v] of hash.entries) p[PARAM_KEYS[k]!] = booleanValue(v)!;
    paramCache.set(hash, p);
  }
  return p;
}

/** A Host value lantern accepts from a Forwarded host=: reg-name or IP literal, optional port. */
const HOST_RE = /^(?:[a-z0-9_~!$&'()*+,;=.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

function setEnv(req: Request, name: string, value: string): void {
  const env = req.env;
  const at = env.findIndex((e) => e[0] === name);
  if (at < 0) env.push([name, value]);
  else env[at]![1] = value;
}

export default definePlugin({
  id: 'extforward',
  aliases: ['mod_extforward'],
  options: {
    'extforward.forwarder': { type: 'hash', check: checkForwarder, doc: 'The trusted proxies: ( "10.0.0.1" => "trust", "10.0.0.0/8" => "trust", "2001:db8::/32" => "trust" ), or ( "all" => "trust" ) to trust every connecting peer (then addresses inside the headers are still checked against the other entries). An address may be "untrusted". Only a trusted peer\'s headers are read. Default: none, the module does nothing.' },
    'extforward.headers': { type: 'string-list', default: [...DEFAULT_HEADERS], doc: 'The request fields that carry the client address, tried in order; the first one present is used. "Forwarded" is read as RFC 7239, any other ("X-Forwarded-For", "X-Real-IP", "Forwarded-For") as a comma-separated address list. Default: ( "X-Forwarded-For", "Forwarded-For" ).' },
    'extforward.params': { type: 'hash', check: checkParams, doc: 'Which RFC 7239 Forwarded parameters are used besides the address: ( "host" => "enable", "remote_user" => "enable" ). "host" replaces the request\'s Host, "remote_user" sets REMOTE_USER; "for" and "proto" are always used unless disabled here. Default: for and proto only.' },
    'extforward.hap-PROXY': { type: 'boolean', default: false, doc: 'Read a HAProxy PROXY protocol header (version 1 or 2) at the start of every connection from a trusted peer; its source address becomes the client address for the whole connection. A trusted peer that sends no valid header is disconnected. Default: disabled.' },
    'extforward.hap-PROXY-ssl-client-verify': { type: 'boolean', default: false, doc: 'With extforward.hap-PROXY: set SSL_CLIENT_VERIFY ("SUCCESS" when the proxy verified a client certificate, else "NONE"), and then REMOTE_USER from its CN and AUTH_TYPE, in the CGI environment. Default: disabled.' },
  },
  create(ctx) {
    const server = ctx.server;
    const states = new WeakMap<Connection, ConnState>();
    /** Requests already looked at: an internal redirect restarts uriRaw but must not read again. */
    const seen = new WeakSet<Request>();
    const stateOf = (conn: Connection): ConnState => {
      let s = states.get(conn);
      if (s === undefined) { s = { saved: null, https: false, sslClientVerified: false, env: null }; states.set(conn, s); }
      return s;
    };
    const restore = (conn: Connection): void => {
      const s = states.get(conn);
      if (s?.saved) {
        conn.remoteAddress = s.saved.address;
        conn.remotePort = s.saved.port;
        s.saved = null;
      }
    };

    ctx.hooks.uriRaw.tap({ name: ctx.id, stage: EXTFORWARD_STAGE }, (req) => {
      if (seen.has(req)) return undefined;
      seen.add(req);
      const conn = req.conn;
      restore(conn);
      const cs = states.get(conn);
      const o = ctx.options(req);
      const forwarder = o['extforward.forwarder'] as ConfigHash | undefined;
      if (forwarder === undefined || forwarder.size === 0) return undefined;
      const before = { address: conn.remoteAddress, scheme: req.scheme, host: req.host };
      if (cs?.https) req.scheme = 'https';
      if (o['extforward.hap-PROXY-ssl-client-verify']) {
        const cn = cs?.env?.find((e) => e[0] === 'SSL_CLIENT_S_DN_CN')?.[1];
        if (cs?.sslClientVerified && cn !== undefined) {
          setEnv(req, 'SSL_CLIENT_VERIFY', 'SUCCESS');
          setEnv(req, 'REMOTE_USER', cn);
          setEnv(req, 'AUTH_TYPE', 'SSL_CLIENT_VERIFY');
        } else {
          setEnv(req, 'SSL_CLIENT_VERIFY', 'NONE');
        }
      }
      const result = readForwarded(req, o['extforward.headers'], forwarder, o['extforward.hap-PROXY'], paramsOf(o['extforward.params'] as ConfigHash | undefined));
      if (typeof result === 'number') return result;
      if (server.conditional && (conn.remoteAddress !== before.address || req.scheme !== before.scheme || req.host !== before.host)) {
        // $HTTP["remoteip"], ["scheme"] and ["host"] are decided again with what the proxy said.
        req.config = server.merger.merge(new RequestConditions(req));
      }
      return undefined;
    });

    /** Read the configured fields of a trusted peer and apply what they say; a status to refuse. */
    function readForwarded(req: Request, headerNames: string[], forwarder: ConfigHash, hap: boolean, params: Params): number | undefined {
      const conn = req.conn;
      const names = headerNames.length > 0 ? headerNames : hap ? [] : DEFAULT_HEADERS;
      let name: string | undefined;
      let value: string | undefined;
      for (const n of names) {
        value = req.header(n);
        if (value !== undefined) { name = n; break; }
      }
      if (name === undefined || value === undefined) return undefined;
      const trust = trustList(forwarder);
      if (!isTrustedPeer(trust, conn.remoteAddress)) {
        ctx.debug('%s is not a trusted proxy: %s ignored', conn.remoteAddress, name);
        return undefined;
      }
      if (name.toLowerCase() === 'forwarded') {
        const r = forwardedClient(value, trust);
        if (r.kind === 'bad') {
          ctx.logError(`${conn.remoteAddress}: ${r.reason}`);
          return 400;
        }
        if (r.kind === 'none' || !params.for) return undefined;
        const address = clientAddress(r.address);
        if (address === null) return undefined;
        setAddress(conn, address);
        if (params.proto && r.proto !== undefined) setScheme(req, r.proto);
        if (params.host && r.host !== undefined) {
          if (!HOST_RE.test(r.host)) {
            ctx.logError(`${conn.remoteAddress}: invalid host= value in Forwarded header`);
            return 400;
          }
          req.host = r.host;
          const h = req.head.headers;
          for (let i = h.length - 2; i >= 0; i -= 2) if (h[i]!.toLowerCase() === 'host') h.splice(i, 2);
          h.push('Host', r.host);
        }
        if (params.remoteUser && r.remoteUser !== undefined) setEnv(req, 'REMOTE_USER', r.remoteUser);
        return undefined;
      }
      const real = lastUntrusted(addressTokens(value), trust);
      const address = real === null ? null : clientAddress(real);
      if (address === null) return undefined;
      setAddress(conn, address);
      const proto = req.header('X-Forwarded-Proto');
      if (proto !== undefined) setScheme(req, proto);
      return undefined;
    }

    function setAddress(conn: Connection, address: string): void {
      ctx.debug('%s: client address %s', conn.remoteAddress, address);
      const s = stateOf(conn);
      s.saved ??= { address: conn.remoteAddress, port: conn.remotePort };
      conn.remoteAddress = address;
      // A forwarded address has no port (lighttpd: 0).
      conn.remotePort = 0;
    }

    /** Only "http" and "https" (one value, any case) change the scheme, as in lighttpd. */
    function setScheme(req: Request, proto: string): void {
      const p = proto.trim().toLowerCase();
      if (p === 'https' || p === 'http') req.scheme = p;
    }

    ctx.hooks.requestEnv.tap(ctx.id, (req) => {
      const env = states.get(req.conn)?.env;
      if (env) for (const [k, v] of env) setEnv(req, k, v);
    });
    ctx.hooks.requestReset.tap(ctx.id, (req) => restore(req.conn));

    if (anyHapProxy(ctx.server.model.root)) {
      ctx.hooks.connectionAccept.tap(ctx.id, (conn) => {
        const values = server.conditional ? server.merger.merge(acceptConditions(conn)).values : server.globalValues;
        if (values.get('extforward.hap-PROXY') !== true) return undefined;
        const forwarder = values.get('extforward.forwarder');
        if (!(forwarder instanceof ConfigHash) || forwarder.size === 0) return undefined;
        if (!isTrustedPeer(trustList(forwarder), conn.remoteAddress)) {
          ctx.debug('%s is not a trusted proxy: no PROXY header expected', conn.remoteAddress);
          return undefined;
        }
        readProxyHeader(conn);
        return undefined;
      });
    }

    /** Take the PROXY header off the front of the connection's bytes, then hand the rest on. */
    function readProxyHeader(conn: Connection): void {
      const reader = conn.reader;
      const http = reader.sink;
      let pending: Buffer | null = null;
      reader.sink = (chunk) => {
        pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
        const r = parseProxyHeader(pending);
        if (r.kind === 'incomplete') return;
        reader.sink = http;
        if (r.kind === 'invalid') {
          ctx.logError(`hap-PROXY from ${conn.remoteAddress}: ${r.reason}; connection closed`);
          conn.closeNow();
          return;
        }
        const s = stateOf(conn);
        if (r.address !== undefined) {
          conn.remoteAddress = r.address;
          conn.remotePort = r.port ?? 0;
        }
        s.https = r.ssl === true;
        s.sslClientVerified = r.sslClientVerified === true;
        s.env = r.env ?? null;
        const rest = pending.subarray(r.consumed);
        pending = null;
        if (rest.length > 0) http(rest);
      };
    }
  },
});

/** Whether any block enables extforward.hap-PROXY (else no connection is looked at). */
function anyHapProxy(block: import('../../config/model.js').ConfigBlock): boolean {
  if (block.entries.some((e) => e.key === 'extforward.hap-PROXY' && (e.value as ConfigValue) === true)) return true;
  for (const child of block.children) {
    for (let b: typeof child | null = child; b; b = b.else) if (anyHapProxy(b)) return true;
  }
  return false;
}

/** What is known of a connection when it is accepted: its listener and its peer (lighttpd's accept-time config). */
function acceptConditions(conn: Connection): ConditionContext {
  return {
    host: '', url: '', querystring: '', method: '',
    remoteip: conn.remoteAddress,
    scheme: conn.scheme,
    serverSocket: conn.serverSocket,
    header: () => undefined,
  };
}

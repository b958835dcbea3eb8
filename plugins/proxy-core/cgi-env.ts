// The CGI/1.1 environment (RFC 3875 §4.1) proxy-core builds once per request for CGI-family
// protocols (FastCGI, SCGI, CGI, uwsgi), from the client's request, in the order of lighttpd 1.4
// http_cgi.c http_cgi_headers(): CONTENT_LENGTH first (SCGI requires it), the meta-variables,
// HTTP_* from the client's own header fields, then req.env (setenv, an authorizer's Variable-*).
// Every value is a byte string (one char per byte, latin1), as the protocol encoders write them:
// header values and the target as received; Unicode strings (decoded paths, config) as UTF-8.
import { Buffer } from 'node:buffer';
import { hostWithoutPort } from '../../core/http1/authority.js';
import { equalsLower } from '../../core/http1/field-lines.js';
import type { Request } from '../../core/request.js';
import { VERSION } from '../../core/version.js';
import type { CgiPath } from './cgi-path.js';
import type { EnvRun } from './types.js';

/** What the environment is built from (an UpstreamRequest has all but cgi). */
export interface CgiEnvInput {
  /** The client request. */
  readonly req: Request;
  /** REQUEST_METHOD: the method sent (after an internal redirect, possibly GET). */
  readonly method: string;
  /** The origin-form target actually sent (after rewrites and internal redirects): QUERY_STRING, REDIRECT_URI. */
  readonly target: string;
  /** CONTENT_LENGTH: the body length after de-chunking (0: no body). */
  readonly bodyLength: number;
  /** The Upgrade value when the exchange becomes a tunnel: only then is HTTP_UPGRADE exported. */
  readonly upgrade?: string | null;
  /** The script / path-info split (resolveCgiPath); absent: SCRIPT_NAME is req.path, no PATH_INFO. */
  readonly cgi?: CgiPath;
}

/** A Unicode string (decoded path, config value) as the UTF-8 byte string the backend gets. */
function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/**
 * A req.env value: already a byte string when it came from a backend (an authorizer's
 * Variable-*); a character above U+00FF can only be Unicode (a config string): UTF-8 then.
 */
function envValueBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** SERVER_SOFTWARE without server.tag. */
const SOFTWARE = `lantern/${VERSION}`;

const enum Field { Other, Drop, Host, Cookie, Upgrade, ContentType }

/** What a client field is to the environment: by length first, then ignoring case without a copy. */
function fieldKind(name: string): Field {
  switch (name.length) {
    case 4: return equalsLower(name, 0, 'host') ? Field.Host : Field.Other;
    // C5 (httpoxy, CVE-2016-5385): HTTP_PROXY would be read as the application's outgoing proxy.
    case 5: return equalsLower(name, 0, 'proxy') ? Field.Drop : Field.Other;
    case 6:
      if (equalsLower(name, 0, 'cookie')) return Field.Cookie;
      // lighttpd h1.c removes Expect once the server has answered it (100-continue).
      return equalsLower(name, 0, 'expect') ? Field.Drop : Field.Other;
    case 7: return equalsLower(name, 0, 'upgrade') ? Field.Upgrade : Field.Other;
    case 12: return equalsLower(name, 0, 'content-type') ? Field.ContentType : Field.Other;
    // §4.1.18: CONTENT_LENGTH is the de-chunked length, never the client's field.
    case 14: return equalsLower(name, 0, 'content-length') ? Field.Drop : Field.Other;
    // lighttpd request.c never keeps Transfer-Encoding: the body is de-chunked (hop-by-hop).
    case 17: return equalsLower(name, 0, 'transfer-encoding') ? Field.Drop : Field.Other;
    default: return Field.Other;
  }
}

/** Names seen before → their variable ('' = dropped). Bounded: a client cannot grow it for ever. */
const envNames = new Map<string, string>();
const ENV_NAMES_MAX = 1024;

/**
 * `X-Forwarded-For` → `HTTP_X_FORWARDED_FOR` (§4.1.18; lighttpd http_cgi_encode_varname), or ''
 * when the name holds anything but letters, digits and "-": B12, `X_Foo` (or `X.Foo`, which
 * lighttpd also maps to "_") would collide with `X-Foo` as HTTP_X_FOO.
 */
function envName(name: string): string {
  let v = envNames.get(name);
  if (v !== undefined) return v;
  v = 'HTTP_' + name.toUpperCase().replaceAll('-', '_');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    if (!letter && !(c >= 0x30 && c <= 0x39) && c !== 0x2d) { v = ''; break; }
  }
  if (envNames.size < ENV_NAMES_MAX) envNames.set(name, v);
  return v;
}

/** The client's target in origin form (RFC 9112 §3.2.1): REQUEST_URI, before any rewrite or redirect. */
function originalTarget(req: Request): string {
  const pq = req.head.pathAndQuery;
  if (pq === '' || pq === undefined) return '/';
  return pq.charCodeAt(0) === 63 /* ? */ ? '/' + pq : pq;
}

/** Up to this many client fields, a repeated one is found by a scan instead of a map. */
const SCAN_MAX_FIELDS = 24;

/** Where `name` is in `out` from `from` on, or undefined. */
function indexOfName(out: ReadonlyArray<readonly [string, string]>, from: number, name: string): number | undefined {
  for (let i = from; i < out.length; i++) if (out[i]![0] === name) return i;
  return undefined;
}

/** The first value of a req.env name, or undefined. */
function envGet(env: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  for (let i = 0; i < env.length; i++) if (env[i]![0] === name) return env[i]![1];
  return undefined;
}

type Pair = [string, string];

// Pairs the same for every request, shared (an environment is never changed in place once built).
const GATEWAY_INTERFACE: Pair = ['GATEWAY_INTERFACE', 'CGI/1.1'];
const PROTOCOL_10: Pair = ['SERVER_PROTOCOL', 'HTTP/1.0'];
const PROTOCOL_11: Pair = ['SERVER_PROTOCOL', 'HTTP/1.1'];
const NO_CONTENT_LENGTH: Pair = ['CONTENT_LENGTH', '0'];
const HTTPS_ON: Pair = ['HTTPS', 'on'];
const REDIRECT_STATUS: Pair = ['REDIRECT_STATUS', '200'];
const NO_QUERY: Pair = ['QUERY_STRING', ''];

/**
 * The pairs a connection gives every request on it, made once and again only when what they come
 * from changes: the addresses and ports (mod_extforward may change the client's per request), the
 * scheme, and SERVER_NAME and SERVER_SOFTWARE for the last host and config values seen.
 */
interface ConnectionPairs {
  serverPort: Pair;
  serverAddr: Pair;
  scheme: Pair;
  remoteAddr: Pair;
  remotePort: Pair;
  remotePortNumber: number;
  host: string;
  /** The config values server.name and server.tag were read from (a request's merged config). */
  values: ReadonlyMap<string, unknown>;
  configuredName: unknown;
  serverName: Pair;
  tag: unknown;
  software: Pair;
  protocol: Pair;
  /** The document root DOCUMENT_ROOT was made from (a Unicode string), and the pair. */
  docRoot: string;
  docRootPair: Pair;
  /**
   * The runs a protocol may encode once (EnvRun), in env order: SERVER_SOFTWARE to SERVER_ADDR;
   * REQUEST_SCHEME (HTTPS) REDIRECT_STATUS; DOCUMENT_ROOT REMOTE_ADDR REMOTE_PORT. A new array,
   * with a new run for each that changed, whenever one of their pairs changes.
   */
  runs: EnvRun[];
}

const CONNECTION_PAIRS_KEY = 'proxy-core.cgi-env';

function connectionPairs(req: Request, docRoot: string): ConnectionPairs {
  const conn = req.conn;
  const values = req.config.values;
  const protocol = req.head.versionMinor === 0 ? PROTOCOL_10 : PROTOCOL_11;
  let p = conn.pluginData.get(CONNECTION_PAIRS_KEY) as ConnectionPairs | undefined;
  if (p === undefined) {
    const port = conn.localPort;
    const configuredName = values.get('server.name');
    const tag = values.get('server.tag');
    p = {
      serverPort: ['SERVER_PORT', port === undefined ? '0' : String(port)],
      serverAddr: ['SERVER_ADDR', conn.localAddress],
      scheme: ['REQUEST_SCHEME', req.scheme],
      remoteAddr: ['REMOTE_ADDR', conn.remoteAddress],
      remotePort: ['REMOTE_PORT', String(conn.remotePort)],
      remotePortNumber: conn.remotePort,
      host: req.host,
      values,
      configuredName,
      serverName: ['SERVER_NAME', serverNameFor(configuredName, req.host, conn.localAddress)],
      tag,
      software: ['SERVER_SOFTWARE', typeof tag === 'string' ? utf8Bytes(tag) : SOFTWARE],
      protocol,
      docRoot,
      docRootPair: ['DOCUMENT_ROOT', utf8Bytes(docRoot)],
      runs: [],
    };
    p.runs = [serverRun(p), schemeRun(p), remoteRun(p)];
    conn.pluginData.set(CONNECTION_PAIRS_KEY, p);
    return p;
  }
  let server = false;
  // Most requests of a connection share one merged config: its values are read again only when it changes.
  let configuredName = p.configuredName;
  let tag = p.tag;
  if (p.values !== values) {
    p.values = values;
    configuredName = values.get('server.name');
    tag = values.get('server.tag');
  }
  if (p.host !== req.host || p.configuredName !== configuredName) {
    p.host = req.host;
    p.configuredName = configuredName;
    p.serverName = ['SERVER_NAME', serverNameFor(configuredName, req.host, conn.localAddress)];
    server = true;
  }
  if (p.tag !== tag) {
    p.tag = tag;
    p.software = ['SERVER_SOFTWARE', typeof tag === 'string' ? utf8Bytes(tag) : SOFTWARE];
    server = true;
  }
  if (p.protocol !== protocol) {
    p.protocol = protocol;
    server = true;
  }
  // mod_extforward may give a request another client address, port and scheme.
  let scheme = false;
  if (p.scheme[1] !== req.scheme) {
    p.scheme = ['REQUEST_SCHEME', req.scheme];
    scheme = true;
  }
  let remote = false;
  if (p.docRoot !== docRoot) {
    p.docRoot = docRoot;
    p.docRootPair = ['DOCUMENT_ROOT', utf8Bytes(docRoot)];
    remote = true;
  }
  if (p.remoteAddr[1] !== conn.remoteAddress) {
    p.remoteAddr = ['REMOTE_ADDR', conn.remoteAddress];
    remote = true;
  }
  if (p.remotePortNumber !== conn.remotePort) {
    p.remotePortNumber = conn.remotePort;
    p.remotePort = ['REMOTE_PORT', String(conn.remotePort)];
    remote = true;
  }
  // New arrays: an UpstreamRequest built earlier keeps the runs its environment was made with.
  if (server || scheme || remote) {
    p.runs = [server ? serverRun(p) : p.runs[0]!, scheme ? schemeRun(p) : p.runs[1]!, remote ? remoteRun(p) : p.runs[2]!];
  }
  return p;
}

/** SERVER_SOFTWARE to SERVER_ADDR, in the order buildCgiEnv puts them. */
function serverRun(p: ConnectionPairs): EnvRun {
  return { pairs: [p.software, p.serverName, GATEWAY_INTERFACE, p.protocol, p.serverPort, p.serverAddr], encoded: new Map() };
}

/** REQUEST_SCHEME, HTTPS when "on", REDIRECT_STATUS (the default one: a setenv value is another pair). */
function schemeRun(p: ConnectionPairs): EnvRun {
  return { pairs: p.scheme[1] === 'https' ? [p.scheme, HTTPS_ON, REDIRECT_STATUS] : [p.scheme, REDIRECT_STATUS], encoded: new Map() };
}

function remoteRun(p: ConnectionPairs): EnvRun {
  return { pairs: [p.docRootPair, p.remoteAddr, p.remotePort], encoded: new Map() };
}

/**
 * SERVER_NAME (lighttpd 1.4.69 response.c, http_cgi.c): server.name when set, else the
 * authority; either without its port; with neither, SERVER_ADDR.
 */
function serverNameFor(configured: unknown, authority: string, serverAddr: string): string {
  const serverName = hostWithoutPort(typeof configured === 'string' && configured !== '' ? utf8Bytes(configured) : authority);
  return serverName === '' ? serverAddr : serverName;
}

function pushRun(out: Array<[string, string]>, run: EnvRun): void {
  const pairs = run.pairs as ReadonlyArray<Pair>;
  for (let i = 0; i < pairs.length; i++) out.push(pairs[i]!);
}

/** An environment and the runs of shared pairs in it (EnvRun). */
export interface CgiEnv {
  readonly env: Array<[string, string]>;
  /** Runs whose pairs env holds, consecutive and in order, unless req.env replaced one of them. */
  readonly runs: ReadonlyArray<EnvRun>;
}

/** The CGI/1.1 environment for `input`, CONTENT_LENGTH first. */
export function buildCgiEnv(input: CgiEnvInput): Array<[string, string]> {
  return buildCgiEnvWithRuns(input).env;
}

/** buildCgiEnv(), with the runs of shared pairs a protocol may encode once (UpstreamRequest.envRuns). */
export function buildCgiEnvWithRuns(input: CgiEnvInput): CgiEnv {
  const req = input.req;
  const extra = req.peekEnv();
  const cgiPath = input.cgi;
  // The connection's runs are placed as they are (their very pairs, in order: what a protocol
  // that encodes a run once looks for).
  const runs = connectionPairs(req, cgiPath !== undefined ? cgiPath.documentRoot : req.docRoot).runs;
  const server = runs[0]!.pairs as ReadonlyArray<Pair>;
  // The leading variables in one literal (one allocation for them; the rest are pushed).
  const out: Array<[string, string]> = [
    // CONTENT_LENGTH first and always (the SCGI spec; lighttpd sends "0" without a body).
    input.bodyLength > 0 ? ['CONTENT_LENGTH', String(input.bodyLength)] : NO_CONTENT_LENGTH,
    // SERVER_SOFTWARE, SERVER_NAME, GATEWAY_INTERFACE, SERVER_PROTOCOL, SERVER_PORT, SERVER_ADDR.
    server[0]!,
    server[1]!,
    server[2]!,
    server[3]!,
    server[4]!,
    server[5]!,
    ['REQUEST_METHOD', input.method],
  ];
  // REQUEST_SCHEME, HTTPS "on" for https, REDIRECT_STATUS (for PHP built with --force-redirect;
  // an error handler's own value comes with req.env).
  pushRun(out, runs[1]!);
  const original = originalTarget(req);
  let requestUri = original;
  if (cgiPath !== undefined && cgiPath.stripRequestUri !== '') {
    // lighttpd: only when the prefix is followed by "/" (`/app1/index/list` → `/index/list`).
    const strip = utf8Bytes(cgiPath.stripRequestUri);
    if (original.startsWith(strip) && original.charCodeAt(strip.length) === 47) requestUri = original.slice(strip.length);
  }
  out.push(['REQUEST_URI', requestUri]);
  const target = input.target;
  // lighttpd: REDIRECT_URI is the target being served when a rewrite or an internal redirect changed it.
  if (target !== original) out.push(['REDIRECT_URI', target]);
  const q = target.indexOf('?');
  // §4.1.7: QUERY_STRING is always set, "" when there is no query.
  out.push(q < 0 || q === target.length - 1 ? NO_QUERY : ['QUERY_STRING', target.slice(q + 1)]);
  if (cgiPath !== undefined) {
    out.push(['SCRIPT_NAME', utf8Bytes(cgiPath.scriptName)]);
    // §4.1.5, §4.1.6: PATH_INFO and PATH_TRANSLATED only when there is path info.
    if (cgiPath.pathInfo !== '') {
      out.push(['PATH_INFO', utf8Bytes(cgiPath.pathInfo)]);
      out.push(['PATH_TRANSLATED', utf8Bytes(cgiPath.pathTranslated)]);
    }
    out.push(['SCRIPT_FILENAME', utf8Bytes(cgiPath.scriptFilename)]);
  } else {
    out.push(['SCRIPT_NAME', utf8Bytes(req.path)]);
    out.push(['SCRIPT_FILENAME', utf8Bytes(req.physicalPath)]);
  }
  // DOCUMENT_ROOT, REMOTE_ADDR, REMOTE_PORT.
  pushRun(out, runs[2]!);
  if (extra.length > 0) {
    // An authentication plugin sets these in req.env (lighttpd mod_auth http_auth_setenv).
    const user = envGet(extra, 'REMOTE_USER');
    if (user !== undefined) out.push(['REMOTE_USER', envValueBytes(user)]);
    const authType = envGet(extra, 'AUTH_TYPE');
    if (authType !== undefined) out.push(['AUTH_TYPE', envValueBytes(authType)]);
  }
  // HTTP_* from the client's fields: never the upstream list (no X-Forwarded-* of our own).
  const httpStart = out.length;
  const head = req.head;
  const h = head.headers;
  let contentType: string | undefined;
  // Where each variable went, to join a repeated field: a map only for many fields, else a scan
  // of the few HTTP_* entries (most requests have no repeat, and a map per request costs more).
  let seen: Map<string, number> | null = h.length > 2 * SCAN_MAX_FIELDS ? new Map() : null;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    let value = h[i + 1]!;
    // lighttpd exports no variable for an empty field.
    if (value === '') continue;
    const kind = fieldKind(name);
    if (kind === Field.Drop) continue;
    if (kind === Field.ContentType) { contentType ??= value; continue; }
    // lighttpd gw_upgrade_policy: Upgrade is removed unless the backend takes the tunnel.
    if (kind === Field.Upgrade && (input.upgrade === undefined || input.upgrade === null)) continue;
    // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host (lighttpd refuses a mismatch).
    if (kind === Field.Host && head.targetScheme) value = req.host;
    const key = kind === Field.Host ? 'HTTP_HOST' : envName(name);
    if (key === '') continue;
    const at = seen !== null ? seen.get(key) : indexOfName(out, httpStart, key);
    if (at === undefined) {
      seen?.set(key, out.length);
      out.push([key, value]);
    } else {
      // Repeated fields are one list (RFC 9110 §5.3); Cookie pairs with "; " (RFC 6265 §5.4).
      out[at] = [key, out[at]![1] + (kind === Field.Cookie ? '; ' : ', ') + value];
    }
  }
  // An absolute-form target without Host: its authority is the Host (lighttpd sets the field from it).
  if (head.targetScheme && req.host !== '' && indexOfName(out, httpStart, 'HTTP_HOST') === undefined) out.push(['HTTP_HOST', req.host]);
  // §4.1.3: CONTENT_TYPE just before the HTTP_* variables.
  if (contentType !== undefined) out.splice(httpStart, 0, ['CONTENT_TYPE', contentType]);
  if (extra.length > 0) mergeEnv(out, extra);
  return { env: out, runs };
}

/** req.env last: a name already set gets the new value at its place (a new pair: shared ones are never changed), a new one is appended. */
function mergeEnv(out: Array<[string, string]>, extra: ReadonlyArray<readonly [string, string]>): void {
  const index = new Map<string, number>();
  for (let i = 0; i < out.length; i++) index.set(out[i]![0], i);
  for (const [name, value] of extra) {
    if (name === '') continue;
    const v = envValueBytes(value);
    const at = index.get(name);
    if (at !== undefined) out[at] = [name, v];
    else {
      index.set(name, out.length);
      out.push([name, v]);
    }
  }
}

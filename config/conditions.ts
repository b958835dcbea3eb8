// Per-request evaluation of one config condition, with the semantics of lighttpd 1.4.69
// config_check_cond_nocache_eval() (src/configfile-glue.c): host == ignores a `:port` suffix,
// remoteip ==/!= take CIDR masks, a missing header compares as "", regex matches give %0..%9.
// Hot path: no allocation unless a regex matches (its captures are the result).
import { formatIp, ipMatches, parseIpInto, parseIpMask, type IpMask } from './ip-address.js';
import type { Condition, ConditionContext } from './model.js';

/** The result of a match without captures; shared and frozen, never mutate it. */
const NO_CAPTURES = Object.freeze([]) as unknown as string[];
/** lighttpd keeps %0..%9. */
const MAX_CAPTURES = 10;

/** A listener address: unix path, or host ('' = any address) and port ('' = any port). */
interface SocketAddr {
  unix: string | null;
  host: string;
  port: string;
}

/** Per-condition data computed on first use (CIDR masks, parsed socket). */
const remoteMasks = new WeakMap<Condition, IpMask | null>();
const socketConds = new WeakMap<Condition, SocketAddr>();
/** Listener strings seen in requests: few distinct values, parsed once each. */
const socketCache = new Map<string, SocketAddr>();
const SOCKET_CACHE_MAX = 256;
/** Scratch space for the request's address; evaluation is synchronous, so one buffer serves. */
const remoteScratch = new Uint8Array(16);

function normaliseHost(host: string): string {
  const h = host.toLowerCase();
  if (h === '' || h === '0.0.0.0' || h === '::') return '';
  const bytes = new Uint8Array(16);
  return parseIpInto(h, bytes) ? formatIp(bytes) : h;
}

/**
 * `127.0.0.1:8080`, `[::1]:80`, `:8080` (any address), `0.0.0.0:80` and `[::]:80` (any address),
 * `example.org` (any port), `/run/lantern.sock` (unix).
 */
function parseSocket(text: string): SocketAddr {
  if (text.startsWith('/') || text.startsWith('\\')) return { unix: text, host: '', port: '' };
  let host: string;
  let port = '';
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    host = close < 0 ? text.slice(1) : text.slice(1, close);
    const rest = close < 0 ? '' : text.slice(close + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || text.indexOf(':') !== colon) {
      host = text; // no port, or a bare IPv6 address
    } else {
      host = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
  }
  return { unix: null, host: normaliseHost(host), port };
}

function requestSocket(text: string): SocketAddr {
  let s = socketCache.get(text);
  if (s === undefined) {
    if (socketCache.size >= SOCKET_CACHE_MAX) socketCache.clear();
    s = parseSocket(text);
    socketCache.set(text, s);
  }
  return s;
}

function socketEquals(cond: Condition, actual: string): boolean {
  let want = socketConds.get(cond);
  if (want === undefined) {
    want = parseSocket(cond.value);
    socketConds.set(cond, want);
  }
  if (want.unix !== null) return actual === want.unix;
  const got = requestSocket(actual);
  if (got.unix !== null) return false;
  return (want.host === '' || want.host === got.host) && (want.port === '' || want.port === got.port);
}

/** lighttpd: host names match whether or not one side carries a `:port` suffix. */
function hostEquals(actual: string, want: string): boolean {
  const al = actual.length;
  const wl = want.length;
  if (al === wl || al === 0 || want.charCodeAt(0) === 0x2f) return actual === want;
  if (al > wl) return actual.charCodeAt(wl) === 0x3a && al - wl <= 6 && actual.startsWith(want);
  return want.charCodeAt(al) === 0x3a && want.startsWith(actual);
}

function remoteEquals(cond: Condition, actual: string): boolean {
  let mask = remoteMasks.get(cond);
  if (mask === undefined) {
    mask = parseIpMask(cond.value);
    remoteMasks.set(cond, mask);
  }
  if (mask === null) return actual === cond.value;
  const start = actual.charCodeAt(0) === 0x5b ? 1 : 0; // tolerate "[::1]"
  const text = start === 1 ? actual.slice(1, actual.indexOf(']')) : actual;
  return parseIpInto(text, remoteScratch) && ipMatches(mask, remoteScratch);
}

/** The request value a condition looks at; "" when absent. */
function subjectOf(cond: Condition, ctx: ConditionContext): string {
  if (cond.kind === 'REQUEST_HEADER') return ctx.header(cond.field) ?? '';
  if (cond.kind === 'SERVER') return ctx.serverSocket;
  switch (cond.field) {
    case 'host': return ctx.host;
    case 'url': return ctx.url;
    case 'querystring': return ctx.querystring;
    case 'remoteip': return ctx.remoteip;
    case 'scheme': return ctx.scheme;
    case 'request-method': return ctx.method;
    case 'referer': return ctx.header('Referer') ?? '';
    case 'useragent': return ctx.header('User-Agent') ?? '';
    case 'cookie': return ctx.header('Cookie') ?? '';
    case 'language': return ctx.header('Accept-Language') ?? '';
    default: return '';
  }
}

function equals(cond: Condition, actual: string): boolean {
  if (cond.kind === 'HTTP') {
    if (cond.field === 'host') return hostEquals(actual, cond.value);
    if (cond.field === 'remoteip') return remoteEquals(cond, actual);
  } else if (cond.kind === 'SERVER') {
    return socketEquals(cond, actual);
  }
  return actual === cond.value;
}

/**
 * Evaluate one condition. Returns null when it does not match; otherwise the captures:
 * for `=~` the match groups %0..%9 (a missing group is ""), for every other operator an empty,
 * shared array. `!=` and `!~` match exactly when `==` / `=~` would not.
 */
export function evaluateCondition(cond: Condition, ctx: ConditionContext): string[] | null {
  const actual = subjectOf(cond, ctx);
  switch (cond.op) {
    case '==':
      return equals(cond, actual) ? NO_CAPTURES : null;
    case '!=':
      return equals(cond, actual) ? null : NO_CAPTURES;
    case '=^':
      return actual.startsWith(cond.value) ? NO_CAPTURES : null;
    case '=$':
      return actual.endsWith(cond.value) ? NO_CAPTURES : null;
    case '=~': {
      const m = (cond.regex ?? new RegExp(cond.value)).exec(actual);
      if (m === null) return null;
      const n = Math.min(m.length, MAX_CAPTURES);
      const caps = new Array<string>(n);
      for (let i = 0; i < n; i++) caps[i] = m[i] ?? '';
      return caps;
    }
    case '!~':
      return (cond.regex ?? new RegExp(cond.value)).test(actual) ? null : NO_CAPTURES;
    default:
      return null;
  }
}

// What goes upstream (checklist C1-C6, G5, G6): the client's fields minus hop-by-hop ones
// (RFC 9110 §7.6.1), X-Forwarded-For/-Host/-Proto and RFC 7239 Forwarded (client values kept only
// from trusted peers), exactly one Host (RFC 9112 §3.2), the Upgrade decision, and the body length.
// Framing fields are never copied: the protocol regenerates them from bodyLength (C2).
import type { HeaderList } from '../../core/http1/types.js';
import { NO_ENV, type Request } from '../../core/request.js';
import { equalsLower, TCHAR } from '../../core/http1/field-lines.js';
import type { Backend } from './backend.js';
import { buildCgiEnvWithRuns } from './cgi-env.js';
import type { EnvRun, UpstreamRequest } from './types.js';
import type { CgiPath } from './cgi-path.js';

const NO_RUNS: ReadonlyArray<EnvRun> = Object.freeze([]);

export class ProxyUpstreamRequest implements UpstreamRequest {
  method: string;
  target: string;
  bodyLength: number;
  upgrade: string | null;
  readonly req: Request;
  /** Host is the member's address (preserveHost off, or no client Host): set per attempt by setHost(). */
  readonly hostFromMember: boolean;
  cgi: CgiPath | undefined = undefined;
  private envList: Array<[string, string]> | null = null;
  private runs: ReadonlyArray<EnvRun> = NO_RUNS;
  /** The field list, made on first read (a CGI-family protocol sends the environment instead). */
  private fieldList: HeaderList | null = null;
  private readonly backend: Backend;
  private readonly usesEnv: boolean;
  /** The Host value when the list is not made yet. */
  private host: string;

  constructor(req: Request, backend: Backend, target: string, upgrade: string | null, hostFromMember: boolean, usesEnv: boolean) {
    this.req = req;
    this.backend = backend;
    this.method = req.method;
    this.target = target;
    this.bodyLength = req.body.length;
    this.upgrade = upgrade;
    this.hostFromMember = hostFromMember;
    this.usesEnv = usesEnv;
    this.host = req.host;
  }

  get headers(): HeaderList {
    return this.fieldList ??= upstreamFields(this.req, this.backend, this.host, this.usesEnv);
  }

  set headers(list: HeaderList) {
    this.fieldList = list;
  }

  /** The attempt's Host value (the member's address when hostFromMember). */
  setHost(host: string): void {
    if (this.fieldList === null) this.host = host;
    else this.fieldList[1] = host;
  }

  /** RFC 3875 §4.1 environment (CGI-family protocols only): empty until prepareEnv(). */
  get env(): ReadonlyArray<readonly [string, string]> {
    return this.envList ?? NO_ENV;
  }

  get envRuns(): ReadonlyArray<EnvRun> {
    return this.runs;
  }

  /**
   * Build the environment once, when the body length is known (proxy-core calls it before the
   * first exchange of a CGI-family protocol); a retry reuses it.
   */
  prepareEnv(cgi: CgiPath | undefined): void {
    if (this.envList !== null) return;
    const built = buildCgiEnvWithRuns({ req: this.req, method: this.method, target: this.target, bodyLength: Math.max(this.bodyLength, 0), cgi });
    this.envList = built.env;
    this.runs = built.runs;
  }
}

/** The origin-form target to send (RFC 9112 §3.2.1): an absolute-form target loses its scheme and authority. */
export function originFormTarget(req: Request): string {
  const t = req.target;
  if (t.charCodeAt(0) === 47 /* / */) return t;
  if (t === req.head.target && req.head.pathAndQuery !== '') return req.head.pathAndQuery;
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
  const rest = m ? t.slice(m[0].length) : t;
  return rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest;
}

const enum FieldKind { Other, Dropped, XForwardedFor, XForwardedHost, XForwardedProto, Forwarded }

/**
 * What a client field is to the upstream request: by length first, then compared ignoring case
 * without a lowercase copy (names are tokens: the request parser checked them).
 */
function requestFieldKind(name: string): FieldKind {
  switch (name.length) {
    case 2: return equalsLower(name, 0, 'te') ? FieldKind.Dropped : FieldKind.Other;
    case 4: return equalsLower(name, 0, 'host') ? FieldKind.Dropped : FieldKind.Other;
    case 6: return equalsLower(name, 0, 'expect') ? FieldKind.Dropped : FieldKind.Other;
    case 7: return equalsLower(name, 0, 'upgrade') ? FieldKind.Dropped : FieldKind.Other;
    case 9: return equalsLower(name, 0, 'forwarded') ? FieldKind.Forwarded : FieldKind.Other;
    case 10: return equalsLower(name, 0, 'connection') || equalsLower(name, 0, 'keep-alive') ? FieldKind.Dropped : FieldKind.Other;
    case 14: return equalsLower(name, 0, 'content-length') ? FieldKind.Dropped : FieldKind.Other;
    case 15: return equalsLower(name, 0, 'x-forwarded-for') ? FieldKind.XForwardedFor : FieldKind.Other;
    case 16:
      if (equalsLower(name, 0, 'proxy-connection')) return FieldKind.Dropped;
      return equalsLower(name, 0, 'x-forwarded-host') ? FieldKind.XForwardedHost : FieldKind.Other;
    case 17:
      if (equalsLower(name, 0, 'transfer-encoding')) return FieldKind.Dropped;
      return equalsLower(name, 0, 'x-forwarded-proto') ? FieldKind.XForwardedProto : FieldKind.Other;
    default: return FieldKind.Other;
  }
}

/**
 * Build the upstream request for `req`, or return a status to answer with (400: a WebSocket
 * upgrade without Sec-WebSocket-Key, G6). Its field list is made when first read.
 */
export function buildUpstreamRequest(req: Request, backend: Backend, target: string, usesEnv: boolean): ProxyUpstreamRequest | number {
  const o = backend.options;
  const head = req.head;
  let upgrade: string | null = null;
  if (head.upgrade !== null && o.upgrade && !req.body.present) {
    // G5/G6: only WebSocket is tunnelled; `h2c` and other protocols are never forwarded (the
    // Upgrade field is hop-by-hop and dropped below). HTTP/1.0 never has head.upgrade.
    if (/(^|,)\s*websocket\s*(,|$)/i.test(head.upgrade)) {
      if (req.header('sec-websocket-key') === undefined) return 400;
      upgrade = 'websocket';
    }
  }
  const hostFromMember = !o.preserveHost || req.host === '';
  return new ProxyUpstreamRequest(req, backend, target, upgrade, hostFromMember, usesEnv);
}

/** The fields to send upstream for `req`, `host` first. */
function upstreamFields(req: Request, backend: Backend, host: string, usesEnv: boolean): HeaderList {
  const o = backend.options;
  const head = req.head;
  const src = head.headers;
  const peer = req.conn.remoteAddress;
  const trusted = (o.forwardedFor || o.forwarded) && backend.trusts(peer);
  // C1: fields the client's Connection header names are hop-by-hop too.
  let named: Set<string> | null = null;
  for (const t of head.connectionTokens) {
    if (t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (named ??= new Set()).add(t);
  }
  // Host first, exactly once (C4, C6).
  const headers: HeaderList = ['Host', host];
  let xff: string | undefined;
  let xfh: string | undefined;
  let xfp: string | undefined;
  let fwd: string | undefined;
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i]!;
    const value = src[i + 1]!;
    switch (requestFieldKind(name)) {
      case FieldKind.Other:
        break;
      // C1, C2, C4: hop-by-hop and framing fields, and Host (sent once, first). G4: proxy-core
      // answers Expect: 100-continue itself (the core sends the 100 when the body is read).
      case FieldKind.Dropped:
        continue;
      case FieldKind.XForwardedFor:
        if (o.forwardedFor) { if (trusted) xff = xff === undefined ? value : xff + ', ' + value; continue; }
        break;
      case FieldKind.XForwardedHost:
        if (o.forwardedFor) { if (trusted && xfh === undefined) xfh = value; continue; }
        break;
      case FieldKind.XForwardedProto:
        if (o.forwardedFor) { if (trusted && xfp === undefined) xfp = value; continue; }
        break;
      case FieldKind.Forwarded:
        if (o.forwarded) { if (trusted) fwd = fwd === undefined ? value : fwd + ', ' + value; continue; }
        break;
    }
    if (named !== null && named.has(name.toLowerCase())) continue;
    // B12: for CGI-family backends `X_Foo` and `X-Foo` would both become HTTP_X_FOO.
    if (usesEnv && name.indexOf('_') >= 0) continue;
    headers.push(name, value);
  }
  if (o.forwardedFor) {
    // C3: the peer is appended to a trusted proxy's list, and replaces an untrusted client's.
    headers.push('X-Forwarded-For', xff === undefined ? peer : xff + ', ' + peer);
    const forwardedHost = xfh ?? (req.host !== '' ? req.host : undefined);
    if (forwardedHost !== undefined) headers.push('X-Forwarded-Host', forwardedHost);
    headers.push('X-Forwarded-Proto', xfp ?? req.scheme);
  }
  if (o.forwarded) {
    const element = forwardedElement(req, o.forwardedParams);
    if (element !== '') headers.push('Forwarded', fwd === undefined ? element : fwd + ', ' + element);
  }
  return headers;
}

/** One RFC 7239 §4 forwarded-element for this hop: `for=...;proto=...;host=...;by=...`. */
export function forwardedElement(req: Request, params: readonly string[]): string {
  let out = '';
  for (const p of params) {
    let value: string;
    switch (p) {
      case 'for': value = nodeName(req.conn.remoteAddress); break;
      case 'by': value = nodeName(req.conn.localAddress); break;
      case 'proto': value = req.scheme; break;
      case 'host': if (req.host === '') continue; value = req.host; break;
      default: continue;
    }
    out += (out === '' ? '' : ';') + p + '=' + quoteIfNeeded(value);
  }
  return out;
}

/** RFC 7239 §6: an IPv6 node is written in brackets (and so quoted); no address is "unknown". */
function nodeName(address: string): string {
  if (address === '') return 'unknown';
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return a.includes(':') ? `[${a}]` : a;
}

/** RFC 7239 §4: a value is a token or a quoted-string. */
function quoteIfNeeded(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 255 || TCHAR[c] !== 1) return '"' + v.replace(/[\\"]/g, '\\$&') + '"';
  }
  return v;
}

/**
 * G7: after a rewrite (the upstreamRequest hook, a target from a mapping plugin) nothing may split
 * the request head: the method is a token, the target has no space or control byte, names are
 * tokens and values hold no CR, LF or NUL (RFC 9110 §5.5, RFC 9112 §11.1). Returns why not, or null.
 */
export function checkUpstreamRequest(up: UpstreamRequest): string | null {
  if (!isToken(up.method)) return `invalid method ${JSON.stringify(up.method)}`;
  if (up.target === '' || /[\x00-\x20\x7f]/.test(up.target)) return `invalid target ${JSON.stringify(up.target)}`;
  const h = up.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (!isToken(h[i]!)) return `invalid field name ${JSON.stringify(h[i])}`;
    if (/[\r\n\0]/.test(h[i + 1]!)) return `CR, LF or NUL in ${h[i]}`;
  }
  return null;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TCHAR[c] !== 1) return false;
  }
  return true;
}

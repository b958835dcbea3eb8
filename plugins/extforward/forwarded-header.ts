// Reading the client address a chain of proxies forwarded, as lighttpd 1.4.69 mod_extforward does:
// X-Forwarded-For-style lists (extract_forward_array(), last_not_in_array()) and the RFC 7239
// Forwarded field (mod_extforward_Forwarded()): the rightmost address that is not a trusted proxy.
import { isTrustedAddress, type TrustList } from './trust-list.js';

/**
 * The address-like runs of a list field, left to right: lighttpd takes every run of hex digits,
 * ':' and '.' (starting with a hex digit or ':'), so `for=1.2.3.4`, `"1.2.3.4"` or `1.2.3.4:80`
 * separators all work; what is not an address is dropped later.
 */
export function addressTokens(value: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0;
    const hexOrColon = (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (start >= 0) {
      if (!hexOrColon && c !== 0x2e) { out.push(value.slice(start, i)); start = -1; }
    } else if (hexOrColon) {
      start = i;
    }
  }
  return out;
}

/** X-Forwarded-For: the rightmost entry that is not a trusted proxy; null when every entry is trusted. */
export function lastUntrusted(tokens: readonly string[], trust: TrustList): string | null {
  for (let i = tokens.length - 1; i >= 0; i--) if (!isTrustedAddress(trust, tokens[i]!)) return tokens[i]!;
  return null;
}

/** One `key=value` of a Forwarded element: key lowercased, value as written (maybe quoted). */
type Pair = [key: string, value: string];

/** More parameters than this in one Forwarded field → 400 (lighttpd: fail closed). */
const MAX_PARAMS = 60;

export type ForwardedResult =
  | { kind: 'none' }
  /** A malformed field from a trusted proxy: the request is refused with 400. */
  | { kind: 'bad'; reason: string }
  | { kind: 'found'; address: string; proto?: string; host?: string; remoteUser?: string };

/** Index after the closing quote of the quoted-string starting at `i`, or -1 if it never ends. */
function skipQuoted(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; }
    if (c === '"') return i + 1;
  }
  return -1;
}

/** Index of the first of `stops` at or after `i` outside quotes; s.length at the end; -1 for a broken quote. */
function scanTo(s: string, i: number, stops: string): number {
  while (i < s.length) {
    const c = s[i]!;
    if (stops.includes(c)) return i;
    if (c === '"') {
      i = skipQuoted(s, i);
      if (i < 0) return -1;
      continue;
    }
    i++;
  }
  return i;
}

/** RFC 7239 §4: elements separated by ",", pairs by ";"; pairs without "=" are skipped (as lighttpd). */
export function parseForwarded(s: string): Pair[][] | string {
  const elements: Pair[][] = [[]];
  let count = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === ';') { i++; continue; }
    if (c === ',') { elements.push([]); i++; continue; }
    const k = i;
    i = scanTo(s, i, '=;,');
    if (i < 0) return 'invalid quoted-string in Forwarded header';
    if (s[i] !== '=') continue;
    const key = s.slice(k, i).trim().toLowerCase();
    const v = ++i;
    i = scanTo(s, i, ';,');
    if (i < 0) return 'invalid quoted-string in Forwarded header';
    if (key === '') continue;
    if (++count > MAX_PARAMS) return 'too many params in Forwarded header';
    elements[elements.length - 1]!.push([key, s.slice(v, i)]);
  }
  return elements;
}

/** A value without trailing blanks and without its quotes; `quoted` says whether it had them. */
function unquote(v: string): { text: string; quoted: boolean } {
  const t = v.replace(/[ \t]+$/, '');
  if (t.length > 1 && t.startsWith('"') && t.endsWith('"')) return { text: t.slice(1, -1), quoted: true };
  return { text: t, quoted: false };
}

/** RFC 7230 quoted-pair: `\x` → `x`; null for a trailing backslash. */
function unescapeQuoted(v: string): string | null {
  if (!v.includes('\\')) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      if (++i === v.length) return null;
    }
    out += v[i];
  }
  return out;
}

/** A for= value as an address: quotes, IPv6 brackets and a port removed (lighttpd's rules). */
function nodeAddress(raw: string): string | { bad: string } {
  const { text, quoted } = unquote(raw);
  if (!quoted) return text;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close <= 1) return { bad: 'Invalid IPv6 addr in Forwarded header' };
    return text.slice(1, close);
  }
  // An obfuscated identifier (`_hidden`), a unix socket path or "unknown" keeps its colon.
  if (text.startsWith('_') || text.startsWith('/') || text.startsWith('u')) return text;
  const colon = text.indexOf(':');
  return colon < 0 ? text : text.slice(0, colon);
}

function last(element: readonly Pair[], key: string): string | undefined {
  let out: string | undefined;
  for (const [k, v] of element) if (k === key) out = v;
  return out;
}

/**
 * The client a Forwarded field names: walking from the closest proxy (the last element) back, the
 * first `for=` that is not a trusted proxy. An obfuscated node (`_x`, "unknown", a path) ends the
 * walk but is never the client: the last real address before it is used (none: no change).
 * With every node trusted, the furthest one (lighttpd). `proto`, `host` and `remote_user` come
 * from the chosen element; `host` else from the first later element that has one, `remote_user`
 * from the last element that has one (the closest proxy).
 */
export function forwardedClient(value: string, trust: TrustList): ForwardedResult {
  const elements = parseForwarded(value);
  if (typeof elements === 'string') return { kind: 'bad', reason: elements };
  let chosen = -1;
  let address = '';
  for (let e = elements.length - 1; e >= 0; e--) {
    const forValue = last(elements[e]!, 'for');
    if (forValue === undefined) continue;
    const node = nodeAddress(forValue);
    if (typeof node !== 'string') return { kind: 'bad', reason: node.bad };
    if (node === '') continue;
    if (!node.startsWith('_') && !node.startsWith('/') && node !== 'unknown') {
      chosen = e;
      address = node;
    }
    if (!isTrustedAddress(trust, node)) break;
  }
  if (chosen < 0) return { kind: 'none' };
  const out: { kind: 'found'; address: string; proto?: string; host?: string; remoteUser?: string } = { kind: 'found', address };
  const element = elements[chosen]!;
  const proto = last(element, 'proto');
  if (proto !== undefined) out.proto = unquote(proto).text;
  let host = last(element, 'host');
  for (let e = chosen + 1; host === undefined && e < elements.length; e++) host = last(elements[e]!, 'host');
  if (host !== undefined) {
    const u = unquote(host);
    const h = u.quoted ? unescapeQuoted(u.text) : u.text;
    if (h === null) return { kind: 'bad', reason: 'invalid host= value in Forwarded header' };
    out.host = h.toLowerCase();
  }
  let user: string | undefined;
  for (let e = chosen; e < elements.length; e++) user = last(elements[e]!, 'remote_user') ?? user;
  if (user !== undefined) {
    const u = unquote(user);
    const name = u.quoted ? unescapeQuoted(u.text) : u.text;
    if (name === null) return { kind: 'bad', reason: 'invalid remote_user= value in Forwarded header' };
    out.remoteUser = name;
  }
  return out;
}

// URL path normalisation for routing and the file system (RFC 3986 §2.1, §5.2.4; checklist B10),
// and the percent-encoding case normalisation of the target that is forwarded.
import { isUtf8 } from 'node:buffer';
import { booleanValue } from '../options.js';
import type { FramingError } from './types.js';

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let d = 0; d < 10; d++) HEX_VALUE[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX_VALUE[0x41 + d] = 10 + d;
  HEX_VALUE[0x61 + d] = 10 + d;
}

function hexValue(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1;
}

function badPath(detail: string): { error: FramingError } {
  return { error: { code: 'LT_ERR_BAD_PATH', detail } };
}

/**
 * Decodes and normalises a request path for matching and for the file system (lighttpd's
 * uri.path). The input is the path without the query; anything from a raw `?` on is ignored.
 * Steps: percent-decode (`%` without two hex digits, `%00` and any decoded control byte are
 * errors), read the decoded bytes as UTF-8 (invalid UTF-8 is an error too: a string path could
 * not name such a file, and replacing bytes with U+FFFD would make different URLs collide),
 * remove dot segments (RFC 3986 §5.2.4; `..` above the root stays at the root) and collapse `//`.
 * `%2F` decodes to `/` and so separates segments, as in lighttpd. A path needing none of that
 * comes back as the same string.
 */
export function normalizePath(rawPath: string): { path: string } | { error: FramingError } {
  if (rawPath.charCodeAt(0) !== 0x2f) return badPath('path does not start with /');
  const len = rawPath.length;
  let end = len;
  let escaped = false;
  let dotOrSlash = false;
  for (let i = 0; i < len; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 0x3f) {
      end = i;
      break;
    }
    if (c === 0x25) escaped = true;
    else if (c < 0x20 || c === 0x7f) return badPath('control character in path');
    else if (c === 0x2f && i + 1 < len) {
      // Bounded: a charCodeAt past the end makes V8 slow that load site down for good.
      const d = rawPath.charCodeAt(i + 1);
      if (d === 0x2f || d === 0x2e) dotOrSlash = true;
    }
  }
  let path = end === len ? rawPath : rawPath.slice(0, end);
  if (escaped) {
    const decoded = percentDecode(path);
    if (typeof decoded !== 'string') return decoded;
    path = decoded;
    dotOrSlash = path.indexOf('/.') !== -1 || path.indexOf('//') !== -1;
  }
  return { path: dotOrSlash ? removeDotSegments(path) : path };
}

/** Decodes every run of %XX escapes as UTF-8 bytes; literal characters are kept. */
function percentDecode(p: string): string | { error: FramingError } {
  const end = p.length;
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < end) {
    if (p.charCodeAt(i) !== 0x25) {
      i++;
      continue;
    }
    out += p.slice(runStart, i);
    const bytes: number[] = [];
    while (i < end && p.charCodeAt(i) === 0x25) {
      const hi = i + 1 < end ? hexValue(p.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < end ? hexValue(p.charCodeAt(i + 2)) : -1;
      if (hi < 0 || lo < 0) return badPath('% not followed by two hex digits');
      const b = hi * 16 + lo;
      if (b === 0) return badPath('%00 in path');
      if (b < 0x20 || b === 0x7f) return badPath('encoded control character in path');
      bytes.push(b);
      i += 3;
    }
    const raw = Buffer.from(bytes);
    if (!isUtf8(raw)) return badPath('percent-encoded bytes are not UTF-8');
    out += raw.toString('utf8');
    runStart = i;
  }
  return out + p.slice(runStart, end);
}

/** RFC 3986 §5.2.4 on an absolute path, with empty segments (`//`) dropped as well. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  let trailingSlash = false;
  // segments[0] is the empty string before the leading '/'.
  for (let k = 1; k <= last; k++) {
    const seg = segments[k]!;
    if (seg === '' || seg === '.') {
      trailingSlash = k === last;
    } else if (seg === '..') {
      out.pop();
      trailingSlash = k === last;
    } else {
      out.push(seg);
      trailingSlash = false;
    }
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}

/** How the forwarded target is normalised: lighttpd's server.http-parseopts url-* flags. */
export interface TargetNormalization {
  /** url-normalize-unreserved: %XX of an unreserved character (RFC 3986 §2.3) is decoded. */
  unreserved: boolean;
  /** url-path-dotseg-remove: `.` and `..` segments are removed and `//` collapsed in the path. */
  dotSegments: boolean;
  /** url-path-2f-decode: `%2F` in the path is decoded to `/`. */
  decode2f: boolean;
}

/** lighttpd 1.4's defaults. */
export const DEFAULT_TARGET_NORMALIZATION: Readonly<TargetNormalization> = Object.freeze({ unreserved: true, dotSegments: true, decode2f: false });

/**
 * The forwarded-target normalisation that lighttpd's server.http-parseopts asks for: `url-normalize`
 * "disable" → null (forwarded as received); `url-normalize-unreserved`, `url-path-dotseg-remove`
 * and `url-path-2f-decode` set the fields (lighttpd's defaults for those not given).
 */
export function targetNormalizationFrom(opts: { get(key: string): unknown } | undefined): TargetNormalization | null {
  const flag = (key: string, dflt: boolean): boolean => {
    const v = opts?.get(key);
    return v === undefined ? dflt : booleanValue(v) === true;
  };
  if (!flag('url-normalize', true)) return null;
  return {
    unreserved: flag('url-normalize-unreserved', true),
    dotSegments: flag('url-path-dotseg-remove', true),
    decode2f: flag('url-path-2f-decode', false),
  };
}

/**
 * url-ctrls-reject (lighttpd's default: enabled): a request whose target encodes a control
 * character (%00-%1F, %7F) is refused with 400. The path's are refused by normalizePath() in any
 * case; this says whether the query's are too.
 */
export function urlCtrlsRejectFrom(opts: { get(key: string): unknown } | undefined): boolean {
  const v = opts?.get('url-ctrls-reject');
  return v === undefined ? true : booleanValue(v) === true;
}

/** Whether `s` holds a percent-escape of a control character (%00-%1F or %7F). */
export function hasEncodedControl(s: string): boolean {
  for (let i = s.indexOf('%'); i !== -1 && i + 2 < s.length; i = s.indexOf('%', i + 1)) {
    const a = hexValue(s.charCodeAt(i + 1));
    const b = hexValue(s.charCodeAt(i + 2));
    if (a < 0 || b < 0) continue;
    const x = (a << 4) | b;
    if (x < 0x20 || x === 0x7f) return true;
  }
  return false;
}

function isUnreserved(x: number): boolean {
  return (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a) || (x >= 0x30 && x <= 0x39) || x === 0x2d || x === 0x2e || x === 0x5f || x === 0x7e;
}

const HEX_UPPER = '0123456789ABCDEF';

/** The escapes of `part` normalised: unreserved ones decoded (per `o`), the others upper-cased. */
function normalizeEscapes(part: string, o: TargetNormalization, inPath: boolean): string {
  let i = part.indexOf('%');
  if (i === -1) return part;
  const len = part.length;
  let out = '';
  let copied = 0;
  for (; i !== -1 && i + 2 < len; i = part.indexOf('%', i + 1)) {
    const a = hexValue(part.charCodeAt(i + 1));
    const b = hexValue(part.charCodeAt(i + 2));
    if (a < 0 || b < 0) continue;
    const x = (a << 4) | b;
    const rep = (o.unreserved && isUnreserved(x)) || (inPath && o.decode2f && x === 0x2f)
      ? String.fromCharCode(x)
      : `%${HEX_UPPER[a]}${HEX_UPPER[b]}`;
    if (rep !== part.slice(i, i + 3)) {
      out += part.slice(copied, i) + rep;
      copied = i + 3;
    }
  }
  return copied === 0 ? part : out + part.slice(copied);
}

/**
 * The origin-form target as it is forwarded, normalised as lighttpd normalises it (burl.c):
 * escapes of unreserved characters decoded, other escapes upper-cased (RFC 3986 §6.2.2), and in
 * the path dot segments removed and `//` collapsed (§5.2.4), so that a backend sees the path
 * lantern routed on (`/x/../app/%61` → `/app/a`). `%2F` stays encoded unless `decode2f`.
 * Escapes that are not two hex digits stay as received. Returns the same string when nothing
 * changes (the common case costs two scans).
 */
export function normalizeTarget(pathAndQuery: string, o: Readonly<TargetNormalization> = DEFAULT_TARGET_NORMALIZATION): string {
  const pct = pathAndQuery.indexOf('%') !== -1;
  const q = pathAndQuery.indexOf('?');
  let path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const simplify = (p: string): boolean => o.dotSegments && (p.indexOf('/.') !== -1 || p.indexOf('//') !== -1);
  if (!pct && !simplify(path)) return pathAndQuery;
  let query = q === -1 ? '' : pathAndQuery.slice(q);
  if (pct) {
    path = normalizeEscapes(path, o, true);
    query = normalizeEscapes(query, o, false);
  }
  if (simplify(path)) path = removeDotSegments(path);
  const out = path + query;
  return out === pathAndQuery ? pathAndQuery : out;
}

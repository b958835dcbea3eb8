// URL path normalisation for routing and the file system (RFC 3986 §2.1, §5.2.4; checklist B10),
// and the percent-encoding case normalisation of the target that is forwarded.
import { isUtf8 } from 'node:buffer';
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

/**
 * The target as it is forwarded: unchanged except that the hex digits of percent-encodings are
 * upper-cased (`%3a` → `%3A`, RFC 3986 §6.2.2.1; lighttpd's url-normalize). Invalid escapes stay
 * as received. Returns the same string when there is nothing to change.
 */
export function normalizeTarget(rawPathAndQuery: string): string {
  let i = rawPathAndQuery.indexOf('%');
  if (i === -1) return rawPathAndQuery;
  const len = rawPathAndQuery.length;
  let out = '';
  let copied = 0;
  for (; i !== -1 && i + 2 < len; i = rawPathAndQuery.indexOf('%', i + 1)) {
    const a = rawPathAndQuery.charCodeAt(i + 1);
    const b = rawPathAndQuery.charCodeAt(i + 2);
    if (hexValue(a) < 0 || hexValue(b) < 0) continue;
    // Only a-f need changing (0x61-0x66).
    if ((a >= 0x61 && a <= 0x66) || (b >= 0x61 && b <= 0x66)) {
      out += rawPathAndQuery.slice(copied, i + 1) + rawPathAndQuery.slice(i + 1, i + 3).toUpperCase();
      copied = i + 3;
    }
  }
  return copied === 0 ? rawPathAndQuery : out + rawPathAndQuery.slice(copied);
}

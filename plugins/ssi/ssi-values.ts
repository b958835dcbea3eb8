// Values that SSI directives print: byte-string helpers, echo's `encoding`, fsize's `sizefmt`,
// QUERY_STRING_UNESCAPED (Apache mod_include) and the printenv listing.
// Every value here is a byte string (latin1, one char per byte) as the document itself.
import { Buffer } from 'node:buffer';

/** A Unicode string (a decoded path, a config value) as its UTF-8 byte string. */
export function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte string decoded as UTF-8, or null when it is not valid UTF-8. */
export function fromUtf8Bytes(bytes: string): string | null {
  try {
    return strictUtf8.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return null;
  }
}

const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1);

/** %XX decoded in a byte string; a `%` not followed by two hex digits stays as it is. */
export function percentDecode(bytes: string): string {
  if (!bytes.includes('%')) return bytes;
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === '%' && i + 2 < bytes.length && hexValue(bytes.charCodeAt(i + 1)) >= 0 && hexValue(bytes.charCodeAt(i + 2)) >= 0) {
      out += String.fromCharCode(hexValue(bytes.charCodeAt(i + 1)) * 16 + hexValue(bytes.charCodeAt(i + 2)));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

export type EchoEncoding = 'none' | 'url' | 'entity';

/** `&<>"'` as entities (Apache's encoding="entity"; lighttpd's printenv escaping). */
export function entityEncode(bytes: string): string {
  return bytes.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Every byte but the unreserved ones (RFC 3986 §2.3) as %XX (encoding="url"). */
export function urlEncode(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    const unreserved = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    out += unreserved ? bytes[i] : '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function encodeValue(bytes: string, encoding: EchoEncoding): string {
  return encoding === 'none' ? bytes : encoding === 'url' ? urlEncode(bytes) : entityEncode(bytes);
}

/** Characters a shell gives a meaning to: each gets a backslash (Apache ap_escape_shell_cmd). */
const SHELL_SPECIAL = /[&;`'"|*?~<>^()[\]{}$\\\n\xff]/g;

/** QUERY_STRING_UNESCAPED: the query %-decoded, shell metacharacters escaped with `\`. */
export function queryStringUnescaped(query: string): string {
  return percentDecode(query).replace(SHELL_SPECIAL, (c) => '\\' + c);
}

/**
 * A size as fsize prints it: bytes, or with sizefmt="abbrev" divided by 1024 while above 1024,
 * with " B", " kB", " MB"... (lighttpd's integer form: 2047 bytes → "1 kB").
 */
export function formatSize(bytes: number, abbrev: boolean): string {
  if (!abbrev) return String(bytes);
  const units = [' B', ' kB', ' MB', ' GB', ' TB'];
  let n = bytes;
  let u = 0;
  while (n > 1024 && u + 1 < units.length) { n = Math.floor(n / 1024); u++; }
  return String(n) + units[u];
}

/** printenv: `name=value` lines, each list sorted by name, values entity-encoded. */
export function printenvListing(lists: ReadonlyArray<ReadonlyMap<string, string>>): string {
  let out = '';
  for (const list of lists) {
    for (const name of [...list.keys()].sort()) out += `${name}=${entityEncode(list.get(name)!)}\n`;
  }
  return out;
}

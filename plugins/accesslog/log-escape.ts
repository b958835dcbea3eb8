// Escaping of request-controlled text in access log lines (lighttpd buffer_append_bs_escaped and
// buffer_append_bs_escaped_json): a client can never start a new line or close a quoted field.
// Input and output are byte strings (one char per byte, as the core reads headers: latin1).

export type EscapeFn = (s: string) => string;

const SHORT: Record<number, string> = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r' };
const HEX = '0123456789ABCDEF';

function needsDefault(c: number): boolean {
  return c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c;
}

/**
 * accesslog.escaping = "default": printable ASCII is kept; `"` → `\"`, `\` → `\\`,
 * \a \b \t \n \v \f \r → their two-character forms, every other byte → `\xHH`.
 */
export function escapeDefault(s: string): string {
  let i = 0;
  while (i < s.length && !needsDefault(s.charCodeAt(i))) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!needsDefault(c)) out += s[i];
    else if (c === 0x22 || c === 0x5c) out += `\\${s[i]}`;
    else if (SHORT[c]) out += `\\${SHORT[c]}`;
    else out += `\\x${HEX[(c >> 4) & 0xf]}${HEX[c & 0xf]}`;
  }
  return out;
}

function needsJson(c: number): boolean {
  return c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c;
}

/**
 * accesslog.escaping = "json": only control characters, `"` and `\` are escaped (as `\u00HH`
 * or the short forms), so UTF-8 text stays readable and the field is a valid JSON string body.
 */
export function escapeJson(s: string): string {
  let i = 0;
  while (i < s.length && !needsJson(s.charCodeAt(i))) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!needsJson(c)) out += s[i];
    else if (c === 0x22 || c === 0x5c) out += `\\${s[i]}`;
    else if (SHORT[c]) out += `\\${SHORT[c]}`;
    else out += `\\u00${HEX[(c >> 4) & 0xf]}${HEX[c & 0xf]}`;
  }
  return out;
}

/** A Unicode string (a file path, a config value) as a byte string of its UTF-8 encoding. */
export function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

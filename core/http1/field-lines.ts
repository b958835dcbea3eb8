// Byte classes and field-line scanning shared by the request, response and trailer parsers
// (RFC 9110 §5.1, §5.5, §5.6.2, §8.6; RFC 9112 §5, §6.1). Lines are scanned as bytes; values are
// latin1 strings, where one char is one received byte, so a char code is always < 256.

/** tchar (RFC 9110 §5.6.2): the characters of a token (method, field name, coding). */
export const TCHAR = new Uint8Array(256);
/** field-vchar / SP / HTAB / obs-text (RFC 9110 §5.5): what may appear inside a field value. */
export const FIELD_VALUE = new Uint8Array(256);

for (let c = 0x21; c < 0x7f; c++) FIELD_VALUE[c] = 1;
for (let c = 0x80; c < 0x100; c++) FIELD_VALUE[c] = 1;
FIELD_VALUE[0x20] = 1;
FIELD_VALUE[0x09] = 1;
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[ch.charCodeAt(0)] = 1;
}

/** Outcomes of scanFieldLine(). */
export const FIELD_OK = 0;
/** The line starts with SP/HTAB: obs-fold, or whitespace before the first field (RFC 9112 §5.2, §2.2). */
export const FIELD_FOLD = 1;
/** Empty name, a non-token byte in the name, or no colon (RFC 9110 §5.1). */
export const FIELD_BAD_NAME = 2;
/** Whitespace between the name and the colon (RFC 9112 §5.1 MUST reject). */
export const FIELD_SPACE_BEFORE_COLON = 3;
/** NUL, a bare CR or another CTL in the value (RFC 9110 §5.5). */
export const FIELD_BAD_VALUE = 4;
/** A line ending in LF without CR where CRLF is required (RFC 9112 §2.2). */
export const FIELD_BARE_LF = 5;
/** The buffer ends before the line does; `fieldScan.next` is where the scan stopped. */
export const FIELD_PARTIAL = 6;

export const FIELD_SCAN_DETAIL = [
  'ok',
  'obs-fold or whitespace before a field line',
  'invalid field name',
  'whitespace before the colon',
  'invalid byte in a field value',
  'bare LF line ending',
  'incomplete field line',
];

/**
 * Where scanFieldLine() found the parts of the last line (one shared record, so scanning a line
 * allocates nothing). Offsets are into the scanned buffer.
 */
export const fieldScan = { nameEnd: 0, valueStart: 0, valueEnd: 0, next: 0 };

function partial(stop: number): number {
  fieldScan.next = stop;
  return FIELD_PARTIAL;
}

/**
 * Scans the field line that starts at `pos` in `b`: `name ":" OWS value OWS` then CRLF (or a bare
 * LF when `lfEnds` is set: CGI output, RFC 3875 §6.3). Returns FIELD_OK and fills `fieldScan`,
 * FIELD_PARTIAL when `b` ends inside the line (every byte so far being valid), or one of the
 * other FIELD_* failures as soon as a byte proves the line bad.
 * Scanning a Buffer is about three times faster than charCodeAt on the decoded string.
 */
export function scanFieldLine(b: Buffer, pos: number, lfEnds: boolean): number {
  // Every loop is bounded by `len` explicitly: a single read past the end of a typed array makes
  // V8 turn that load site generic for good (measured: 20x slower scans afterwards).
  const len = b.length;
  let i = pos;
  while (i < len && TCHAR[b[i]!] === 1) i++;
  if (i >= len) return partial(i);
  let c = b[i]!;
  if (i === pos) return c === 0x20 || c === 0x09 ? FIELD_FOLD : FIELD_BAD_NAME;
  if (c !== 0x3a) return c === 0x20 || c === 0x09 ? FIELD_SPACE_BEFORE_COLON : FIELD_BAD_NAME;
  fieldScan.nameEnd = i;
  i++;
  while (i < len && (b[i] === 0x20 || b[i] === 0x09)) i++;
  const valueStart = i;
  // Four bytes per step roughly halves the cost of this, the parser's hottest loop.
  const last4 = len - 4;
  while (i <= last4 && (FIELD_VALUE[b[i]!]! & FIELD_VALUE[b[i + 1]!]! & FIELD_VALUE[b[i + 2]!]! & FIELD_VALUE[b[i + 3]!]!) === 1) i += 4;
  while (i < len && FIELD_VALUE[b[i]!] === 1) i++;
  if (i >= len) return partial(i);
  c = b[i]!;
  let next: number;
  if (c === 0x0d) {
    if (i + 1 >= len) return partial(i);
    // RFC 9112 §2.2: a CR not followed by LF is a bare CR: reject rather than guess.
    if (b[i + 1] !== 0x0a) return FIELD_BAD_VALUE;
    next = i + 2;
  } else if (c === 0x0a) {
    if (!lfEnds) return FIELD_BARE_LF;
    next = i + 1;
  } else {
    return FIELD_BAD_VALUE;
  }
  let valueEnd = i;
  while (valueEnd > valueStart && (b[valueEnd - 1] === 0x20 || b[valueEnd - 1] === 0x09)) valueEnd--;
  fieldScan.valueStart = valueStart;
  fieldScan.valueEnd = valueEnd;
  fieldScan.next = next;
  return FIELD_OK;
}

/** `b[start, start + lower.length)` equals `lower` ignoring ASCII case (see equalsLower). */
export function bytesEqualLower(b: Buffer, start: number, lower: string): boolean {
  const n = lower.length;
  for (let k = 0; k < n; k++) {
    if ((b[start + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * `s[start, start + lower.length)` equals `lower` ignoring ASCII case. Meant for text already
 * checked to hold no CTL: then setting bit 0x20 folds A-Z onto a-z and maps nothing else onto a
 * letter, digit, '-', ':' or '/' (only CTLs in 0x0d-0x1a could collide).
 */
export function equalsLower(s: string, start: number, lower: string): boolean {
  const n = lower.length;
  for (let k = 0; k < n; k++) {
    if ((s.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Whether a field list (name, value, name, value...) has a field named `lower` (a lowercase
 * name), by length first and without a lowercase copy of any name: cheap enough for every request.
 */
export function hasField(headers: readonly string[], lower: string): boolean {
  const n = lower.length;
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.length === n && equalsLower(headers[i]!, 0, lower)) return true;
  return false;
}

const MAX_CL_DIGITS = 15;

/**
 * Content-Length (RFC 9110 §8.6): 1*DIGIT, at most 15 digits so the value stays an exact integer
 * (< 2^53) and nothing can overflow. A list of identical values (`5, 5`) folds into one number.
 * Returns the length, -1 when the value is invalid, -2 when a list holds different values.
 */
export function parseContentLength(v: string): number {
  const len = v.length;
  let n = 0;
  let i = 0;
  for (; i < len; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === len) return i === 0 || i > MAX_CL_DIGITS ? -1 : n;
  return parseContentLengthList(v);
}

/** The char code at `i`, or 0 past the end (values never hold NUL, so 0 reads as "stop"). */
function codeAt(v: string, i: number): number {
  return i < v.length ? v.charCodeAt(i) : 0;
}

function parseContentLengthList(v: string): number {
  const len = v.length;
  let first = -1;
  let i = 0;
  for (;;) {
    let c = codeAt(v, i);
    while (c === 0x20 || c === 0x09) c = codeAt(v, ++i);
    const digitsStart = i;
    let n = 0;
    while (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      c = codeAt(v, ++i);
    }
    const digits = i - digitsStart;
    if (digits === 0 || digits > MAX_CL_DIGITS) return -1;
    while (c === 0x20 || c === 0x09) c = codeAt(v, ++i);
    if (first === -1) first = n;
    else if (n !== first) return -2;
    if (i >= len) return first;
    if (c !== 0x2c) return -1;
    i++;
  }
}

/** Outcomes of classifyTransferCoding(). */
export const TE_CHUNKED = 0;
/** Malformed list, unknown coding, chunked missing, repeated or not last (RFC 9112 §6.1, §6.3(3)). */
export const TE_INVALID = 1;
/** Well framed (`gzip, chunked`) but with a coding the core does not decode: 501 (RFC 9112 §6.1). */
export const TE_NOT_IMPLEMENTED = 2;

/** Transfer codings that are registered but that the core does not decode. */
const KNOWN_CODINGS = ['gzip', 'x-gzip', 'deflate', 'compress', 'x-compress', 'identity'];

/**
 * Checks a Transfer-Encoding value (all TE lines joined by commas): a list of codings that must
 * end with the one and only `chunked`. Empty elements and parameters are refused (stricter than
 * RFC 9110 §5.6.1 allows, on purpose: smuggling hides in such corners).
 */
export function classifyTransferCoding(v: string): number {
  const len = v.length;
  if (len === 7 && equalsLower(v, 0, 'chunked')) return TE_CHUNKED;
  let chunkedCount = 0;
  let lastIsChunked = false;
  let unsupported = false;
  let i = 0;
  for (;;) {
    let c = codeAt(v, i);
    while (c === 0x20 || c === 0x09) c = codeAt(v, ++i);
    const start = i;
    while (TCHAR[c] === 1) c = codeAt(v, ++i);
    const tokenLen = i - start;
    while (c === 0x20 || c === 0x09) c = codeAt(v, ++i);
    if (tokenLen === 0 || (i < len && c !== 0x2c)) return TE_INVALID;
    if (tokenLen === 7 && equalsLower(v, start, 'chunked')) {
      chunkedCount++;
      lastIsChunked = true;
    } else {
      lastIsChunked = false;
      if (!isKnownCoding(v, start, tokenLen)) return TE_INVALID;
      unsupported = true;
    }
    if (i >= len) break;
    i++;
  }
  if (chunkedCount !== 1 || !lastIsChunked) return TE_INVALID;
  return unsupported ? TE_NOT_IMPLEMENTED : TE_CHUNKED;
}

function isKnownCoding(v: string, start: number, tokenLen: number): boolean {
  for (const name of KNOWN_CODINGS) {
    if (name.length === tokenLen && equalsLower(v, start, name)) return true;
  }
  return false;
}

/** Appends the lowercased, trimmed, non-empty elements of a comma list (Connection, RFC 9110 §7.6.1). */
export function pushListTokensLower(v: string, out: string[]): void {
  if (v.indexOf(',') === -1) {
    if (v.length > 0) out.push(connectionOption(v, 0, v.length) ?? v.toLowerCase());
    return;
  }
  const len = v.length;
  let i = 0;
  while (i <= len) {
    i = listElement(v, i);
    if (listScan.end > listScan.start) out.push(v.slice(listScan.start, listScan.end).toLowerCase());
  }
}

/** Where listElement() found the last element (one shared record, so a scan allocates nothing). */
export const listScan = { start: 0, end: 0 };

/**
 * Finds the comma-list element (RFC 9110 §5.6.1) that starts at `i` in `v`, without its OWS, and
 * records it in `listScan` (empty when start === end). Returns where the next element starts: a
 * value past `v.length` means this was the last one.
 */
export function listElement(v: string, i: number): number {
  let end = v.indexOf(',', i);
  if (end === -1) end = v.length;
  let a = i;
  let b = end;
  // OWS is SP / HTAB only (RFC 9110 §5.6.3); String.prototype.trim would also eat U+00A0.
  while (a < b && (v.charCodeAt(a) === 0x20 || v.charCodeAt(a) === 0x09)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 0x20 || v.charCodeAt(b - 1) === 0x09)) b--;
  listScan.start = a;
  listScan.end = b;
  return end + 1;
}

/**
 * The lowercase constant when `v[start, start + len)` is one of the Connection options that name
 * no field (`close`, `keep-alive`, `upgrade`, any case), else null: nearly every head says
 * `keep-alive` or `close`, and a constant costs no new string.
 */
export function connectionOption(v: string, start: number, len: number): string | null {
  switch (len) {
    case 5: return equalsLower(v, start, 'close') ? 'close' : null;
    case 7: return equalsLower(v, start, 'upgrade') ? 'upgrade' : null;
    case 10: return equalsLower(v, start, 'keep-alive') ? 'keep-alive' : null;
    default: return null;
  }
}

/** The lowercased list holds `token`. */
export function hasToken(list: string[], token: string): boolean {
  for (let k = 0; k < list.length; k++) if (list[k] === token) return true;
  return false;
}

// The replacement side of a rewrite or redirect rule, as lighttpd 1.4.69 reads it
// (keyvalue.c pcre_keyvalue_buffer_subst and _subst_ext, burl.c burl_append): `$n` (the rule's
// own captures) and `%n` (the enclosing condition's), `${n}` / `%{n}` percent-encoded,
// `${url.scheme}`, `${url.authority}`, `${url.port}`, `${url.path}`, `${url.query}`, `${qsa}`,
// with the modifiers `esc:`, `escape:`, `nde:` (escnde), `escpsnde:`, `noesc:`, `tolower:`,
// `toupper:`, `encb64u:`, `decb64u:`. `$$` is `$`, `%%` is `%`. Parsed once at config load.
// Strings here are byte strings (latin1), as request targets are.

/** How a substituted value is written (burl.h BURL_*). */
export const enum Encode { Raw, None, All, Nde, Psnde, B64uEncode, B64uDecode }

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'capture'; own: boolean; num: number; encode: Encode; lower: boolean; upper: boolean }
  | { kind: 'url'; field: 'scheme' | 'authority' | 'port' | 'path' | 'query'; encode: Encode; lower: boolean; upper: boolean }
  | { kind: 'qsa'; encode: Encode; lower: boolean; upper: boolean };

/** A parsed replacement. */
export interface Template {
  readonly parts: readonly Part[];
  /** It uses `%n` captures of the enclosing condition. */
  readonly usesCondition: boolean;
  /** lighttpd: an empty replacement means "matched: stop here, change nothing". */
  readonly blank: boolean;
}

/** The request parts `${url.*}` and `${qsa}` read (lighttpd's burl_parts_t). */
export interface UrlParts {
  scheme: string;
  authority: string;
  port: number;
  /** The target (path and query), percent-encoded as received. */
  target: string;
  /** The query without `?`; null when the target has none (`${qsa}` then adds nothing). */
  query: string | null;
}

/** Parse a replacement; throws an Error with the reason when it cannot be read. */
export function parseTemplate(t: string): Template {
  const parts: Part[] = [];
  let text = '';
  let usesCondition = false;
  for (let k = 0; k < t.length; k++) {
    const c = t[k]!;
    if ((c !== '$' && c !== '%') || k + 1 >= t.length) { text += c; continue; }
    const n = t[k + 1]!;
    if (n === '{') {
      const close = t.indexOf('}', k + 2);
      if (close < 0) throw new Error(`"${c}{" without a closing "}" in "${t}"`);
      const part = parseBraced(c === '$', t.slice(k + 2, close), t);
      if (part.kind === 'capture' && !part.own) usesCondition = true;
      if (text !== '') { parts.push({ kind: 'text', text }); text = ''; }
      parts.push(part);
      k = close;
    } else if (n >= '0' && n <= '9') {
      if (text !== '') { parts.push({ kind: 'text', text }); text = ''; }
      if (c === '%') usesCondition = true;
      parts.push({ kind: 'capture', own: c === '$', num: n.charCodeAt(0) - 48, encode: Encode.Raw, lower: false, upper: false });
      k++;
    } else {
      // "$$" → "$", "%%" → "%"; anything else is kept as written ("%a" stays "%a").
      text += n === c ? c : c + n;
      k++;
    }
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { parts, usesCondition, blank: t === '' };
}

const MODIFIERS: ReadonlyArray<[string, Encode | 'lower' | 'upper']> = [
  ['escape:', Encode.All], ['esc:', Encode.All], ['escnde:', Encode.Nde], ['escpsnde:', Encode.Psnde],
  ['noescape:', Encode.None], ['noesc:', Encode.None], ['tolower:', 'lower'], ['toupper:', 'upper'],
  ['encb64u:', Encode.B64uEncode], ['decb64u:', Encode.B64uDecode],
];

function parseBraced(own: boolean, body: string, whole: string): Part {
  let encode = Encode.Raw;
  let lower = false;
  let upper = false;
  let rest = body;
  for (;;) {
    const m = MODIFIERS.find(([prefix]) => rest.startsWith(prefix));
    if (!m) break;
    rest = rest.slice(m[0].length);
    if (m[1] === 'lower') lower = true;
    else if (m[1] === 'upper') upper = true;
    else encode = m[1];
  }
  if (/^\d{1,2}$/.test(rest)) {
    // lighttpd: a braced capture without an encoding modifier is encoded, "/" kept (escpsnde).
    return { kind: 'capture', own, num: Number(rest), encode: encode === Encode.Raw ? Encode.Psnde : encode, lower, upper };
  }
  if (rest === 'qsa') return { kind: 'qsa', encode, lower, upper };
  const url = /^url\.(scheme|authority|port|path|query)$/.exec(rest);
  if (url) return { kind: 'url', field: url[1] as 'scheme', encode, lower, upper };
  throw new Error(`unknown substitution "${own ? '$' : '%'}{${body}}" in "${whole}"`);
}

/** RFC 3986 unreserved: ALPHA DIGIT - . _ ~ */
function unreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const HEX = '0123456789ABCDEF';
const pct = (c: number): string => '%' + HEX[(c >> 4) & 15] + HEX[c & 15];

/** burl_append_encode_nde / _psnde: encode all but unreserved (and "/"), never double-encode. */
function encodeNoDouble(s: string, keepSlash: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (c === 0x25 && hexDigit(s.charCodeAt(i + 1)) >= 0 && hexDigit(s.charCodeAt(i + 2)) >= 0) {
      const x = hexDigit(s.charCodeAt(i + 1)) * 16 + hexDigit(s.charCodeAt(i + 2));
      out += unreserved(x) ? String.fromCharCode(x) : '%' + s[i + 1] + s[i + 2];
      i += 2;
    } else if (unreserved(c) || (keepSlash && c === 0x2f)) {
      out += s[i];
    } else {
      out += pct(c);
    }
  }
  return out;
}

function encodeAll(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    out += unreserved(c) ? s[i] : pct(c);
  }
  return out;
}

/** Change letter case, leaving %XX escapes as they are (burl_offset_tolower/_toupper). */
function changeCase(s: string, upper: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && hexDigit(s.charCodeAt(i + 1)) >= 0 && hexDigit(s.charCodeAt(i + 2)) >= 0) {
      out += s.slice(i, i + 3);
      i += 2;
    } else {
      out += upper ? s[i]!.toUpperCase() : s[i]!.toLowerCase();
    }
  }
  return out;
}

function encodeValue(s: string, encode: Encode, lower: boolean, upper: boolean): string {
  if (s === '') return s;
  let v: string;
  switch (encode) {
    case Encode.Raw: case Encode.None: v = s; break;
    case Encode.All: v = encodeAll(s); break;
    case Encode.Nde: v = encodeNoDouble(s, false); break;
    case Encode.Psnde: v = encodeNoDouble(s, true); break;
    case Encode.B64uEncode: v = Buffer.from(s, 'latin1').toString('base64url'); break;
    case Encode.B64uDecode: v = Buffer.from(s, 'base64url').toString('latin1'); break;
  }
  // lighttpd 1.4.69 treats toupper: as tolower: (a slip fixed later); lantern upper-cases.
  if (lower) v = changeCase(v, false);
  else if (upper) v = changeCase(v, true);
  return v;
}

/**
 * Build the result. `own`: the rule's match; `cond`: the enclosing condition's captures
 * (%0..%9; empty when none matched).
 */
export function substitute(t: Template, own: RegExpExecArray, cond: readonly string[], url: UrlParts): string {
  let out = '';
  for (const p of t.parts) {
    switch (p.kind) {
      case 'text': out += p.text; break;
      case 'capture': {
        const v = p.own ? own[p.num] : cond[p.num];
        if (v !== undefined) out += encodeValue(v, p.encode, p.lower, p.upper);
        break;
      }
      case 'url': {
        let v: string;
        if (p.field === 'scheme') v = url.scheme;
        else if (p.field === 'authority') v = url.authority;
        else if (p.field === 'port') { out += String(url.port); break; }
        else if (p.field === 'path') { const q = url.target.indexOf('?'); v = q < 0 ? url.target : url.target.slice(0, q); }
        else v = url.query ?? '';
        out += encodeValue(v, p.encode, p.lower, p.upper);
        break;
      }
      case 'qsa': {
        // lighttpd: "?" + query, or "&" + query when the result has a "?" already.
        if (url.query === null) break;
        if (out.includes('?')) { if (url.query !== '') out += '&'; } else out += '?';
        out += encodeValue(url.query, p.encode, p.lower, p.upper);
        break;
      }
    }
  }
  return out;
}

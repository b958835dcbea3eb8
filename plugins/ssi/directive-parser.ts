// Splitting an SSI document into text and `<!--#element attribute=value ... -->` directives
// (NCSA/Apache SSI syntax as lighttpd mod_ssi reads it). One pass over the text: each directive's
// end is searched from its start, and the next search starts after that end, so the work is
// linear in the file size whatever the number of directives.
// The text is a byte string (latin1: one char per byte), so offsets are byte offsets.

export interface Directive {
  /** The element: `echo`, `include`, `if`... (as written, lowercase in practice). */
  name: string;
  /** attribute=value pairs in order; values unquoted. */
  attrs: Array<[string, string]>;
}

export type Segment =
  | { kind: 'text'; start: number; end: number }
  | { kind: 'directive'; directive: Directive }
  /** `<!--#...-->` that is not `element attr=value...`: the errmsg goes in its place. */
  | { kind: 'broken'; source: string }
  /** A `<!--#` with no `-->` after it: the rest of the file is copied as it is (lighttpd). */
  | { kind: 'unterminated'; start: number; end: number };

const OPEN = '<!--#';

const isAlpha = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Offset just past the `-->` that ends the directive opened at `start`, or -1. A `-->` inside a
 * quoted value does not end it; a backslash inside quotes escapes the next character.
 */
export function directiveEnd(text: string, start: number): number {
  let quote = 0;
  for (let i = start + OPEN.length; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === 0x5c /* \ */) i++;
      else if (c === quote) quote = 0;
    } else if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      quote = c;
    } else if (c === 0x2d /* - */ && text.charCodeAt(i + 1) === 0x2d && text.charCodeAt(i + 2) === 0x3e /* > */) {
      return i + 3;
    }
  }
  return -1;
}

/**
 * Parse the inside of one directive (`source` is the whole `<!--#...-->`), or null when it is
 * not `element` followed by `attribute=value` pairs. Values are bare words or quoted with `"` or
 * `'`; inside quotes `\` before the quote character stands for the quote (Apache), any other
 * backslash is kept as written (lighttpd keeps them all, which `exec cmd` relies on).
 */
export function parseDirective(source: string): Directive | null {
  const end = source.length - 3;
  let i = OPEN.length;
  const nameStart = i;
  while (i < end && isAlpha(source.charCodeAt(i))) i++;
  if (i === nameStart) return null;
  const name = source.slice(nameStart, i);
  const attrs: Array<[string, string]> = [];
  for (;;) {
    const before = i;
    while (i < end && isSpace(source.charCodeAt(i))) i++;
    if (i === end) return { name, attrs };
    if (i === before) return null; // `echovar=x` or `var="x"var2=y`: a separator is required
    const attrStart = i;
    while (i < end && (isAlpha(source.charCodeAt(i)) || source.charCodeAt(i) === 0x5f /* _ */)) i++;
    if (i === attrStart || source.charCodeAt(i) !== 0x3d /* = */) return null;
    const attr = source.slice(attrStart, i);
    i++;
    const q = source.charCodeAt(i);
    let value = '';
    if (q === 0x22 || q === 0x27) {
      i++;
      let from = i;
      for (;;) {
        if (i >= end) return null; // no closing quote
        const c = source.charCodeAt(i);
        if (c === q) break;
        if (c === 0x5c && i + 1 < end) {
          if (source.charCodeAt(i + 1) === q) { value += source.slice(from, i); from = i + 1; }
          i += 2;
          continue;
        }
        i++;
      }
      value += source.slice(from, i);
      i++;
    } else {
      const from = i;
      while (i < end && !isSpace(source.charCodeAt(i))) i++;
      if (i === from) return null; // `var=` with nothing
      value = source.slice(from, i);
    }
    attrs.push([attr, value]);
  }
}

/** The segments of `text`, in order. */
export function splitDocument(text: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (;;) {
    const open = text.indexOf(OPEN, pos);
    if (open < 0) break;
    const close = directiveEnd(text, open);
    if (close < 0) {
      if (open > pos) out.push({ kind: 'text', start: pos, end: open });
      out.push({ kind: 'unterminated', start: open, end: text.length });
      return out;
    }
    if (open > pos) out.push({ kind: 'text', start: pos, end: open });
    const source = text.slice(open, close);
    const directive = parseDirective(source);
    out.push(directive ? { kind: 'directive', directive } : { kind: 'broken', source });
    pos = close;
  }
  if (pos < text.length) out.push({ kind: 'text', start: pos, end: text.length });
  return out;
}

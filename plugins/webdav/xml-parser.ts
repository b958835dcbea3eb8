// A small strict XML 1.0 parser with namespaces (XML 1.0 §2-§4, Namespaces in XML 1.0 §3-§6),
// for WebDAV request bodies (RFC 4918 §8.3: a body that is not well-formed XML → 400).
// It builds a tree of elements and text. No DTD is read: a document with a DOCTYPE is refused,
// so no entity can expand (the "billion laughs") and nothing outside the body is fetched.

/** An element with its namespace resolved. */
export interface XmlElement {
  /** Local name (without prefix). */
  name: string;
  /** Namespace name (URI); '' when the element is in no namespace. */
  ns: string;
  /** Attributes by qualified name, as written. */
  attrs: Map<string, string>;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

export class XmlError extends Error {}

export interface XmlLimits {
  /** Deepest element nesting accepted. */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 10_000 };

// XML 1.0 (fifth edition) §2.3 NameStartChar / NameChar, without ':' (namespaces §3).
const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NCNAME = `[${NAME_START}][${NAME_CHAR}]*`;
const QNAME_RE = new RegExp(`(?:(${NCNAME}):)?(${NCNAME})`, 'y');
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
/** Characters XML 1.0 §2.2 forbids anywhere in a document (C0 controls but tab, LF, CR; U+FFFE/F). */
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

interface OpenElement {
  qname: string;
  el: XmlElement;
  /** Prefix → namespace bindings in scope here. */
  scope: Map<string, string>;
}

/** Parse a whole document; throws XmlError when it is not well-formed or breaks a limit. */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  return new Parser(text, limits).document();
}

class Parser {
  private pos = 0;
  private elements = 0;
  constructor(private readonly s: string, private readonly limits: XmlLimits) {
    if (BAD_CHAR.test(s)) throw new XmlError('character not allowed in XML');
  }

  document(): XmlElement {
    if (this.s.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (this.s.startsWith('<?xml', this.pos) && /[\s?]/.test(this.s[this.pos + 5] ?? '')) this.xmlDecl();
    this.misc();
    if (this.s.startsWith('<!DOCTYPE', this.pos)) throw new XmlError('DOCTYPE is not accepted');
    if (this.s[this.pos] !== '<') throw new XmlError('no root element');
    const root = this.element(new Map([['xml', XML_NS]]));
    this.misc();
    if (this.pos !== this.s.length) throw new XmlError(`content after the root element at ${this.pos}`);
    return root;
  }

  private xmlDecl(): void {
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) throw new XmlError('unterminated XML declaration');
    const decl = this.s.slice(this.pos + 5, end);
    if (!/^\s+version\s*=\s*(["'])1\.\d+\1(\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*$/.test(decl)) {
      throw new XmlError('malformed XML declaration');
    }
    const enc = /encoding\s*=\s*["']([^"']+)/.exec(decl)?.[1]?.toLowerCase();
    // The body was decoded as UTF-8: another declared encoding would be read wrongly.
    if (enc !== undefined && enc !== 'utf-8' && enc !== 'utf8' && enc !== 'us-ascii') throw new XmlError(`unsupported encoding ${enc}`);
    this.pos = end + 2;
  }

  /** Comments, processing instructions and white space (XML 1.0 §2.8 Misc). */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('<!--', this.pos)) this.comment();
      else if (this.s.startsWith('<?', this.pos)) this.pi();
      else return;
    }
  }

  private skipSpace(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private comment(): void {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) throw new XmlError('unterminated comment');
    // XML 1.0 §2.5: '--' must not occur within a comment.
    if (this.s.slice(this.pos + 4, end).includes('--')) throw new XmlError('"--" inside a comment');
    this.pos = end + 3;
  }

  private pi(): void {
    const end = this.s.indexOf('?>', this.pos + 2);
    if (end < 0) throw new XmlError('unterminated processing instruction');
    const target = /^[^\s?]+/.exec(this.s.slice(this.pos + 2, end))?.[0] ?? '';
    if (target === '' || target.toLowerCase() === 'xml') throw new XmlError('bad processing instruction');
    this.pos = end + 2;
  }

  private qname(): { prefix: string; local: string; qname: string } {
    QNAME_RE.lastIndex = this.pos;
    const m = QNAME_RE.exec(this.s);
    if (!m) throw new XmlError(`name expected at ${this.pos}`);
    this.pos += m[0].length;
    return { prefix: m[1] ?? '', local: m[2]!, qname: m[0] };
  }

  /** An element starting at '<', with its content and end tag, iteratively (no deep recursion). */
  private element(rootScope: Map<string, string>): XmlElement {
    const stack: OpenElement[] = [];
    let root: XmlElement | null = null;
    for (;;) {
      // At a start tag.
      const open = this.startTag(stack.length === 0 ? rootScope : stack[stack.length - 1]!.scope);
      if (stack.length > 0) stack[stack.length - 1]!.el.children.push(open.el);
      else root = open.el;
      if (!open.selfClosing) {
        if (stack.length + 1 > this.limits.maxDepth) throw new XmlError('elements nested too deeply');
        stack.push(open);
      }
      // Content until the next start tag, or until the stack empties.
      for (;;) {
        if (stack.length === 0) return root!;
        const top = stack[stack.length - 1]!;
        const lt = this.s.indexOf('<', this.pos);
        if (lt < 0) throw new XmlError(`unclosed element ${top.qname}`);
        if (lt > this.pos) this.text(top.el, this.s.slice(this.pos, lt));
        this.pos = lt;
        if (this.s.startsWith('</', lt)) {
          this.pos += 2;
          const { qname } = this.qname();
          if (qname !== top.qname) throw new XmlError(`end tag ${qname} does not match ${top.qname}`);
          this.skipSpace();
          if (this.s[this.pos] !== '>') throw new XmlError('">" expected');
          this.pos++;
          stack.pop();
        } else if (this.s.startsWith('<!--', lt)) {
          this.comment();
        } else if (this.s.startsWith('<![CDATA[', lt)) {
          const end = this.s.indexOf(']]>', lt + 9);
          if (end < 0) throw new XmlError('unterminated CDATA section');
          top.el.children.push(this.s.slice(lt + 9, end));
          this.pos = end + 3;
        } else if (this.s.startsWith('<?', lt)) {
          this.pi();
        } else if (this.s.startsWith('<!', lt)) {
          throw new XmlError('markup declaration inside an element');
        } else {
          break; // a child start tag
        }
      }
    }
  }

  private startTag(parentScope: Map<string, string>): OpenElement & { selfClosing: boolean } {
    if (++this.elements > this.limits.maxElements) throw new XmlError('too many elements');
    this.pos++; // '<'
    const name = this.qname();
    const raw: Array<{ prefix: string; local: string; qname: string; value: string }> = [];
    let selfClosing = false;
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.s[this.pos];
      if (c === '>') { this.pos++; break; }
      if (c === '/' && this.s[this.pos + 1] === '>') { this.pos += 2; selfClosing = true; break; }
      if (this.pos === before) throw new XmlError(`white space or ">" expected at ${this.pos}`);
      const attr = this.qname();
      this.skipSpace();
      if (this.s[this.pos] !== '=') throw new XmlError('"=" expected');
      this.pos++;
      this.skipSpace();
      const q = this.s[this.pos];
      if (q !== '"' && q !== "'") throw new XmlError('quoted attribute value expected');
      const end = this.s.indexOf(q, this.pos + 1);
      if (end < 0) throw new XmlError('unterminated attribute value');
      const rawValue = this.s.slice(this.pos + 1, end);
      if (rawValue.includes('<')) throw new XmlError('"<" in an attribute value');
      this.pos = end + 1;
      if (raw.some((a) => a.qname === attr.qname)) throw new XmlError(`attribute ${attr.qname} given twice`);
      raw.push({ ...attr, value: decodeEntities(rawValue).replace(/[\t\n\r]/g, ' ') });
    }
    let scope = parentScope;
    for (const a of raw) {
      const isDefault = a.prefix === '' && a.local === 'xmlns';
      if (!isDefault && a.prefix !== 'xmlns') continue;
      if (scope === parentScope) scope = new Map(parentScope);
      if (isDefault) scope.set('', a.value);
      else {
        if (a.value === '') throw new XmlError(`empty namespace for prefix ${a.local}`);
        if (a.local === 'xmlns' || (a.local === 'xml') !== (a.value === XML_NS)) throw new XmlError(`reserved prefix ${a.local}`);
        scope.set(a.local, a.value);
      }
    }
    const ns = scope.get(name.prefix);
    if (ns === undefined && name.prefix !== '') throw new XmlError(`unbound prefix ${name.prefix}`);
    const attrs = new Map<string, string>();
    for (const a of raw) {
      if (a.prefix !== '' && a.prefix !== 'xmlns' && !scope.has(a.prefix)) throw new XmlError(`unbound prefix ${a.prefix}`);
      attrs.set(a.qname, a.value);
    }
    return { qname: name.qname, el: { name: name.local, ns: ns ?? '', attrs, children: [] }, scope, selfClosing };
  }

  private text(el: XmlElement, raw: string): void {
    if (raw.includes(']]>')) throw new XmlError('"]]>" in text');
    el.children.push(decodeEntities(raw));
  }
}

/** Replace the five predefined entities and character references (XML 1.0 §4.1, §4.6). */
function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError('"&" not starting a reference');
    switch (ref) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'apos': return "'";
      case 'quot': return '"';
    }
    const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (!m) throw new XmlError(`undeclared entity &${ref};`);
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) throw new XmlError(`character reference &${ref}; is not a character`);
    return String.fromCodePoint(cp);
  });
}

/** The element children of `el` (text and white space skipped). */
export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

/** The text content of `el` and its descendants. */
export function textContent(el: XmlElement): string {
  let out = '';
  for (const c of el.children) out += typeof c === 'string' ? c : textContent(c);
  return out;
}

// lighttpd.conf tokenizer, following the rules of config_tokenizer() in lighttpd 1.4.69
// src/configfile.c (own implementation): the token set, the `"` escape rule and the context
// flags (inside `( )`, inside a `$COND[...] op` head) that change what `=` and newlines mean.
import { ConfigError } from '../model.js';

export type TokenType =
  | 'EOL' | 'EOF'
  | 'ASSIGN' | 'FORCE_ASSIGN' | 'APPEND' | 'PLUS' | 'ARRAY_ASSIGN' | 'COMMA'
  | 'LPAREN' | 'RPAREN' | 'LBRACKET' | 'RBRACKET' | 'LCURLY' | 'RCURLY'
  | 'DOLLAR' | 'SRVVARNAME' | 'COND_OP'
  | 'STRING' | 'INTEGER' | 'KEY'
  | 'INCLUDE' | 'INCLUDE_SHELL' | 'GLOBAL' | 'ELSE';

export interface Token {
  type: TokenType;
  /** The string's value (escapes applied), the key, the operator or the punctuation itself. */
  text: string;
  /** 1-based line where the token starts. */
  line: number;
}

const KEYWORDS = new Map<string, TokenType>([
  ['include', 'INCLUDE'],
  ['include_shell', 'INCLUDE_SHELL'],
  ['global', 'GLOBAL'],
  ['else', 'ELSE'],
]);

function isDigit(c: number): boolean { return c >= 0x30 && c <= 0x39; }
function isAlpha(c: number): boolean { return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); }
/** lighttpd's key alphabet: `[-._0-9A-Za-z]` (`_` for env.* names). */
function isKeyChar(c: number): boolean { return isAlpha(c) || isDigit(c) || c === 0x2e || c === 0x5f || c === 0x2d; }

/** A short, quoted description of a token for error messages. */
export function describeToken(t: Token): string {
  switch (t.type) {
    case 'EOL': return 'end of line';
    case 'EOF': return 'end of file';
    case 'STRING': return `string "${t.text}"`;
    default: return `"${t.text}"`;
  }
}

export class LighttpdLexer {
  private pos = 0;
  private line: number;
  /** Depth of `( )`: inside, newlines are blanks and `=` must be `=>` (lighttpd t->parens). */
  private parens = 0;
  /** Between `$` and the comparison operator (lighttpd t->in_cond). */
  private inCond = false;

  constructor(private readonly src: string, private readonly file: string, firstLine = 1) {
    this.line = firstLine;
  }

  private fail(message: string, line = this.line): never {
    throw new ConfigError({ file: this.file, line }, message);
  }

  private tok(type: TokenType, text: string, line = this.line): Token {
    return { type, text, line };
  }

  next(): Token {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      switch (c) {
        case 0x20: case 0x09: case 0xa0: // space, tab, U+00A0 (lighttpd treats NBSP as blank)
          this.pos++;
          continue;
        case 0x23: // '#': comment to the end of the line
          this.skipComment();
          continue;
        case 0x0a: case 0x0d: {
          const line = this.line;
          this.skipBlankLines();
          // Inside ( ) a list may span lines; elsewhere a newline ends the statement.
          if (this.parens === 0) return this.tok('EOL', '\n', line);
          continue;
        }
        case 0x3d: // '='
          return this.equalSign();
        case 0x21: // '!'
          if (!this.inCond) this.fail('unexpected "!" (only != and !~ in a condition)');
          return this.condOp();
        case 0x2c: // ','
          this.pos++;
          // lighttpd silently skips a comma outside ( ); only inside a list is it a separator.
          if (this.parens > 0) return this.tok('COMMA', ',');
          continue;
        case 0x22: // '"'
          return this.string();
        case 0x28: // '('
          this.pos++;
          this.parens++;
          return this.tok('LPAREN', '(');
        case 0x29: // ')'
          if (this.parens === 0) this.fail('unexpected ")" without a matching "("');
          this.pos++;
          this.parens--;
          return this.tok('RPAREN', ')');
        case 0x24: // '$'
          this.pos++;
          this.inCond = true;
          return this.tok('DOLLAR', '$');
        case 0x2b: // '+'
          if (s.charCodeAt(this.pos + 1) === 0x3d) {
            this.pos += 2;
            return this.tok('APPEND', '+=');
          }
          this.pos++;
          return this.tok('PLUS', '+');
        case 0x3a: // ':'
          if (s.charCodeAt(this.pos + 1) !== 0x3d) this.fail('unexpected ":" (did you mean ":="?)');
          this.pos += 2;
          return this.tok('FORCE_ASSIGN', ':=');
        case 0x7b: this.pos++; return this.tok('LCURLY', '{');
        case 0x7d: this.pos++; return this.tok('RCURLY', '}');
        case 0x5b: this.pos++; return this.tok('LBRACKET', '[');
        case 0x5d: this.pos++; return this.tok('RBRACKET', ']');
        case 0x00: return this.fail('stray NUL byte');
        default:
          return this.word(c);
      }
    }
    return this.tok('EOF', '');
  }

  private skipComment(): void {
    const s = this.src;
    while (this.pos < s.length && s[this.pos] !== '\n' && s[this.pos] !== '\r') this.pos++;
  }

  /** Newlines, blanks and comments up to the next token; counts lines (`\r\n`, `\n`, `\r`). */
  private skipBlankLines(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\r') {
        this.pos += s[this.pos + 1] === '\n' ? 2 : 1;
        this.line++;
      } else if (c === '\n') {
        this.pos++;
        this.line++;
      } else if (c === ' ' || c === '\t' || c === '\u00a0') {
        this.pos++;
      } else if (c === '#') {
        this.skipComment();
      } else {
        return;
      }
    }
  }

  private equalSign(): Token {
    const next = this.src[this.pos + 1];
    if (this.parens > 0) {
      if (next !== '>') this.fail('use => for assignments in arrays');
      this.pos += 2;
      return this.tok('ARRAY_ASSIGN', '=>');
    }
    if (this.inCond) return this.condOp();
    this.pos++;
    return this.tok('ASSIGN', '=');
  }

  /** `== != =~ !~ =^ =$`: ends the condition head (lighttpd resets in_cond here). */
  private condOp(): Token {
    const op = this.src.slice(this.pos, this.pos + 2);
    if (op !== '==' && op !== '!=' && op !== '=~' && op !== '!~' && op !== '=^' && op !== '=$') {
      this.fail(`unknown condition operator "${op.trim()}" (use == != =~ !~ =^ =$)`);
    }
    this.pos += 2;
    this.inCond = false;
    return this.tok('COND_OP', op);
  }

  /**
   * A double-quoted string. lighttpd 1.4 knows exactly one escape, `\"`; every other backslash
   * is kept as written, so regexes like "\.php$" need no doubling. A string may span lines.
   */
  private string(): Token {
    const s = this.src;
    const startLine = this.line;
    let out = '';
    let chunk = this.pos + 1;
    let i = chunk;
    for (; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\' && s[i + 1] === '"') {
        out += s.slice(chunk, i) + '"';
        i++;
        chunk = i + 1;
      } else if (s[i] === '\n' || (s[i] === '\r' && s[i + 1] !== '\n')) {
        this.line++;
      }
    }
    if (i >= s.length) this.fail('unterminated string: missing closing quote', startLine);
    out += s.slice(chunk, i);
    this.pos = i + 1;
    return this.tok('STRING', out, startLine);
  }

  private word(c: number): Token {
    const s = this.src;
    const start = this.pos;
    if (this.inCond) {
      // Condition kind after `$`: letters and `_` only (HTTP, REQUEST_HEADER, SERVER).
      let i = start;
      while (i < s.length && (isAlpha(s.charCodeAt(i)) || s[i] === '_')) i++;
      if (i === start) this.fail(`invalid character ${JSON.stringify(s[start])} in condition`);
      this.pos = i;
      return this.tok('SRVVARNAME', s.slice(start, i));
    }
    if (isDigit(c)) {
      let i = start + 1;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      this.pos = i;
      return this.tok('INTEGER', s.slice(start, i));
    }
    let i = start;
    while (i < s.length && isKeyChar(s.charCodeAt(i))) i++;
    if (i === start) this.fail(`invalid character ${JSON.stringify(s[start])} in variable name`);
    this.pos = i;
    const text = s.slice(start, i);
    return this.tok(KEYWORDS.get(text) ?? 'KEY', text);
  }
}

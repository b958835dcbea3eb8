// The `<!--#if expr="..." -->` expression language of lighttpd mod_ssi: strings (bare words,
// 'quoted', $var and ${var}, adjacent ones joined with one space), comparisons = != < <= > >=
// (byte-wise string order), ! and ( ), and && / || evaluated left to right with equal precedence
// (lighttpd's order: `a || b && c` is `(a || b) && c`). A string is true when it is not empty.

/** A variable's value ('' when it is not set). */
export type Lookup = (name: string) => string;

export type ExprResult = { ok: true; value: boolean } | { ok: false; error: string };

/** Nesting of ( and ! beyond this is refused (lighttpd: 16), so a hostile page cannot exhaust the stack. */
const MAX_DEPTH = 32;

const enum Tok { End, And, Or, Eq, Ne, Gt, Ge, Lt, Le, Not, LParen, RParen, Value }

interface Value { bool: boolean | null; str: string }

class ExprError extends Error {}

const truth = (v: Value) => (v.bool !== null ? v.bool : v.str !== '');

const isAlphaCode = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

const isWordStop = (c: string) => ' \t()\'=!<>&|'.includes(c);

class Parser {
  private pos = 0;
  private tok: Tok = Tok.End;
  private tokValue = '';
  private depth = 0;
  constructor(private readonly input: string, private readonly lookup: Lookup) {
    this.advance();
  }

  private fail(msg: string): never {
    throw new ExprError(`${msg} at position ${this.pos + 1}`);
  }

  /** Read the next token into tok / tokValue. */
  private advance(): void {
    const s = this.input;
    while (this.pos < s.length && (s[this.pos] === ' ' || s[this.pos] === '\t')) this.pos++;
    this.tokValue = '';
    if (this.pos >= s.length) { this.tok = Tok.End; return; }
    const c = s[this.pos]!;
    const next = s[this.pos + 1];
    switch (c) {
      case '=': this.pos += next === '=' ? 2 : 1; this.tok = Tok.Eq; return; // "==" accepted as "="
      case '>': this.pos += next === '=' ? 2 : 1; this.tok = next === '=' ? Tok.Ge : Tok.Gt; return;
      case '<': this.pos += next === '=' ? 2 : 1; this.tok = next === '=' ? Tok.Le : Tok.Lt; return;
      case '!': this.pos += next === '=' ? 2 : 1; this.tok = next === '=' ? Tok.Ne : Tok.Not; return;
      case '&': if (next !== '&') this.fail('missing second &'); this.pos += 2; this.tok = Tok.And; return;
      case '|': if (next !== '|') this.fail('missing second |'); this.pos += 2; this.tok = Tok.Or; return;
      case '(': this.pos++; this.tok = Tok.LParen; return;
      case ')': this.pos++; this.tok = Tok.RParen; return;
      case '\'': {
        const close = s.indexOf('\'', this.pos + 1);
        if (close < 0) this.fail('missing closing quote');
        this.tokValue = s.slice(this.pos + 1, close);
        this.pos = close + 1;
        this.tok = Tok.Value;
        return;
      }
      case '$': {
        let name: string;
        if (next === '{') {
          const close = s.indexOf('}', this.pos + 2);
          if (close < 0) this.fail('missing closing curly-brace');
          name = s.slice(this.pos + 2, close);
          this.pos = close + 1;
        } else {
          let i = this.pos + 1;
          for (; i < s.length; i++) {
            const ch = s.charCodeAt(i);
            const ok = isAlphaCode(ch) || ch === 0x5f /* _ */ || (i > this.pos + 1 && ch >= 0x30 && ch <= 0x39);
            if (!ok) break;
          }
          name = s.slice(this.pos + 1, i);
          this.pos = i;
        }
        this.tokValue = name === '' ? '' : this.lookup(name);
        this.tok = Tok.Value;
        return;
      }
      default: {
        let i = this.pos;
        while (i < s.length && s.charCodeAt(i) > 0x20 && s.charCodeAt(i) < 0x7f && !isWordStop(s[i]!)) i++;
        if (i === this.pos) this.fail(`unexpected character 0x${s.charCodeAt(i).toString(16)}`);
        this.tokValue = s.slice(this.pos, i);
        this.pos = i;
        this.tok = Tok.Value;
      }
    }
  }

  /** expr := cmp (('&&' | '||') cmp)*, left to right, no short circuit needed (no side effects). */
  parseExpr(): Value {
    let left = this.parseCmp();
    while (this.tok === Tok.And || this.tok === Tok.Or) {
      const op = this.tok;
      this.advance();
      const right = this.parseCmp();
      left = { bool: op === Tok.And ? truth(left) && truth(right) : truth(left) || truth(right), str: '' };
    }
    return left;
  }

  /** cmp := unary (op unary)? */
  private parseCmp(): Value {
    const left = this.parseUnary();
    const op = this.tok;
    if (op < Tok.Eq || op > Tok.Le) return left;
    this.advance();
    const right = this.parseUnary();
    // Two strings compare byte-wise (strcmp); with a boolean on either side, their truth values.
    const cmp = left.bool === null && right.bool === null
      ? (left.str < right.str ? -1 : left.str > right.str ? 1 : 0)
      : Number(truth(left)) - Number(truth(right));
    const result = op === Tok.Eq ? cmp === 0 : op === Tok.Ne ? cmp !== 0 : op === Tok.Gt ? cmp > 0
      : op === Tok.Ge ? cmp >= 0 : op === Tok.Lt ? cmp < 0 : cmp <= 0;
    return { bool: result, str: '' };
  }

  /** unary := '!' unary | '(' expr ')' | string */
  private parseUnary(): Value {
    if (this.tok === Tok.Not || this.tok === Tok.LParen) {
      if (++this.depth > MAX_DEPTH) this.fail('nested too deeply');
      let v: Value;
      if (this.tok === Tok.Not) {
        this.advance();
        v = { bool: !truth(this.parseUnary()), str: '' };
      } else {
        this.advance();
        v = { bool: truth(this.parseExpr()), str: '' };
        if ((this.tok as Tok) !== Tok.RParen) this.fail('missing )');
        this.advance();
      }
      this.depth--;
      return v;
    }
    if (this.tok !== Tok.Value) this.fail('a value is missing');
    let str = this.tokValue;
    this.advance();
    // Adjacent values form one string, joined with a space (an empty one adds nothing).
    while (this.tok === Tok.Value) {
      if (str === '') str = this.tokValue;
      else if (this.tokValue !== '') str += ' ' + this.tokValue;
      this.advance();
    }
    return { bool: null, str };
  }

  atEnd(): boolean { return this.tok === Tok.End; }
}

/** Evaluate `expr`; a syntax error is reported, never thrown. */
export function evaluateExpr(expr: string, lookup: Lookup): ExprResult {
  try {
    const p = new Parser(expr, lookup);
    const v = p.parseExpr();
    if (!p.atEnd()) return { ok: false, error: 'unexpected text after the expression' };
    return { ok: true, value: truth(v) };
  } catch (err) {
    if (err instanceof ExprError) return { ok: false, error: err.message };
    throw err;
  }
}

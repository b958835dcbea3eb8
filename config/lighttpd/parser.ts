// lighttpd.conf parser: the grammar and scope rules of lighttpd 1.4.69 src/configparser.y
// (own recursive-descent implementation) producing the shared ConfigModel (design.md §4).
// Values are evaluated while parsing, as lighttpd does: a variable reference sees what was set
// before it in the current block or an enclosing one.
import fs from 'node:fs';
import path from 'node:path';
import {
  ConfigError, ConfigHash,
  type Condition, type ConfigBlock, type ConfigEntry, type ConfigModel, type ConfigValue, type SourceLoc,
} from '../model.js';
import { buildCondition, conditionKey } from './condition.js';
import { readIncludes, runIncludeShell, type IncludeSource } from './include.js';
import { describeToken, LighttpdLexer, type Token, type TokenType } from './lexer.js';
import { mergeValues, typeName } from './values.js';

export interface LighttpdParseOptions {
  /** Environment for `env.NAME` and include_shell; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory for `./`-relative includes, var.CWD and relative main files; default process.cwd(). */
  cwd?: string;
}

/** Guards against `include` loops (lighttpd itself would recurse until it crashes). */
const MAX_INCLUDE_DEPTH = 32;
/**
 * `( )` lists and `{ }` blocks nested deeper than this are an error: the parser recurses once per
 * level, and a few thousand levels would overflow the JS stack (a RangeError naming no line).
 * lighttpd's own parser stack (lemon, 100 entries) allows less.
 */
const MAX_NESTING_DEPTH = 100;

interface Scope {
  block: ConfigBlock;
  /** The enclosing block's scope: where lookups continue (lighttpd dc->parent). */
  parent: Scope | null;
  /** Every key set in this block, var.* included: what lookups and the `=` duplicate check see. */
  values: Map<string, ConfigValue>;
  /** The model entry of each non-var key, updated in place by `:=` and `+=`. */
  entries: Map<string, ConfigEntry>;
}

function newBlock(id: number, condition: Condition | null, loc: SourceLoc): ConfigBlock {
  return { condition, entries: [], children: [], else: null, id, loc };
}

/** A bare name (no dot) is a user variable: `x` means `var.x` (lighttpd key rule). */
function fullKey(name: string): string {
  return name.includes('.') ? name : `var.${name}`;
}

class LighttpdParser {
  private lex!: LighttpdLexer;
  private file = '';
  private peeked: Token | null = null;
  private readonly blocks: ConfigBlock[] = [];
  private readonly root: Scope;
  private current: Scope;
  /** Scopes of the blocks we are inside, outermost first (lighttpd configs_stack). */
  private readonly stack: Scope[] = [];
  private readonly scopes = new Map<ConfigBlock, Scope>();
  /** lighttpd reuses a block when the same condition is written again under the same parent. */
  private readonly reusable = new Map<string, ConfigBlock>();
  private includeDepth = 0;
  /** `( )` and `{ }` levels open right now (includes included). */
  private nesting = 0;
  /** Where each element of a list value was written (ConfigEntry.itemLocs), kept through `+`, `+=` and variables. */
  private readonly listLocs = new WeakMap<ConfigValue[], SourceLoc[]>();
  private readonly baseDir: string;
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly mainFile: string, opts: LighttpdParseOptions) {
    this.cwd = opts.cwd ?? process.cwd();
    this.env = opts.env ?? process.env;
    this.baseDir = path.dirname(mainFile);
    const rootBlock = newBlock(0, null, { file: mainFile, line: 1 });
    this.blocks.push(rootBlock);
    this.root = { block: rootBlock, parent: null, values: new Map(), entries: new Map() };
    this.scopes.set(rootBlock, this.root);
    this.current = this.root;
    // Predefined like lighttpd's config_vars_init().
    this.root.values.set('var.CWD', this.cwd);
    this.root.values.set('var.PID', process.pid);
  }

  model(): ConfigModel {
    return { file: this.mainFile, syntax: 'lighttpd', root: this.root.block, blockCount: this.blocks.length, warnings: [] };
  }

  /** Parse one file's text in the current scope (the main file, an include, include_shell output). */
  parseSource(text: string, file: string): void {
    const saved = { lex: this.lex, file: this.file, peeked: this.peeked };
    this.lex = new LighttpdLexer(text, file);
    this.file = file;
    this.peeked = null;
    this.statements(null);
    ({ lex: this.lex, file: this.file, peeked: this.peeked } = saved);
  }

  /** Parse `text` as a lone condition head (the native format's `$...` keys). */
  conditionOnly(text: string, loc: SourceLoc): Condition {
    this.lex = new LighttpdLexer(text, loc.file, loc.line);
    this.file = loc.file;
    const dollar = this.next();
    if (dollar.type !== 'DOLLAR') this.fail(dollar, `a condition starts with "$", found ${describeToken(dollar)}`);
    const cond = this.conditionHead(dollar);
    const end = this.next();
    if (end.type !== 'EOF' && end.type !== 'EOL') this.fail(end, `unexpected ${describeToken(end)} after the condition`);
    return cond;
  }

  // ---- tokens ----

  private next(): Token {
    const t = this.peeked ?? this.lex.next();
    this.peeked = null;
    return t;
  }

  private peek(): Token {
    this.peeked ??= this.lex.next();
    return this.peeked;
  }

  private loc(line: number): SourceLoc {
    return { file: this.file, line };
  }

  private fail(t: Token, message: string): never {
    throw new ConfigError(this.loc(t.line), message);
  }

  /** One more level of `( )` or `{ }` at `open`; the caller leaves it with `this.nesting--`. */
  private enter(open: Token): void {
    if (++this.nesting > MAX_NESTING_DEPTH) this.fail(open, `( ) and { } nested more than ${MAX_NESTING_DEPTH} deep`);
  }

  private expect(type: TokenType, what: string): Token {
    const t = this.next();
    if (t.type !== type) this.fail(t, `expected ${what}, found ${describeToken(t)}`);
    return t;
  }

  // ---- statements ----

  /** Statements until `}` (open is the `{`) or, at file level (open null), the end of the file. */
  private statements(open: Token | null): void {
    for (;;) {
      const t = this.next();
      switch (t.type) {
        case 'EOL':
          continue;
        case 'EOF':
          if (open) this.fail(t, `unexpected end of file: the "{" of line ${open.line} is not closed`);
          return;
        case 'RCURLY':
          if (!open) this.fail(t, 'unexpected "}" without a matching "{"');
          return;
        case 'KEY':
          this.assignment(t);
          break;
        case 'INCLUDE':
          this.include(t);
          break;
        case 'INCLUDE_SHELL':
          this.includeShell(t);
          break;
        case 'GLOBAL':
          this.globalBlock(t);
          break;
        case 'DOLLAR':
          this.conditionChain(t);
          break;
        case 'ELSE':
          return this.fail(t, '"else" without a condition block before it');
        default:
          this.fail(t, `syntax error: unexpected ${describeToken(t)}`);
      }
    }
  }

  private assignment(keyTok: Token): void {
    const key = fullKey(keyTok.text);
    const op = this.next();
    if (op.type !== 'ASSIGN' && op.type !== 'FORCE_ASSIGN' && op.type !== 'APPEND') {
      this.fail(op, `expected =, := or += after "${keyTok.text}", found ${describeToken(op)}`);
    }
    const value = this.expression();
    const loc = this.loc(keyTok.line);
    if (key.startsWith('env.')) this.fail(keyTok, `cannot set "${key}": env.* variables are read-only`);
    const scope = this.current;
    if (op.type === 'ASSIGN') {
      if (scope.values.has(key)) {
        this.fail(keyTok, `duplicate config variable "${key}" in this block (use := to overwrite it or += to append)`);
      }
      this.set(key, value, loc);
    } else if (op.type === 'FORCE_ASSIGN') {
      this.set(key, value, loc);
    } else {
      // lighttpd: append to the value of this block, else to a copy of the value visible from
      // the enclosing blocks at this point, else it is a plain assignment.
      const prev = scope.values.get(key) ?? this.lookup(key);
      this.set(key, prev === undefined ? value : this.merge(prev, value, loc), loc);
    }
  }

  private set(key: string, value: ConfigValue, loc: SourceLoc): void {
    const scope = this.current;
    scope.values.set(key, value);
    // User variables are resolved here; they are not options, so they stay out of the model.
    if (key.startsWith('var.')) return;
    const entry = scope.entries.get(key);
    const itemLocs = Array.isArray(value) ? this.listLocs.get(value) : undefined;
    if (entry) {
      entry.value = value;
      entry.loc = loc;
      if (itemLocs) entry.itemLocs = itemLocs; else delete entry.itemLocs;
    } else {
      const e: ConfigEntry = itemLocs ? { key, value, loc, itemLocs } : { key, value, loc };
      scope.entries.set(key, e);
      scope.block.entries.push(e);
    }
  }

  /** mergeValues(), keeping where each element of two joined lists was written. */
  private merge(a: ConfigValue, b: ConfigValue, loc: SourceLoc): ConfigValue {
    const v = mergeValues(a, b, loc);
    if (Array.isArray(a) && Array.isArray(b) && Array.isArray(v)) {
      const locsOf = (list: ConfigValue[]) => this.listLocs.get(list) ?? list.map(() => loc);
      this.listLocs.set(v, [...locsOf(a), ...locsOf(b)]);
    }
    return v;
  }

  private lookup(key: string): ConfigValue | undefined {
    for (let s: Scope | null = this.current; s; s = s.parent) {
      const v = s.values.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  private include(t: Token): void {
    const target = this.stringOperand(this.expression(), t, 'include');
    const sources = readIncludes(target, this.baseDir, this.cwd, (msg) => this.fail(t, msg));
    this.parseIncluded(t, sources);
  }

  private includeShell(t: Token): void {
    const cmd = this.stringOperand(this.expression(), t, 'include_shell');
    const dir = path.resolve(this.cwd, this.baseDir);
    this.parseIncluded(t, [runIncludeShell(cmd, dir, this.env, (msg) => this.fail(t, msg))]);
  }

  private parseIncluded(t: Token, sources: IncludeSource[]): void {
    if (this.includeDepth >= MAX_INCLUDE_DEPTH) this.fail(t, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`);
    this.includeDepth++;
    for (const src of sources) this.parseSource(src.text, src.shown);
    this.includeDepth--;
  }

  private globalBlock(t: Token): void {
    if (this.stack.length > 0 && this.current === this.root) this.fail(t, '"global { }" cannot be nested in a global block');
    const open = this.expect('LCURLY', '"{" after "global"');
    this.enter(open);
    this.stack.push(this.current);
    this.current = this.root;
    this.statements(open);
    this.current = this.stack.pop()!;
    this.nesting--;
  }

  // ---- conditions ----

  /** A condition block and the `else` links that follow it. */
  private conditionChain(dollar: Token): void {
    if (this.stack.length > 0 && this.current === this.root) this.fail(dollar, 'conditions are not allowed inside a global { } block');
    const cond = this.conditionHead(dollar);
    const open = this.expect('LCURLY', `"{" after ${cond.text}`);
    const parent = this.current.block;
    const reuseKey = `${parent.id}\u0000${conditionKey(cond)}`;
    let block = this.reusable.get(reuseKey);
    const reused = block !== undefined;
    if (!block) {
      block = this.addBlock(cond, cond.loc);
      parent.children.push(block);
      this.reusable.set(reuseKey, block);
    }
    this.blockBody(block, open);
    let prev = block;
    for (;;) {
      while (this.peek().type === 'EOL') this.next();
      if (this.peek().type !== 'ELSE') return;
      const elseTok = this.next();
      if (prev.condition === null) this.fail(elseTok, 'unreachable condition: it follows a plain "else { }"');
      if (reused && prev === block && prev.else !== null) {
        this.fail(elseTok, `"else" after a repeated condition that already has an else branch (${cond.text}, first at ${block.loc.file}:${block.loc.line}); merge the two blocks`);
      }
      const t = this.next();
      let link: ConfigBlock;
      let linkOpen: Token;
      if (t.type === 'DOLLAR') {
        const c = this.conditionHead(t);
        linkOpen = this.expect('LCURLY', `"{" after ${c.text}`);
        link = this.addBlock(c, c.loc);
      } else if (t.type === 'LCURLY') {
        linkOpen = t;
        link = this.addBlock(null, this.loc(elseTok.line));
      } else {
        this.fail(t, `expected a condition or "{" after "else", found ${describeToken(t)}`);
      }
      prev.else = link;
      this.blockBody(link, linkOpen);
      prev = link;
    }
  }

  private addBlock(cond: Condition | null, loc: SourceLoc): ConfigBlock {
    const b = newBlock(this.blocks.length, cond, loc);
    this.blocks.push(b);
    return b;
  }

  private blockBody(block: ConfigBlock, open: Token): void {
    let scope = this.scopes.get(block);
    if (!scope) {
      scope = { block, parent: this.current, values: new Map(), entries: new Map() };
      this.scopes.set(block, scope);
    }
    this.enter(open);
    this.stack.push(this.current);
    this.current = scope;
    this.statements(open);
    this.current = this.stack.pop()!;
    this.nesting--;
  }

  /** `$KIND[ expr ] op expr` after the `$`. */
  private conditionHead(dollar: Token): Condition {
    const kind = this.expect('SRVVARNAME', 'a condition name like HTTP after "$"');
    this.expect('LBRACKET', `"[" after "$${kind.text}"`);
    const fieldTok = this.peek();
    const field = this.stringOperand(this.expression(), fieldTok, `$${kind.text}[...]`);
    this.expect('RBRACKET', `"]" after $${kind.text}["${field}"`);
    const op = this.expect('COND_OP', 'a condition operator (== != =~ !~ =^ =$)');
    const rhsTok = this.peek();
    const rhs = this.expression();
    if (typeof rhs !== 'string') {
      this.fail(rhsTok, `the value of a condition must be a string, not ${typeName(rhs)}`);
    }
    return buildCondition(kind.text, field, op.text, rhs, this.loc(dollar.line));
  }

  // ---- expressions ----

  /** lighttpd's `stringop`: an expression that must be a string (an integer is written in decimal). */
  private stringOperand(v: ConfigValue, t: Token, where: string): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    this.fail(t, `${where} needs a string, not ${typeName(v)}`);
  }

  /** value ( "+" value )* */
  private expression(): ConfigValue {
    let v = this.value();
    while (this.peek().type === 'PLUS') {
      const plus = this.next();
      v = this.merge(v, this.value(), this.loc(plus.line));
    }
    return v;
  }

  private value(): ConfigValue {
    const t = this.next();
    switch (t.type) {
      case 'STRING':
        return t.text;
      case 'INTEGER': {
        const n = Number(t.text);
        if (!Number.isSafeInteger(n)) this.fail(t, `number out of range: ${t.text}`);
        return n;
      }
      case 'KEY':
        return this.reference(t);
      case 'LPAREN': {
        this.enter(t);
        const v = this.array(t);
        this.nesting--;
        return v;
      }
      default:
        this.fail(t, `expected a value (string, integer, list or variable), found ${describeToken(t)}`);
    }
  }

  /** `env.NAME`, `var.x`/`x`, or any key set before (`server.document-root`). */
  private reference(t: Token): ConfigValue {
    const key = fullKey(t.text);
    if (key.startsWith('env.')) {
      const v = this.env[key.slice(4)];
      if (v === undefined) this.fail(t, `undefined environment variable: ${key.slice(4)}`);
      return v;
    }
    const v = this.lookup(key);
    if (v === undefined) this.fail(t, `undefined config variable: ${key}`);
    return v;
  }

  /** After `(`: `( )`, `( v, v, )` → list; `( k => v, ... )` → ConfigHash. */
  private array(open: Token): ConfigValue {
    const items: Array<[string | null, ConfigValue]> = [];
    /** The line each element starts on. */
    const lines: number[] = [];
    let keyed = 0;
    if (this.peek().type === 'RPAREN') {
      this.next();
      return [];
    }
    for (;;) {
      const startTok = this.peek();
      const first = this.expression();
      if (this.peek().type === 'ARRAY_ASSIGN') {
        this.next();
        const k = this.stringOperand(first, startTok, 'an array key');
        if (items.some(([ik]) => ik === k)) {
          this.fail(startTok, `duplicate array-key "${k}" (remove the duplicate entry)`);
        }
        items.push([k, this.expression()]);
        keyed++;
      } else {
        items.push([null, first]);
      }
      lines.push(startTok.line);
      const sep = this.next();
      if (sep.type === 'RPAREN') break;
      if (sep.type !== 'COMMA') this.fail(sep, `expected "," or ")" in the list opened on line ${open.line}, found ${describeToken(sep)}`);
      // lighttpd accepts extra commas after an element: `( "a", , "b", )`.
      while (this.peek().type === 'COMMA') this.next();
      if (this.peek().type === 'RPAREN') {
        this.next();
        break;
      }
    }
    if (keyed === 0) {
      const list = items.map(([, v]) => v);
      this.listLocs.set(list, lines.map((line) => this.loc(line)));
      return list;
    }
    if (keyed === items.length) return new ConfigHash(items as Array<[string, ConfigValue]>);
    this.fail(open, 'a list cannot mix "key" => value pairs with plain values');
  }
}

/** Parse lighttpd.conf text. `file` names it in errors and is the base for relative includes. */
export function parseLighttpdConfig(text: string, file: string, opts: LighttpdParseOptions = {}): ConfigModel {
  const parser = new LighttpdParser(file, opts);
  parser.parseSource(text, file);
  return parser.model();
}

/** Read and parse a lighttpd.conf file (relative to opts.cwd). */
export function loadLighttpdConfig(file: string, opts: LighttpdParseOptions = {}): ConfigModel {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(opts.cwd ?? process.cwd(), file), 'utf8');
  } catch (err) {
    throw new ConfigError({ file, line: 0 }, `cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseLighttpdConfig(text, file, opts);
}

/**
 * Parse a lone condition head such as `$HTTP["host"] == "example.org"` (the native format's
 * condition keys). `env.NAME` works on the right-hand side; there are no user variables.
 */
export function parseConditionText(text: string, loc: SourceLoc, opts: LighttpdParseOptions = {}): Condition {
  return new LighttpdParser(loc.file, opts).conditionOnly(text, loc);
}

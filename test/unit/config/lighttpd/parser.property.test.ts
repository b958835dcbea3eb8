// Property tests for the lighttpd config language (config/lighttpd/*, lighttpd 1.4.69
// configparser.y): generated configs (strings, integers, "enable"/"disable", lists, hashes,
// nesting, `+`, `=`, `:=`, `+=`, variables, comments, CRLF, conditions with else chains,
// includes) parse to the model an independent reading of the rules predicts, with the lines of
// every entry and block; `-p` output (config/print.ts) parses back to the same model and prints
// the same; garbage and deep nesting give a ConfigError naming a line, never another exception.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash, type ConfigBlock, type ConfigModel, type ConfigValue } from '../../../../config/model.js';
import { printConfig } from '../../../../config/print.js';
import { withinTime } from '../../../helpers/timing.js';

const ParserProperty = suite('lighttpd-parser.property');

/** Never an existing directory: include_shell can never run, relative includes never resolve. */
const CWD = '/nonexistent-lantern-cwd';
const FILE = 'gen.conf';
const parse = (text: string, file = FILE): ConfigModel => parseLighttpdConfig(text, file, { env: { HOME: '/home/u' }, cwd: CWD });

// ---- the model, independently ----

/** A config value as the rules say it is: a hash is its ordered entries. */
type MV = string | number | MV[] | { hash: Array<[string, MV]> };

function toMV(v: ConfigValue): MV {
  if (v instanceof ConfigHash) return { hash: v.entries.map(([k, x]) => [k, toMV(x)]) };
  if (Array.isArray(v)) return v.map(toMV);
  assert.is(typeof v === 'boolean', false, 'the lighttpd syntax has no booleans ("enable" stays a string)');
  return v as string | number;
}

const isHash = (v: MV): v is { hash: Array<[string, MV]> } => typeof v === 'object' && !Array.isArray(v);

/** lighttpd configparser_merge_data(), as documented: undefined when the parser must refuse it. */
function merge(a: MV, b: MV): MV | undefined {
  if (typeof a === 'string') return typeof b === 'string' || typeof b === 'number' ? a + String(b) : undefined;
  if (typeof a === 'number') {
    if (typeof b === 'number') return Number.isSafeInteger(a + b) ? a + b : undefined;
    return typeof b === 'string' ? String(a) + b : undefined;
  }
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return [...a, ...b];
    return isHash(b) && a.length === 0 ? b : undefined;
  }
  if (Array.isArray(b)) return b.length === 0 ? a : undefined;
  if (!isHash(b)) return undefined;
  const out: Array<[string, MV]> = [...a.hash];
  for (const [k, v] of b.hash) {
    const have = out.find(([ok]) => ok === k);
    if (!have) out.push([k, v]);
    else if (!((typeof v === 'string' || typeof v === 'number') && have[1] === v)) return undefined;
  }
  return { hash: out };
}

interface ExpectedBlock {
  cond: { kind: string; field: string; op: string; value: string } | null;
  line: number;
  entries: Array<[string, MV, number]>;
  children: ExpectedBlock[];
  else: ExpectedBlock | null;
}

function fromModel(b: ConfigBlock, withLines: boolean): ExpectedBlock {
  return {
    cond: b.condition ? { kind: b.condition.kind, field: b.condition.field, op: b.condition.op, value: b.condition.value } : null,
    line: withLines ? b.loc.line : 0,
    entries: b.entries.map((e) => [e.key, toMV(e.value), withLines ? e.loc.line : 0]),
    children: b.children.map((c) => fromModel(c, withLines)),
    else: b.else ? fromModel(b.else, withLines) : null,
  };
}

function withoutLines(b: ExpectedBlock): ExpectedBlock {
  return { ...b, line: 0, entries: b.entries.map(([k, v]) => [k, v, 0]), children: b.children.map(withoutLines), else: b.else ? withoutLines(b.else) : null };
}

// ---- the generated source ----

type Operand =
  | { t: 'str'; s: string }
  | { t: 'int'; n: number }
  | { t: 'ref'; pick: number; bare: boolean }
  | { t: 'list'; items: Operand[][]; multiline: boolean; trailing: boolean }
  | { t: 'hash'; items: Array<[string | number, Operand[]]>; multiline: boolean; trailing: boolean };

/** Characters strings are made of: quotes, backslashes, `#`, `$`, braces, newlines, latin1, U+20AC. */
const STRING_CHARS = ['a', 'b', 'Z', '0', ' ', '\t', '"', '\\', '#', '$', '(', ')', '{', '}', '=', ',', '\n', '\r', '\xe9', '\xa0', '\u20ac', '.', '/'];
/** lighttpd cannot write a string ending in a backslash (`\"` is always an escape): avoid that one. */
const stringValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(...STRING_CHARS), maxLength: 10 }),
  fc.constantFrom('enable', 'disable', '', 'text/html', '\\.php$', 'say "hi"'),
).map((s) => (s.endsWith('\\') ? s + '.' : s));
const intValue = fc.oneof(fc.constantFrom(0, 1, 80, 404, 8080), fc.nat(100000), fc.integer({ min: 0, max: 2 ** 45 }));

const { expr } = fc.letrec<{ expr: Operand[]; operand: Operand }>((tie) => ({
  expr: fc.array(tie('operand'), { minLength: 1, maxLength: 3 }),
  operand: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    stringValue.map((s): Operand => ({ t: 'str', s })),
    intValue.map((n): Operand => ({ t: 'int', n })),
    fc.record({ pick: fc.nat(), bare: fc.boolean() }).map((r): Operand => ({ t: 'ref', ...r })),
    fc.record({ items: fc.array(tie('expr'), { maxLength: 3 }), multiline: fc.boolean(), trailing: fc.boolean() }).map((r): Operand => ({ t: 'list', ...r })),
    fc.record({
      items: fc.array(fc.tuple(fc.oneof(fc.constantFrom('k', '.html', '404', 'a b', 'q"uote'), fc.nat(500)), tie('expr')), { minLength: 1, maxLength: 3 }),
      multiline: fc.boolean(),
      trailing: fc.boolean(),
    }).map((r): Operand => ({ t: 'hash', ...r })),
  ),
}));

const OPTION_KEYS = ['server.port', 'server.tag', 'server.modules', 'mimetype.assign', 'a.b', 'x-y.z_1', 'setenv.add-environment', 'dir-listing.activate'];
const VAR_NAMES = ['x', 'base', 'my_var', 'a-b', 'n0'];

const condSpec = fc.record({
  kind: fc.constantFrom('host', 'url', 'querystring', 'query-string', 'useragent', 'user-agent', 'referer', 'cookie', 'scheme', 'request-method', 'language', 'remoteip', 'header', 'socket'),
  op: fc.constantFrom('==', '!=', '=~', '!~', '=^', '=$'),
  value: fc.string({ unit: fc.constantFrom('a', 'B', '.', '-', '/', '"', '\\', '*', '(', ' ', '\xe9'), maxLength: 8 }),
  ci: fc.boolean(),
  split: fc.nat(),
});
type CondSpec = typeof condSpec extends fc.Arbitrary<infer T> ? T : never;

type Stmt =
  | { t: 'assign'; key: number; isVar: boolean; bare: boolean; op: '=' | ':=' | '+='; expr: Operand[]; comment: string | null }
  | { t: 'comment'; text: string }
  | { t: 'blank' }
  | { t: 'cond'; links: Array<{ cond: CondSpec | null; body: Stmt[] }>; elseOnNewLine: boolean };

const comment = fc.string({ unit: fc.constantFrom('a', ' ', '"', '(', '{', '}', '$', '=', '#', '\\'), maxLength: 8 });
const assign = fc.record({
  t: fc.constant('assign' as const),
  key: fc.nat(),
  isVar: fc.boolean(),
  bare: fc.boolean(),
  op: fc.constantFrom('=' as const, ':=' as const, '+=' as const),
  expr,
  comment: fc.option(comment, { freq: 4 }),
});
const simple: fc.Arbitrary<Stmt> = fc.oneof(
  { arbitrary: assign, weight: 6 },
  { arbitrary: comment.map((text): Stmt => ({ t: 'comment', text })), weight: 1 },
  { arbitrary: fc.constant<Stmt>({ t: 'blank' }), weight: 1 },
);
function statements(depth: number): fc.Arbitrary<Stmt[]> {
  if (depth === 0) return fc.array(simple, { maxLength: 4 });
  const cond = fc.record({
    t: fc.constant('cond' as const),
    links: fc.tuple(
      fc.array(fc.record({ cond: condSpec, body: statements(depth - 1) }), { minLength: 1, maxLength: 3 }),
      fc.option(statements(depth - 1)),
    ).map(([links, plainElse]) => (plainElse === null ? links : [...links, { cond: null, body: plainElse }])),
    elseOnNewLine: fc.boolean(),
  });
  return fc.array(fc.oneof({ arbitrary: simple, weight: 3 }, { arbitrary: cond as fc.Arbitrary<Stmt>, weight: 1 }), { maxLength: 6 });
}
const program = fc.record({ stmts: statements(2), crlf: fc.boolean(), indent: fc.constantFrom('', '  ', '\t', ' \xa0') });
type Program = typeof program extends fc.Arbitrary<infer T> ? T : never;

/** A lighttpd string literal: `\"` is the only escape. */
const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
const escapeRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const breaks = (s: string) => (s.match(/\r\n|\r|\n/g) ?? []).length;

interface Scope {
  parent: Scope | null;
  values: Map<string, MV>;
  block: ExpectedBlock;
  entryIndex: Map<string, number>;
}

interface Generated {
  text: string;
  expected: ExpectedBlock;
  /** Where root statements start in `text` (for splitting into an include). */
  rootStarts: number[];
}

/**
 * Writes the program as lighttpd.conf text and works out, by the language's rules, the model it
 * must give. Choices the parser would refuse are made valid here: `=` on a key already set in
 * the block becomes `:=`, an operand of the wrong type is left out, a repeated hash key dropped,
 * a reference with nothing visible becomes a string, every condition made unique under its parent.
 */
function generate(p: Program): Generated {
  const eol = p.crlf ? '\r\n' : '\n';
  let text = '';
  let counter = 0;
  const rootStarts: number[] = [];
  const line = () => 1 + breaks(text);
  const root: Scope = { parent: null, values: new Map(), block: { cond: null, line: 1, entries: [], children: [], else: null }, entryIndex: new Map() };
  root.values.set('var.CWD', CWD);

  const visible = (scope: Scope): Array<[string, MV]> => {
    const seen = new Map<string, MV>();
    for (let s: Scope | null = scope; s; s = s.parent) for (const [k, v] of s.values) if (!seen.has(k)) seen.set(k, v);
    return [...seen];
  };

  /** One operand: its source text and its value. */
  function operand(o: Operand, scope: Scope, ind: string): [string, MV] {
    switch (o.t) {
      case 'str': return [quote(o.s), o.s];
      case 'int': return [String(o.n), o.n];
      case 'ref': {
        const vars = visible(scope);
        if (vars.length === 0) return ['"unset"', 'unset'];
        const [key, v] = vars[o.pick % vars.length]!;
        const name = key.startsWith('var.') && o.bare ? key.slice(4) : key;
        return [name, v];
      }
      case 'list':
      case 'hash': {
        const parts: string[] = [];
        let value: MV;
        if (o.t === 'list') {
          value = o.items.map((e) => {
            const [src, v] = expression(e, scope, ind + '  ');
            parts.push(src);
            return v;
          });
        } else {
          const entries: Array<[string, MV]> = [];
          for (const [k, e] of o.items) {
            const key = String(k);
            if (entries.some(([x]) => x === key)) continue; // a literal may not repeat a key
            const [src, v] = expression(e, scope, ind + '  ');
            parts.push(`${typeof k === 'number' ? k : quote(k)} => ${src}`);
            entries.push([key, v]);
          }
          value = { hash: entries };
        }
        if (parts.length === 0) return [o.multiline ? `(${eol}${ind})` : '( )', o.t === 'list' ? [] : value];
        const sep = o.multiline ? `,${eol}${ind}  ` : ', ';
        const body = parts.join(sep) + (o.trailing ? ',' : '');
        return [o.multiline ? `(${eol}${ind}  ${body} # list${eol}${ind})` : `( ${body} )`, value];
      }
    }
  }

  /** `a + b + c`, leaving out operands that would not merge. */
  function expression(ops: Operand[], scope: Scope, ind: string): [string, MV] {
    let [src, value] = operand(ops[0]!, scope, ind);
    for (const o of ops.slice(1)) {
      const [s, v] = operand(o, scope, ind);
      const merged = merge(value, v);
      if (merged === undefined) continue;
      src += ` + ${s}`;
      value = merged;
    }
    return [src, value];
  }

  function set(scope: Scope, key: string, value: MV, at: number): void {
    scope.values.set(key, value);
    if (key.startsWith('var.')) return;
    const i = scope.entryIndex.get(key);
    if (i === undefined) {
      scope.entryIndex.set(key, scope.block.entries.length);
      scope.block.entries.push([key, value, at]);
    } else {
      scope.block.entries[i] = [key, value, at];
    }
  }

  function condition(c: CondSpec, ind: string): { head: string; cond: ExpectedBlock['cond'] & object } {
    const n = ++counter;
    let kind = 'HTTP';
    let field: string = c.kind;
    let canonical = c.kind.replace('query-string', 'querystring').replace('user-agent', 'useragent');
    let op: string = c.op;
    let value: string;
    const isRegex = op === '=~' || op === '!~';
    if (c.kind === 'remoteip') {
      op = op === '!=' || op === '!~' ? '!=' : '==';
      value = c.ci ? `10.${n >> 8}.${n & 255}.0/24` : `2001:db8::${n.toString(16)}`;
    } else if (c.kind === 'socket') {
      [kind, field, canonical] = ['SERVER', 'socket', 'socket'];
      value = `:${1000 + n}`;
    } else {
      if (c.kind === 'header') [kind, field, canonical] = ['REQUEST_HEADER', 'X-Api-Key', 'X-Api-Key'];
      // Unique under every parent (a repeated condition would reuse its block), a valid regex.
      value = (isRegex ? (c.ci ? '(?i)' : '') + escapeRegex(c.value) : c.value) + `-${n}`;
    }
    // The right-hand side may be an expression: "a" + "b" (never a piece ending in "\").
    let rhs = quote(value);
    const cut = c.split % (value.length + 1);
    if (cut > 0 && cut < value.length && !value.slice(0, cut).endsWith('\\')) rhs = `${quote(value.slice(0, cut))} + ${quote(value.slice(cut))}`;
    const expectedValue = canonical === 'host' && kind === 'HTTP' && !isRegex ? value.toLowerCase() : value;
    return { head: `$${kind}[${quote(field)}] ${op} ${rhs}`, cond: { kind, field: canonical, op, value: expectedValue } };
  }

  function block(stmts: Stmt[], scope: Scope, ind: string, isRoot: boolean): void {
    for (const s of stmts) {
      if (isRoot) rootStarts.push(text.length);
      text += ind;
      switch (s.t) {
        case 'blank':
          break;
        case 'comment':
          text += `# ${s.text}`;
          break;
        case 'assign': {
          const key = s.isVar ? `var.${VAR_NAMES[s.key % VAR_NAMES.length]}` : OPTION_KEYS[s.key % OPTION_KEYS.length]!;
          const at = line();
          const [src, v] = expression(s.expr, scope, ind);
          let op: string = s.op;
          let value = v;
          if (op === '=' && scope.values.has(key)) op = ':=';
          if (op === '+=') {
            let prev = scope.values.get(key);
            for (let up = scope.parent; prev === undefined && up; up = up.parent) prev = up.values.get(key);
            if (prev !== undefined) {
              const merged = merge(prev, v);
              if (merged === undefined) op = ':=';
              else value = merged;
            }
          }
          text += `${s.isVar && s.bare ? key.slice(4) : key} ${op} ${src}${s.comment === null ? '' : ` # ${s.comment}`}`;
          set(scope, key, value, at);
          break;
        }
        case 'cond': {
          let prevBlock: ExpectedBlock | null = null;
          for (const [k, link] of s.links.entries()) {
            if (k > 0) text += s.elseOnNewLine ? `${eol}${ind}else ` : ' else ';
            const at = line();
            let head = '';
            let cond: ExpectedBlock['cond'] = null;
            if (link.cond) ({ head, cond } = condition(link.cond, ind));
            const b: ExpectedBlock = { cond, line: at, entries: [], children: [], else: null };
            if (prevBlock) prevBlock.else = b;
            else scope.block.children.push(b);
            text += `${head}${head ? ' ' : ''}{${eol}`;
            block(link.body, { parent: scope, values: new Map(), block: b, entryIndex: new Map() }, ind + '    ', false);
            text += `${ind}}`;
            prevBlock = b;
          }
          break;
        }
      }
      text += eol;
    }
  }

  block(p.stmts, root, p.indent, true);
  return { text, expected: root.block, rootStarts };
}

ParserProperty('generated configs parse to the predicted model: values, entry order, lines, conditions, else chains', () => {
  fc.assert(fc.property(program, (p) => {
    const g = generate(p);
    let m: ConfigModel;
    try {
      m = parse(g.text);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- config ---\n${g.text}`);
    }
    assert.equal(fromModel(m.root, true), g.expected);
    assert.is(m.syntax, 'lighttpd');
    // Dense ids in document order.
    const ids: number[] = [];
    const walk = (b: ConfigBlock) => { ids.push(b.id); for (const c of b.children) for (let l: ConfigBlock | null = c; l; l = l.else) walk(l); };
    walk(m.root);
    assert.equal([...ids].sort((a, b) => a - b), Array.from({ length: m.blockCount }, (_, k) => k));
  }), { numRuns: 300 });
});

ParserProperty('printing (-p) then parsing gives the same model, and prints the same again', () => {
  fc.assert(fc.property(program, (p) => {
    const m1 = parse(generate(p).text);
    const printed = printConfig(m1);
    let m2: ConfigModel;
    try {
      m2 = parse(printed);
    } catch (err) {
      throw new Error(`the printed config does not parse: ${(err as Error).message}\n--- printed ---\n${printed}`);
    }
    assert.equal(withoutLines(fromModel(m2.root, true)), withoutLines(fromModel(m1.root, true)));
    assert.is(m2.blockCount, m1.blockCount);
    assert.is(printConfig(m2), printed);
  }), { numRuns: 300 });
});

const tmpDirs: string[] = [];
ParserProperty.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

ParserProperty('include: root statements moved into an included file give the same model (as if written in place)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-parser-prop-'));
  tmpDirs.push(dir);
  const main = path.join(dir, 'main.conf');
  fc.assert(fc.property(program, fc.nat(), fc.nat(), (p, a, b) => {
    const g = generate(p);
    const starts = [...g.rootStarts, g.text.length];
    const from = starts[a % starts.length]!;
    const to = starts[Math.max(a % starts.length, b % starts.length)]!;
    fs.writeFileSync(path.join(dir, 'inc.conf'), g.text.slice(from, to));
    const m = parseLighttpdConfig(`${g.text.slice(0, from)}include "inc.conf"\n${g.text.slice(to)}`, main, { env: {}, cwd: CWD });
    assert.equal(withoutLines(fromModel(m.root, true)), withoutLines(g.expected));
  }), { numRuns: 60 });
});

// ---- garbage ----

const FRAGMENTS = [
  'a.b', 'x', 'var.x', 'var.CWD', 'env.HOME', 'env.NOPE', 'server.port', 'else', 'global', '=', ':=', '+=', '+', '=>', ',', ':', ';', '!',
  '"s"', '"', '"\\"', '"(?i)("', '\\', '(', ')', '{', '}', '[', ']', '$HTTP', '$SERVER', '$REQUEST_HEADER', '$PHYSICAL', '$', '["host"]',
  '["url"]', '["remoteip"]', '["X-A"]', '["socket"]', '==', '!=', '=~', '!~', '=^', '=$', '<>', '1', '0', '007', '99999999999999999999',
  '9007199254740991', ' ', ' ', '\t', '\n', '\n', '\r\n', '\r', '# c', '\xa0', '\xe9', '\u20ac', '\0', '"10.0.0.300/8"', '"::1"',
];
const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(''));
const mutated = fc.tuple(program, fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '"', '(', ')', '{', '}', '\n', '=', '+', '$', '#', '\\', ',', 'x', '\0')), { minLength: 1, maxLength: 4 }))
  .map(([p, edits]) => {
    let t = generate(p).text;
    for (const [at, s] of edits) {
      const k = at % (t.length + 1);
      // '' deletes a character; anything else is inserted.
      t = s === '' ? t.slice(0, k) + t.slice(k + 1) : t.slice(0, k) + s + t.slice(k);
    }
    return t;
  });

/** Parses `text`; a failure must be a ConfigError naming this file and a line inside it. */
function parsesOrNamesALine(text: string): void {
  const lines = 1 + breaks(text);
  const outcome = withinTime(() => {
    try {
      parse(text, 'fuzz.conf');
      return null;
    } catch (err) {
      return err;
    }
  }, 200, `parsing ${text.length} chars`);
  if (outcome !== null) {
    const err = outcome;
    assert.instance(err, ConfigError, `${(err as Error).constructor.name}: ${(err as Error).message}`);
    const e = err as ConfigError;
    assert.is(e.loc.file, 'fuzz.conf');
    assert.ok(Number.isInteger(e.loc.line) && e.loc.line >= 1 && e.loc.line <= lines, `line ${e.loc.line} of ${lines}`);
    assert.ok(e.message.startsWith(`fuzz.conf:${e.loc.line}: `) && e.detail.length > 0, e.message);
  }
}

ParserProperty('garbage: a model or a ConfigError naming a line of the file, never another exception, never slow', () => {
  // No `include`: the fragments cannot spell it, and a mutation could only reveal one inside a string.
  fc.assert(fc.property(fc.oneof(soup, mutated, fc.string({ maxLength: 60 })).filter((t) => !/include/i.test(t)), parsesOrNamesALine), { numRuns: 1500 });
});

ParserProperty('deep nesting of ( and { (balanced or not) is a ConfigError with a line, not a stack overflow', () => {
  const depth = fc.oneof(fc.nat(10), fc.integer({ min: 0, max: 6000 }));
  const blockOpen = fc.constantFrom('$HTTP["url"] =^ "/a" {\n', '$HTTP["host"] == "h" { ', 'global {\n');
  const listOpen = fc.constantFrom('(', '( "a", ', '("k" => ');
  fc.assert(fc.property(blockOpen, depth, listOpen, depth, fc.boolean(), (bOpen, blocks, lOpen, lists, close) => {
    const text = bOpen.repeat(blocks) + 'a.b = ' + lOpen.repeat(lists) + '1';
    parsesOrNamesALine(close ? text + ')'.repeat(lists) + '\n}'.repeat(blocks) + '\n' : text);
  }), { numRuns: 60 });
});

ParserProperty.run();

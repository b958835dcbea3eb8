// Native config sources (JSON per RFC 8259, YAML 1.2, JS module exports) → one positioned tree,
// so the native builder (config/native.ts) can name the line of every key in its errors.
// JSON is checked strictly with JSON.parse, then read through the `yaml` package (JSON is
// YAML 1.2 with the json schema) to get positions.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, ConfigHash } from './model.js';

export interface SourceMap {
  t: 'map';
  line: number;
  pairs: SourcePair[];
}
export interface SourcePair {
  key: string;
  line: number;
  value: SourceNode;
}
export interface SourceSeq {
  t: 'seq';
  line: number;
  items: SourceNode[];
}
export interface SourceScalar {
  t: 'scalar';
  line: number;
  value: unknown;
}
/** A value with the 1-based line it starts on (0 for JS modules, which have no lines). */
export type SourceNode = SourceMap | SourceSeq | SourceScalar;

/** Aliases can point at their own ancestors; real configs are far shallower. */
const MAX_DEPTH = 64;

function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

/**
 * Offset of the first RFC 8259 syntax error in `s`, or -1. JSON.parse's message does not always
 * say where ("Unexpected token '}', ... is not valid JSON"), so we find the place ourselves.
 */
function jsonErrorOffset(s: string): number {
  let i = 0;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const str = (): void => {
    i++;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') { i++; return; }
      if (c === '\\') {
        i++;
        if ('"\\/bfnrt'.includes(s[i] ?? 'x')) i++;
        else if (s[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) i += 5;
        else fail();
      } else if (c < ' ') {
        fail();
      } else {
        i++;
      }
    }
    fail();
  };
  const list = (close: string, member: () => void): void => {
    i++;
    ws();
    if (s[i] === close) { i++; return; }
    for (;;) {
      member();
      ws();
      if (s[i] === ',') { i++; continue; }
      if (s[i] === close) { i++; return; }
      fail();
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      list('}', () => {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
      });
    } else if (c === '[') {
      list(']', value);
    } else if (c === '"') {
      str();
    } else if (s.startsWith('true', i) || s.startsWith('null', i)) {
      i += 4;
    } else if (s.startsWith('false', i)) {
      i += 5;
    } else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(s)) fail();
      i = NUMBER.lastIndex;
    }
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return -1;
  } catch (e) {
    if (typeof e === 'number') return e;
    return s.length; // RangeError: nesting deeper than the stack
  }
}

function jsonSyntaxError(text: string, file: string, err: Error): ConfigError {
  const at = jsonErrorOffset(text);
  if (at < 0) return new ConfigError({ file, line: lineAtOffset(text, text.length) }, `invalid JSON: ${err.message}`);
  // Our own words: V8's vary between versions and sometimes quote the wrong character.
  const detail = at >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[at])}`;
  return new ConfigError({ file, line: lineAtOffset(text, at) }, `invalid JSON: ${detail}`);
}

function convertYaml(node: unknown, doc: Document, lc: LineCounter, file: string, depth: number): SourceNode {
  const lineOf = (n: { range?: [number, number, number] | null }): number => (n.range ? lc.linePos(n.range[0]).line : 0);
  if (depth > MAX_DEPTH) throw new ConfigError({ file, line: 0 }, `values nested more than ${MAX_DEPTH} deep`);
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw new ConfigError({ file, line: lineOf(node) }, `unresolved alias *${node.source}`);
    return convertYaml(target, doc, lc, file, depth + 1);
  }
  if (isMap(node)) {
    const pairs: SourcePair[] = [];
    for (const pair of node.items) {
      const k = pair.key;
      const keyLine = isScalar(k) || isMap(k) || isSeq(k) ? lineOf(k) : lineOf(node);
      if (!isScalar(k) || k.value === null || typeof k.value === 'object') {
        throw new ConfigError({ file, line: keyLine }, 'a key must be a plain string');
      }
      const value = pair.value == null ? { t: 'scalar' as const, line: keyLine, value: null } : convertYaml(pair.value, doc, lc, file, depth + 1);
      pairs.push({ key: String(k.value), line: keyLine, value });
    }
    return { t: 'map', line: lineOf(node), pairs };
  }
  if (isSeq(node)) {
    return { t: 'seq', line: lineOf(node), items: node.items.map((n) => convertYaml(n, doc, lc, file, depth + 1)) };
  }
  if (isScalar(node)) return { t: 'scalar', line: lineOf(node), value: node.value };
  return { t: 'scalar', line: 0, value: null };
}

/** YAML (or, with `json`, strict JSON) text → tree; null for an empty document. */
export function readTextSource(text: string, file: string, format: 'json' | 'yaml'): SourceNode | null {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (format === 'json') {
    try {
      JSON.parse(body);
    } catch (err) {
      throw jsonSyntaxError(body, file, err as Error);
    }
  }
  const lc = new LineCounter();
  const doc = parseDocument(body, { lineCounter: lc, schema: format === 'json' ? 'json' : 'core', uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? 0;
    const detail = e.code === 'DUPLICATE_KEY' ? 'duplicate key' : e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError({ file, line }, `invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${detail}`);
  }
  if (doc.contents === null) return null;
  return convertYaml(doc.contents, doc, lc, file, 0);
}

/** A JS module's exported value → tree (line 0: a module has no positions we can see). */
export function readObjectSource(value: unknown, file: string, where = '', depth = 0): SourceNode {
  const fail = (msg: string): never => {
    throw new ConfigError({ file, line: 0 }, where ? `"${where}": ${msg}` : msg);
  };
  if (depth > MAX_DEPTH) fail(`values nested more than ${MAX_DEPTH} deep`);
  if (value === null || value === undefined) return { t: 'scalar', line: 0, value: null };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { t: 'scalar', line: 0, value };
  if (Array.isArray(value)) {
    return { t: 'seq', line: 0, items: value.map((v, i) => readObjectSource(v, file, `${where}[${i}]`, depth + 1)) };
  }
  if (value instanceof ConfigHash) {
    // Lets a JS config keep key order exactly (a plain object lists "404" before ".html").
    const pairs = value.entries.map(([k, v]) => ({ key: k, line: 0, value: readObjectSource(v, file, where ? `${where}.${k}` : k, depth + 1) }));
    return { t: 'map', line: 0, pairs };
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const pairs = Object.entries(value).map(([k, v]) => ({ key: k, line: 0, value: readObjectSource(v, file, where ? `${where}.${k}` : k, depth + 1) }));
      return { t: 'map', line: 0, pairs };
    }
  }
  return fail(`unsupported value of type ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`);
}

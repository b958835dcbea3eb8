// Header edits of the native config (and lighttpd syntax alike): rewrite.request-header and
// rewrite.response-header, each `{ set: { Name: value }, add: { Name: value }, remove: [Name] }`.
// Checked at load like mod_setenv's lists (no CR, LF, NUL or control byte, no framing field);
// applied remove → set → add, to the request before any handler sees it and to every response.
import { ConfigHash } from '../../config/model.js';
import { isFieldName } from '../../core/http1/response-writer.js';
import type { HeaderList } from '../../core/http1/types.js';
import { utf8Bytes } from './pattern.js';
import { badFieldValue } from './rule-list.js';

export interface HeaderEdits {
  /** Lower-case names removed. */
  remove: readonly string[];
  set: ReadonlyArray<readonly [name: string, value: string]>;
  add: ReadonlyArray<readonly [name: string, value: string]>;
}

const FRAMING = new Set(['content-length', 'transfer-encoding']);
const compiled = new WeakMap<ConfigHash, HeaderEdits>();

function names(v: unknown): string[] | string {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (v instanceof ConfigHash) return v.keys();
  return '"remove" must be a list of field names';
}

function pairs(what: string, v: unknown): Array<[string, string]> | string {
  if (!(v instanceof ConfigHash)) return `"${what}" must be ( "Name" => "value", ... )`;
  const out: Array<[string, string]> = [];
  for (const [name, value] of v.entries) {
    if (typeof value !== 'string') return `"${what}": the value of "${name}" must be a string`;
    const bytes = utf8Bytes(value);
    const bad = badFieldValue(bytes);
    if (bad !== undefined) return `"${what}": the value of "${name}" ${bad}`;
    out.push([name, bytes]);
  }
  return out;
}

export function compileHeaderEdits(value: unknown): HeaderEdits | string {
  if (!(value instanceof ConfigHash)) return 'expected { "set": {...}, "add": {...}, "remove": [...] }';
  const edits = { remove: [] as string[], set: [] as Array<[string, string]>, add: [] as Array<[string, string]> };
  for (const [op, v] of value.entries) {
    if (op === 'remove') {
      const n = names(v);
      if (typeof n === 'string') return n;
      edits.remove.push(...n.map((x) => x.toLowerCase()));
      for (const x of n) if (!isFieldName(x)) return `"${x}" is not a valid header field name`;
    } else if (op === 'set' || op === 'add') {
      const p = pairs(op, v);
      if (typeof p === 'string') return p;
      edits[op].push(...p);
    } else {
      return `unknown operation "${op}" (use "set", "add" and "remove")`;
    }
  }
  for (const [name] of [...edits.set, ...edits.add]) {
    if (!isFieldName(name)) return `"${name}" is not a valid header field name`;
  }
  for (const name of [...edits.remove, ...edits.set.map((p) => p[0]), ...edits.add.map((p) => p[0])]) {
    if (FRAMING.has(name.toLowerCase())) return `"${name}" frames the message and cannot be edited`;
  }
  return edits;
}

export function checkHeaderEdits(value: unknown): string | undefined {
  const r = compileHeaderEdits(value);
  if (typeof r === 'string') return r;
  compiled.set(value as ConfigHash, r);
  return undefined;
}

export function headerEditsOf(value: ConfigHash): HeaderEdits | null {
  if (value.size === 0) return null;
  let r = compiled.get(value);
  if (r === undefined) {
    const c = compileHeaderEdits(value);
    if (typeof c === 'string') return null;
    r = c;
    compiled.set(value, r);
  }
  return r;
}

/** A new list with the edits applied: remove, then set (replaces every line), then add. */
export function applyHeaderEdits(h: HeaderList, e: HeaderEdits): HeaderList {
  const drop = new Set(e.remove);
  for (const [name] of e.set) drop.add(name.toLowerCase());
  const out: HeaderList = [];
  for (let i = 0; i < h.length; i += 2) if (!drop.has(h[i]!.toLowerCase())) out.push(h[i]!, h[i + 1]!);
  for (const [name, value] of e.set) if (value !== '') out.push(name, value);
  for (const [name, value] of e.add) out.push(name, value);
  return out;
}

// lighttpd 1.4.69 mod_setenv: the `( "Name" => "value" )` lists of setenv.*, checked once at
// config load (mod_setenv_prep_ext()), and what "add" and "set" do to a request's header list,
// its response fields and its environment (http_header_request_append/_set, http_header_env_*).
import { ConfigHash } from '../../config/model.js';
import { isFieldName } from '../../core/http1/response-writer.js';
import type { HeaderList } from '../../core/http1/types.js';

/** One `"Name" => "value"` pair of a setenv list, value normalised. */
export type SetenvPair = readonly [name: string, value: string];

/** Fields no setenv list may touch: they frame the message, which the core has already read or owns. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

/** A Unicode config string as the byte string of its UTF-8 encoding (what goes on the wire). */
export function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/**
 * lighttpd's normalisation of a header value: a tab becomes a space, leading and trailing spaces
 * go. CR, LF and NUL are refused instead (lighttpd turns CR/LF into spaces and warns; a value
 * that would split a message is a config mistake worth stopping for).
 */
export function normaliseValue(v: string): string {
  return v.replace(/\t/g, ' ').replace(/^ +| +$/g, '');
}

function hasForbidden(v: string): string | undefined {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x0d) return 'CR';
    if (c === 0x0a) return 'LF';
    if (c === 0x00) return 'NUL';
  }
  return undefined;
}

function pairsOf(value: unknown): Array<[string, unknown]> | string {
  if (!(value instanceof ConfigHash)) return 'expected ( "name" => "value", ... )';
  return value.entries;
}

/** The option check for setenv.{add,set}-{request,response}-header: an error message, or undefined. */
export function checkHeaderList(value: unknown): string | undefined {
  const pairs = pairsOf(value);
  if (typeof pairs === 'string') return pairs;
  for (const [name, v] of pairs) {
    if (typeof v !== 'string') return `the value of "${name}" must be a string`;
    if (!isFieldName(name)) return `"${name}" is not a valid header field name`;
    if (FRAMING.has(name.toLowerCase())) return `"${name}" frames the message and cannot be set by setenv`;
    const bad = hasForbidden(v);
    if (bad !== undefined) return `the value of "${name}" holds a ${bad} character`;
    if (/[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(v)) return `the value of "${name}" holds a control character`;
  }
  return undefined;
}

/** The option check for setenv.{add,set}-environment. */
export function checkEnvList(value: unknown): string | undefined {
  const pairs = pairsOf(value);
  if (typeof pairs === 'string') return pairs;
  for (const [name, v] of pairs) {
    if (typeof v !== 'string') return `the value of "${name}" must be a string`;
    if (name === '' || name.includes('=') || name.includes('\0')) return `"${name}" is not a valid environment variable name`;
    const bad = hasForbidden(v) ?? hasForbidden(name);
    if (bad !== undefined) return `"${name}" holds a ${bad} character`;
  }
  return undefined;
}

const cache = new WeakMap<ConfigHash, readonly SetenvPair[]>();

/** The pairs of a checked header list, values normalised and as wire bytes; computed once per list. */
export function headerPairs(list: ConfigHash): readonly SetenvPair[] {
  let out = cache.get(list);
  if (out === undefined) {
    out = list.entries.map(([n, v]) => [n, utf8Bytes(normaliseValue(v as string))] as const);
    cache.set(list, out);
  }
  return out;
}

/** The pairs of a checked environment list, values as UTF-8 bytes (not trimmed, as lighttpd). */
export function envPairs(list: ConfigHash): readonly SetenvPair[] {
  let out = cache.get(list);
  if (out === undefined) {
    out = list.entries.map(([n, v]) => [utf8Bytes(n), utf8Bytes(v as string)] as const);
    cache.set(list, out);
  }
  return out;
}

/** Remove every field `name` (case-insensitive) from a flat list, in place. */
export function removeField(fields: HeaderList, name: string): void {
  const lower = name.toLowerCase();
  for (let i = fields.length - 2; i >= 0; i -= 2) {
    if (fields[i]!.length === lower.length && fields[i]!.toLowerCase() === lower) fields.splice(i, 2);
  }
}

/**
 * Apply "add" then "set" pairs to a field list, in place. add: one more field line (an empty
 * value adds nothing); set: every line of that name replaced by one, an empty value removes them.
 */
export function applyFields(fields: HeaderList, add: readonly SetenvPair[], set: readonly SetenvPair[]): void {
  for (const [name, value] of add) if (value !== '') fields.push(name, value);
  for (const [name, value] of set) {
    removeField(fields, name);
    if (value !== '') fields.push(name, value);
  }
}

/**
 * Apply "add" then "set" pairs to an environment list, in place. add: appended to a value already
 * there with ", " (lighttpd's http_header_env_append), else a new variable (an empty value is
 * kept); set: the value replaced.
 */
export function applyEnv(env: Array<[string, string]>, add: readonly SetenvPair[], set: readonly SetenvPair[]): void {
  for (const [name, value] of add) {
    const at = env.findIndex((e) => e[0] === name);
    if (at < 0) env.push([name, value]);
    else if (value !== '') env[at]![1] = env[at]![1] === '' ? value : `${env[at]![1]}, ${value}`;
  }
  for (const [name, value] of set) {
    const at = env.findIndex((e) => e[0] === name);
    if (at < 0) env.push([name, value]);
    else env[at]![1] = value;
  }
}

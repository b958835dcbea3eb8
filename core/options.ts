// Option schemas: how a plugin (or the core) declares the config keys it owns, and how values
// from either config syntax are checked and coerced at boot (design.md §2 "Plugin host").
import { ConfigHash, type ConfigValue } from '../config/model.js';

export type OptionType =
  /** a string */
  | 'string'
  /** a non-negative integer (lighttpd also accepts a numeric string) */
  | 'integer'
  /** lighttpd's "enable"/"disable" (also true/false, 1/0) */
  | 'boolean'
  /** a list of strings; a single string is taken as a one-item list */
  | 'string-list'
  /** `( "key" => value )`: a ConfigHash */
  | 'hash'
  /** a list or a hash: anything array-shaped (e.g. proxy.server) */
  | 'array'
  /** any value, checked by the plugin itself */
  | 'any';

export interface OptionSpec {
  type: OptionType;
  /** The value when the key is not set anywhere. */
  default?: unknown;
  /** One or more full sentences: meaning, default, interactions. Printed into docs. */
  doc: string;
  /** Allowed values for a string option. */
  enum?: readonly string[];
  min?: number;
  max?: number;
  /** False when the key is only read globally (setting it in a condition block warns). */
  conditional?: boolean;
  /** A custom check run after coercion; return an error message or undefined. */
  check?: (value: unknown) => string | undefined;
}

export type OptionSchema = Record<string, OptionSpec>;

/** Coerce a config value to the spec's type, or return an error message. */
export function coerceOption(spec: OptionSpec, value: ConfigValue): { value: unknown } | { error: string } {
  let out: unknown;
  switch (spec.type) {
    case 'string':
      if (typeof value === 'string') out = value;
      else if (typeof value === 'number') out = String(value);
      else return { error: `expected a string, got ${describe(value)}` };
      if (spec.enum && !spec.enum.includes(out as string)) {
        return { error: `expected one of ${spec.enum.map((e) => `"${e}"`).join(', ')}, got "${out}"` };
      }
      break;
    case 'integer': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value)) n = Number(value);
      else return { error: `expected an integer, got ${describe(value)}` };
      if (!Number.isSafeInteger(n)) return { error: `expected an integer, got ${value}` };
      if (spec.min !== undefined && n < spec.min) return { error: `must be at least ${spec.min}, got ${n}` };
      if (spec.max !== undefined && n > spec.max) return { error: `must be at most ${spec.max}, got ${n}` };
      out = n;
      break;
    }
    case 'boolean': {
      const b = booleanValue(value);
      if (b === undefined) return { error: `expected "enable" or "disable", got ${describe(value)}` };
      out = b;
      break;
    }
    case 'string-list':
      if (typeof value === 'string') out = [value];
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out = value;
      else if (value instanceof ConfigHash && value.size === 0) out = [];
      else return { error: `expected a list of strings, got ${describe(value)}` };
      break;
    case 'hash':
      if (value instanceof ConfigHash) out = value;
      else if (Array.isArray(value) && value.length === 0) out = new ConfigHash();
      else return { error: `expected ( "key" => value, ... ), got ${describe(value)}` };
      break;
    case 'array':
      if (value instanceof ConfigHash || Array.isArray(value)) out = value;
      else return { error: `expected a list or a hash, got ${describe(value)}` };
      break;
    case 'any':
      out = value;
      break;
  }
  if (spec.check) {
    const msg = spec.check(out);
    if (msg) return { error: msg };
  }
  return { value: out };
}

export function describe(value: ConfigValue): string {
  if (typeof value === 'string') return `the string "${value}"`;
  if (typeof value === 'number') return `the integer ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value instanceof ConfigHash) return 'a hash ( "key" => value )';
  return 'a list ( ... )';
}

/** A lighttpd boolean: true/false, "enable"/"disable", "true"/"false", 1/0, "1"/"0"; undefined for anything else. */
export function booleanValue(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'enable' || value === 'true' || value === '1' || value === 1) return true;
  if (value === 'disable' || value === 'false' || value === '0' || value === 0) return false;
  return undefined;
}

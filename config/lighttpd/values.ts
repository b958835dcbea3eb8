// The `+` and `+=` value rules of lighttpd 1.4.69 (configparser_merge_data() in
// src/configparser.y), on the ConfigValue model: concatenation, integer sums, list append
// and hash merge with its duplicate-key check.
import { ConfigError, ConfigHash, type ConfigValue, type SourceLoc } from '../model.js';

/** The type word used in error messages. */
export function typeName(v: ConfigValue): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'integer';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof ConfigHash) return 'hash';
  return 'list';
}

function sameScalar(a: ConfigValue, b: ConfigValue): boolean {
  return (typeof a === 'string' || typeof a === 'number') && a === b;
}

function mergeHashes(a: ConfigHash, b: ConfigHash, loc: SourceLoc): ConfigHash {
  const out = new ConfigHash([...a.entries]);
  for (const [k, v] of b.entries) {
    const have = out.get(k);
    if (have === undefined) {
      out.entries.push([k, v]);
      continue;
    }
    // lighttpd ignores a repeated key whose (string or integer) value is the same, else fails.
    if (sameScalar(have, v)) continue;
    throw new ConfigError(loc, `duplicate array-key "${k}" when merging hashes`);
  }
  return out;
}

/**
 * `a + b` (and the `+=` of b onto the current value a). Never mutates its operands: values
 * are shared between scopes and variables.
 * - string + string: concatenation; string + integer and integer + string: concatenation of the
 *   decimal integer (the result is a string);
 * - integer + integer: the sum (lighttpd adds, it does not concatenate);
 * - list + list: append; hash + hash: merge, a repeated key is an error unless its value is the
 *   same; an empty list `()` merges with a hash either way (both are lighttpd arrays);
 * - anything else: "data type mismatch".
 */
export function mergeValues(a: ConfigValue, b: ConfigValue, loc: SourceLoc): ConfigValue {
  if (typeof a === 'string') {
    if (typeof b === 'string' || typeof b === 'number') return a + String(b);
  } else if (typeof a === 'number') {
    if (typeof b === 'number') {
      const sum = a + b;
      if (!Number.isSafeInteger(sum)) throw new ConfigError(loc, 'integer overflow in +');
      return sum;
    }
    if (typeof b === 'string') return String(a) + b;
  } else if (a instanceof ConfigHash) {
    if (b instanceof ConfigHash) return mergeHashes(a, b, loc);
    if (Array.isArray(b) && b.length === 0) return a;
  } else if (Array.isArray(a)) {
    if (Array.isArray(b)) return [...a, ...b];
    if (b instanceof ConfigHash && a.length === 0) return b;
  }
  throw new ConfigError(loc, `data type mismatch, cannot merge ${typeName(a)} with ${typeName(b)}`);
}

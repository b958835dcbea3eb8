// Content-Type of a file from `mimetype.assign` (lighttpd stat_cache_mimetype_by_ext): the
// longest key that is a suffix of the file name wins, compared case-insensitively.
import { ConfigHash } from '../../config/model.js';

/** lighttpd's answer when no key matches. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Keys lowercased, longest first, computed once per hash (the merged config shares hashes). */
const compiled = new WeakMap<ConfigHash, Array<[string, string]>>();

function compile(assign: ConfigHash): Array<[string, string]> {
  let list = compiled.get(assign);
  if (list) return list;
  const byKey = new Map<string, string>();
  // Later entries win, as in lighttpd's hash assignment.
  for (const [k, v] of assign.entries) if (typeof v === 'string') byKey.set(k.toLowerCase(), v);
  list = [...byKey.entries()].sort((a, b) => b[0].length - a[0].length);
  compiled.set(assign, list);
  return list;
}

/**
 * The Content-Type for `fileName` (a path or a base name): `.tar.gz` wins over `.gz`, a key
 * equal to the whole base name (`README`) wins over extensions, and the empty key `""` is the
 * catch-all. The value is used verbatim: `; charset=utf-8` appears only if the config says so.
 */
export function contentTypeFor(fileName: string, assign: unknown): string {
  if (!(assign instanceof ConfigHash) || assign.size === 0) return DEFAULT_CONTENT_TYPE;
  const slash = fileName.lastIndexOf('/');
  const base = (slash >= 0 ? fileName.slice(slash + 1) : fileName).toLowerCase();
  for (const [key, type] of compile(assign)) {
    if (key.length <= base.length && base.endsWith(key)) return type;
  }
  return DEFAULT_CONTENT_TYPE;
}

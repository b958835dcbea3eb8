// alias.url: URL-path prefix → file system path (lighttpd 1.4.69 mod_alias: mod_alias_remap and
// mod_alias_check_order).
import type { ConfigHash } from '../../config/model.js';

export interface AliasEntry {
  /** The URL-path prefix, compared case-sensitively with the start of the decoded path. */
  prefix: string;
  /** The file system path the prefix stands for (file or directory). */
  target: string;
}

/** Where a request maps to, or 403 for a path that would climb out of the target. */
export type AliasResult =
  | { kind: 'none' }
  | { kind: 'forbidden' }
  | { kind: 'mapped'; physicalPath: string; docRoot: string };

/** The entries of an alias.url hash in config order, or an error message. */
export function readAliases(hash: ConfigHash): AliasEntry[] | string {
  const out: AliasEntry[] = [];
  for (const [prefix, target] of hash.entries) {
    if (typeof target !== 'string') return `the value of "${prefix}" must be a string (a file system path)`;
    out.push({ prefix, target });
  }
  return out;
}

/**
 * lighttpd takes the first prefix that matches, in config order, so a prefix listed after a
 * shorter prefix of itself could never match: that is a config error, as lighttpd's
 * "alias.url: `/a/b' will never match as `/a' matched first".
 */
export function checkAliasOrder(entries: readonly AliasEntry[]): string | undefined {
  for (let j = 0; j < entries.length; j++) {
    for (let k = j + 1; k < entries.length; k++) {
      if (entries[k].prefix.startsWith(entries[j].prefix)) {
        return `"${entries[k].prefix}" will never match as "${entries[j].prefix}" matched first: list the longer prefix first`;
      }
    }
  }
  return undefined;
}

/**
 * Map `urlPath` (the decoded, normalised path, or what follows the document root in the
 * physical path) through the first entry whose prefix it starts with.
 *
 * A prefix without a trailing "/" also matches `/prefix..` or `/prefix../x`, which the path
 * normaliser keeps (`prefix..` is not a dot segment); with a target ending in "/" that would
 * become `target/../x`, outside the target: such a path (and `/prefix.`, as lighttpd) gets 403.
 *
 * The physical path is the target followed by the rest of the path; a target ending in "/" and a
 * rest starting with "/" share one slash (lighttpd keeps both: `/srv/files//a.txt`, the same file).
 * The target becomes the document root (lighttpd's basedir): DOCUMENT_ROOT for CGI, and the limit
 * of the PATH_INFO search and the symlink check.
 */
export function mapAlias(entries: readonly AliasEntry[], urlPath: string): AliasResult {
  const entry = entries.find((e) => urlPath.startsWith(e.prefix));
  if (entry === undefined) return { kind: 'none' };
  const { prefix, target } = entry;
  let rest = urlPath.slice(prefix.length);
  if (rest.charCodeAt(0) === 46 /* . */) {
    const after = rest.charCodeAt(1) === 46 ? 2 : 1;
    const climbs = after === rest.length || rest.charCodeAt(after) === 47;
    if (climbs && prefix !== '' && !prefix.endsWith('/') && target.endsWith('/')) return { kind: 'forbidden' };
  }
  if (target.endsWith('/') && rest.charCodeAt(0) === 47) rest = rest.slice(1);
  return { kind: 'mapped', physicalPath: target + rest, docRoot: target };
}

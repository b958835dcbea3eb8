// Index file lookup (lighttpd mod_indexfile_tryfiles): the first configured name that exists in
// the requested directory; a name starting with '/' is a URL path under the document root.
import fs from 'node:fs';
import path from 'node:path';

export type IndexLookup =
  | { kind: 'found'; path: string; physicalPath: string }
  | { kind: 'none' }
  /** EACCES → 403; anything unexpected → 500 (lighttpd does the same). */
  | { kind: 'error'; status: 403 | 500; reason: string };

/** Whether `p` exists: true, false (ENOENT/ENOTDIR), or the errno code of another failure. */
export type ExistsFn = (p: string) => boolean | string;

/**
 * Synchronous stat: this runs in the `physical` phase, which is a sync hook; one stat per
 * configured name on directory requests only. (An async variant would need the phase to wait.)
 */
export function existsSync(p: string): boolean | string {
  try {
    return fs.statSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOTDIR' ? false : code;
  }
}

/**
 * For a request path ending in '/', try `names` in order. A relative name is appended to the
 * path (`/dir/` + `index.html`); a name starting with '/' replaces it and is looked up from the
 * document root (lighttpd: "index file relative to doc_root", e.g. `/index.php` as a front
 * controller for every directory). Any existing entry counts, as in lighttpd (stat, any type).
 */
export function findIndexFile(
  urlPath: string,
  physicalPath: string,
  docRoot: string,
  names: readonly string[],
  exists: ExistsFn = existsSync,
): IndexLookup {
  for (const name of names) {
    if (name === '') continue;
    const absolute = name.startsWith('/');
    const candidate = absolute ? path.join(docRoot, name) : physicalPath + name;
    const found = exists(candidate);
    if (found === false) continue;
    if (found !== true) {
      // lighttpd mod_indexfile: EACCES 403, any other failure but ENOENT/ENOTDIR 500.
      return { kind: 'error', status: found === 'EACCES' ? 403 : 500, reason: `${candidate}: ${found}` };
    }
    return absolute
      ? { kind: 'found', path: name, physicalPath: candidate }
      : { kind: 'found', path: urlPath + name, physicalPath: candidate };
  }
  return { kind: 'none' };
}

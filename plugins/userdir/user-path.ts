// `/~user/rest` → the user's directory (lighttpd 1.4.69 mod_userdir_docroot_handler and
// mod_userdir_docroot_construct).

export interface UserdirSettings {
  /** userdir.path: the directory below each home (undefined: userdir is off). */
  path: string | undefined;
  /** userdir.basepath: homes are basepath/user ('' or undefined: from the passwd file). */
  basepath: string | undefined;
  letterhomes: boolean;
  excludeUsers: readonly string[];
  /** undefined: every user; a list (even empty): only those. */
  includeUsers: readonly string[] | undefined;
}

export interface UserdirLookups {
  /** The user's home directory from the passwd file, or undefined. */
  home(user: string): string | undefined;
  /** Whether `dir` is a directory. */
  isDirectory(dir: string): boolean;
}

export type UserdirResult =
  | { kind: 'none' }
  /** `/~user` without the slash: 301 to `/~user/`. */
  | { kind: 'redirect' }
  | { kind: 'mapped'; user: string; docRoot: string; physicalPath: string };

/** Append `part` to `dir` with exactly one "/" between them (lighttpd buffer_append_path_len). */
function appendPath(dir: string, part: string): string {
  const slash = dir.endsWith('/');
  if (part.startsWith('/')) return slash ? dir + part.slice(1) : dir + part;
  return slash ? dir + part : dir + '/' + part;
}

/** Letters, digits, "-", "_" and ".": the user names allowed with userdir.basepath (no traversal). */
const SAFE_USER = /^[A-Za-z0-9._-]+$/;

/**
 * Where `urlPath` (decoded, normalised) points for userdir, if anywhere. Paths that are not
 * `/~name...`, excluded or not included users, unknown users and (from the passwd file) users
 * without the directory are left alone: the request goes on under the document root.
 */
export function mapUserdir(urlPath: string, s: UserdirSettings, lookups: UserdirLookups): UserdirResult {
  if (!urlPath.startsWith('/~') || s.path === undefined) return { kind: 'none' };
  const slash = urlPath.indexOf('/', 2);
  if (slash < 0) return urlPath.length > 2 ? { kind: 'redirect' } : { kind: 'none' };
  const user = urlPath.slice(2, slash);
  if (user === '') return { kind: 'none' };
  if (s.excludeUsers.includes(user)) return { kind: 'none' };
  if (s.includeUsers !== undefined && !s.includeUsers.includes(user)) return { kind: 'none' };
  // lighttpd copies the name into a 256-byte buffer and gives up on longer ones.
  if (Buffer.byteLength(user) >= 256) return { kind: 'none' };

  let base: string;
  if (s.basepath === undefined || s.basepath === '') {
    const home = lookups.home(user);
    if (home === undefined || home === '') return { kind: 'none' };
    base = appendPath(home, s.path);
    if (!lookups.isDirectory(base)) return { kind: 'none' };
  } else {
    // A name from the URL becomes a path component: `.`, `..` and anything but [-_.A-Za-z0-9] are refused.
    if (user === '.' || user === '..' || !SAFE_USER.test(user)) return { kind: 'none' };
    base = s.basepath;
    if (s.letterhomes) {
      if (user.startsWith('.')) return { kind: 'none' };
      base = appendPath(base, user[0]);
    }
    base = appendPath(appendPath(base, user), s.path);
  }
  const rest = urlPath.slice(slash + 1);
  return { kind: 'mapped', user, docRoot: base, physicalPath: appendPath(base, rest) };
}

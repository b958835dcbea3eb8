// What a physical path is, as lighttpd's http_response_physical_path_check decides it: a file
// (maybe with PATH_INFO after it), a directory, or an error status; and the
// server.follow-symlink = "disable" rule (no symbolic link on the way below the docroot).
import fs from 'node:fs';
import path from 'node:path';

export type PathTarget =
  | { kind: 'file'; path: string; stat: fs.Stats; pathInfo: string }
  | { kind: 'dir'; path: string; stat: fs.Stats }
  /** A FIFO, socket or device: never served. */
  | { kind: 'special'; path: string }
  | { kind: 'error'; status: 403 | 404 | 500; reason: string };

export interface PathCheckOptions {
  /** server.follow-symlink. */
  followSymlinks: boolean;
}

/**
 * The status for a path whose stat failed with `code`, as lighttpd 1.4's
 * http_response_physical_path_check answers: no such file (or a name too long) 404, no search
 * permission 403, anything else (a symlink loop ELOOP, EPERM, EIO) 500. ENOTDIR is looked at for
 * PATH_INFO first (checkPhysicalPath).
 */
export function statusForErrno(code: string | undefined): 403 | 404 | 500 {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
      return 404;
    case 'EACCES':
      return 403;
    default:
      return 500;
  }
}

/**
 * The status for a file that passed the path check but cannot be opened, as lighttpd's
 * http_response_send_file answers: 404 if it is gone meanwhile, else 403.
 */
export function statusForOpenErrno(code: string | undefined): 403 | 404 {
  return code === 'ENOENT' ? 404 : 403;
}

/**
 * Stat `physicalPath` (symlinks followed). On ENOTDIR look for PATH_INFO: the longest prefix
 * below `docRoot` that is a regular file (`/docroot/a.php/x/y` → file `a.php`, pathInfo `/x/y`),
 * as lighttpd does. Then, with followSymlinks off, refuse (403) any symlink among the
 * components below the docroot.
 */
export async function checkPhysicalPath(physicalPath: string, docRoot: string, opts: PathCheckOptions): Promise<PathTarget> {
  let filePath = physicalPath;
  let pathInfo = '';
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(physicalPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTDIR') return { kind: 'error', status: statusForErrno(code), reason: code ?? String(err) };
    const found = await findPathInfo(physicalPath, docRoot);
    if (!found) return { kind: 'error', status: 404, reason: 'ENOTDIR' };
    ({ filePath, pathInfo, st } = found);
  }
  if (!opts.followSymlinks) {
    const link = await symlinkBelow(filePath, docRoot);
    if (link) return { kind: 'error', status: 403, reason: `symlink ${link} (server.follow-symlink disabled)` };
  }
  if (st.isFile()) return { kind: 'file', path: filePath, stat: st, pathInfo };
  if (st.isDirectory()) return { kind: 'dir', path: filePath, stat: st };
  return { kind: 'special', path: filePath };
}

async function findPathInfo(physicalPath: string, docRoot: string): Promise<{ filePath: string; pathInfo: string; st: fs.Stats } | null> {
  const root = docRoot.endsWith('/') ? docRoot.slice(0, -1) : docRoot;
  let cut = physicalPath.length;
  for (;;) {
    cut = physicalPath.lastIndexOf('/', cut - 1);
    if (cut <= root.length) return null;
    const prefix = physicalPath.slice(0, cut);
    try {
      const st = await fs.promises.stat(prefix);
      // PATH_INFO only follows a regular file (lighttpd: "pathinfo only on regular files").
      return st.isFile() ? { filePath: prefix, pathInfo: physicalPath.slice(cut), st } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') return null;
    }
  }
}

/**
 * The first component of `target` below `docRoot` that is a symbolic link, or null. The
 * docroot itself and what lies above it are the admin's choice and are not checked (lighttpd
 * checks up to `/`, which refuses every file when the docroot sits under a symlinked /tmp).
 */
export async function symlinkBelow(target: string, docRoot: string): Promise<string | null> {
  const root = path.resolve(docRoot);
  const rel = path.relative(root, path.resolve(target));
  if (rel === '' || rel.startsWith('..')) return null;
  let cur = root;
  for (const part of rel.split(path.sep)) {
    if (part === '') continue;
    cur = path.join(cur, part);
    try {
      if ((await fs.promises.lstat(cur)).isSymbolicLink()) return cur;
    } catch {
      return null;
    }
  }
  return null;
}

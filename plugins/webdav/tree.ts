// File system work of the writing methods: recursive copy (COPY, MOVE across file systems) and
// the temporary names PUT writes to before its rename (so a reader never sees half a file).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Prefix of PUT's temporary files; PROPFIND leaves such names out of listings. */
export const TEMP_PREFIX = '.lantern-webdav-';

/** A fresh temporary name beside `target` (same directory, so the rename stays on one file system). */
export function tempNameBeside(target: string): string {
  return path.join(path.dirname(target), `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** lighttpd's modes: files 0666, directories 0777, both less the umask. */
export const FILE_MODE = 0o666;
export const DIR_MODE = 0o777;

/**
 * Copy `src` (file, directory or symbolic link, not followed) to `dst`, which must not exist.
 * A directory is copied member by member; links are copied as links.
 */
export async function copyTree(src: string, dst: string): Promise<void> {
  const st = await fs.promises.lstat(src);
  if (st.isDirectory()) {
    await fs.promises.mkdir(dst, DIR_MODE);
    for (const name of await fs.promises.readdir(src)) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      await copyTree(path.join(src, name), path.join(dst, name));
    }
  } else if (st.isSymbolicLink()) {
    await fs.promises.symlink(await fs.promises.readlink(src), dst);
  } else if (st.isFile()) {
    await fs.promises.copyFile(src, dst, fs.constants.COPYFILE_EXCL);
  } else {
    throw Object.assign(new Error(`${src}: not a file or directory`), { code: 'EPERM' });
  }
}

/** Remove `p` whatever it is (a directory with all it holds; a link, not its target). */
export async function removeTree(p: string): Promise<void> {
  await fs.promises.rm(p, { recursive: true, force: false });
}

/** The status lighttpd answers for a failed file system call. */
export function statusForFsError(err: unknown): number {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT': return 404;
    case 'ENOSPC': case 'EDQUOT': return 507;
    default: return 403;
  }
}

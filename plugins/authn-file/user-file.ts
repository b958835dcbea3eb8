// Password files (htpasswd `user:hash`, htdigest `user:realm:HA1`, plain `user:password`), read
// once and read again when they change: every lookup stats the file and compares inode, size,
// mtime and ctime (nanoseconds) with what was read (lighttpd reads the file on every request).
// Lines as lighttpd's mod_authn_file takes them: blank lines and lines starting with "#" are
// skipped, lines longer than 1024 bytes are skipped, a trailing CR is dropped, and the first
// entry for a user wins. Contents are byte strings (latin1), as the client's credentials are.
import fs from 'node:fs';
import { AuthBackendError } from '../auth/types.js';

/** lighttpd's limit on a password file (fdevent_load_file in mod_authn_file). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_LINE_BYTES = 1024;
/** How recent a modification makes a read untrusted (2 s, beyond any file system's clock tick). */
const RACY_NS = 2_000_000_000n;

export type UserFileFormat = 'htpasswd' | 'htdigest';

interface Loaded {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Modified just before it was read: not trusted from the cache. */
  racy: boolean;
  /** htpasswd/plain: user → the rest of the line. htdigest: `user:realm` → every HA1 hex for it. */
  entries: Map<string, string[]>;
}

export class UserFiles {
  private readonly files = new Map<string, Loaded>();
  private readonly log: (msg: string) => void;
  constructor(log: (msg: string) => void) { this.log = log; }

  /**
   * The entries of `file` (read again if it changed). `key` names the option for messages.
   * Throws AuthBackendError when the file cannot be read: the request gets 500.
   */
  entries(file: string, format: UserFileFormat, key: string): Map<string, string[]> {
    const id = `${format}\0${file}`;
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(file, { bigint: true });
    } catch (err) {
      this.files.delete(id);
      throw new AuthBackendError(`${key} "${file}": cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const have = this.files.get(id);
    if (have && !have.racy && have.ino === st.ino && have.size === st.size && have.mtimeNs === st.mtimeNs && have.ctimeNs === st.ctimeNs) {
      return have.entries;
    }
    if (!st.isFile()) throw new AuthBackendError(`${key} "${file}": not a regular file`);
    if (st.size > BigInt(MAX_FILE_BYTES)) throw new AuthBackendError(`${key} "${file}": larger than 64 MiB`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch (err) {
      this.files.delete(id);
      throw new AuthBackendError(`${key} "${file}": cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const entries = format === 'htdigest' ? this.parseHtdigest(text, file) : this.parseHtpasswd(text, file);
    // A file changed less than RACY_NS before it was read may change again within the same
    // timestamp tick (file systems keep coarse clocks): it is read again until it is older (git's
    // "racily clean" rule).
    const racy = BigInt(Date.now()) * 1_000_000n - st.mtimeNs < RACY_NS;
    this.files.set(id, { ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, racy, entries });
    return entries;
  }

  private parseHtpasswd(text: string, file: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let bad = 0;
    for (const line of lines(text)) {
      const colon = line.indexOf(':');
      if (colon < 0) { bad++; continue; }
      const user = line.slice(0, colon);
      if (!out.has(user)) out.set(user, [line.slice(colon + 1)]);
    }
    if (bad) this.log(`parse error in ${file}: ${bad} line(s) are not 'username:password' (skipped)`);
    return out;
  }

  private parseHtdigest(text: string, file: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let bad = 0;
    for (const line of lines(text)) {
      const c1 = line.indexOf(':');
      const c2 = c1 < 0 ? -1 : line.indexOf(':', c1 + 1);
      if (c2 < 0) { bad++; continue; }
      // user:realm:digest[:userhash]
      const c3 = line.indexOf(':', c2 + 1);
      const key = line.slice(0, c2);
      const ha1 = line.slice(c2 + 1, c3 < 0 ? undefined : c3);
      const list = out.get(key);
      if (list) list.push(ha1); else out.set(key, [ha1]);
    }
    if (bad) this.log(`parse error in ${file}: ${bad} line(s) are not 'username:realm:digest' (skipped)`);
    return out;
  }
}

function* lines(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.length > MAX_LINE_BYTES) continue;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '' || line.startsWith('#')) continue;
    yield line;
  }
}

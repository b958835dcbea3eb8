// Home directories from the passwd file (passwd(5)): Node has no getpwnam(), so lantern reads
// /etc/passwd itself. Names served by NSS modules other than "files" (LDAP, sssd) are not seen.
import fs from 'node:fs';

/** How long a read of the file is trusted before its mtime is looked at again (lighttpd caches getpwnam() 60 s). */
const RECHECK_MS = 60_000;

/** user name → home directory, from passwd(5) text (`name:password:uid:gid:gecos:home:shell`). */
export function parsePasswd(text: string): Map<string, string> {
  const homes = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length < 7 || fields[0] === '') continue;
    // The first entry for a name wins, as getpwnam() returns it.
    if (!homes.has(fields[0])) homes.set(fields[0], fields[5]);
  }
  return homes;
}

/**
 * The passwd file, read when first needed and again when its mtime changed (looked at once a
 * minute at most). The file is the one NSS_WRAPPER_PASSWD names when set (a test harness running
 * lighttpd under nss_wrapper sets it), else /etc/passwd.
 */
export class PasswdFile {
  readonly file: string;
  private homes = new Map<string, string>();
  private mtimeMs = -1;
  private checkedAtMs = -Infinity;

  constructor(file = process.env.NSS_WRAPPER_PASSWD || '/etc/passwd') {
    this.file = file;
  }

  /**
   * The home directory of `user`, or undefined when there is no such user (or the file cannot
   * be read). Synchronous: the `physical` phase is a sync hook; the read happens once a minute
   * at most.
   */
  home(user: string, nowMs: number): string | undefined {
    if (nowMs - this.checkedAtMs >= RECHECK_MS) {
      this.checkedAtMs = nowMs;
      this.reload();
    }
    return this.homes.get(user);
  }

  private reload(): void {
    try {
      const st = fs.statSync(this.file);
      if (st.mtimeMs === this.mtimeMs) return;
      this.homes = parsePasswd(fs.readFileSync(this.file, 'utf8'));
      this.mtimeMs = st.mtimeMs;
    } catch {
      this.homes = new Map();
      this.mtimeMs = -1;
    }
  }
}

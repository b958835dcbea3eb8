// server.username / server.groupname: drop root's privileges once the listeners are open, as
// lighttpd 1.4.69's server.c does (setgid, setgroups(0), initgroups, then setuid; never to 0).
import fs from 'node:fs';

interface Account { name: string; id: number; gid: number }

/** A user or group by name or number from /etc/passwd or /etc/group (fields: name:x:id:gid...). */
function lookup(file: string, key: string): Account | null {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return null; }
  const numeric = /^\d+$/.test(key);
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const id = Number(f[2]);
    if (numeric ? id === Number(key) : f[0] === key) return { name: f[0]!, id, gid: Number(f[3] ?? f[2]) };
  }
  if (numeric) return { name: key, id: Number(key), gid: Number(key) };
  return null;
}

/**
 * Become `username` / `groupname` when running as root; does nothing otherwise (lighttpd only
 * changes user when started as root). Returns an error message, or null when done.
 */
export function dropPrivileges(username: string, groupname: string): string | null {
  if (username === '' && groupname === '') return null;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  let gid: number | null = null;
  if (groupname !== '') {
    const grp = lookup('/etc/group', groupname);
    if (grp === null) return `can't find groupname ${groupname}`;
    gid = grp.id;
  }
  let uid: number | null = null;
  let userName = '';
  if (username !== '') {
    const pwd = lookup('/etc/passwd', username);
    if (pwd === null) return `can't find username ${username}`;
    if (pwd.id === 0) return 'I will not set uid to 0.  Perhaps you should comment out server.username in lighttpd.conf';
    uid = pwd.id;
    userName = pwd.name;
    gid ??= pwd.gid;
  }
  if (gid === 0) return 'I will not set gid to 0.  Perhaps you should comment out server.groupname in lighttpd.conf';
  // POSIX-only calls, present wherever getuid() is.
  const p = process as unknown as {
    setgid(id: number): void; setuid(id: number): void; setgroups(ids: number[]): void; initgroups(user: string, gid: number): void;
  };
  try {
    if (gid !== null) {
      p.setgid(gid);
      p.setgroups([]);
      if (userName !== '' && /\D/.test(userName)) p.initgroups(userName, gid);
    }
    if (uid !== null) p.setuid(uid);
  } catch (err) {
    return `cannot change user: ${(err as Error).message}`;
  }
  return null;
}

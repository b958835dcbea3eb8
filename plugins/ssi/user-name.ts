// USER_NAME: the owner of the document, by name from /etc/passwd (lighttpd: getpwuid), else the
// uid as a number. The file is read once, on first use.
import fs from 'node:fs';

let names: Map<number, string> | null = null;

function load(): Map<number, string> {
  const map = new Map<number, string>();
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      const uid = Number(f[2]);
      if (f.length >= 3 && f[0] !== '' && Number.isInteger(uid) && !map.has(uid)) map.set(uid, f[0]!);
    }
  } catch {
    // No /etc/passwd: numbers only.
  }
  return map;
}

export function userName(uid: number): string {
  names ??= load();
  return names.get(uid) ?? String(uid);
}

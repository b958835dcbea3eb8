// MD5-based crypt: Poul-Henning Kamp's FreeBSD algorithm, as `$1$salt$hash` (glibc crypt(3)) and
// Apache's `$apr1$salt$hash` (htpasswd -m, its default). Written from the published description
// of the algorithm; only the magic string differs between the two.
import { createHash } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` characters of crypt's base-64 for the low bits of `v`, least significant first. */
export function to64(v: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) { s += ITOA64[v & 0x3f]; v >>>= 6; }
  return s;
}

const md5 = (...parts: Buffer[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * The full `magic salt $ hash` string for `password` (bytes) and `setting` (a stored hash or
 * `$apr1$salt`); the salt is at most 8 characters, up to the next `$`.
 */
export function md5Crypt(password: Buffer, setting: string): string {
  const magic = setting.startsWith('$apr1$') ? '$apr1$' : '$1$';
  let salt = setting.slice(magic.length);
  const end = salt.indexOf('$');
  salt = (end < 0 ? salt : salt.slice(0, end)).slice(0, 8);
  const saltB = Buffer.from(salt, 'latin1');
  const pw = password;
  let final = md5(pw, saltB, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(magic, 'latin1');
  ctx.update(saltB);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(final.subarray(0, Math.min(16, left)));
  // The "weird" step: a zero byte (the first byte of a cleared buffer) or the first byte of the password.
  for (let i = pw.length; i !== 0; i >>>= 1) ctx.update((i & 1) ? Buffer.alloc(1) : pw.subarray(0, 1));
  final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update((i & 1) ? pw : final);
    if (i % 3) h.update(saltB);
    if (i % 7) h.update(pw);
    h.update((i & 1) ? final : pw);
    final = h.digest();
  }
  const f = final;
  const out = to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4)
    + to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4)
    + to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4)
    + to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4)
    + to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4)
    + to64(f[11]!, 2);
  return `${magic}${salt}$${out}`;
}

// SHA-crypt: `$5$` (SHA-256) and `$6$` (SHA-512) as glibc's crypt(3) and htpasswd -2 / -5 write
// them, written from Ulrich Drepper's public specification ("Unix crypt using SHA-256 and
// SHA-512"): an optional `rounds=N$` (default 5000, clamped to 1000..999999999), a salt of at
// most 16 characters, then the hash in crypt's base-64 with the specification's byte order.
import { createHash } from 'node:crypto';
import { to64 } from './crypt-md5.js';

const ROUNDS_DEFAULT = 5000;

/** Output byte order (triples, most significant first) of the specification, per digest size. */
const ORDER_256: number[][] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];
const ORDER_512: number[][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

/** Repeat `block` to exactly `len` bytes. */
function stretch(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

/**
 * The full crypt string for `password` (bytes) and `setting` (a stored `$5$...`/`$6$...` hash or
 * just its prefix and salt), or null when the setting is malformed.
 */
export function shaCrypt(password: Buffer, setting: string): string | null {
  const id = setting.slice(0, 3);
  if (id !== '$5$' && id !== '$6$') return null;
  const algo = id === '$5$' ? 'sha256' : 'sha512';
  let rest = setting.slice(3);
  let rounds = ROUNDS_DEFAULT;
  let roundsText = '';
  const m = /^rounds=([0-9]+)\$/.exec(rest);
  if (m) {
    rounds = Math.min(999_999_999, Math.max(1000, Number(m[1])));
    roundsText = `rounds=${rounds}$`;
    rest = rest.slice(m[0].length);
  }
  const end = rest.indexOf('$');
  const salt = Buffer.from((end < 0 ? rest : rest.slice(0, end)).slice(0, 16), 'latin1');
  const P = password;
  const H = () => createHash(algo);
  const B = H().update(P).update(salt).update(P).digest();
  const size = B.length;
  const a = H().update(P).update(salt);
  let cnt = P.length;
  for (; cnt > size; cnt -= size) a.update(B);
  a.update(B.subarray(0, cnt));
  for (cnt = P.length; cnt > 0; cnt >>>= 1) a.update((cnt & 1) ? B : P);
  let C = a.digest();
  const dp = H();
  for (let i = 0; i < P.length; i++) dp.update(P);
  const pSeq = stretch(dp.digest(), P.length);
  const ds = H();
  for (let i = 0; i < 16 + C[0]!; i++) ds.update(salt);
  const sSeq = stretch(ds.digest(), salt.length);
  for (let i = 0; i < rounds; i++) {
    const h = H();
    h.update((i & 1) ? pSeq : C);
    if (i % 3) h.update(sSeq);
    if (i % 7) h.update(pSeq);
    h.update((i & 1) ? C : pSeq);
    C = h.digest();
  }
  let out = '';
  for (const [x, y, z] of size === 32 ? ORDER_256 : ORDER_512) out += to64((C[x!]! << 16) | (C[y!]! << 8) | C[z!]!, 4);
  out += size === 32 ? to64((C[31]! << 8) | C[30]!, 3) : to64(C[63]!, 2);
  return `${id}${roundsText}${salt.toString('latin1')}$${out}`;
}

// Checking a password against one htpasswd entry, in every format Apache's htpasswd writes on
// Linux (lighttpd mod_authn_file's htpasswd backend): {SHA} (-s), $apr1$ (-m, the default),
// bcrypt $2y$ (-B), SHA-crypt $5$/$6$ (-2/-5), DES crypt (-d), and glibc's $1$ MD5-crypt.
// Every comparison of secrets is in constant time.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { constantTimeEqual } from '../auth/constant-time.js';
import { md5Crypt } from './crypt-md5.js';
import { shaCrypt } from './crypt-sha.js';

const require = createRequire(import.meta.url);
type BcryptCompare = (password: string, hash: string) => boolean;
type UnixCrypt = (password: string, salt: string) => string;
let bcryptCompare: BcryptCompare | null = null;
let unixCrypt: UnixCrypt | null = null;

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const DES_HASH = /^[./0-9A-Za-z]{13}$/;

/** What kind of stored hash `hash` is, for messages; null when the format is not one lantern knows. */
export function hashKind(hash: string): string | null {
  if (hash.startsWith('{SHA}')) return 'sha1';
  if (hash.startsWith('$apr1$')) return 'apr1';
  if (hash.startsWith('$1$')) return 'md5-crypt';
  if (/^\$2[abxy]\$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$5$')) return 'sha256-crypt';
  if (hash.startsWith('$6$')) return 'sha512-crypt';
  if (DES_HASH.test(hash)) return 'des-crypt';
  return null;
}

/**
 * Whether checking a hash of this kind costs more than about a millisecond (measured: bcrypt cost
 * 5 3 ms, cost 12 280 ms; SHA-crypt 10-12 ms at the default 5000 rounds, 80 ms at 50000; apr1 2 ms;
 * DES 1.5 ms; {SHA} 3 µs): those are checked in a worker thread, off the event loop.
 */
export function isCostly(kind: string | null): boolean {
  return kind !== null && kind !== 'sha1';
}

/**
 * Whether `password` (a byte string: the bytes the client sent, one char each) matches the
 * stored `hash`. An unknown format never matches (hashKind() says which).
 */
export function verifyHtpasswd(password: string, hash: string): boolean {
  const pw = latin1(password);
  switch (hashKind(hash)) {
    case 'sha1': {
      const stored = Buffer.from(hash.slice(5), 'base64');
      return constantTimeEqual(createHash('sha1').update(pw).digest(), stored);
    }
    case 'apr1':
    case 'md5-crypt':
      return constantTimeEqual(latin1(md5Crypt(pw, hash)), latin1(hash));
    case 'sha256-crypt':
    case 'sha512-crypt': {
      const mine = shaCrypt(pw, hash);
      return mine !== null && constantTimeEqual(latin1(mine), latin1(hash));
    }
    case 'bcrypt': {
      bcryptCompare ??= (require('bcryptjs') as { compareSync: BcryptCompare }).compareSync;
      // bcryptjs takes text and encodes it as UTF-8: hand it the client's bytes decoded as UTF-8.
      // $2x$ (a buggy old variant) is refused by bcryptjs, as by most implementations.
      try { return bcryptCompare(pw.toString('utf8'), hash); } catch { return false; }
    }
    case 'des-crypt': {
      unixCrypt ??= require('unix-crypt-td-js') as UnixCrypt;
      // crypt(3) DES uses the first 8 bytes of the password, 7 bits each.
      return constantTimeEqual(latin1(unixCrypt(password, hash)), latin1(hash));
    }
    default:
      return false;
  }
}

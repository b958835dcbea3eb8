// Unit tests of plugins/authn-file/password-hash.ts: every hash Apache's htpasswd writes on Linux
// is checked against hashes made by htpasswd itself (and openssl for $1$), never by lantern.
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hashKind, verifyHtpasswd } from '../../../../plugins/authn-file/password-hash.js';
import { md5Crypt } from '../../../../plugins/authn-file/crypt-md5.js';
import { shaCrypt } from '../../../../plugins/authn-file/crypt-sha.js';
import { skipUnless, which } from '../../../helpers/wait.js';

const T = suite('authn-file/password-hash');
const htpasswdTest = skipUnless(T, which('htpasswd') !== null, 'htpasswd (apache2-utils) not installed');
const opensslTest = skipUnless(T, which('openssl') !== null, 'openssl not installed');

/** The hash htpasswd writes for `password` with `flags` (-n: printed, -b: password on the command line). */
const htpasswd = (flags: string[], password: string) =>
  execFileSync('htpasswd', ['-nb', ...flags, 'user', password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('latin1').trim().split(':').slice(1).join(':');
/** The client's bytes for a text password, one char per byte (as the auth plugin hands them over). */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const FORMATS: Array<[string, string[], string]> = [
  ['apr1 (-m, the default)', ['-m'], 'apr1'],
  ['SHA-256 crypt (-2)', ['-2'], 'sha256-crypt'],
  ['SHA-512 crypt (-5)', ['-5'], 'sha512-crypt'],
  ['SHA-512 crypt with rounds (-5 -r 1500)', ['-5', '-r', '1500'], 'sha512-crypt'],
  ['bcrypt (-B)', ['-B'], 'bcrypt'],
  ['SHA-1 (-s)', ['-s'], 'sha1'],
  ['DES crypt (-d)', ['-d'], 'des-crypt'],
];

for (const [name, flags, kind] of FORMATS) {
  htpasswdTest(`${name}: the right password matches, others do not`, () => {
    for (const pw of ['secret', 'pässwörd 42', 'x'.repeat(40)]) {
      const h = htpasswd(flags, pw);
      assert.is(hashKind(h), kind, h);
      assert.ok(verifyHtpasswd(bytes(pw), h), `${pw} against ${h}`);
      assert.not.ok(verifyHtpasswd(bytes('!' + pw), h), `!${pw} against ${h}`);
      assert.not.ok(verifyHtpasswd('', h));
    }
  });
}

htpasswdTest('DES crypt looks at the first 8 bytes only, as crypt(3)', () => {
  const h = htpasswd(['-d'], 'abcdefgh');
  assert.ok(verifyHtpasswd('abcdefghXYZ', h));
  assert.not.ok(verifyHtpasswd('abcdefg', h));
});

htpasswdTest('MD5 and SHA crypt reproduce htpasswd output byte for byte', () => {
  const m = htpasswd(['-m'], 'secret');
  assert.is(md5Crypt(Buffer.from('secret'), m), m);
  const s = htpasswd(['-2', '-r', '1000'], 'secret');
  assert.is(shaCrypt(Buffer.from('secret'), s), s);
});

opensslTest('glibc MD5 crypt ($1$, openssl passwd -1)', () => {
  const h = execFileSync('openssl', ['passwd', '-1', '-salt', 'saltsalt', 'secret']).toString().trim();
  assert.is(hashKind(h), 'md5-crypt');
  assert.ok(verifyHtpasswd('secret', h));
  assert.not.ok(verifyHtpasswd('secreT', h));
});

T('unknown formats and plain text never match', () => {
  assert.is(hashKind('secret'), null);
  assert.not.ok(verifyHtpasswd('secret', 'secret'));
  assert.is(hashKind('$argon2id$v=19$m=65536,t=3,p=4$abc$def'), null);
  assert.not.ok(verifyHtpasswd('x', '$argon2id$v=19$m=65536,t=3,p=4$abc$def'));
  assert.not.ok(verifyHtpasswd('x', '{SHA}not base64 at all'));
  assert.not.ok(verifyHtpasswd('x', '$2y$05$tooshort'));
  assert.is(shaCrypt(Buffer.from('x'), '$7$abc'), null);
});

T.run();

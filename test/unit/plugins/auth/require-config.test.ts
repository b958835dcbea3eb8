// Unit tests of plugins/auth/require-config.ts and the Digest header parser: auth.require as
// lighttpd 1.4.69 reads it (errors, algorithms, first-prefix matching) and auth-params syntax.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash, type ConfigValue } from '../../../../config/model.js';
import { parseDigestParams } from '../../../../plugins/auth/digest.js';
import { compileRequire, matchRequire, parseAlgorithm, userAllowed } from '../../../../plugins/auth/require-config.js';
import type { AuthRequire } from '../../../../plugins/auth/types.js';

const T = suite('auth/require-config');

const hash = (o: Record<string, ConfigValue>) => new ConfigHash(Object.entries(o));
const one = (fields: Record<string, ConfigValue>, prefix = '/') => compileRequire(hash({ [prefix]: hash(fields) }), 'secret');
const ok = (fields: Record<string, ConfigValue>): AuthRequire => {
  const r = one(fields);
  assert.type(r, 'object', String(r));
  return (r as AuthRequire[])[0]!;
};
const err = (fields: Record<string, ConfigValue>, re: RegExp) => {
  const r = one(fields);
  assert.type(r, 'string');
  assert.match(r as string, re);
};
const base = { method: 'basic', realm: 'R', require: 'valid-user' };

T('a complete entry: method, realm, require, algorithms strongest first', () => {
  const r = ok({ method: 'digest', realm: 'Über', require: 'user=a|user=b|group=g', algorithm: 'md5|SHA-256-sess' });
  assert.is(r.method, 'digest');
  assert.is(r.realm, 'Über');
  assert.is(r.realmBytes, '\xc3\x9cber', 'the realm as UTF-8 bytes');
  assert.equal([...r.users], ['a', 'b']);
  assert.equal(r.groups, ['g']);
  assert.equal(r.algorithms, ['SHA-256', 'MD5']);
  assert.is(r.nonceSecret, 'secret', 'the server secret when none is configured');
  assert.is(ok({ ...base, 'nonce-secret': 'mine' }).nonceSecret, 'mine');
  assert.equal(ok(base).algorithms, ['MD5'], 'MD5 by default');
});

T('errors name what is wrong, as lighttpd\'s messages do', () => {
  err({ realm: 'R', require: 'valid-user' }, /method field is missing/);
  err({ ...base, method: 'ntlm' }, /unknown method "ntlm"/);
  err({ method: 'basic', require: 'valid-user' }, /realm field is missing/);
  err({ method: 'basic', realm: 'R' }, /require field is missing/);
  err({ ...base, require: 'alice' }, /missing '='/);
  err({ ...base, require: 'user=' }, /missing token after '='/);
  err({ ...base, require: 'valid-user|user=a' }, /valid-user can not be combined/);
  err({ ...base, require: 'role=x' }, /invalid token "role"/);
  err({ ...base, algorithm: 'SHA-1' }, /invalid algorithm "SHA-1"/);
  err({ ...base, colour: 'red' }, /field "colour" is unknown/);
  err({ ...base, realm: 'a\r\nb' }, /control characters/);
  err({ ...base, realm: 5 }, /a string was expected for "realm"/);
  assert.match(compileRequire(hash({ '/': 'basic' }), 's') as string, /expected auth.require/);
});

T('the first prefix in the order written wins (lighttpd array_match_key_prefix)', () => {
  const list = compileRequire(hash({
    '/admin/': hash({ ...base, realm: 'admin' }),
    '/': hash({ ...base, realm: 'all' }),
    '/admin/public/': hash({ ...base, realm: 'never' }),
  }), 's') as AuthRequire[];
  assert.is(matchRequire(list, '/admin/public/x')!.realm, 'admin');
  assert.is(matchRequire(list, '/x')!.realm, 'all');
  assert.is(matchRequire(list.slice(0, 1), '/adm'), undefined);
});

T('require rules: valid-user, user=, and group= (which no file backend satisfies)', () => {
  assert.ok(userAllowed(ok(base), 'anyone'));
  const r = ok({ ...base, require: 'user=alice|group=staff|host=h' });
  assert.ok(userAllowed(r, 'alice'));
  assert.not.ok(userAllowed(r, 'staff'));
  assert.not.ok(userAllowed(r, 'Alice'), 'case-sensitive');
  assert.ok(userAllowed(ok({ ...base, require: 'user=zoë' }), 'zo\xc3\xab'), 'config names compare as UTF-8 bytes');
});

T('algorithm names', () => {
  assert.equal(parseAlgorithm('MD5'), { algorithm: 'MD5', sess: false });
  assert.equal(parseAlgorithm('sha-256-SESS'), { algorithm: 'SHA-256', sess: true });
  assert.is(parseAlgorithm('SHA-512-256'), null);
});

T('Digest auth-params: tokens, quoted strings with escapes, commas and spaces; malformed → null', () => {
  const p = parseDigestParams('username="a\\"b", realm="R, x",nonce=abc ,  qop=auth, nc=00000001, USERNAME="second"')!;
  assert.is(p.get('username'), 'a"b');
  assert.is(p.get('realm'), 'R, x');
  assert.is(p.get('nonce'), 'abc');
  assert.is(p.get('qop'), 'auth');
  assert.is(p.get('nc'), '00000001');
  assert.is(parseDigestParams('')!.size, 0);
  assert.is(parseDigestParams('username="open'), null);
  assert.is(parseDigestParams('username'), null);
  assert.is(parseDigestParams('=x'), null);
  assert.is(parseDigestParams('a=b c=d'), null);
  assert.is(parseDigestParams('a='), null);
});

T.run();

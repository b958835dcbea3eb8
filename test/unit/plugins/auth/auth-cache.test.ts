// Unit tests of plugins/auth/auth-cache.ts: entries per require entry and user, expiry after
// max-age, the sweep, and the option's check.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import { AuthCache, cacheMaxAge, checkCacheOption } from '../../../../plugins/auth/auth-cache.js';
import { compileRequire } from '../../../../plugins/auth/require-config.js';
import type { AuthRequire } from '../../../../plugins/auth/types.js';

const T = suite('auth/auth-cache');
const entry = () => new ConfigHash([['method', 'basic'], ['realm', 'R'], ['require', 'valid-user']]);
const [r1, r2] = compileRequire(new ConfigHash([['/a/', entry()], ['/b/', entry()]]), 's') as AuthRequire[];

T('Basic: a password tag per require entry and user, gone after max-age', () => {
  const c = new AuthCache(10);
  c.setBasic(r1!, 'u', 'pw', 1000);
  assert.ok(c.basic(r1!, 'u', 5000)!.equals(c.passwordTag('pw')));
  assert.not.ok(c.basic(r1!, 'u', 5000)!.equals(c.passwordTag('pW')));
  assert.is(c.basic(r2!, 'u', 5000), undefined, 'another auth.require entry');
  assert.is(c.basic(r1!, 'v', 5000), undefined, 'another user');
  assert.is(c.basic(r1!, 'u', 11_001), undefined, 'expired');
});

T('Digest: the HA1 per algorithm; the sweep drops expired entries', () => {
  const c = new AuthCache(1);
  c.setDigest(r1!, 'u', 'MD5', Buffer.from('aa', 'hex'), 0);
  assert.equal(c.digest(r1!, 'u', 'MD5', 500), Buffer.from('aa', 'hex'));
  assert.is(c.digest(r1!, 'u', 'SHA-256', 500), undefined);
  c.sweep(5000);
  assert.is(c.digest(r1!, 'u', 'MD5', 500), undefined);
});

T('auth.cache option: max-age only, a number of seconds, 600 by default', () => {
  assert.is(checkCacheOption(new ConfigHash([['max-age', '60']])), undefined);
  assert.is(checkCacheOption(new ConfigHash([['max-age', 60]])), undefined);
  assert.match(checkCacheOption(new ConfigHash([['max-age', 'soon']]))!, /number of seconds/);
  assert.match(checkCacheOption(new ConfigHash([['size', '1']]))!, /unknown key "size"/);
  assert.is(cacheMaxAge(new ConfigHash()), 600);
  assert.is(cacheMaxAge(new ConfigHash([['max-age', '30']])), 30);
});

T.run();

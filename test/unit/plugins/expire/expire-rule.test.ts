// Unit tests of plugins/expire/expire-rule.ts: lighttpd 1.4.69 mod_expire expressions, prefix
// tables (first match in config order, "image/*", the "" default), the expiry time, and the
// config check through the real parser and plugin host (file:line and key).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash } from '../../../../config/model.js';
import { Server } from '../../../../core/server.js';
import { checkExpireHash, expireTable, expiresAt, matchMimetype, matchUrl, parseExpire } from '../../../../plugins/expire/expire-rule.js';

const T = suite('expire/expire-rule');

T('expressions: base, optional "plus", several "<n> <unit>", plurals; lighttpd 1.4.69 month = 30 days, year = 360 days', () => {
  assert.equal(parseExpire('access plus 1 hours'), { base: 'access', seconds: 3600 });
  assert.equal(parseExpire('now 1 hour'), { base: 'access', seconds: 3600 });
  assert.equal(parseExpire('modification plus 2 days 3 hours'), { base: 'modification', seconds: 2 * 86400 + 3 * 3600 });
  assert.equal(parseExpire('access 1 years 1 months 1 weeks 1 minutes 1 seconds'), { base: 'access', seconds: 360 * 86400 + 30 * 86400 + 7 * 86400 + 60 + 1 });
  assert.equal(parseExpire('access plus 0 seconds '), { base: 'access', seconds: 0 });
  assert.equal(parseExpire('access plus -5 minutes'), { base: 'access', seconds: -300 });
});

T('bad expressions throw with the reason', () => {
  for (const [text, re] of [
    ['', /must start with/],
    ['access', /must start with/],
    ['later plus 1 hours', /must start with/],
    ['access plus', /expected "<number> <unit>" at "plus"/],
    ['access plus ', /a number and a unit/],
    ['access plus 1', /expected "<number> <unit>"/],
    ['access plus 1hours', /expected "<number> <unit>"/],
    ['access plus 1 fortnight', /unknown unit "fortnight"/],
    ['access plus one hour', /expected "<number> <unit>"/],
    ['Access plus 1 hours', /must start with/],
  ] as Array<[string, RegExp]>) {
    assert.throws(() => parseExpire(text), re, JSON.stringify(text));
  }
});

T('expire.url: the first key (config order) that prefixes the path', () => {
  const t = expireTable(new ConfigHash([['/a/', 'access 1 seconds'], ['/a/b/', 'access 2 seconds'], ['/', 'access 3 seconds']]), false);
  assert.is(matchUrl(t, '/a/b/c')?.seconds, 1);
  assert.is(matchUrl(t, '/x')?.seconds, 3);
  assert.is(matchUrl(expireTable(new ConfigHash([['/a/', 'access 1 seconds']]), false), '/b'), undefined);
});

T('expire.mimetypes: prefix, trailing "*" dropped, "" as the default (also without Content-Type), application/javascript for text/javascript', () => {
  const t = expireTable(new ConfigHash([['image/*', 'access 1 seconds'], ['text/css', 'access 2 seconds'], ['application/javascript', 'access 4 seconds'], ['', 'access 3 seconds']]), true);
  assert.is(matchMimetype(t, 'image/png')?.seconds, 1);
  assert.is(matchMimetype(t, 'text/css; charset=utf-8')?.seconds, 2);
  assert.is(matchMimetype(t, 'text/plain')?.seconds, 3);
  assert.is(matchMimetype(t, undefined)?.seconds, 3);
  assert.is(matchMimetype(t, 'text/javascript')?.seconds, 4);
  const noDefault = expireTable(new ConfigHash([['image/', 'access 1 seconds']]), true);
  assert.is(matchMimetype(noDefault, 'text/html'), undefined);
});

T('expiry: from now or from the mtime, never before now; unknown mtime → none', () => {
  assert.is(expiresAt({ base: 'access', seconds: 60 }, 1000, undefined), 1060);
  assert.is(expiresAt({ base: 'modification', seconds: 60 }, 1000, 990), 1050);
  assert.is(expiresAt({ base: 'modification', seconds: 60 }, 1000, 100), 1000);
  assert.is(expiresAt({ base: 'access', seconds: -60 }, 1000, undefined), 1000);
  assert.is(expiresAt({ base: 'modification', seconds: 60 }, 1000, undefined), undefined);
});

T('check: not a hash, a non-string value, a bad expression', () => {
  assert.match(checkExpireHash('access 1 hours') ?? '', /expected/);
  assert.match(checkExpireHash(new ConfigHash([['/a', 5]])) ?? '', /must be a string/);
  assert.match(checkExpireHash(new ConfigHash([['/a', 'access 1 hours'], ['/b', 'soon']])) ?? '', /"\/b" => "soon": must start with/);
  assert.is(checkExpireHash(new ConfigHash([['/a', 'access 1 hours']])), undefined);
});

async function load(line: string): Promise<ConfigError | null> {
  const model = parseLighttpdConfig(`server.modules = ( "mod_expire" )\n${line}\n`, '/etc/test.conf', { cwd: '/tmp' });
  try {
    await Server.create({ model, cwd: '/tmp', listen: [], warn: () => {} });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

T('the start stops with file:line and the key, inside a condition too', async () => {
  assert.match((await load('expire.url = ( "/a/" => "access plus 1 fortnight" )'))?.message ?? '', /^\/etc\/test\.conf:2: expire\.url: "\/a\/" => .*unknown unit/);
  assert.match((await load('$HTTP["host"] == "x" { expire.mimetypes = ( "image/" => "access plus" ) }'))?.message ?? '', /^\/etc\/test\.conf:2: expire\.mimetypes: /);
  assert.is(await load('expire.mimetypes = ( "image/" => "access plus 1 days" )'), null);
});

T.run();

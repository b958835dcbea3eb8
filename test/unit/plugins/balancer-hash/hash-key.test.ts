// Unit tests of plugins/balancer-hash/hash-key.ts: each hashKey form reads its part of the request; Cookie header parsing (RFC 6265 §4.2.1); invalid forms rejected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '../../../../core/request.js';
import { compileHashKey, cookieValue } from '../../../../plugins/balancer-hash/hash-key.js';

const T = suite('balancer-hash/hash-key');

/** A request whose every readable part is distinct; header() matches names case-insensitively, as Request does. */
function request(fields: Record<string, string> = {}): Request {
  return {
    target: '/shop/cart?item=7',
    path: '/shop/cart',
    host: 'shop.example',
    conn: { remoteAddress: '203.0.113.9' },
    header: (name: string) => fields[name.toLowerCase()],
  } as unknown as Request;
}

T('url, path, host and client-ip read target, path, host and the peer address', () => {
  const req = request();
  assert.is(compileHashKey('url')(req), '/shop/cart?item=7');
  assert.is(compileHashKey('path')(req), '/shop/cart');
  assert.is(compileHashKey('host')(req), 'shop.example');
  assert.is(compileHashKey('client-ip')(req), '203.0.113.9');
});

T('header:<Name> reads that header; a missing header gives ""', () => {
  const req = request({ 'x-tenant': 'acme', 'user-agent': 'curl' });
  assert.is(compileHashKey('header:X-Tenant')(req), 'acme');
  assert.is(compileHashKey('header:x-tenant')(req), 'acme');
  assert.is(compileHashKey('header:X-Other')(req), '');
});

T('cookie:<name> reads that cookie\'s value from the Cookie header', () => {
  const req = request({ cookie: 'a=1; session=xyz; b=2' });
  assert.is(compileHashKey('cookie:session')(req), 'xyz');
  assert.is(compileHashKey('cookie:a')(req), '1');
  assert.is(compileHashKey('cookie:b')(req), '2');
  assert.is(compileHashKey('cookie:missing')(req), '');
  assert.is(compileHashKey('cookie:session')(request()), '');
});

T('cookieValue: exact, case-sensitive names; not a prefix or suffix of another name', () => {
  const h = 'sess=1; session_id=2; xsession=3; Session=4; session=5';
  assert.is(cookieValue(h, 'session'), '5');
  assert.is(cookieValue(h, 'sess'), '1');
  assert.is(cookieValue(h, 'Session'), '4');
  assert.is(cookieValue(h, 'ses'), '');
});

T('cookieValue: whitespace around pairs, names and values is ignored', () => {
  assert.is(cookieValue('  a = 1 ;\tb=2  ;c=3', 'a'), '1');
  assert.is(cookieValue('  a = 1 ;\tb=2  ;c=3', 'b'), '2');
  assert.is(cookieValue('a=1;c=3', 'c'), '3');
});

T('cookieValue: the first pair wins; values may hold "=", be empty or quoted', () => {
  assert.is(cookieValue('id=first; id=second', 'id'), 'first');
  assert.is(cookieValue('tok=a=b=c; x=1', 'tok'), 'a=b=c');
  assert.is(cookieValue('empty=; x=1', 'empty'), '');
  assert.is(cookieValue('q="quoted value"', 'q'), '"quoted value"');
});

T('cookieValue: pairs without "=" and empty pieces are skipped', () => {
  assert.is(cookieValue('junk; ; a=1;;', 'a'), '1');
  assert.is(cookieValue('junk', 'junk'), '');
  assert.is(cookieValue('', 'a'), '');
  assert.is(cookieValue(';;;', 'a'), '');
});

T('invalid forms are rejected with a message naming the value and the accepted forms', () => {
  for (const bad of ['', 'URL', 'ip', 'uri', 'url ', 'query', 'header', 'header:', 'header:X Tenant', 'header:a:b', 'cookie:', 'cookie:a;b', 'cookie:a=b', 'param:x']) {
    assert.throws(() => compileHashKey(bad), (e: unknown) => e instanceof Error && e.message.includes(`"${bad}"`), `accepted ${JSON.stringify(bad)}`);
  }
  assert.throws(() => compileHashKey('ip'), /url.*path.*host.*client-ip.*header:<Name>.*cookie:<name>/);
  assert.throws(() => compileHashKey('header:'), /header name/);
});

T.run();

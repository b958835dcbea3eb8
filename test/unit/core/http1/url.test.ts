// Tests for core/http1/url.ts: percent-decoding and dot-segment removal (RFC 3986 §5.2.4, checklist B10).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hasEncodedControl, normalizePath, normalizeTarget, targetNormalizationFrom, urlCtrlsRejectFrom } from '../../../../core/http1/url.js';

const Url = suite('url');

function path(raw: string): string {
  const r = normalizePath(raw);
  if ('error' in r) throw new Error(`expected a path for ${JSON.stringify(raw)}, got ${r.error.detail}`);
  return r.path;
}

function rejects(raw: string): void {
  const r = normalizePath(raw);
  assert.ok('error' in r, `expected an error for ${JSON.stringify(raw)}`);
  if ('error' in r) assert.is(r.error.code, 'LT_ERR_BAD_PATH');
}

Url('a plain path comes back as the same string', () => {
  const raw = '/static/app.min.js';
  assert.is(path(raw), raw);
  assert.is(path('/'), '/');
  assert.is(path('/a.b/c.d/'), '/a.b/c.d/');
  assert.is(path('/.well-known/x'), '/.well-known/x');
});

Url('the query is not part of the path', () => {
  assert.is(path('/a/b?x=/../y'), '/a/b');
  assert.is(path('/a/%3F?b'), '/a/?');
});

Url('B10 percent-decoding, UTF-8', () => {
  assert.is(path('/a%20b'), '/a b');
  assert.is(path('/caf%C3%A9'), '/café');
  assert.is(path('/caf%c3%a9/x'), '/café/x');
  assert.is(path('/%E2%82%AC%41'), '/€A');
  assert.is(path('/%25'), '/%');
});

Url('B10 `%`, `%1`, `%zz` → 400', () => {
  for (const raw of ['/%', '/%1', '/a%', '/%zz', '/%1g', '/a%2', '/%%41', '/%1?x']) rejects(raw);
});

Url('B10 `%00` and decoded control characters → 400', () => {
  for (const raw of ['/%00', '/a%00.php', '/%0d%0aSet-Cookie:x', '/%0A', '/%1f', '/%7F', '/%09']) rejects(raw);
  rejects('/a\x01b');
  rejects('/a\x7fb');
});

Url('B10 invalid UTF-8 after decoding → 400 (documented choice)', () => {
  for (const raw of ['/%FF', '/%C3', '/%C3%28', '/%E9t%E9', '/%ED%A0%80']) rejects(raw);
});

Url('a path must start with /', () => {
  rejects('');
  rejects('a/b');
  rejects('*');
  rejects('%2Fa');
});

Url('B10 dot segments are removed, `..` above the root stays at the root', () => {
  assert.is(path('/a/b/../c'), '/a/c');
  assert.is(path('/a/./b'), '/a/b');
  assert.is(path('/a/b/.'), '/a/b/');
  assert.is(path('/a/b/..'), '/a/');
  assert.is(path('/..'), '/');
  assert.is(path('/../../etc/passwd'), '/etc/passwd');
  assert.is(path('/a/../../b'), '/b');
  assert.is(path('/.'), '/');
  assert.is(path('/a/..b/c'), '/a/..b/c');
  assert.is(path('/a/b../c'), '/a/b../c');
});

Url('B10 encoded dots and slashes are decoded before dot segments are removed', () => {
  assert.is(path('/a/%2e%2e/b'), '/b');
  assert.is(path('/a/%2E/b'), '/a/b');
  assert.is(path('/a%2F..%2F..%2Fetc'), '/etc');
  assert.is(path('/%2e%2e/%2e%2e/x'), '/x');
});

Url('`//` collapses into `/`', () => {
  assert.is(path('//a///b//'), '/a/b/');
  assert.is(path('/a//../b'), '/b');
  assert.is(path('//'), '/');
});

Url('normalizeTarget: lighttpd\'s forwarded target (unreserved decoded, others upper-cased, dot segments removed)', () => {
  assert.is(normalizeTarget('/a%3ab?x=%2f%2F'), '/a%3Ab?x=%2F%2F');
  assert.is(normalizeTarget('/%e2%82%ac'), '/%E2%82%AC');
  assert.is(normalizeTarget('/x/../app/headers'), '/app/headers');
  assert.is(normalizeTarget('/%61pp/headers'), '/app/headers');
  assert.is(normalizeTarget('/%2e%2e/%2E/app//h?a=/../b'), '/app/h?a=/../b', 'dot segments of the path only');
  assert.is(normalizeTarget('/a%2fb/../c'), '/c', '%2F is a character of its segment');
  assert.is(normalizeTarget('/a%2fb/c'), '/a%2Fb/c');
  assert.is(normalizeTarget('/q?x=%7e%41%2b'), '/q?x=~A%2B');
  assert.is(normalizeTarget('/%zz%4'), '/%zz%4');
  assert.is(normalizeTarget('/%%3a'), '/%%3A');
  assert.is(normalizeTarget('/..'), '/');
  assert.is(normalizeTarget('/a/.'), '/a/');
  const same = '/A%3AB/.hidden?x=..';
  assert.is(normalizeTarget(same), same, 'nothing to change: the same string');
});

Url('normalizeTarget follows server.http-parseopts', () => {
  const keep = { unreserved: false, dotSegments: false, decode2f: false };
  assert.is(normalizeTarget('/x/../%61%3a', keep), '/x/../%61%3A');
  assert.is(normalizeTarget('/a%2Fb', { unreserved: true, dotSegments: true, decode2f: true }), '/a/b');
  const opts = (o: Record<string, string>) => ({ get: (k: string) => o[k] });
  assert.is(targetNormalizationFrom(opts({ 'url-normalize': 'disable' })), null);
  assert.equal(targetNormalizationFrom(undefined), { unreserved: true, dotSegments: true, decode2f: false });
  assert.equal(targetNormalizationFrom(opts({ 'url-path-2f-decode': 'enable', 'url-path-dotseg-remove': 'disable' })), { unreserved: true, dotSegments: false, decode2f: true });
});

Url('url-ctrls-reject: encoded %00-%1F and %7F are controls; a bad escape or %20 is not; on unless disabled', () => {
  for (const q of ['a=%00', 'a=%0a', 'b=%1F', 'x=%7f', '%0D%0A']) assert.ok(hasEncodedControl(q), q);
  for (const q of ['a=%zz', 'b=%20', 'c=%80', 'd=%', 'e=%0', 'plain']) assert.not.ok(hasEncodedControl(q), q);
  assert.is(urlCtrlsRejectFrom(undefined), true);
  assert.is(urlCtrlsRejectFrom(new Map([['url-ctrls-reject', 'disable']])), false);
  assert.is(urlCtrlsRejectFrom(new Map([['url-ctrls-reject', 'enable']])), true);
});

Url.run();

// Unit tests of plugins/proxy/header-remap.ts: lighttpd 1.4 mod_proxy's http_header_remap_* semantics.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_HEADER_OPTIONS, type ProxyHeaderOptions } from '../../../../plugins/proxy/header-options.js';
import { RemapState } from '../../../../plugins/proxy/header-remap.js';

const T = suite('proxy/header-remap');

const opts = (o: Partial<ProxyHeaderOptions>): ProxyHeaderOptions => ({ ...NO_HEADER_OPTIONS, ...o });

T('map-urlpath: first matching prefix going up; the same pair first coming back', () => {
  const r = new RemapState(opts({ urlpaths: [['/app/', '/'], ['/', '/other/']] }), 'www.example', false);
  assert.is(r.remapUrlpath('/app/x?q=1', true), '/x?q=1');
  // Coming back, "/" → "/app/" (the pair the request used) wins over "/other/" → "/".
  assert.is(r.remapUrlpath('/login', false), '/app/login');
  assert.is(r.remapUrlpath('/other/y', false), '/app/other/y');
  const fresh = new RemapState(opts({ urlpaths: [['/app/', '/'], ['/', '/other/']] }), 'www.example', false);
  assert.is(fresh.remapUrlpath('/other/y', false), '/app/other/y', 'without a request pair: first value that is a prefix');
  assert.is(fresh.remapUrlpath('nope', false), 'nope');
});

T('map-host-request: exact, case-insensitive; "-" keys the client Host; an empty value stops', () => {
  const r = new RemapState(opts({ hostsRequest: [['WWW.example', 'backend.internal'], ['-', 'dash.internal']] }), 'client.example:8080', false);
  assert.is(r.remapHost('www.EXAMPLE', true), 'backend.internal');
  assert.is(r.remapHost('client.example:8080', true), 'dash.internal');
  assert.is(r.remapHost('other', true), 'other');
  const stop = new RemapState(opts({ hostsRequest: [['a', ''], ['a', 'b']] }), 'a', false);
  assert.is(stop.remapHost('a', true), 'a');
});

T('map-host-response: "-" value gives the client Host; "-" key matches the host sent upstream', () => {
  const r = new RemapState(opts({ hostsRequest: [['-', 'backend.internal']], hostsResponse: [['-', '-']] }), 'www.example', false);
  assert.is(r.remapHost('www.example', true), 'backend.internal');
  assert.is(r.remapUri('http://backend.internal/x', false), 'http://www.example/x');
  assert.is(r.remapUri('http://elsewhere/x', false), 'http://elsewhere/x');
});

T('remapUri: Location with authority and path; a bare authority gets "/"; relative stays', () => {
  const r = new RemapState(opts({ urlpaths: [['/app/', '/']], hostsResponse: [['backend:8080', 'www.example']] }), 'www.example', false);
  assert.is(r.remapUri('http://backend:8080/login?next=/', false), 'http://www.example/app/login?next=/');
  assert.is(r.remapUri('http://backend:8080', false), 'http://www.example/app/');
  assert.is(r.remapUri('/login', false), '/app/login');
  assert.is(r.remapUri('login.html', false), 'login.html');
  assert.is(r.remapUri('http:///x', false), 'http:///x');
});

T('https-remap: only for https clients, only with a host match', () => {
  const o = opts({ hostsRequest: [['www.example', 'backend']], hostsResponse: [['backend', 'www.example']], httpsRemap: true });
  const tls = new RemapState(o, 'www.example', true);
  assert.is(tls.remapUri('http://backend/a', false), 'https://www.example/a');
  assert.is(tls.remapUri('https://www.example/dav/x', true), 'http://backend/dav/x');
  assert.is(tls.remapUri('http://unrelated/a', false), 'http://unrelated/a');
  const plain = new RemapState(o, 'www.example', false);
  assert.is(plain.remapUri('http://backend/a', false), 'http://www.example/a');
});

T('response URL paths: include and exclude lists by (mapped) authority', () => {
  const include = new RemapState(opts({ urlpaths: [['/app/', '/']], respHostInclude: ['www.example'] }), 'www.example', false);
  assert.is(include.remapUri('http://www.example/x', false), 'http://www.example/app/x');
  assert.is(include.remapUri('http://cdn.example/x', false), 'http://cdn.example/x');
  const exclude = new RemapState(opts({ urlpaths: [['/app/', '/']], respHostExclude: ['cdn.example'] }), 'www.example', false);
  assert.is(exclude.remapUri('http://cdn.example/x', false), 'http://cdn.example/x');
  assert.is(exclude.remapUri('http://www.example/x', false), 'http://www.example/app/x');
});

T('Set-Cookie: Path and Domain attributes; the cookie value itself is left alone', () => {
  const r = new RemapState(opts({ urlpaths: [['/app/', '/']], hostsResponse: [['backend.internal', 'www.example']] }), 'www.example', false);
  assert.is(r.remapSetCookie('sid=/x; Path=/; Domain=.backend.internal; HttpOnly'), 'sid=/x; Path=/app/; Domain=.www.example; HttpOnly');
  assert.is(r.remapSetCookie('a=b;path="/sub";domain=backend.internal'), 'a=b;path="/app/sub";domain=www.example');
  assert.is(r.remapSetCookie('plain=1'), 'plain=1');
  assert.is(r.remapSetCookie('a=b; Domain=other.example; Max-Age=5'), 'a=b; Domain=other.example; Max-Age=5');
});

T.run();

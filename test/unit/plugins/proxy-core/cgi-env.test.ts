// Unit tests of the RFC 3875 environment builder (plugins/proxy-core/cgi-env.ts), lighttpd 1.4
// http_cgi.c http_cgi_headers(); checklist B12, C4, C5.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCgiEnv, buildCgiEnvWithRuns, type CgiEnvInput } from '../../../../plugins/proxy-core/cgi-env.js';
import { paramsText } from '../../../../plugins/proxy-backend-fastcgi/params.js';
import { resolveCgiPath, type CgiPath, type GatewayRoute } from '../../../../plugins/proxy-core/cgi-path.js';
import { VERSION } from '../../../../core/version.js';
import { fakeRequest, type FakeRequestInit } from './fake-request.js';
import { StatCache } from '../../../../core/stat-cache.js';

const T = suite('proxy-core/cgi-env');

interface EnvInit extends FakeRequestInit {
  /** The target sent (default: the request's target). */
  sent?: string;
  cgi?: CgiPath;
  tunnel?: string | null;
}

function list(o: EnvInit = {}): Array<[string, string]> {
  const target = o.target ?? '/app/x?a=1';
  const req = fakeRequest({ path: target.split('?')[0], ...o, target });
  const input: CgiEnvInput = {
    req, method: o.method ?? 'GET', target: o.sent ?? target, bodyLength: o.bodyLength ?? 0, upgrade: o.tunnel, cgi: o.cgi,
  };
  return buildCgiEnv(input);
}
const env = (o: EnvInit = {}): Map<string, string> => new Map(list(o));
const names = (o: EnvInit = {}): string[] => list(o).map(([k]) => k);

let root = '';
T.before(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lantern-cgi-env-'));
  await fs.promises.mkdir(path.join(root, 'app'));
  await fs.promises.writeFile(path.join(root, 'app', 'index.php'), '<?php');
});
T.after(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function cgiPathFor(p: string, r: Partial<GatewayRoute> = {}): Promise<CgiPath> {
  const req = fakeRequest({ target: p, path: p.split('?')[0], docRoot: root });
  const out = await resolveCgiPath(req, {
    key: '.php', checkLocal: true, fixRootScriptname: false, stripRequestUri: '', docroot: '', brokenScriptFilename: false, ...r,
  }, new StatCache({ enabled: false }));
  if ('status' in out) throw new Error(`no script for ${p}: ${out.status}`);
  return out;
}

T('the whole environment of a GET, in lighttpd\'s order, CONTENT_LENGTH first', () => {
  assert.equal(list({ headers: ['Host', 'example.org', 'Accept', '*/*'] }), [
    ['CONTENT_LENGTH', '0'],
    ['SERVER_SOFTWARE', `lantern/${VERSION}`],
    ['SERVER_NAME', 'example.org'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_PORT', '8080'],
    ['SERVER_ADDR', '192.0.2.1'],
    ['REQUEST_METHOD', 'GET'],
    ['REQUEST_SCHEME', 'http'],
    ['REDIRECT_STATUS', '200'],
    ['REQUEST_URI', '/app/x?a=1'],
    ['QUERY_STRING', 'a=1'],
    ['SCRIPT_NAME', '/app/x'],
    ['SCRIPT_FILENAME', '/srv/www/app/x'],
    ['DOCUMENT_ROOT', '/srv/www'],
    ['REMOTE_ADDR', '192.0.2.7'],
    ['REMOTE_PORT', '50000'],
    ['HTTP_HOST', 'example.org'],
    ['HTTP_ACCEPT', '*/*'],
  ]);
});

T('CONTENT_LENGTH: first, the de-chunked length, "0" without a body; CONTENT_TYPE before HTTP_*', () => {
  const l = list({ method: 'POST', bodyLength: 5, headers: ['Content-Length', '99', 'X-A', '1', 'Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked'] });
  assert.equal(l[0], ['CONTENT_LENGTH', '5']);
  const n = l.map(([k]) => k);
  assert.equal(n.slice(n.indexOf('REMOTE_PORT') + 1), ['CONTENT_TYPE', 'HTTP_X_A']);
  assert.is(new Map(l).get('CONTENT_TYPE'), 'text/plain');
  assert.equal(list({ target: '/x' })[0], ['CONTENT_LENGTH', '0']);
  assert.is(env({ target: '/x' }).get('QUERY_STRING'), '', '§4.1.7: always set');
});

T('PATH_INFO split: SCRIPT_NAME, PATH_INFO, PATH_TRANSLATED, SCRIPT_FILENAME, DOCUMENT_ROOT in order', async () => {
  const cgi = await cgiPathFor('/app/index.php/x/y');
  const l = list({ target: '/app/index.php/x/y?q', docRoot: root, cgi });
  const from = l.findIndex(([k]) => k === 'SCRIPT_NAME');
  assert.equal(l.slice(from, from + 5), [
    ['SCRIPT_NAME', '/app/index.php'],
    ['PATH_INFO', '/x/y'],
    ['PATH_TRANSLATED', root + '/x/y'],
    ['SCRIPT_FILENAME', root + '/app/index.php'],
    ['DOCUMENT_ROOT', root],
  ]);
  const whole = env({ target: '/app/index.php', docRoot: root, cgi: await cgiPathFor('/app/index.php') });
  assert.not.ok(whole.has('PATH_INFO'), 'only when not empty');
  assert.not.ok(whole.has('PATH_TRANSLATED'));
  assert.is(whole.get('SCRIPT_FILENAME'), root + '/app/index.php');
});

T('docroot and broken-scriptfilename reach the variables', async () => {
  const remote = env({ target: '/app/index.php/x', cgi: await cgiPathFor('/app/index.php/x', { docroot: '/remote' }) });
  assert.is(remote.get('DOCUMENT_ROOT'), '/remote');
  assert.is(remote.get('SCRIPT_FILENAME'), '/remote/app/index.php');
  assert.is(remote.get('PATH_TRANSLATED'), '/remote/x');
  const broken = env({ target: '/app/index.php/x', cgi: await cgiPathFor('/app/index.php/x', { brokenScriptFilename: true }) });
  assert.is(broken.get('SCRIPT_FILENAME'), root + '/app/index.php/x');
});

T('prefix with check-local disabled and fix-root-scriptname', async () => {
  const req = fakeRequest({ target: '/a/b?c', path: '/a/b' });
  const cgi = await resolveCgiPath(req, { key: '/', checkLocal: false, fixRootScriptname: true, stripRequestUri: '', docroot: '', brokenScriptFilename: false }, new StatCache({ enabled: false }));
  if ('status' in cgi) throw new Error('no split');
  const e = env({ target: '/a/b?c', cgi });
  assert.is(e.get('SCRIPT_NAME'), '');
  assert.is(e.get('PATH_INFO'), '/a/b');
  assert.is(e.get('PATH_TRANSLATED'), '/srv/www/a/b');
  assert.is(e.get('REQUEST_URI'), '/a/b?c');
});

T('strip-request-uri: removed from REQUEST_URI only when followed by "/"', async () => {
  const cgi = await cgiPathFor('/app/index.php', { stripRequestUri: '/app/' });
  assert.is(env({ target: '/app/index.php?x=1', cgi }).get('REQUEST_URI'), '/index.php?x=1');
  assert.is(env({ target: '/application?x', cgi }).get('REQUEST_URI'), '/application?x');
  assert.is(env({ target: '/app?x', cgi }).get('REQUEST_URI'), '/app?x');
});

T('REQUEST_URI is the client\'s original target; REDIRECT_URI the target served after a redirect', () => {
  const e = env({ target: '/new.php?b=2', pathAndQuery: '/old?a=1', redirects: 1 });
  assert.is(e.get('REQUEST_URI'), '/old?a=1');
  assert.is(e.get('REDIRECT_URI'), '/new.php?b=2');
  assert.is(e.get('QUERY_STRING'), 'b=2');
  const n = names({ target: '/new.php?b=2', pathAndQuery: '/old?a=1', redirects: 1 });
  assert.is(n.indexOf('REDIRECT_URI'), n.indexOf('REQUEST_URI') + 1);
  assert.not.ok(env({ target: '/x?y' }).has('REDIRECT_URI'));
  // absolute-form: origin form of the original target.
  const abs = env({ target: 'http://example.org/x?y', pathAndQuery: '/x?y', targetScheme: 'http', sent: '/x?y' });
  assert.is(abs.get('REQUEST_URI'), '/x?y');
  assert.not.ok(abs.has('REDIRECT_URI'));
});

T('HTTPS=on and REQUEST_SCHEME for https; REDIRECT_STATUS=200 unless req.env says otherwise', () => {
  const s = env({ scheme: 'https' });
  assert.is(s.get('HTTPS'), 'on');
  assert.is(s.get('REQUEST_SCHEME'), 'https');
  assert.is(s.get('REDIRECT_STATUS'), '200');
  assert.not.ok(env().has('HTTPS'));
  const n = names({ scheme: 'https' });
  assert.is(n.indexOf('HTTPS'), n.indexOf('REQUEST_SCHEME') + 1);
  const errorHandler = list({ env: [['REDIRECT_STATUS', '404']] });
  assert.equal(errorHandler.filter(([k]) => k === 'REDIRECT_STATUS'), [['REDIRECT_STATUS', '404']]);
});

T('B12: names with "_" (or any non-alphanumeric but "-") are dropped', () => {
  const e = env({ headers: ['X_Foo', 'evil', 'X-Foo', 'good', 'X.Foo', 'evil2', 'X-Bar_', 'z', 'X-9', 'n'] });
  assert.is(e.get('HTTP_X_FOO'), 'good');
  assert.not.ok(e.has('HTTP_X_BAR_'));
  assert.is(e.get('HTTP_X_9'), 'n');
  const onlyUnderscore = env({ headers: ['X_Foo', 'evil'] });
  assert.not.ok(onlyUnderscore.has('HTTP_X_FOO'));
});

T('C5: Proxy never becomes HTTP_PROXY, whatever its case', () => {
  for (const name of ['Proxy', 'PROXY', 'proxy']) assert.not.ok(env({ headers: [name, 'http://evil:8080'] }).has('HTTP_PROXY'), name);
  assert.is(env({ headers: ['Proxy-Authorization', 'Basic x'] }).get('HTTP_PROXY_AUTHORIZATION'), 'Basic x');
});

T('HTTP_* come from the client\'s fields only: no X-Forwarded-* added; framing fields not exported', () => {
  const e = env({ headers: ['Host', 'example.org', 'Content-Length', '3', 'Content-Type', 'a/b'], bodyLength: 3 });
  for (const k of e.keys()) assert.not.ok(k.startsWith('HTTP_X_FORWARDED') || k === 'HTTP_FORWARDED', k);
  assert.not.ok(e.has('HTTP_CONTENT_LENGTH'));
  assert.not.ok(e.has('HTTP_CONTENT_TYPE'));
  // A client's own X-Forwarded-For is its field, as received.
  assert.is(env({ headers: ['X-Forwarded-For', '10.0.0.1'] }).get('HTTP_X_FORWARDED_FOR'), '10.0.0.1');
});

T('hop-by-hop as lighttpd: Transfer-Encoding and Expect dropped, Connection kept, Upgrade only for a tunnel', () => {
  const h = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Expect', '100-continue', 'Transfer-Encoding', 'chunked'];
  const e = env({ headers: h });
  assert.is(e.get('HTTP_CONNECTION'), 'Upgrade');
  assert.not.ok(e.has('HTTP_UPGRADE'));
  assert.not.ok(e.has('HTTP_EXPECT'));
  assert.not.ok(e.has('HTTP_TRANSFER_ENCODING'));
  assert.is(env({ headers: h, tunnel: 'websocket' }).get('HTTP_UPGRADE'), 'websocket');
});

T('C4: repeated fields joined with ", ", Cookie with "; ", at the first one\'s place', () => {
  const l = list({ headers: ['Cookie', 'a=1', 'Accept', 'x', 'cookie', 'b=2', 'accept', 'y', 'X-Last', 'z'] });
  const http = l.filter(([k]) => k.startsWith('HTTP_'));
  assert.equal(http, [['HTTP_COOKIE', 'a=1; b=2'], ['HTTP_ACCEPT', 'x, y'], ['HTTP_X_LAST', 'z']]);
  assert.not.ok(env({ headers: ['X-Empty', ''] }).has('HTTP_X_EMPTY'), 'lighttpd exports no empty field');
});

T('values as received: latin1 bytes never re-encoded or trimmed; decoded paths as UTF-8 bytes', () => {
  const e = env({
    target: '/caf%C3%A9?q=%C3%A9', path: '/caf\u00e9', docRoot: '/srv/www',
    headers: ['X-Latin1', 'caf\xe9', 'X-Utf8', 'caf\xc3\xa9', 'X-Space', 'a  b'],
  });
  assert.is(e.get('HTTP_X_LATIN1'), 'caf\xe9');
  assert.is(e.get('HTTP_X_UTF8'), 'caf\xc3\xa9');
  assert.is(e.get('HTTP_X_SPACE'), 'a  b');
  assert.is(e.get('REQUEST_URI'), '/caf%C3%A9?q=%C3%A9');
  assert.is(e.get('QUERY_STRING'), 'q=%C3%A9');
  assert.is(e.get('SCRIPT_NAME'), '/caf\xc3\xa9');
  assert.is(e.get('SCRIPT_FILENAME'), '/srv/www/caf\xc3\xa9');
  for (const [k, v] of e) for (let i = 0; i < v.length; i++) assert.ok(v.charCodeAt(i) <= 0xff, k);
});

T('SERVER_NAME: server.name, else the authority, without its port, else SERVER_ADDR; SERVER_PROTOCOL', () => {
  assert.is(env({ host: 'example.org:8080' }).get('SERVER_NAME'), 'example.org');
  assert.is(env({ host: 'example.org:8080', configValues: [['server.name', 'www.example.net:81']] }).get('SERVER_NAME'), 'www.example.net', 'lighttpd 1.4.69: server.name wins');
  assert.is(env({ host: '[2001:db8::1]:8080' }).get('SERVER_NAME'), '[2001:db8::1]');
  assert.is(env({ host: '', configValues: [['server.name', 'www.example.net']] }).get('SERVER_NAME'), 'www.example.net');
  assert.is(env({ host: '' }).get('SERVER_NAME'), '192.0.2.1');
  assert.is(env({ versionMinor: 0 }).get('SERVER_PROTOCOL'), 'HTTP/1.0');
  assert.is(env({ configValues: [['server.tag', 'edge']] }).get('SERVER_SOFTWARE'), 'edge');
});

T('absolute-form target: HTTP_HOST is the authority that won (RFC 9112 §3.2.2)', () => {
  const e = env({ target: 'http://a.example/x', pathAndQuery: '/x', targetScheme: 'http', host: 'a.example', headers: ['Host', 'b.example'], sent: '/x' });
  assert.is(e.get('HTTP_HOST'), 'a.example');
  // HTTP/1.1 without Host (accepted as lighttpd does): the authority is HTTP_HOST, once.
  const bare = list({ target: 'http://a.example/x', pathAndQuery: '/x', targetScheme: 'http', host: 'a.example', headers: ['Accept', '*/*'], sent: '/x' });
  assert.equal(bare.filter(([k]) => k === 'HTTP_HOST'), [['HTTP_HOST', 'a.example']]);
});

T('req.env last: overrides in place, adds new names; REMOTE_USER and AUTH_TYPE after REMOTE_PORT', () => {
  const l = list({ env: [['APP_MODE', 'test'], ['SERVER_NAME', 'override'], ['REMOTE_USER', 'alice'], ['AUTH_TYPE', 'Basic']], headers: ['Accept', '*/*'] });
  const n = l.map(([k]) => k);
  assert.equal(n.slice(n.indexOf('REMOTE_PORT') + 1), ['REMOTE_USER', 'AUTH_TYPE', 'HTTP_ACCEPT', 'APP_MODE']);
  const e = new Map(l);
  assert.is(e.get('SERVER_NAME'), 'override');
  assert.is(n.filter((k) => k === 'SERVER_NAME').length, 1);
  assert.is(e.get('REMOTE_USER'), 'alice');
  assert.is(e.get('AUTH_TYPE'), 'Basic');
  // An authorizer's Variable-* value (bytes) stays as is; a config string beyond latin1 goes out as UTF-8.
  const v = env({ env: [['X_BYTES', 'caf\xc3\xa9'], ['X_TEXT', '\u20ac']] });
  assert.is(v.get('X_BYTES'), 'caf\xc3\xa9');
  assert.is(v.get('X_TEXT'), '\xe2\x82\xac');
  assert.not.ok(env().has('REMOTE_USER'));
});

T('a keep-alive connection: what changes between its requests changes in the environment, and one build never alters another', () => {
  const first = fakeRequest({ target: '/a', headers: ['Host', 'one.example:8080', 'Cookie', 'a=1', 'Cookie', 'b=2'], env: [['SERVER_NAME', 'set-by-setenv'], ['REDIRECT_STATUS', '404']] });
  const build = (req: ReturnType<typeof fakeRequest>) => new Map(buildCgiEnv({ req, method: req.method, target: req.target, bodyLength: 0 }));
  const e1 = build(first);
  assert.is(e1.get('SERVER_NAME'), 'set-by-setenv');
  // An error handler's REDIRECT_STATUS comes through req.env.
  assert.is(e1.get('REDIRECT_STATUS'), '404');
  assert.is(e1.get('HTTP_COOKIE'), 'a=1; b=2');
  // The next request on the same connection: mod_extforward gave it another client, over https,
  // another Host, another server.tag; no setenv this time.
  const second = fakeRequest({ target: '/b', host: 'two.example', scheme: 'https', headers: ['Host', 'two.example', 'Cookie', 'c=3'], configValues: [['server.tag', 'tagged']], conn: first.conn });
  first.conn.remoteAddress = '198.51.100.9';
  first.conn.remotePort = 0;
  const e2 = build(second);
  assert.is(e2.get('SERVER_NAME'), 'two.example');
  assert.is(e2.get('REMOTE_ADDR'), '198.51.100.9');
  assert.is(e2.get('REMOTE_PORT'), '0');
  assert.is(e2.get('REQUEST_SCHEME'), 'https');
  assert.is(e2.get('HTTPS'), 'on');
  assert.is(e2.get('SERVER_SOFTWARE'), 'tagged');
  assert.is(e2.get('HTTP_COOKIE'), 'c=3');
  assert.is(e2.get('REDIRECT_STATUS'), '200');
  // And back: the shared pairs were not changed by the setenv value or the cookie join.
  const back = fakeRequest({ target: '/c', host: 'one.example:8080', headers: ['Host', 'one.example:8080'], conn: first.conn });
  first.conn.remoteAddress = '192.0.2.7';
  first.conn.remotePort = 50000;
  const third = build(back);
  assert.is(third.get('SERVER_NAME'), 'one.example');
  assert.is(third.get('REMOTE_ADDR'), '192.0.2.7');
  assert.is(third.get('SERVER_SOFTWARE'), `lantern/${VERSION}`);
  assert.is(third.get('REMOTE_PORT'), '50000');
  assert.is(third.get('REQUEST_SCHEME'), 'http');
  assert.not.ok(third.has('HTTPS'));
  assert.not.ok(third.has('HTTP_COOKIE'));
});

T('runs: a connection\'s requests share the SERVER_*, scheme and REMOTE_* pairs as runs, new ones when their source changes', () => {
  const a = fakeRequest({ target: '/a', host: 'one.example', headers: ['Host', 'one.example'] });
  const build = (req: ReturnType<typeof fakeRequest>) => buildCgiEnvWithRuns({ req, method: req.method, target: req.target, bodyLength: 0 });
  /** Where each run stands in env, whole (its very objects one after another), or -1. */
  const at = (e: ReturnType<typeof build>) => e.runs.map((r) => {
    const i = e.env.indexOf(r.pairs[0] as [string, string]);
    return i >= 0 && r.pairs.every((p, k) => e.env[i + k] === p) ? i : -1;
  });
  const where = (e: ReturnType<typeof build>, ...names: string[]) => names.map((n) => e.env.findIndex(([k]) => k === n));
  const e1 = build(a);
  assert.equal(e1.runs.map((r) => r.pairs.map(([n]) => n)), [
    ['SERVER_SOFTWARE', 'SERVER_NAME', 'GATEWAY_INTERFACE', 'SERVER_PROTOCOL', 'SERVER_PORT', 'SERVER_ADDR'],
    ['REQUEST_SCHEME', 'REDIRECT_STATUS'],
    ['DOCUMENT_ROOT', 'REMOTE_ADDR', 'REMOTE_PORT'],
  ]);
  assert.equal(at(e1), [1, ...where(e1, 'REQUEST_SCHEME', 'DOCUMENT_ROOT')]);
  // The next request on the connection, nothing changed: the same runs (an encoding made once serves it).
  const b = fakeRequest({ target: '/b?q', host: 'one.example', headers: ['Host', 'one.example'], conn: a.conn });
  const e2 = build(b);
  e1.runs.forEach((r, i) => assert.is(e2.runs[i], r));
  assert.equal(at(e2), [1, ...where(e2, 'REQUEST_SCHEME', 'DOCUMENT_ROOT')]);
  // Another Host, another client port, https: new runs, with the new values; the old ones unchanged.
  const c = fakeRequest({ target: '/c', host: 'two.example', scheme: 'https', headers: ['Host', 'two.example'], conn: a.conn });
  a.conn.remotePort = 40001;
  const e3 = build(c);
  e1.runs.forEach((r, i) => assert.is.not(e3.runs[i], r));
  assert.equal(e3.runs[0]!.pairs[1], ['SERVER_NAME', 'two.example']);
  assert.equal(e3.runs[1]!.pairs, [['REQUEST_SCHEME', 'https'], ['HTTPS', 'on'], ['REDIRECT_STATUS', '200']]);
  assert.equal(e3.runs[2]!.pairs[2], ['REMOTE_PORT', '40001']);
  assert.equal(at(e3), [1, ...where(e3, 'REQUEST_SCHEME', 'DOCUMENT_ROOT')]);
  assert.equal(e1.runs[0]!.pairs[1], ['SERVER_NAME', 'one.example']);
  // An HTTP/1.0 request changes SERVER_PROTOCOL, another document root DOCUMENT_ROOT: those runs only.
  const d = fakeRequest({ target: '/d', host: 'two.example', scheme: 'https', versionMinor: 0, docRoot: '/srv/other', headers: ['Host', 'two.example'], conn: a.conn });
  const e4 = build(d);
  assert.is.not(e4.runs[0], e3.runs[0]);
  assert.is(e4.runs[1], e3.runs[1]);
  assert.is.not(e4.runs[2], e3.runs[2]);
  assert.equal(e4.runs[0]!.pairs[3], ['SERVER_PROTOCOL', 'HTTP/1.0']);
  assert.equal(e4.runs[2]!.pairs[0], ['DOCUMENT_ROOT', '/srv/other']);
  // A setenv SERVER_NAME and REDIRECT_STATUS break two runs in env: the FastCGI encoding follows env, not the runs.
  const e = fakeRequest({
    target: '/e', host: 'two.example', scheme: 'https', versionMinor: 0, docRoot: '/srv/other', headers: ['Host', 'two.example'],
    env: [['SERVER_NAME', 'set'], ['REDIRECT_STATUS', '404']],
    conn: a.conn,
  });
  const e5 = build(e);
  e4.runs.forEach((r, i) => assert.is(e5.runs[i], r));
  assert.equal(at(e5), [-1, -1, where(e5, 'DOCUMENT_ROOT')[0]]);
  const text = paramsText(e5.env, e5.runs);
  assert.is(text, paramsText(e5.env));
  assert.ok(text.includes('\x0b\x03SERVER_NAMEset'));
  assert.ok(text.includes('\x0f\x03REDIRECT_STATUS404'));
  // The runs were encoded for the request before, and are still what a request with them whole gets.
  assert.is(paramsText(e4.env, e4.runs), paramsText(e4.env));
});

T.run();

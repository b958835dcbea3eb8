// Integration tests of lighttpd 1.5's proxy-core.rewrite-request / proxy-core.rewrite-response
// (plugins/rewrite on proxy-core's upstream hooks) from a lighttpd.conf that loads only
// mod_proxy_core and its backends (the rewrite plugin comes with the keys, no unknown-key
// warning): the target and request headers a fake HTTP backend receives, Location and
// Set-Cookie lines rewritten on the way back, CR LF results refused with 500 (G7), and
// _scriptname / _pathinfo giving a real php-cgi the right SCRIPT_NAME / PATH_INFO.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { canConnect, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which } from '../helpers/wait.js';

const S = suite('proxy-core-rewrite');
const PHP_CGI = which('php-cgi');
const php = skipUnless(S, PHP_CGI !== null, 'php-cgi not installed');

const ENV_PHP = `<?php foreach (array('SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'PATH_TRANSLATED', 'REQUEST_URI') as $k) {
  echo $k, '=', isset($_SERVER[$k]) ? $_SERVER[$k] : '<unset>', "\\n"; }`;

let server: LighttpdConfigServer | undefined;
let proc: LanternProcess | null = null;
let backend: FakeBackend | null = null;
/** The backend X-Rewrite-Backend names: no config block routes to it. */
let other: FakeBackend | null = null;
let phpChild: ChildProcess | null = null;
let dir = '';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

function reply(target: string, host: string): string {
  if (target === '/xr/go') return 'HTTP/1.1 200 OK\r\nX-Rewrite-URI: /xr/final?a=1\r\nX-Rewrite-Host: other.test\r\nContent-Length: 9\r\n\r\ndiscarded';
  if (target === '/xr/loop') return 'HTTP/1.1 200 OK\r\nX-Rewrite-URI: /xr/loop\r\nContent-Length: 4\r\n\r\nloop';
  if (target === '/xr/bad') return 'HTTP/1.1 200 OK\r\nX-Rewrite-URI: no-slash\r\nContent-Length: 8\r\n\r\nbad-body';
  if (target === '/xr/elsewhere') return `HTTP/1.1 200 OK\r\nX-Rewrite-Backend: 127.0.0.1:${other!.port}\r\nX-Rewrite-URI: /xr/there\r\nContent-Length: 9\r\n\r\ndiscarded`;
  if (target === '/xr/nowhere') return 'HTTP/1.1 200 OK\r\nX-Rewrite-Backend: not an address\r\nContent-Length: 4\r\n\r\nhere';
  if (target.startsWith('/xr/final')) return `HTTP/1.1 200 OK\r\nContent-Length: ${target.length + host.length + 1}\r\n\r\n${target} ${host}`;
  if (target === '/redirect') {
    return 'HTTP/1.1 302 Found\r\nLocation: http://backend.internal/login?next=%2F\r\nSet-Cookie: a=1; Path=/\r\n'
      + 'Set-Cookie: b=2; Path=/sub; HttpOnly\r\nX-Secret: s3cret\r\nContent-Length: 0\r\n\r\n';
  }
  if (target.startsWith('/bad-header/')) {
    return `HTTP/1.1 200 OK\r\nX-Bad: ${target.slice('/bad-header/'.length)}\r\nContent-Length: 2\r\n\r\nok`;
  }
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(target)}\r\n\r\n${target}`;
}

function config(d: string, backendPort: number, phpSock: string): string {
  return `server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "mod_proxy_backend_fastcgi" )
$HTTP["url"] =^ "/app/" {
  proxy-core.backends = ( "127.0.0.1:${backendPort}" )
  proxy-core.protocol = "http"
  proxy-core.rewrite-request = (
    "_uri" => ( "^/app/badtarget" => "no-slash", "^/app(/.*)$" => "$1" ),
    "X-Forwarded-Prefix" => ( "^$" => "/app" ),
    "User-Agent" => ( "^(.*)$" => "via-lantern $1" ),
    "X-Evil" => ( "^(.+)$" => "\${decb64u:1}" )
  )
  proxy-core.rewrite-response = (
    "Location" => ( "^http://backend\\.internal(/.*)$" => "http://public.test/app$1" ),
    "Set-Cookie" => ( "^(.*); Path=/(.*)$" => "$1; Path=/app/$2" ),
    "X-Secret" => ( ".*" => "" ),
    "X-Bad" => ( "^(.+)$" => "\${decb64u:1}" )
  )
}
$HTTP["url"] =^ "/xr/" {
  proxy-core.backends = ( "127.0.0.1:${backendPort}" )
  proxy-core.protocol = "http"
  proxy-core.allow-x-rewrite = "enable"
}
$HTTP["url"] =~ "^/php/" {
  proxy-core.backends = ( "unix:${phpSock}" )
  proxy-core.protocol = "fastcgi"
  proxy-core.rewrite-request = (
    "_scriptname" => ( "^(/php/env\\.php)" => "$1" ),
    "_pathinfo" => ( "^/php/env\\.php(/.*)$" => "/v$1" )
  )
}
`;
}

S.before(async () => {
  backend = await fakeBackend({ respond: (r) => reply(r.target, r.header('host') ?? '') });
  other = await fakeBackend({ respond: (r) => `HTTP/1.1 200 OK\r\nContent-Length: ${r.target.length + 6}\r\n\r\nother ${r.target}` });
  const backendPort = backend.port;
  server = await startLighttpdConfig((d) => config(d, backendPort, path.join(d, 'php.sock')), {
    prefix: 'pc-rewrite',
    files: { 'www/php/env.php': ENV_PHP },
    async prepare(d) {
      if (PHP_CGI === null) return;
      const sock = path.join(d, 'php.sock');
      // PHP's default cgi.fix_pathinfo=1 takes PATH_INFO as sent when SCRIPT_FILENAME is a file;
      // otherwise it splits SCRIPT_FILENAME itself and PATH_INFO would not be the rewritten "/v...".
      phpChild = spawn(PHP_CGI, ['-b', sock], { env: { ...process.env, PHP_FCGI_CHILDREN: '1' }, stdio: 'ignore', detached: true });
      await waitFor(() => canConnect({ path: sock }, 500), 10_000, 20, `php-cgi -b ${sock} to listen`);
    },
  });
  ({ dir, proc } = server);
});

S.after(async () => {
  try {
    await server?.stop();
  } finally {
    await backend?.close();
    await other?.close();
    if (phpChild?.pid !== undefined) { try { process.kill(-phpChild.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
});

async function request(head: string): Promise<RawResponse> {
  return server!.request(head);
}
const get11 = (target: string, extra = '') => request(`GET ${target} HTTP/1.1\r\nHost: pc.test\r\n${extra}Connection: close\r\n\r\n`);
const get10 = (target: string, extra = '') => request(`GET ${target} HTTP/1.0\r\n${extra}\r\n`);
const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');

S('the keys are known with only mod_proxy_core loaded: no unknown-key warning', () => {
  assert.not.match(proc!.stderr + errorLog(), /unknown config key/);
});

S('rewrite-request: _uri and header values reach the backend rewritten (HTTP/1.1 and 1.0)', async () => {
  const before = backend!.requestCount;
  const a = await get11('/app/echo?q=1', 'User-Agent: curl/8\r\n');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), '/echo?q=1');
  const seen = backend!.connections.flatMap((c) => c.requests)[before]!;
  assert.is(seen.target, '/echo?q=1');
  assert.is(seen.header('user-agent'), 'via-lantern curl/8');
  assert.is(seen.header('x-forwarded-prefix'), '/app', 'an absent header is matched as ""');
  const b = await get10('/app/other');
  assert.is(b.version, 'HTTP/1.0');
  assert.is(b.body.toString(), '/other');
});

S('rewrite-response: Location and each Set-Cookie line rewritten, an empty result removes the field', async () => {
  const r = await get11('/app/redirect');
  assert.is(r.status, 302);
  assert.is(r.header('location'), 'http://public.test/app/login?next=%2F');
  assert.equal(r.headerAll('set-cookie'), ['a=1; Path=/app/', 'b=2; Path=/app/sub; HttpOnly']);
  assert.is(r.header('x-secret'), undefined);
  const h = await get10('/app/redirect');
  assert.is(h.header('location'), 'http://public.test/app/login?next=%2F');
});

S('G7: a request header or target rewritten to CR LF or an invalid target is refused with 500, nothing sent upstream', async () => {
  const before = backend!.requestCount;
  const a = await get11('/app/echo', `X-Evil: ${b64('a\r\nX-Injected: 1')}\r\n`);
  assert.is(a.status, 500);
  const b = await get11('/app/badtarget');
  assert.is(b.status, 500);
  assert.is(backend!.requestCount, before, 'the backend saw neither');
  const log = errorLog();
  assert.match(log, /proxy-core\.rewrite-request "X-Evil" rule "\^\(\.\+\)\$" \(proxy-core\.rewrite-request \(.*lighttpd\.conf:\d+\)\): the result for X-Evil holds CR/);
  assert.match(log, /proxy-core\.rewrite-request "_uri" rule "\^\/app\/badtarget".*does not begin with "\/"/);
});

S('G7: a response header rewritten to CR LF is refused with 500, never a split head', async () => {
  const r = await get11(`/app/bad-header/${b64('x\r\nSet-Cookie: evil=1')}`);
  assert.is(r.status, 500);
  assert.is(r.header('set-cookie'), undefined);
  assert.not.ok(r.raw.toString('latin1').includes('evil=1'));
  assert.match(errorLog(), /proxy-core\.rewrite-response "X-Bad" rule "\^\(\.\+\)\$" .*the result holds CR; response refused/);
  assert.not.ok(STACK_LINE.test(errorLog()), 'no stack trace');
});

S('allow-x-rewrite: X-Rewrite-URI / X-Rewrite-Host restart the request, with a loop limit; bad values ignored', async () => {
  const a = await get11('/xr/go');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), '/xr/final?a=1 other.test');
  assert.is(a.header('x-rewrite-uri'), undefined);
  const b = await get10('/xr/go');
  assert.is(b.body.toString(), '/xr/final?a=1 other.test');
  const c = await get11('/xr/loop');
  assert.is(c.status, 500);
  assert.match(errorLog(), /more than 10 internal redirects/);
  const d = await get11('/xr/bad');
  assert.is(d.status, 200);
  assert.is(d.body.toString(), 'bad-body');
  assert.is(d.header('x-rewrite-uri'), undefined);
  assert.match(errorLog(), /X-Rewrite-URI "no-slash" from the backend does not begin with "\/": ignored/);
});

S('allow-x-rewrite: X-Rewrite-Backend sends the restarted request to that address; a bad one is ignored', async () => {
  const a = await get11('/xr/elsewhere');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'other /xr/there');
  assert.is(a.header('x-rewrite-backend'), undefined);
  assert.is(other!.connections.flatMap((c) => c.requests).map((r) => r.target).join(','), '/xr/there');
  // Again: the backend made for the address is reused, not made twice.
  assert.is((await get10('/xr/elsewhere')).body.toString(), 'other /xr/there');
  assert.is(other!.requestCount, 2);
  const b = await get11('/xr/nowhere');
  assert.is(b.status, 200);
  assert.is(b.body.toString(), 'here');
  assert.match(errorLog(), /X-Rewrite-Backend "not an address" from the backend is not an address/);
});

php('_scriptname / _pathinfo give php-cgi the right SCRIPT_NAME, PATH_INFO and SCRIPT_FILENAME', async () => {
  const r = await get11('/php/env.php/extra/path?x=1');
  assert.is(r.status, 200, r.body.toString());
  const env = new Map(r.body.toString().trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
  assert.is(env.get('SCRIPT_NAME'), '/php/env.php');
  assert.is(env.get('PATH_INFO'), '/v/extra/path');
  assert.is(env.get('SCRIPT_FILENAME'), `${dir}/www/php/env.php`);
  assert.is(env.get('PATH_TRANSLATED'), `${dir}/www/v/extra/path`);
  assert.is(env.get('REQUEST_URI'), '/php/env.php/extra/path?x=1');
  const b = await get10('/php/env.php/p');
  assert.is(b.status, 200);
  assert.match(b.body.toString(), /PATH_INFO=\/v\/p\n/);
});

S.run();

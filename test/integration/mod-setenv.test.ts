// Integration tests of plugins/setenv (lighttpd 1.4.69 mod_setenv) from the smallest lighttpd
// config: request headers added and set before a real CGI script (perl) and a proxied backend see
// the request, environment variables in the script's CGI environment, response fields on files,
// script answers and error pages, lists inside condition blocks, applied once across an internal
// redirect, and bad lists stopping the start with file:line and the key.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { startFakeScgi, type FakeScgi } from '../helpers/fake-scgi.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE } from '../helpers/spawn-lantern.js';
import { skipUnless, which } from '../helpers/wait.js';

const S = suite('mod-setenv');
const PERL = which('perl');
const perl = skipUnless(S, PERL !== null, 'perl not installed');

const PL = (body: string) => `#!${PERL ?? '/usr/bin/perl'}\nuse strict; use warnings; $| = 1;\n${body}\n`;
const ENV_SCRIPT = PL('print "Content-Type: text/plain\\r\\n\\r\\n"; print "$_=$ENV{$_}\\n" for sort keys %ENV;');

const FILES: Record<string, string> = {
  'www/env.pl': ENV_SCRIPT,
  'www/cond/env.pl': ENV_SCRIPT,
  // Sets fields of its own that setenv adds to (X-Resp) and replaces (X-Frame-Options).
  'www/fields.pl': PL('print "X-Frame-Options: SAMEORIGIN\\r\\nX-Resp: script\\r\\nContent-Type: text/plain\\r\\n\\r\\nfields";'),
  'www/redir.pl': PL('print "Location: /env.pl\\r\\n\\r\\n";'),
  'www/static.txt': 'static body\n',
};

let server: LighttpdConfigServer | undefined;
let backend: FakeBackend | null = null;
let scgi: FakeScgi | null = null;
const dirs: string[] = [];

function config(dir: string, backendPort: number, scgiPort: number): string {
  return `server.document-root = "${dir}/www"
server.errorlog = "${dir}/error.log"
server.modules = ( "mod_setenv", "mod_cgi", "mod_proxy", "mod_scgi" )
mimetype.assign = ( ".txt" => "text/plain" )
server.max-request-size = 1
cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" )
cgi.local-redir = "enable"
setenv.add-request-header = ( "X-Added" => "  global-req\t" )
setenv.set-request-header = ( "User-Agent" => "setenv-agent", "X-Drop" => "" )
setenv.add-response-header = ( "X-Resp" => "one" )
setenv.set-response-header = ( "X-Frame-Options" => "DENY" )
setenv.add-environment = ( "APP_MODE" => "prod", "APP_LIST" => "a" )
setenv.set-environment = ( "SERVER_SOFTWARE" => "custom/1.0", "APP_LIST" => "b" )
$HTTP["url"] =^ "/cond/" {
  setenv.add-response-header = ( "X-Cond" => "yes" )
  setenv.add-environment = ( "COND" => "1" )
}
$HTTP["url"] =^ "/scgi/" {
  scgi.server = ( "/scgi" => ( ( "host" => "127.0.0.1", "port" => ${scgiPort}, "check-local" => "disable" ) ) )
}
$HTTP["url"] =^ "/proxied/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${backendPort} ) ) )
}
`;
}

S.before(async () => {
  backend = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX-Frame-Options: ALLOW\r\n\r\nproxied' });
  scgi = await startFakeScgi();
  const backendPort = backend.port;
  const scgiPort = scgi.port;
  server = await startLighttpdConfig((dir) => config(dir, backendPort, scgiPort), { prefix: 'setenv', files: FILES });
});

S.after(async () => {
  try {
    await server?.stop();
  } finally {
    await backend?.close();
    await scgi?.close();
    for (const d of dirs) removeDir(d);
  }
});

async function request(head: string): Promise<RawResponse> {
  return server!.request(head);
}
const get11 = (target: string, extra = '') => request(`GET ${target} HTTP/1.1\r\nHost: setenv.test\r\n${extra}Connection: close\r\n\r\n`);
const get10 = (target: string, extra = '') => request(`GET ${target} HTTP/1.0\r\n${extra}\r\n`);

function envOf(body: Buffer): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of body.toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

perl('request headers are added and set before the CGI script sees them; environment variables reach it', async () => {
  const r = await get11('/env.pl', 'User-Agent: curl/8\r\nX-Drop: secret\r\n');
  assert.is(r.status, 200);
  const env = envOf(r.body);
  assert.is(env.get('HTTP_X_ADDED'), 'global-req', 'added, tab and spaces trimmed as lighttpd does');
  assert.is(env.get('HTTP_USER_AGENT'), 'setenv-agent', 'set replaces the client value');
  assert.not.ok(env.has('HTTP_X_DROP'), 'set with an empty value removes the field');
  assert.is(env.get('APP_MODE'), 'prod');
  assert.is(env.get('APP_LIST'), 'b', 'set-environment applies after add-environment');
  assert.is(env.get('SERVER_SOFTWARE'), 'custom/1.0', 'set-environment replaces a server variable');
  assert.is(env.get('REQUEST_METHOD'), 'GET', 'the standard variables are still there');
});

perl('add-request-header keeps the client value of the same field (HTTP/1.0 client)', async () => {
  const r = await get10('/env.pl', 'X-Added: client\r\n');
  assert.is(r.status, 200);
  assert.is(r.version, 'HTTP/1.0');
  assert.is(envOf(r.body).get('HTTP_X_ADDED'), 'client, global-req');
});

perl('response fields: added beside the script\'s own, set replaces the script\'s value', async () => {
  const r = await get11('/fields.pl');
  assert.is(r.status, 200);
  assert.equal(r.headerAll('X-Resp'), ['script', 'one']);
  assert.equal(r.headerAll('X-Frame-Options'), ['DENY']);
  assert.is(r.body.toString(), 'fields');
});

S('response fields on a static file, HTTP/1.0 and HTTP/1.1, GET and HEAD', async () => {
  for (const r of [await get11('/static.txt'), await get10('/static.txt')]) {
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'static body\n');
    assert.equal(r.headerAll('X-Resp'), ['one']);
    assert.equal(r.headerAll('X-Frame-Options'), ['DENY']);
  }
  const head = await server!.request('HEAD /static.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { headRequests: [true] });
  assert.is(head.header('X-Resp'), 'one');
});

S('response fields on error pages (404, 405, 501) and redirects (301)', async () => {
  const missing = await get11('/missing.txt');
  assert.is(missing.status, 404);
  assert.is(missing.header('X-Resp'), 'one');
  assert.is(missing.header('X-Frame-Options'), 'DENY');
  const trace = await request('TRACE /static.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.is(trace.status, 405);
  assert.is(trace.header('X-Resp'), 'one');
  assert.ok(trace.header('Allow'), 'the error keeps its own fields');
  const unknown = await request('BREW /static.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.is(unknown.status, 501);
  assert.is(unknown.header('X-Frame-Options'), 'DENY');
  const dir = await get10('/cond');
  assert.is(dir.status, 301);
  assert.is(dir.header('X-Resp'), 'one');
});

S('response fields on answers given before routing: 413 (server.max-request-size), 417', async () => {
  const big = await request('POST /static.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n');
  assert.is(big.status, 413);
  assert.is(big.header('X-Resp'), 'one');
  const expect = await request('GET /static.txt HTTP/1.1\r\nHost: a\r\nExpect: something\r\nConnection: close\r\n\r\n');
  assert.is(expect.status, 417);
  assert.is(expect.header('X-Frame-Options'), 'DENY');
});

perl('inside a condition block a list replaces the global one for the same key; other keys stay global', async () => {
  const r = await get11('/cond/env.pl');
  assert.is(r.status, 200);
  assert.is(r.header('X-Cond'), 'yes');
  assert.is(r.header('X-Resp'), undefined, 'the block\'s setenv.add-response-header replaces the global list');
  assert.is(r.header('X-Frame-Options'), 'DENY', 'set-response-header is still the global one');
  const env = envOf(r.body);
  assert.is(env.get('COND'), '1');
  assert.not.ok(env.has('APP_MODE'), 'the block\'s add-environment replaces the global list');
  assert.is(env.get('APP_LIST'), 'b', 'set-environment is still the global one');
  assert.is(env.get('HTTP_X_ADDED'), 'global-req');
  const outside = await get11('/static.txt');
  assert.is(outside.header('X-Cond'), undefined);
});

perl('an internal redirect (cgi.local-redir) does not add the request header twice', async () => {
  const r = await get11('/redir.pl');
  assert.is(r.status, 200);
  const env = envOf(r.body);
  assert.is(env.get('HTTP_X_ADDED'), 'global-req');
  assert.is(env.get('APP_MODE'), 'prod');
  assert.equal(r.headerAll('X-Resp'), ['one']);
});

S('a proxied backend gets the changed request headers; its response fields are changed too', async () => {
  const r = await get11('/proxied/x', 'User-Agent: curl/8\r\nX-Drop: secret\r\n');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'proxied');
  assert.equal(r.headerAll('X-Frame-Options'), ['DENY']);
  assert.equal(r.headerAll('X-Resp'), ['one']);
  const seen = backend!.connections.flatMap((c) => c.requests).at(-1)!;
  assert.is(seen.header('X-Added'), 'global-req');
  assert.is(seen.header('User-Agent'), 'setenv-agent');
  assert.is(seen.header('X-Drop'), undefined);
});

S('an SCGI backend gets the environment variables and the changed request headers', async () => {
  const r = await get11('/scgi/app', 'X-Drop: secret\r\n');
  assert.is(r.status, 200);
  const env = scgi!.requests.at(-1)!.envMap;
  assert.is(env.get('APP_MODE'), 'prod');
  assert.is(env.get('APP_LIST'), 'b');
  assert.is(env.get('SERVER_SOFTWARE'), 'custom/1.0');
  assert.is(env.get('HTTP_X_ADDED'), 'global-req');
  assert.is(env.get('HTTP_USER_AGENT'), 'setenv-agent');
  assert.not.ok(env.has('HTTP_X_DROP'));
  assert.is(r.header('X-Resp'), 'one');
});

/** Runs `lantern -t` on a config with `line` added; returns its exit code and stderr. */
async function checkConfig(line: string): Promise<{ code: number | null; stderr: string; file: string }> {
  const dir = makeTempDir('setenv-bad');
  dirs.push(dir);
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, `server.document-root = "${dir}"\nserver.modules = ( "mod_setenv" )\n${line}\n`);
  const r = await runLantern(['-t', '-f', file], { cwd: dir, timeoutMs: 30_000 });
  return { code: r.code, stderr: r.stderr, file };
}

S('a bad list stops the start with file:line and the key (the other refusals: test/unit/plugins/setenv)', async () => {
  const bad = await checkConfig('setenv.add-response-header = ( "X-A" => "a\rb" )');
  assert.is.not(bad.code, 0);
  assert.match(bad.stderr, /setenv\.add-response-header: .*CR/);
  assert.ok(bad.stderr.includes(`${bad.file}:3:`), `file:line in ${JSON.stringify(bad.stderr)}`);
  assert.not.match(bad.stderr, STACK_LINE);
});

S.run();

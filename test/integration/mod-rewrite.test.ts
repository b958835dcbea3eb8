// Integration tests of plugins/rewrite and plugins/redirect (lighttpd 1.4.69 mod_rewrite and
// mod_redirect) from the smallest lighttpd config, through an inherited socket: captures, once
// vs repeat, the endless-loop limit, if-not-file, %1 from a host condition, the query
// (${qsa}, what a proxied backend receives), redirect codes, injection attempts (CR LF in a
// capture) refused or kept encoded, and bad rules stopping the start with file:line.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE } from '../helpers/spawn-lantern.js';

const S = suite('mod-rewrite');

const FILES: Record<string, string> = {
  'www/files/user-42.txt': 'user 42\n',
  'www/files/deep.txt': 'deep\n',
  'www/files/fallback.txt': 'fallback\n',
  'www/files/alpha-page.txt': 'alpha page\n',
  'www/nf/exists.txt': 'exists\n',
  'www/stop/here.txt': 'stop here\n',
};

let server: LighttpdConfigServer | undefined;
let backend: FakeBackend | null = null;
let dir = '';
const dirs: string[] = [];

function config(d: string, backendPort: number): string {
  return `server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
server.modules = ( "mod_rewrite", "mod_redirect", "mod_proxy" )
mimetype.assign = ( ".txt" => "text/plain" )
url.rewrite-once = (
  "^/once/(\\w+)/(\\d+)$" => "/files/$1-$2.txt",
  "^/keepq/([^?]*)" => "/echo/$1?r=1\${qsa}",
  "^/stop/" => "",
  "^/bad/([^?]*)" => "/x\${decb64u:1}",
  "^/relative" => "no-slash",
  "^/nul" => "/a%%00b"
)
url.rewrite-repeat = (
  "^/rep/a/(.*)$" => "/rep/b/$1",
  "^/rep/b/(.*)$" => "/files/$1",
  "^/loop/(.*)$" => "/loop/$1"
)
url.rewrite-if-not-file = ( "^/nf/" => "/files/fallback.txt" )
$HTTP["host"] =~ "^(\\w+)\\.vhost\\.test$" {
  url.rewrite-once = ( "^/(.*)$" => "/files/%1-$1" )
}
$HTTP["url"] =^ "/echo/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${backendPort} ) ) )
}
url.redirect = (
  "^/old/(.*)$" => "/new/$1",
  "^/ext/(.*)$" => "http://\${url.authority}/x/$1",
  "^/qsa-r" => "/dest\${qsa}",
  "^/inj/(.*)$" => "/to/$1",
  "^/b64r/(.*)$" => "/to/\${decb64u:1}"
)
$HTTP["url"] =^ "/r302/" {
  url.redirect = ( "^/r302/(.*)$" => "/to/$1" )
  url.redirect-code = 302
}
$HTTP["url"] =^ "/r307/" {
  url.redirect = ( "^/r307/(.*)$" => "/to/$1" )
  url.redirect-code = 307
}
$HTTP["url"] =^ "/r308/" {
  url.redirect = ( "^/r308/(.*)$" => "/to/$1" )
  url.redirect-code = 308
}
`;
}

S.before(async () => {
  backend = await fakeBackend({ respond: (r) => {
    // /echo/head/...: the request head as received, for the header edits of the native config.
    const body = r.target.startsWith('/echo/head/') ? r.head : r.target;
    return `HTTP/1.1 200 OK\r\nX-Backend: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  } });
  const backendPort = backend.port;
  server = await startLighttpdConfig((d) => config(d, backendPort), { prefix: 'rewrite', files: FILES });
  dir = server.dir;
});

S.after(async () => {
  try {
    await server?.stop();
  } finally {
    await backend?.close();
    for (const d of dirs) removeDir(d);
  }
});

async function request(head: string): Promise<RawResponse> {
  return server!.request(head);
}
const get11 = (target: string, host = 'rw.test') => request(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
const get10 = (target: string) => request(`GET ${target} HTTP/1.0\r\n\r\n`);
const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');

S('rewrite-once with captures serves the rewritten target (HTTP/1.1 and HTTP/1.0)', async () => {
  const a = await get11('/once/user/42');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'user 42\n');
  const b = await get10('/once/user/42');
  assert.is(b.version, 'HTTP/1.0');
  assert.is(b.status, 200);
  assert.is(b.body.toString(), 'user 42\n');
  assert.is((await get11('/once/user/x')).status, 404, 'no rule matched: the path as asked');
});

S('rewrite-repeat applies the rules again to the new target; once stops there', async () => {
  const r = await get11('/rep/a/deep.txt');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'deep\n');
});

S('an endless repeat loop answers 500 and says so in the error log', async () => {
  const r = await get11('/loop/x');
  assert.is(r.status, 500);
  assert.match(errorLog(), /endless loop in rewrite rules \(more than 100 passes\).*url\.rewrite-repeat/);
  assert.is((await get11('/once/user/42')).status, 200, 'the server goes on');
});

S('an empty replacement stops rewriting without changing the target', async () => {
  const r = await get11('/stop/here.txt');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'stop here\n');
});

S('if-not-file: an existing file is served, a missing one rewritten', async () => {
  const a = await get11('/nf/exists.txt');
  assert.is(a.body.toString(), 'exists\n');
  const b = await get10('/nf/missing.txt');
  assert.is(b.status, 200);
  assert.is(b.body.toString(), 'fallback\n');
  // stat() of a path under a file fails with ENOTDIR: not a file, rewritten, no 500.
  const c = await get11('/nf/exists.txt/more');
  assert.is(c.status, 200);
  assert.is(c.body.toString(), 'fallback\n');
});

S('%1 comes from the enclosing $HTTP["host"] =~ condition', async () => {
  const r = await get11('/page.txt', 'alpha.vhost.test');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'alpha page\n');
});

S('the query: ${qsa} appends the client query; the backend receives the rewritten target', async () => {
  const a = await get11('/keepq/item?z=2&y=a%20b');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), '/echo/item?r=1&z=2&y=a%20b');
  const b = await get10('/keepq/item');
  assert.is(b.body.toString(), '/echo/item?r=1');
});

S('redirects: 301 by default, url.redirect-code 302, 307, 308; Location from captures and ${url.authority}', async () => {
  const a = await get11('/old/page?x=1');
  assert.is(a.status, 301);
  assert.is(a.header('location'), '/new/page?x=1');
  assert.is(a.header('content-length'), '0');
  const b = await get10('/old/p');
  assert.is(b.version, 'HTTP/1.0');
  assert.is(b.status, 301);
  assert.is(b.header('location'), '/new/p');
  for (const code of [302, 307, 308]) {
    const r = await get11(`/r${code}/a/b`);
    assert.is(r.status, code);
    assert.is(r.header('location'), '/to/a/b');
  }
  const e = await get11('/ext/p', 'site.test:8080');
  assert.is(e.header('location'), 'http://site.test:8080/x/p');
  const q = await get11('/qsa-r?a=1&b=2');
  assert.is(q.header('location'), '/dest?a=1&b=2');
});

S('G7 injection: %0d%0a in the query is refused up front (url-ctrls-reject, 400; the core refuses it in a path too); a CR LF decoded by a rule is refused with 500', async () => {
  const a = await get11('/inj/x?%0d%0aSet-Cookie:x=1');
  assert.is(a.status, 400);
  assert.is(a.header('location'), undefined);
  assert.is(a.header('set-cookie'), undefined);
  const payload = Buffer.from('a\r\nSet-Cookie: y=2').toString('base64url');
  const b = await get11(`/b64r/${payload}`);
  assert.is(b.status, 500);
  assert.is(b.header('set-cookie'), undefined);
  assert.not.ok(b.raw.toString('latin1').includes('Set-Cookie'), 'nothing of the payload on the wire');
  assert.match(errorLog(), /redirect rule "\^\/b64r\/\(\.\*\)\$" of url\.redirect \(.*lighttpd\.conf:\d+\): the Location holds CR/);
});

S('G7: rewritten targets that are not valid origin-form targets answer 500 with the rule in the error log', async () => {
  const payload = Buffer.from('/y\r\nX: 1').toString('base64url');
  const a = await get11(`/bad/${payload}`);
  assert.is(a.status, 500);
  assert.match(errorLog(), /rewrite rule "\^\/bad\/\(\[\^\?\]\*\)" of url\.rewrite-once \(.*lighttpd\.conf:\d+\): the result .* holds the byte 0x0d/);
  const b = await get11('/relative');
  assert.is(b.status, 500);
  assert.match(errorLog(), /the result "no-slash" does not begin with "\/"/);
  const c = await get10('/nul');
  assert.is(c.status, 500);
  assert.match(errorLog(), /the result "\/a%00b" is not a valid path/);
  assert.not.ok(STACK_LINE.test(errorLog()), 'no stack trace');
});

S('bad rules stop the start with file:line and the key', async () => {
  const d = makeTempDir('rewrite-bad');
  dirs.push(d);
  const file = path.join(d, 'lighttpd.conf');
  fs.writeFileSync(file, `server.document-root = "${d}"\nserver.modules = ( "mod_rewrite" )\nurl.rewrite-once = ( "^/(a+)+$" => "/x" )\n`);
  const r = await runLantern(['-tt', '-f', file], { cwd: d });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: url\\.rewrite-once: rule .*nested unbounded quantifiers`));
  assert.not.ok(STACK_LINE.test(r.stderr), r.stderr);
});

S('native JSON config: the same rules, and request / response header edits (remove, set, add)', async () => {
  const native = await startLighttpdConfig((d) => JSON.stringify({
    server: { 'document-root': `${d}/www`, errorlog: `${d}/error.log`, modules: ['mod_rewrite', 'mod_proxy'] },
    url: { 'rewrite-once': { '^/n/(.*)$': '/echo/head/$1' } },
    rewrite: {
      'request-header': { remove: ['X-Drop'], set: { 'User-Agent': 'native-agent' }, add: { 'X-Added': 'yes' } },
      'response-header': { remove: ['X-Backend'], set: { 'X-Frame-Options': 'DENY' } },
    },
    '$HTTP["url"] =^ "/echo/"': { proxy: { server: { '': [{ host: '127.0.0.1', port: backend!.port }] } } },
  }, null, 2), { prefix: 'rewrite-native', files: { 'www/x.txt': 'x\n' }, confName: 'lantern.config.json' });
  try {
    const r = await native.request('GET /n/a HTTP/1.1\r\nHost: n.test\r\nUser-Agent: curl\r\nX-Drop: secret\r\nX-Added: client\r\nConnection: close\r\n\r\n');
    assert.is(r.status, 200);
    const head = r.body.toString('latin1');
    assert.match(head, /^GET \/echo\/head\/a HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nUser-Agent: native-agent\r\n/);
    assert.not.match(head, /X-Drop|curl/);
    assert.match(head, /\r\nX-Added: client\r\n[^]*X-Added: yes\r\n/);
    assert.is(r.header('x-backend'), undefined);
    assert.is(r.header('x-frame-options'), 'DENY');
    const e = await native.request('GET /missing HTTP/1.0\r\n\r\n');
    assert.is(e.status, 404);
    assert.is(e.header('x-frame-options'), 'DENY', 'error pages too');
  } finally {
    await native.stop();
  }
});

S('bad header edits stop the start with file:line and the key', async () => {
  const d = makeTempDir('rewrite-bad-edit');
  dirs.push(d);
  const file = path.join(d, 'lighttpd.conf');
  fs.writeFileSync(file, `server.document-root = "${d}"\nserver.modules = ( "mod_rewrite" )\nrewrite.response-header = ( "set" => ( "Content-Length" => "1" ) )\n`);
  const r = await runLantern(['-tt', '-f', file], { cwd: d });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /lighttpd\.conf:3: rewrite\.response-header: "Content-Length" frames the message/);
});

S.run();

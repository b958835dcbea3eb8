// Integration tests of plugins/ssi (lighttpd mod_ssi) run as a harness runs lighttpd: a
// lighttpd.conf loading "mod_ssi", the listening socket inherited as fd 3, raw HTTP/1.0 and
// HTTP/1.1 requests from clients that half-close; the bytes on the wire and the error log.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { waitFor } from '../helpers/wait.js';

const S = suite('mod-ssi');
const ERRMSG = '[an error occurred while processing this directive]';

let server: LighttpdConfigServer | undefined;
let dir = '';
let port = 0;
let proc: LanternProcess | undefined;

const FILES: Record<string, string> = {
  'www/index.shtml': '<h1><!--#echo var="DOCUMENT_URI" --></h1>\n'
    + '<!--#set var="who" value="world" --><!--#if expr="$who = world" -->hello <!--#echo var="who" --><!--#else -->no<!--#endif -->\n'
    + 'q=<!--#echo var="QUERY_STRING" --> u=<!--#echo var="QUERY_STRING_UNESCAPED" --> m=<!--#echo var="REQUEST_METHOD" --> p=<!--#echo var="SERVER_PROTOCOL" -->\n'
    + '[<!--#include virtual="/parts/footer.html" -->]<!--#fsize file="parts/footer.html" -->\n',
  'www/parts/footer.html': 'footer <!--#echo var="who" -->',
  'www/plain.html': 'not <!--#echo var="X" --> processed',
  'www/headers.shtml': 'ua=<!--#echo var="HTTP_USER_AGENT" --> auth=<!--#echo var="HTTP_AUTHORIZATION" --> ent=<!--#echo var="HTTP_X_TAG" encoding="entity" -->',
  'www/broken.shtml': 'a<!--#nosuch -->b<!--#echo var= -->c<!--#include file="../../../etc/passwd" -->d<!--#include virtual="/missing.html" -->e<!--#exec cmd="echo nope" -->f',
  'www/errmsg.shtml': '<!--#config errmsg="[custom]" --><!--#bogus -->',
  'www/deep/a.shtml': 'A(<!--#include virtual="b.shtml" -->)',
  'www/deep/b.shtml': 'B(<!--#include virtual="a.shtml" -->)',
  'www/deep/v.shtml': '<!--#set var="who" value="1" --><!--#include virtual="/parts/footer.html" -->',
  'www/exec/run.shtml': '[<!--#exec cmd="pwd; echo \\"$QUERY_STRING\\"; echo err >&2" -->]',
  'www/cond/page.shtml': 'cached <!--#include file="inc.html" -->',
  'www/cond/inc.html': 'inc',
  'www/typed/t.shtml': 'typed',
  'www/other.ssi': 'other <!--#echo var="DOCUMENT_NAME" -->',
  'www/dir.shtml/index.html': 'a directory named like a page',
};

S.before(async () => {
  server = await startLighttpdConfig((d) => `
server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
server.modules = ( "mod_ssi" )
mimetype.assign = ( ".html" => "text/html", ".ssi" => "text/x-ssi-page" )
$HTTP["url"] =^ "/deep/" { ssi.recursion-max = 3 }
$HTTP["url"] =^ "/exec/" { ssi.exec = "enable" }
$HTTP["url"] =^ "/cond/" { ssi.conditional-requests = "enable" }
$HTTP["url"] =^ "/typed/" { ssi.content-type = "text/html; charset=utf-8" }
$HTTP["url"] =^ "/other" { ssi.extension = ( ".ssi" ) }
`, {
    prefix: 'mod-ssi',
    files: FILES,
    prepare(d) {
      fs.writeFileSync(path.join(d, 'www/many.shtml'), '<!--#set var="d" value="." -->' + '<!--#echo var="d" -->'.repeat(5000) + 'x'.repeat(300_000) + '<!--#bad -->'.repeat(2000));
    },
  });
  ({ dir, port, proc } = server);
});

S.after(async () => {
  await server?.stop();
});

async function request(target: string, opts: { method?: string; version?: '1.0' | '1.1'; extra?: string; body?: string } = {}): Promise<RawResponse> {
  const method = opts.method ?? 'GET';
  const version = opts.version ?? '1.1';
  const host = version === '1.1' ? 'Host: t\r\n' : '';
  return server!.request(`${method} ${target} HTTP/${version}\r\n${host}${opts.extra ?? ''}\r\n${opts.body ?? ''}`, { headRequests: [method === 'HEAD'] });
}

const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');

S('HTTP/1.1 GET: directives run, text/html, Content-Length of the output', async () => {
  const r = await request('/index.shtml?a=1%20b;c');
  assert.is(r.status, 200);
  assert.is(r.header('content-type'), 'text/html');
  const body = r.body.toString();
  assert.is(Number(r.header('content-length')), r.body.length);
  assert.is(body, '<h1>/index.shtml</h1>\nhello world\nq=a=1%20b;c u=a=1 b\\;c m=GET p=HTTP/1.1\n'
    + `[footer <!--#echo var="who" -->]${FILES['www/parts/footer.html']!.length}\n`);
  assert.is(r.header('etag'), undefined, 'no ETag without ssi.conditional-requests');
  assert.is(r.header('last-modified'), undefined);
});

S('HTTP/1.0 GET and HEAD get the same head; HEAD no body', async () => {
  const get = await request('/index.shtml', { version: '1.0' });
  assert.is(get.version, 'HTTP/1.0');
  assert.is(get.status, 200);
  assert.ok(get.body.toString().includes('p=HTTP/1.0'));
  const head = await request('/index.shtml', { method: 'HEAD', version: '1.0' });
  assert.is(head.status, 200);
  // The output says m=HEAD instead of m=GET: one byte more.
  assert.is(Number(head.header('content-length')), Number(get.header('content-length')) + 1);
  assert.is(head.body.length, 0);
  const get11 = await request('/deep/v.shtml');
  const head11 = await request('/deep/v.shtml', { method: 'HEAD' });
  assert.is(head11.status, 200);
  assert.is(head11.header('content-length'), get11.header('content-length'));
  assert.is(head11.header('content-type'), 'text/html');
  assert.is(head11.body.length, 0);
  assert.ok(head11.raw.toString('latin1').endsWith('\r\n\r\n'), 'nothing after the head');
});

S('keep-alive: two pipelined requests on one connection are both answered', async () => {
  const r = await rawExchange({
    port, send: 'GET /deep/v.shtml HTTP/1.1\r\nHost: t\r\n\r\nGET /typed/t.shtml HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    // No half-close here: the core answers only the first of pipelined requests followed by a
    // FIN, static files included (not an SSI matter).
    expectResponses: 2, timeoutMs: 10_000,
  });
  assert.is(r.responses.length, 2);
  assert.is(r.responses[0]!.body.toString(), 'footer 1');
  assert.is(r.responses[1]!.body.toString(), 'typed');
});

S('POST is processed; other methods and other files are not SSI; missing page 404', async () => {
  const plain = await request('/plain.html');
  assert.is(plain.body.toString(), FILES['www/plain.html']);
  const post = await request('/index.shtml', { method: 'POST', extra: 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n', body: 'a=b&c' });
  assert.is(post.status, 200, 'a POST is processed as lighttpd does');
  assert.match(post.body.toString(), /m=POST/);
  const put = await request('/index.shtml', { method: 'PUT', extra: 'Content-Length: 0\r\n' });
  assert.is.not(put.status, 200);
  assert.not.ok(put.body.toString().includes('<!--#'), 'the source is never sent');
  assert.is((await request('/nope.shtml')).status, 404);
  assert.is((await request('/dir.shtml')).status, 403, 'a directory is no page');
  assert.is((await request('/dir.shtml/index.html')).body.toString(), FILES['www/dir.shtml/index.html'], 'a file in a directory named like a page is static');
  const pathInfo = await request('/index.shtml/extra');
  assert.is(pathInfo.status, 200);
  assert.match(pathInfo.body.toString(), /^<h1>\/index\.shtml\/extra<\/h1>\nhello world/, 'path info: the page is processed, its source never sent');
});

S('request headers as HTTP_* variables, Authorization left out, encoding="entity"', async () => {
  const r = await request('/headers.shtml', { extra: 'User-Agent: probe/1\r\nAuthorization: Basic c2VjcmV0\r\nX-Tag: <b>&\r\n' });
  assert.is(r.body.toString(), 'ua=probe/1 auth=(none) ent=&lt;b&gt;&amp;');
});

S('broken directives insert the errmsg and are logged; nothing escapes the document root', async () => {
  const r = await request('/broken.shtml');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), `a${ERRMSG}b${ERRMSG}c${ERRMSG}d${ERRMSG}e${ERRMSG}f`);
  await waitFor(() => /exec is disabled/.test(errorLog()), 5000, 20, 'the exec line in the error log');
  const log = errorLog();
  assert.match(log, /broken\.shtml: unknown directive "nosuch"/);
  assert.match(log, /outside the document root/);
  assert.match(log, /missing\.html/);
  assert.not.match(log, STACK_LINE);
  const custom = await request('/errmsg.shtml');
  assert.is(custom.body.toString(), '[custom]');
});

S('ssi.recursion-max: nested includes processed up to the limit, loops cut', async () => {
  const r = await request('/deep/a.shtml');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'A(B(A(B((error: include directives recurse deeper than pre-defined ssi.recursion-max)))))');
  const v = await request('/deep/v.shtml');
  assert.is(v.body.toString(), 'footer 1', 'the included page is processed and sees the variables set before');
});

S('ssi.exec enabled: /bin/sh in the page directory, CGI variables in its environment, stderr to the log', async () => {
  const r = await request('/exec/run.shtml?x=1');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), `[${fs.realpathSync(path.join(dir, 'www/exec'))}\nx=1\n]`);
  await waitFor(() => /stderr: err/.test(errorLog()), 5000, 20, 'the command stderr in the error log');
});

S('ssi.conditional-requests: ETag and Last-Modified from the newest file; 304', async () => {
  const r = await request('/cond/page.shtml');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'cached inc');
  const etag = r.header('etag');
  const lastModified = r.header('last-modified');
  assert.ok(etag && lastModified, 'validators sent');
  const inc = fs.statSync(path.join(dir, 'www/cond/inc.html'));
  assert.is(lastModified, new Date(Math.floor(Math.max(inc.mtimeMs, fs.statSync(path.join(dir, 'www/cond/page.shtml')).mtimeMs) / 1000) * 1000).toUTCString());
  const nm = await request('/cond/page.shtml', { extra: `If-None-Match: ${etag}\r\n` });
  assert.is(nm.status, 304);
  assert.is(nm.body.length, 0);
  assert.is(nm.header('etag'), etag);
  const ims = await request('/cond/page.shtml', { version: '1.0', extra: `If-Modified-Since: ${lastModified}\r\n` });
  assert.is(ims.status, 304);
  // A newer include changes the validators.
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(dir, 'www/cond/inc.html'), later, later);
  const changed = await request('/cond/page.shtml', { extra: `If-None-Match: ${etag}\r\n` });
  assert.is(changed.status, 200);
  assert.is.not(changed.header('etag'), etag);
});

S('ssi.content-type, and mimetype.assign for another ssi.extension', async () => {
  assert.is((await request('/typed/t.shtml')).header('content-type'), 'text/html; charset=utf-8');
  const other = await request('/other.ssi');
  assert.is(other.header('content-type'), 'text/x-ssi-page');
  assert.is(other.body.toString(), 'other other.ssi');
  const notNow = await request('/other.ssi'.replace('/other', '/plain').replace('.ssi', '.html'));
  assert.is(notNow.status, 200);
});

S('a large page with thousands of directives: whole, and the server goes on', async () => {
  const r = await request('/many.shtml');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), '.'.repeat(5000) + 'x'.repeat(300_000) + ERRMSG.repeat(2000));
  assert.is(Number(r.header('content-length')), r.body.length);
  await waitFor(() => /more SSI errors in this request were not logged/.test(errorLog()), 5000, 20, 'the capped error count');
  assert.is((await request('/typed/t.shtml')).status, 200);
});

S('a bad ssi.* value stops the start with file:line and the key (more cases: test/unit/plugins/ssi/config.test.ts)', async () => {
  const conf = path.join(dir, 'bad.conf');
  fs.writeFileSync(conf, `server.document-root = "${dir}/www"\nserver.modules = ( "mod_ssi" )\nssi.recursion-max = "deep"\n`);
  const r = await runLantern(['-t', '-f', conf], { cwd: dir, timeoutMs: 30_000 });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /bad\.conf:3: ssi\.recursion-max: expected an integer/);
  assert.not.match(r.stderr, STACK_LINE);
});

S.run();

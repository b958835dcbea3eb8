// Integration tests of plugins/expire (lighttpd 1.4.69 mod_expire) and plugins/extforward
// (mod_extforward) from the smallest lighttpd configs: Cache-Control / Expires by URL prefix and
// by Content-Type, and the client address a trusted proxy forwards (X-Forwarded-For, Forwarded,
// X-Real-IP, a HAProxy PROXY header) as $HTTP["remoteip"], the access log's %h, a real CGI
// script's REMOTE_ADDR / HTTPS and a proxied backend's X-Forwarded-For see it.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { ListeningSocket } from '../helpers/ports.js';
import { rawExchange, rawRequests, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which } from '../helpers/wait.js';

const T = suite('mod-expire-extforward');
const PERL = which('perl');
const perl = skipUnless(T, PERL !== null, 'perl not installed');

const ENV_SCRIPT = `#!${PERL ?? '/usr/bin/perl'}
print "Content-Type: text/plain\\r\\n\\r\\n";
print "$_=$ENV{$_}\\n" for qw(REMOTE_ADDR REMOTE_PORT HTTPS REQUEST_SCHEME REMOTE_USER HTTP_HOST SSL_CLIENT_VERIFY);
`;

const FILES: Record<string, string> = {
  'www/env.pl': ENV_SCRIPT,
  'www/untrusted/env.pl': ENV_SCRIPT,
  'www/static/a.txt': 'a\n',
  'www/static/cc.pl': `#!${PERL ?? '/usr/bin/perl'}\nprint "Cache-Control: no-store\\r\\nContent-Type: text/plain\\r\\n\\r\\ncc";\n`,
  'www/mod/old.txt': 'old\n',
  'www/mod/new.txt': 'new\n',
  'www/img/a.png': 'png',
  'www/style.css': 'css',
  'www/other.txt': 'other',
};

let server: LighttpdConfigServer | undefined;
let backend: FakeBackend | null = null;
let port = 0;
let hapPort = 0;
let dir = '';
const dirs: string[] = [];

function config(d: string, listenPort: number, backendPort: number): string {
  return `server.bind = "127.0.0.1"
server.port = ${listenPort}
server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
server.modules = ( "mod_extforward", "mod_expire", "mod_accesslog", "mod_cgi", "mod_proxy" )
accesslog.filename = "${d}/access.log"
mimetype.assign = ( ".txt" => "text/plain", ".css" => "text/css", ".png" => "image/png" )
cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" )
extforward.forwarder = ( "127.0.0.1" => "trust", "10.0.0.0/8" => "trust" )
extforward.headers = ( "X-Forwarded-For", "Forwarded", "X-Real-IP" )
extforward.params = ( "host" => "enable", "remote_user" => "enable" )
expire.url = ( "/static/" => "access plus 1 hours", "/mod/" => "modification plus 2 days 3 hours" )
expire.mimetypes = ( "image/*" => "access plus 1 days", "text/css" => "access 10 minutes" )
$HTTP["remoteip"] == "192.0.2.7" {
  server.tag = "seen-as-192.0.2.7"
}
$HTTP["scheme"] == "https" {
  server.tag = "seen-https"
}
$HTTP["url"] =^ "/untrusted/" {
  extforward.forwarder = ( "10.0.0.1" => "trust" )
}
$HTTP["url"] =^ "/proxied/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${backendPort} ) ) )
}
$SERVER["socket"] == "127.0.0.1:${hapPort}" {
  extforward.hap-PROXY = "enable"
  extforward.hap-PROXY-ssl-client-verify = "enable"
}
`;
}

T.before(async () => {
  backend = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied' });
  const backendPort = backend.port;
  const hapSocket = await ListeningSocket.open();
  hapPort = hapSocket.port;
  server = await startLighttpdConfig((d, listenPort) => config(d, listenPort, backendPort), {
    prefix: 'expire-extforward',
    files: FILES,
    prepare(d) {
      const now = Date.now() / 1000;
      fs.utimesSync(path.join(d, 'www/mod/old.txt'), now - 10 * 86400, now - 10 * 86400);
      fs.utimesSync(path.join(d, 'www/mod/new.txt'), now - 3600, now - 3600);
    },
    sockets: [hapSocket],
  });
  ({ dir, port } = server);
});

T.after(async () => {
  try {
    await server?.stop();
  } finally {
    await backend?.close();
    for (const d of dirs) removeDir(d);
  }
});

/**
 * Sends `send` and reads `responses` answers. One request: the client half-closes after it. Two
 * on one connection: it does not (a FIN while a CGI answer runs makes that answer the last), and
 * the last request says Connection: close.
 */
async function exchange(send: string | Buffer | Array<string | Buffer>, on = port, responses = 1): Promise<RawResponse[]> {
  return rawRequests(on, send, responses, { halfClose: responses === 1 });
}
const get11 = async (target: string, extra = '') => (await exchange(`GET ${target} HTTP/1.1\r\nHost: ef.test\r\n${extra}Connection: close\r\n\r\n`))[0]!;
const get10 = async (target: string, extra = '') => (await exchange(`GET ${target} HTTP/1.0\r\n${extra}\r\n`))[0]!;

function envOf(r: RawResponse): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of r.body.toString('latin1').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

const maxAge = (r: RawResponse) => Number(/^max-age=(\d+)$/.exec(r.header('Cache-Control') ?? '')?.[1] ?? NaN);
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 5, `${what}: ${actual} is not about ${expected}`);

// ---- mod_expire ----

T('expire.url: HTTP/1.1 gets Cache-Control: max-age, HTTP/1.0 gets Expires (lighttpd 1.4.69)', async () => {
  const r11 = await get11('/static/a.txt');
  assert.is(r11.status, 200);
  assert.is(r11.header('Cache-Control'), 'max-age=3600');
  assert.is(r11.header('Expires'), undefined);
  const r10 = await get10('/static/a.txt');
  assert.is(r10.status, 200);
  assert.is(r10.header('Cache-Control'), undefined);
  const expires = Date.parse(r10.header('Expires') ?? '');
  const date = Date.parse(r10.header('Date') ?? '');
  assert.match(r10.header('Expires') ?? '', /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  near((expires - date) / 1000, 3600, 'Expires - Date');
});

T('"modification": from the file\'s mtime, never before now', async () => {
  near(maxAge(await get11('/mod/new.txt')), 2 * 86400 + 3 * 3600 - 3600, 'max-age of a file modified an hour ago');
  assert.is((await get11('/mod/old.txt')).header('Cache-Control'), 'max-age=0');
});

T('expire.mimetypes by Content-Type prefix ("image/*"), only when no expire.url key matched', async () => {
  assert.is((await get11('/img/a.png')).header('Cache-Control'), 'max-age=86400');
  assert.is((await get11('/style.css')).header('Cache-Control'), 'max-age=600');
  assert.is((await get11('/other.txt')).header('Cache-Control'), undefined, 'text/plain matches nothing');
});

perl('not on errors, not on POST, never over a Cache-Control the handler set', async () => {
  const missing = await get11('/static/missing.txt');
  assert.is(missing.status, 404);
  assert.is(missing.header('Cache-Control'), undefined);
  const [post] = await exchange('POST /static/cc.pl HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx');
  assert.is(post!.status, 200);
  assert.equal(post!.headerAll('Cache-Control'), ['no-store']);
  assert.equal((await get11('/static/cc.pl')).headerAll('Cache-Control'), ['no-store']);
});

// ---- mod_extforward ----

perl('X-Forwarded-For from a trusted peer: the rightmost untrusted address is the client (CGI, access log, HTTP/1.0 and 1.1)', async () => {
  const r = await get11('/env.pl', 'X-Forwarded-For: 203.0.113.9, 10.1.2.3\r\n');
  assert.is(r.status, 200);
  const env = envOf(r);
  assert.is(env.get('REMOTE_ADDR'), '203.0.113.9');
  assert.is(env.get('HTTPS'), '');
  assert.is(env.get('REQUEST_SCHEME'), 'http');
  const r10 = await get10('/env.pl', 'X-Forwarded-For: 198.51.100.4\r\n');
  assert.is(envOf(r10).get('REMOTE_ADDR'), '198.51.100.4');
  const log = path.join(dir, 'access.log');
  await waitFor(() => fs.existsSync(log) && /^198\.51\.100\.4 /m.test(fs.readFileSync(log, 'utf8')), 10_000, 20, 'the access log line');
  assert.match(fs.readFileSync(log, 'utf8'), /^203\.0\.113\.9 .*"GET \/env\.pl HTTP\/1\.1" 200/m);
});

T('$HTTP["remoteip"] conditions see the forwarded address', async () => {
  assert.is((await get11('/other.txt', 'X-Forwarded-For: 192.0.2.7\r\n')).header('Server'), 'seen-as-192.0.2.7');
  assert.is.not((await get11('/other.txt', 'X-Forwarded-For: 192.0.2.8\r\n')).header('Server'), 'seen-as-192.0.2.7');
  assert.is.not((await get11('/other.txt')).header('Server'), 'seen-as-192.0.2.7');
});

perl('X-Forwarded-Proto: https sets the scheme: HTTPS=on, REQUEST_SCHEME, $HTTP["scheme"]', async () => {
  const r = await get11('/env.pl', 'X-Forwarded-For: 203.0.113.5\r\nX-Forwarded-Proto: https\r\n');
  const env = envOf(r);
  assert.is(env.get('REMOTE_ADDR'), '203.0.113.5');
  assert.is(env.get('HTTPS'), 'on');
  assert.is(env.get('REQUEST_SCHEME'), 'https');
  assert.is(r.header('Server'), 'seen-https');
});

perl('an untrusted peer\'s fields are ignored', async () => {
  const env = envOf(await get11('/untrusted/env.pl', 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n'));
  assert.is(env.get('REMOTE_ADDR'), '127.0.0.1');
  assert.is(env.get('HTTPS'), '');
});

perl('Forwarded (RFC 7239): for, proto, host and remote_user of the first untrusted hop; IPv6 with a port', async () => {
  const env = envOf(await get11('/env.pl', 'Forwarded: for=198.51.100.17;proto=https;host=app.example;remote_user="alice", for=10.0.0.5\r\n'));
  assert.is(env.get('REMOTE_ADDR'), '198.51.100.17');
  assert.is(env.get('HTTPS'), 'on');
  assert.is(env.get('HTTP_HOST'), 'app.example');
  assert.is(env.get('REMOTE_USER'), 'alice');
  const v6 = envOf(await get10('/env.pl', 'Forwarded: for="[2001:db8::1]:4711"\r\n'));
  assert.is(v6.get('REMOTE_ADDR'), '2001:db8::1');
  assert.is(v6.get('REMOTE_PORT'), '0');
});

T('a malformed Forwarded from a trusted peer is refused with 400, not a crash', async () => {
  const r = await get11('/other.txt', 'Forwarded: for="1.2.3.4\r\n');
  assert.is(r.status, 400);
  assert.not.match(r.body.toString(), STACK_LINE);
  assert.is((await get11('/other.txt')).status, 200, 'the server goes on');
});

perl('X-Real-IP', async () => {
  assert.is(envOf(await get11('/env.pl', 'X-Real-IP: 203.0.113.77\r\n')).get('REMOTE_ADDR'), '203.0.113.77');
});

perl('the address is the forwarded one for one request only: the next request on the connection is the peer again', async () => {
  const [a, b] = await exchange([
    'GET /env.pl HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.1\r\n\r\n',
    'GET /env.pl HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ], port, 2);
  assert.is(envOf(a!).get('REMOTE_ADDR'), '203.0.113.1');
  assert.is(envOf(b!).get('REMOTE_ADDR'), '127.0.0.1');
});

T('a proxied backend gets the client address as X-Forwarded-For and the forwarded scheme', async () => {
  const r = await get11('/proxied/x', 'X-Forwarded-For: 203.0.113.9, 10.1.2.3\r\nX-Forwarded-Proto: https\r\n');
  assert.is(r.status, 200);
  const seen = backend!.connections.flatMap((c) => c.requests).at(-1)!;
  assert.is(seen.header('X-Forwarded-For'), '203.0.113.9');
  assert.is(seen.header('X-Forwarded-Proto'), 'https');
});

// ---- HAProxy PROXY protocol ----

perl('hap-PROXY v1: the header\'s source address and port, for every request on the connection', async () => {
  const [a, b] = await exchange([
    'PROXY TCP4 192.0.2.7 127.0.0.1 56324 80\r\nGET /env.pl HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /env.pl HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ], hapPort, 2);
  assert.is(envOf(a!).get('REMOTE_ADDR'), '192.0.2.7');
  assert.is(envOf(a!).get('REMOTE_PORT'), '56324');
  assert.is(a!.header('Server'), 'seen-as-192.0.2.7');
  assert.is(envOf(a!).get('SSL_CLIENT_VERIFY'), 'NONE');
  assert.is(envOf(b!).get('REMOTE_ADDR'), '192.0.2.7');
});

/** A PROXY v2 header: PROXY command, TCP over IPv4, with `tlvs` after the addresses. */
function v2Header(src: number[], srcPort: number, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const sig = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
  const addr = Buffer.alloc(12);
  Buffer.from(src).copy(addr, 0);
  Buffer.from([127, 0, 0, 1]).copy(addr, 4);
  addr.writeUInt16BE(srcPort, 8);
  addr.writeUInt16BE(443, 10);
  const head = Buffer.from([0x21, 0x11, 0, 0]);
  head.writeUInt16BE(12 + tlvs.length, 2);
  return Buffer.concat([sig, head, addr, tlvs]);
}

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.from([type, 0, 0]);
  h.writeUInt16BE(value.length, 1);
  return Buffer.concat([h, value]);
}

perl('hap-PROXY v2, sent in two pieces: address, port, and TLS to the proxy (PP2_TYPE_SSL) as HTTPS=on; a verified client certificate', async () => {
  const ssl = tlv(0x20, Buffer.concat([Buffer.from([0x01 | 0x02, 0, 0, 0, 0]), tlv(0x22, Buffer.from('client-cn')), tlv(0x21, Buffer.from('TLSv1.3'))]));
  const header = v2Header([198, 51, 100, 23], 40000, ssl);
  const [r] = await exchange([header.subarray(0, 10), Buffer.concat([header.subarray(10), Buffer.from('GET /env.pl HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')])], hapPort);
  const env = envOf(r!);
  assert.is(env.get('REMOTE_ADDR'), '198.51.100.23');
  assert.is(env.get('REMOTE_PORT'), '40000');
  assert.is(env.get('HTTPS'), 'on');
  assert.is(env.get('SSL_CLIENT_VERIFY'), 'SUCCESS');
  assert.is(env.get('REMOTE_USER'), 'client-cn');
});

T('hap-PROXY: a trusted peer without a valid header is disconnected and logged; the plain port is unaffected', async () => {
  const r = await rawExchange({ port: hapPort, send: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', halfClose: true, timeoutMs: 10_000 });
  assert.ok(r.closed, 'closed');
  assert.is(r.responses.length, 0);
  await waitFor(() => /hap-PROXY from 127\.0\.0\.1: .*closed/.test(fs.readFileSync(path.join(dir, 'error.log'), 'utf8')), 10_000, 20, 'the error log line');
  assert.is((await get11('/other.txt')).status, 200);
});

T('a bad expire expression or forwarder stops the start with file:line and the key', async () => {
  const bad = makeTempDir('ef-bad');
  dirs.push(bad);
  const file = path.join(bad, 'lighttpd.conf');
  fs.writeFileSync(file, `server.document-root = "${bad}"\nserver.modules = ( "mod_expire" )\nexpire.url = ( "/a/" => "access plus 1 fortnight" )\n`);
  const r = await runLantern(['-t', '-f', file], { cwd: bad, timeoutMs: 30_000 });
  assert.is.not(r.code, 0);
  assert.ok(r.stderr.includes(`${file}:3: expire.url: `), r.stderr);
  assert.match(r.stderr, /unknown unit "fortnight"/);
  assert.not.match(r.stderr, STACK_LINE);
});

T.run();

// ssl-upstream: TLS to backends as a transport under the protocol, configured as a lighttpd user
// writes it (per-host "tls" => "enable" in proxy.server / fastcgi.server, lighttpd 1.5's
// proxy-core.tls), against real node:https / node:tls backends with certificates made by openssl
// at test time: CA verification (502 and the reason in the error log), SNI per backend, client
// certificates, session reuse counted in the status snapshot, FastCGI over TLS, pooled keep-alive.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startFakeFastcgi, fcgiResponse, type FakeFastcgi } from '../helpers/fake-fastcgi.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, which } from '../helpers/wait.js';
import { makeTestCerts, type TestCerts } from '../unit/plugins/ssl-upstream/test-certs.js';

const Ssl = suite('ssl-upstream');
const test = skipUnless(Ssl, which('openssl') !== null, 'openssl not installed');

/** What a TLS backend saw of one request. */
interface Seen { url: string; servername: string | false; alpn: string | false; reused: boolean; clientCert: string | null }

interface Backend { port: number; seen: Seen[]; connections: number; close(): Promise<void> }

let dir = '';
let certs: TestCerts;
let server: LighttpdConfigServer | undefined;
let proc: LanternProcess | undefined;
const backends: Backend[] = [];
let good: Backend;
let wrongCa: Backend;
let expired: Backend;
let mtls: Backend;
let fcgi: FakeFastcgi;
let fcgiTls: net.Server;
/** Config line of each block's backend key, by URL prefix: the status snapshot names backends after it. */
const lineOf = new Map<string, number>();

/** An HTTPS backend that answers with what it saw (SNI, ALPN, resumption, client certificate). */
async function httpsBackend(opts: https.ServerOptions): Promise<Backend> {
  const b: Backend = { port: 0, seen: [], connections: 0, close: async () => {} };
  const server = https.createServer({ ...opts, keepAliveTimeout: 30_000 }, (req, res) => {
    const s = req.socket as tls.TLSSocket;
    const peer = s.getPeerCertificate();
    const seen: Seen = {
      url: req.url ?? '',
      servername: (s as unknown as { servername: string | false }).servername,
      alpn: s.alpnProtocol ?? false,
      reused: s.isSessionReused(),
      clientCert: peer && peer.subject ? String(peer.subject.CN) : null,
    };
    b.seen.push(seen);
    req.resume();
    req.on('end', () => {
      const body = `hello over TLS ${req.method} ${seen.url}\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('secureConnection', () => { b.connections++; });
  server.on('tlsClientError', () => { /* a refused handshake: lantern's side is what is tested */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  backends.push(b);
  return b;
}

Ssl.before(async () => {
  if (which('openssl') === null) return;
  dir = makeTempDir('ssl-upstream');
  certs = makeTestCerts(dir);
  const read = (f: string) => fs.readFileSync(f);
  good = await httpsBackend({ key: read(certs.serverKey), cert: read(certs.serverCert) });
  wrongCa = await httpsBackend({ key: read(certs.otherKey), cert: read(certs.otherChain) });
  expired = await httpsBackend({ key: read(certs.serverKey), cert: read(certs.expiredCert) });
  mtls = await httpsBackend({ key: read(certs.serverKey), cert: read(certs.serverCert), ca: read(certs.caCert), requestCert: true, rejectUnauthorized: true });
  // FastCGI over TLS: a TLS terminator in front of the fake FastCGI responder.
  fcgi = await startFakeFastcgi({ respond: (r) => fcgiResponse(`Content-Type: text/plain\r\n\r\nfastcgi ${r.env.get('REQUEST_URI')} over TLS\n`, { requestId: r.requestId }) });
  fcgiTls = tls.createServer({ key: read(certs.serverKey), cert: read(certs.serverCert) }, (s) => {
    const plain = net.connect(fcgi.port, '127.0.0.1');
    s.pipe(plain).pipe(s);
    s.on('error', () => plain.destroy());
    plain.on('error', () => s.destroy());
  });
  await new Promise<void>((resolve) => fcgiTls.listen(0, '127.0.0.1', resolve));
  const fcgiTlsPort = (fcgiTls.address() as net.AddressInfo).port;

  const ca = certs.caCert;
  const host = (p: number, extra = '') => `( "" => ( ( "host" => "127.0.0.1", "port" => ${p}, "tls" => "enable", "tls-ca-file" => "${ca}"${extra} ) ) )`;
  const lines = [
    'server.modules = ( "mod_proxy", "mod_fastcgi", "mod_status" )',
    `server.document-root = "${dir}"`,
    'status.status-url = "/server-status"',
    '$HTTP["url"] =^ "/ok/" {', `  proxy.server = ${host(good.port)}`, '}',
    '$HTTP["url"] =^ "/wrong-ca/" {', `  proxy.server = ${host(wrongCa.port)}`, '}',
    '$HTTP["url"] =^ "/expired/" {', `  proxy.server = ${host(expired.port)}`, '}',
    '$HTTP["url"] =^ "/two/" {', `  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${wrongCa.port}, "tls" => "enable", "tls-ca-file" => "${ca}" ), ( "host" => "127.0.0.1", "port" => ${good.port}, "tls" => "enable", "tls-ca-file" => "${ca}" ) ) )`, '}',
    '$HTTP["url"] =^ "/sni-a/" {', `  proxy.server = ${host(good.port, ', "tls-sni" => "a.test"')}`, '}',
    '$HTTP["url"] =^ "/sni-b/" {', `  proxy.server = ${host(good.port, ', "tls-sni" => "b.test"')}`, '}',
    '$HTTP["url"] =^ "/bad-name/" {', `  proxy.server = ${host(good.port, ', "tls-sni" => "c.test"')}`, '}',
    '$HTTP["url"] =^ "/mtls/" {', `  proxy.server = ${host(mtls.port, `, "tls-cert" => "${certs.clientCert}", "tls-key" => "${certs.clientKey}"`)}`, '}',
    '$HTTP["url"] =^ "/mtls-pem/" {', `  proxy.server = ${host(mtls.port, `, "tls-cert" => "${certs.clientPem}"`)}`, '}',
    '$HTTP["url"] =^ "/no-cert/" {', `  proxy.server = ${host(mtls.port)}`, '}',
    '$HTTP["url"] =^ "/fresh/" {', '  proxy-core.max-keep-alive-requests = 1', `  proxy.server = ${host(good.port)}`, '}',
    '$HTTP["url"] =^ "/pooled/" {', `  proxy.server = ${host(good.port)}`, '}',
    '$HTTP["url"] =^ "/php/" {', `  fastcgi.server = ( "/php/" => ( ( "host" => "127.0.0.1", "port" => ${fcgiTlsPort}, "check-local" => "disable", "tls" => "enable", "tls-ca-file" => "${ca}" ) ) )`, '}',
    '$HTTP["url"] =^ "/core/" {', `  proxy-core.backends = ( "127.0.0.1:${good.port}" )`, '  proxy-core.tls = "enable"', `  proxy-core.tls-ca-file = "${ca}"`, '}',
  ];
  let block = '';
  lines.forEach((l, i) => {
    const m = /^\$HTTP\["url"\] =\^ "([^"]+)"/.exec(l);
    if (m) block = m[1]!;
    if (/^\s*(proxy\.server|fastcgi\.server|proxy-core\.backends) =/.test(l)) lineOf.set(block, i + 1);
  });
  server = await startLighttpdConfig(`${lines.join('\n')}\n`, { dir });
  proc = server.proc;
});

Ssl.after(async () => {
  try {
    await server?.stop();
  } finally {
    for (const b of backends) await b.close();
    if (fcgiTls) await new Promise<void>((resolve) => { fcgiTls.close(() => resolve()); });
    if (fcgi) await fcgi.close();
    removeDir(dir); // made before the server started: gone already unless the start was not reached
  }
});

async function get(target: string, version = '1.1'): Promise<RawResponse> {
  const close = version === '1.1' ? 'Connection: close\r\n' : '';
  return server!.request(`GET ${target} HTTP/${version}\r\nHost: example.test\r\n${close}\r\n`, { timeoutMs: 8000 });
}

interface Snap { name: string; failures: Record<string, number>; transport?: Record<string, number>; members: Array<{ key: string; state: string; lastError: string | null; transport?: Record<string, number> }> }

/** The status snapshot of the backend configured in the block of `prefix`. */
async function backendSnapshot(prefix: string, module = 'proxy'): Promise<Snap> {
  const res = await get('/server-status?json');
  assert.is(res.status, 200);
  const all = JSON.parse(res.body.toString()).backends as Snap[];
  const line = lineOf.get(prefix)!;
  const b = all.find((x) => (module === 'proxy-core' ? x.name === `lighttpd.conf:${line}` : x.name.startsWith(`${module}:lighttpd.conf:${line}:`)));
  assert.ok(b, `a backend for ${prefix} (line ${line}) in ${all.map((x) => x.name).join(', ')}`);
  return b!;
}

test('a verified HTTPS backend: HTTP/1.1 and HTTP/1.0 clients get its answer, ALPN http/1.1, no SNI for an IP address', async () => {
  const before = good.seen.length;
  const r11 = await get('/ok/one');
  assert.is(r11.status, 200);
  assert.is(r11.body.toString(), 'hello over TLS GET /ok/one\n');
  const r10 = await get('/ok/two', '1.0');
  assert.is(r10.status, 200);
  assert.is(r10.version, 'HTTP/1.0');
  assert.is(r10.body.toString(), 'hello over TLS GET /ok/two\n');
  const seen = good.seen.slice(before);
  assert.equal(seen.map((s) => s.url), ['/ok/one', '/ok/two']);
  assert.is(seen[0]!.alpn, 'http/1.1');
  assert.is(seen[0]!.servername, false, 'RFC 6066: no IP literal in SNI');
});

test('a backend whose certificate another CA signed: 502, the reason in the error log and in lastError', async () => {
  const r = await get('/wrong-ca/x');
  assert.is(r.status, 502);
  assert.is(wrongCa.seen.length, 0, 'no request reached it');
  await proc!.waitOutput('stderr', /self-signed certificate in certificate chain/, 5000);
  const line = proc!.stderr.split('\n').find((l) => l.includes('self-signed certificate in certificate chain'))!;
  assert.match(line, `127.0.0.1:${wrongCa.port}`);
  assert.match(line, 'TLS handshake');
  assert.not.match(proc!.stderr, STACK_LINE);
  const b = await backendSnapshot('/wrong-ca/');
  assert.is(b.failures.tls, 1);
  assert.match(b.members[0]!.lastError ?? '', 'self-signed certificate in certificate chain');
  assert.is(b.members[0]!.transport!.tlsFailedHandshakes, 1);
});

test('an expired certificate: 502, "certificate has expired" in the error log', async () => {
  const r = await get('/expired/x');
  assert.is(r.status, 502);
  assert.is(expired.seen.length, 0);
  await proc!.waitOutput('stderr', /certificate has expired/, 5000);
  const b = await backendSnapshot('/expired/');
  assert.match(b.members[0]!.lastError ?? '', 'certificate has expired [CERT_HAS_EXPIRED]');
});

test('two hosts, one with a bad certificate: the request goes on to the other (nothing was sent), the bad one is disabled', async () => {
  const before = good.seen.length;
  for (const n of [1, 2, 3]) {
    const r = await get(`/two/${n}`);
    assert.is(r.status, 200, `request ${n}`);
  }
  assert.equal(good.seen.slice(before).map((s) => s.url), ['/two/1', '/two/2', '/two/3']);
  const b = await backendSnapshot('/two/');
  assert.is(b.failures.tls, 1, 'tried once, then left out');
  const bad = b.members.find((m) => m.key === `127.0.0.1:${wrongCa.port}`) as { state?: string } | undefined;
  assert.is(bad?.state, 'disabled');
});

test('a certificate that does not name the SNI host: 502, the altnames mismatch logged', async () => {
  const r = await get('/bad-name/x');
  assert.is(r.status, 502);
  await proc!.waitOutput('stderr', /Hostname\/IP does not match certificate's altnames/, 5000);
  assert.ok(!good.seen.some((s) => s.url === '/bad-name/x'));
});

test('SNI chosen per backend: each backend sends its own tls-sni', async () => {
  assert.is((await get('/sni-a/x')).status, 200);
  assert.is((await get('/sni-b/y')).status, 200);
  const a = good.seen.find((s) => s.url === '/sni-a/x');
  const b = good.seen.find((s) => s.url === '/sni-b/y');
  assert.is(a?.servername, 'a.test');
  assert.is(b?.servername, 'b.test');
});

test('client certificates: a backend that requires one gets it (cert + key files, or one PEM); without: 502', async () => {
  const r = await get('/mtls/x');
  assert.is(r.status, 200, r.body.toString());
  assert.is(mtls.seen.find((s) => s.url === '/mtls/x')?.clientCert, 'lantern client');
  assert.is((await get('/mtls-pem/y')).status, 200);
  assert.is(mtls.seen.find((s) => s.url === '/mtls-pem/y')?.clientCert, 'lantern client');
  const no = await get('/no-cert/z');
  assert.is(no.status, 502);
  assert.ok(!mtls.seen.some((s) => s.url === '/no-cert/z'));
});

test('session reuse: with a new connection per request, the second handshake resumes the first session', async () => {
  const before = good.seen.length;
  assert.is((await get('/fresh/1')).status, 200);
  assert.is((await get('/fresh/2')).status, 200);
  assert.is((await get('/fresh/3')).status, 200);
  const seen = good.seen.slice(before);
  assert.equal(seen.map((s) => s.reused), [false, true, true], 'as the backend saw them');
  const b = await backendSnapshot('/fresh/');
  assert.equal(b.transport, { tlsFullHandshakes: 1, tlsResumedHandshakes: 2, tlsFailedHandshakes: 0 });
});

test('pooled keep-alive over TLS: three requests, one TLS connection', async () => {
  const before = good.connections;
  for (const n of [1, 2, 3]) {
    const r = await get(`/pooled/${n}`);
    assert.is(r.status, 200);
    assert.is(r.body.toString(), `hello over TLS GET /pooled/${n}\n`);
  }
  assert.is(good.connections - before, 1);
  const b = await backendSnapshot('/pooled/');
  assert.is(b.transport!.tlsFullHandshakes + b.transport!.tlsResumedHandshakes, 1);
});

test('FastCGI over TLS (fastcgi.server "tls" => "enable"): the responder behind TLS answers', async () => {
  const r = await get('/php/index.php?a=1');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'fastcgi /php/index.php?a=1 over TLS\n');
  assert.is(fcgi.requests.at(-1)?.env.get('SCRIPT_NAME'), '/php/index.php');
  const b = await backendSnapshot('/php/', 'fastcgi');
  assert.is(b.transport!.tlsFailedHandshakes, 0);
});

test('lighttpd 1.5 form: proxy-core.tls = "enable" with proxy-core.tls-ca-file', async () => {
  const r = await get('/core/x');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'hello over TLS GET /core/x\n');
  const b = await backendSnapshot('/core/', 'proxy-core');
  assert.is(b.transport!.tlsFullHandshakes, 1);
});

/** `lantern -tt` (which also runs the modules' checks: the TLS files are read) on a config with `lines` after the module list: exit code and stderr. */
async function configTest(lines: string[]): Promise<{ code: number | null; stderr: string }> {
  const conf = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.conf`);
  fs.writeFileSync(conf, ['server.modules = ( "mod_proxy" )', `server.document-root = "${dir}"`, ...lines].join('\n') + '\n');
  const r = await runLantern(['-tt', '-f', conf], { cwd: dir });
  return { code: r.code, stderr: r.stderr };
}

test('bad TLS settings stop the start with file:line and the key', async () => {
  // Every way of being wrong in the TlsKeyReader unit tests; here that each surface reports it.
  const server = (opts: string) => `proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => 443, ${opts} ) ) )`;
  const cases: Array<[string[], RegExp, RegExp]> = [
    [[server('"tls" => "enable", "tls-min-version" => "SSLv3"')], /:3: /, /"tls-min-version": expected "TLSv1\.2" or "TLSv1\.3", got "SSLv3"/],
    [[server('"tls" => "enable", "tls-ca-file" => "/nonexistent/ca.pem"')], /:3: /, /tls-ca-file "\/nonexistent\/ca.pem": cannot read it \(ENOENT\)/],
    [[server('"tls-sni" => "a.test"')], /:3: /, /"tls-sni" needs "tls" => "enable"/],
    [['proxy-core.backends = ( "127.0.0.1:443" )', 'proxy-core.tls-min-version = "TLSv1.1"'], /:4: /, /proxy-core\.tls-min-version/],
  ];
  const results = await Promise.all(cases.map(([lines]) => configTest(lines)));
  cases.forEach(([lines, where, what], i) => {
    const r = results[i]!;
    assert.is.not(r.code, 0, lines.join(' '));
    assert.match(r.stderr, new RegExp(`bad-[a-z0-9]+\\.conf${where.source}`), r.stderr);
    assert.match(r.stderr, what, r.stderr);
    assert.not.match(r.stderr, STACK_LINE);
  });
});

Ssl.run();

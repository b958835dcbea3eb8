// Integration tests of mod_openssl (TLS on listeners) from the smallest lighttpd config a user
// writes: a TLS socket and a plain one side by side ($SERVER["socket"]), certificates chosen by
// SNI through $HTTP["host"], $HTTP["scheme"], the CGI environment (HTTPS, REQUEST_SCHEME,
// SSL_*), a client that half-closes after its request, HTTP/1.0 and 1.1, a certificate reloaded
// on SIGHUP without dropping an open keep-alive connection, and bad configs under -tt.
// Certificates are made at test time with the openssl command (the tests skip without it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { rawExchange } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, startLanternProcess, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which, withTimeout } from '../helpers/wait.js';

const T = suite('tls-listener');
const OPENSSL = which('openssl');
const PERL = which('perl');
const test = skipUnless(T, OPENSSL !== null, 'openssl not installed');
const withPerl = skipUnless(T, OPENSSL !== null && PERL !== null, 'openssl or perl not installed');

const NET_MS = 10_000;

function openssl(dir: string, args: string[]): void {
  const r = spawnSync(OPENSSL!, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** P-256 keys: made in milliseconds, where RSA keys take a large part of a test's time. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** A test CA, and leaf certificates it signs (subjectAltName = the host name). */
function makeCa(dir: string): void {
  openssl(dir, ['req', '-x509', ...EC_KEY, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=lantern test CA']);
}

function makeLeaf(dir: string, name: string, host: string, org = 'first'): void {
  openssl(dir, ['req', '-new', ...EC_KEY, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=${org}/CN=${host}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=DNS:${host}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

interface Reply { status: number; headers: Map<string, string>; body: string }

/** One TLS client connection: send requests, read Content-Length framed answers. */
class TlsClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  ended = false;
  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on('end', () => { this.ended = true; this.wake(); });
    socket.on('close', () => { this.ended = true; this.wake(); });
    socket.on('error', () => { /* seen as the end */ });
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  static connect(port: number, ca: string, servername?: string, extra: tls.ConnectionOptions = {}): Promise<TlsClient> {
    return withTimeout(new Promise<TlsClient>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, servername, ...extra }, () => resolve(new TlsClient(s)));
      s.once('error', reject);
    }), NET_MS, `a TLS connection to port ${port}`);
  }

  get subject(): string { return String(this.socket.getPeerCertificate().subject?.CN ?? ''); }
  get fingerprint(): string { return this.socket.getPeerCertificate().fingerprint256; }

  send(text: string, end = false): void {
    if (end) this.socket.end(text); else this.socket.write(text);
  }

  /** The next response (by Content-Length, or up to the close). */
  async read(): Promise<Reply> {
    return withTimeout((async () => {
      for (;;) {
        const headEnd = this.buf.indexOf('\r\n\r\n');
        if (headEnd >= 0) {
          const lines = this.buf.subarray(0, headEnd).toString('latin1').split('\r\n');
          const headers = new Map<string, string>();
          for (const l of lines.slice(1)) headers.set(l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim());
          const cl = headers.get('content-length');
          const total = headEnd + 4 + (cl !== undefined ? Number(cl) : Infinity);
          if (this.buf.length >= total || (cl === undefined && this.ended)) {
            const end = Math.min(total, this.buf.length);
            const body = this.buf.subarray(headEnd + 4, end).toString('utf8');
            this.buf = this.buf.subarray(end);
            return { status: Number(lines[0]!.split(' ')[1]), headers, body };
          }
        }
        if (this.ended) throw new Error(`connection ended; got ${JSON.stringify(this.buf.toString('latin1'))}`);
        await new Promise<void>((r) => this.waiters.push(r));
      }
    })(), NET_MS, 'a response over TLS');
  }

  close(): void { this.socket.destroy(); }
}

interface Setup { proc: LanternProcess; dir: string; tlsPort: number; plainPort: number; ca: string; backend: http.Server }
let setup: Setup | null = null;
const dirs: string[] = [];

const ENV_PL = (perl: string) => `#!${perl}\nprint "Content-Type: text/plain\\r\\n\\r\\n";\nprint "$_=$ENV{$_}\\n" for sort keys %ENV;\n`;

async function ready(): Promise<Setup> {
  if (setup) return setup;
  const dir = makeTempDir('tls', { 'www/hello.txt': 'hello over tls\n', 'www/env.pl': ENV_PL(PERL ?? '/usr/bin/perl') });
  dirs.push(dir);
  makeCa(dir);
  makeLeaf(dir, 'a', 'a.example');
  makeLeaf(dir, 'b', 'b.example');
  // a.pem: certificate and key in one file; b: the key apart (ssl.privkey).
  fs.writeFileSync(path.join(dir, 'a.pem'), fs.readFileSync(path.join(dir, 'a.crt'), 'latin1') + fs.readFileSync(path.join(dir, 'a.key'), 'latin1'));
  // A backend for mod_proxy that answers with the X-Forwarded-Proto it received.
  const backend = http.createServer((req, res) => res.end(`proto=${req.headers['x-forwarded-proto'] ?? '-'}`));
  await withTimeout(new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r())), NET_MS, 'the backend listening');
  const backendPort = (backend.address() as { port: number }).port;
  const tlsSock = await ListeningSocket.open();
  const plainSock = await ListeningSocket.open();
  const conf = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(conf, `server.port = ${tlsSock.port}
server.bind = "127.0.0.1"
server.document-root = "${dir}/www"
server.errorlog = "${dir}/error.log"
server.modules = ( "mod_openssl", "mod_cgi", "mod_proxy" )
cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" )
ssl.engine = "enable"
ssl.pemfile = "${dir}/a.pem"
ssl.ca-file = "${dir}/ca.crt"
debug.log-ssl-noise = "enable"
$HTTP["url"] =^ "/app/" {
  proxy.server = ( "" => (( "host" => "127.0.0.1", "port" => ${backendPort} )) )
}
$HTTP["host"] == "b.example" {
  ssl.pemfile = "${dir}/b.crt"
  ssl.privkey = "${dir}/b.key"
}
$HTTP["scheme"] == "https" {
  server.tag = "lantern-tls"
}
$SERVER["socket"] == "127.0.0.1:${plainSock.port}" {
  ssl.engine = "disable"
}
`);
  const proc = await startLanternProcess(['-D', '-f', conf], tlsSock, { cwd: dir, sockets: [tlsSock, plainSock] });
  setup = { proc, dir, tlsPort: tlsSock.port, plainPort: plainSock.port, ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'latin1'), backend };
  return setup;
}

T.after(async () => {
  if (setup) {
    const code = await setup.proc.stop('SIGTERM');
    setup.backend.close();
    assert.is(code, 0, 'lantern exits 0 on SIGTERM');
  }
  for (const d of dirs) removeDir(d);
});

test('a TLS listener serves a static file to HTTP/1.1 and HTTP/1.0 clients (certificate from one PEM file)', async () => {
  const s = await ready();
  for (const version of ['1.1', '1.0']) {
    const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
    try {
      assert.is(c.subject, 'a.example');
      c.send(`GET /hello.txt HTTP/${version}\r\nHost: a.example\r\nConnection: close\r\n\r\n`);
      const r = await c.read();
      assert.is(r.status, 200);
      assert.is(r.body, 'hello over tls\n');
      assert.is(r.headers.get('server'), 'lantern-tls', '$HTTP["scheme"] == "https" matched');
    } finally { c.close(); }
  }
});

test('SNI picks the certificate through $HTTP["host"]; no SNI gets the socket\'s own', async () => {
  const s = await ready();
  const b = await TlsClient.connect(s.tlsPort, s.ca, 'b.example');
  try {
    assert.is(b.subject, 'b.example');
    b.send('GET /hello.txt HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n');
    assert.is((await b.read()).status, 200);
  } finally { b.close(); }
  // An IP address is no SNI name: the default certificate (checked by fingerprint, not by name).
  const plain = await TlsClient.connect(s.tlsPort, s.ca, undefined, { checkServerIdentity: () => undefined });
  try { assert.is(plain.subject, 'a.example'); } finally { plain.close(); }
});

test('a plain socket beside the TLS one ($SERVER["socket"] with ssl.engine = "disable")', async () => {
  const s = await ready();
  const r = await rawExchange({ port: s.plainPort, send: ['GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n'], expectResponses: 1, halfClose: true, timeoutMs: NET_MS });
  assert.is(r.responses[0]?.status, 200);
  assert.is(r.responses[0]?.body.toString(), 'hello over tls\n');
  assert.is(r.responses[0]?.header('server'), 'lantern', 'the https block does not match plain http');
});

test('a client that half-closes after its request still gets the answer', async () => {
  const s = await ready();
  const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
  try {
    c.send('GET /hello.txt HTTP/1.1\r\nHost: a.example\r\n\r\n', true);
    const r = await c.read();
    assert.is(r.status, 200);
    assert.is(r.body, 'hello over tls\n');
  } finally { c.close(); }
});

test('a plain-text request on the TLS port gets no HTTP answer and the server goes on', async () => {
  const s = await ready();
  const r = await rawExchange({ port: s.tlsPort, send: ['GET / HTTP/1.0\r\n\r\n'], expectResponses: 0, halfClose: true, timeoutMs: NET_MS });
  assert.not.match(r.raw.toString('latin1'), /^HTTP\//);
  // debug.log-ssl-noise: the failed handshake is in the error log.
  const log = path.join(s.dir, 'error.log');
  await waitFor(() => /SSL: handshake with 127\.0\.0\.1 on 127\.0\.0\.1:\d+ failed/.test(fs.readFileSync(log, 'utf8')), NET_MS, 20, 'the handshake failure in the error log');
  const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
  try {
    c.send('GET /hello.txt HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    assert.is((await c.read()).status, 200);
  } finally { c.close(); }
});

withPerl('CGI sees HTTPS=on, REQUEST_SCHEME=https and SSL_* on the TLS socket, http on the plain one', async () => {
  const s = await ready();
  const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
  let env: Map<string, string>;
  try {
    c.send('GET /env.pl HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    const r = await c.read();
    assert.is(r.status, 200);
    env = new Map(r.body.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
  } finally { c.close(); }
  assert.is(env.get('HTTPS'), 'on');
  assert.is(env.get('REQUEST_SCHEME'), 'https');
  assert.match(env.get('SSL_PROTOCOL') ?? '', /^TLSv1\.[23]$/);
  assert.ok((env.get('SSL_CIPHER') ?? '') !== '', 'SSL_CIPHER set');
  const p = await rawExchange({ port: s.plainPort, send: ['GET /env.pl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], expectResponses: 1, halfClose: true, timeoutMs: NET_MS });
  const body = p.responses[0]!.body.toString();
  assert.match(body, /^REQUEST_SCHEME=http$/m);
  assert.not.match(body, /^HTTPS=/m);
  assert.not.match(body, /^SSL_PROTOCOL=/m);
});

test('a proxied backend gets X-Forwarded-Proto: https from the TLS socket, http from the plain one', async () => {
  const s = await ready();
  const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
  try {
    c.send('GET /app/x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    const r = await c.read();
    assert.is(r.status, 200);
    assert.is(r.body, 'proto=https');
  } finally { c.close(); }
  const p = await rawExchange({ port: s.plainPort, send: ['GET /app/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], expectResponses: 1, halfClose: true, timeoutMs: NET_MS });
  assert.is(p.responses[0]?.body.toString(), 'proto=http');
});

test('SIGHUP reloads the certificate: new connections get the new one, an open keep-alive connection goes on', async () => {
  const s = await ready();
  const old = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
  try {
    old.send('GET /hello.txt HTTP/1.1\r\nHost: a.example\r\n\r\n');
    assert.is((await old.read()).status, 200);
    const before = old.fingerprint;
    makeLeaf(s.dir, 'a2', 'a.example', 'second');
    fs.writeFileSync(path.join(s.dir, 'a.pem'), fs.readFileSync(path.join(s.dir, 'a2.crt'), 'latin1') + fs.readFileSync(path.join(s.dir, 'a2.key'), 'latin1'));
    s.proc.child.kill('SIGHUP');
    let seen = '';
    await waitFor(async () => {
      const c = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
      seen = c.fingerprint;
      const org = c.socket.getPeerCertificate().subject?.O;
      c.close();
      return seen !== before && org === 'second';
    }, NET_MS, 50, 'a new connection with the reloaded certificate');
    // The connection opened before the reload keeps its certificate and its keep-alive.
    old.send('GET /hello.txt HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    const r = await old.read();
    assert.is(r.status, 200);
    assert.is(r.body, 'hello over tls\n');
    assert.is(old.fingerprint, before);
    // A reload that cannot read a certificate keeps the ones in use and says so in the error log.
    const pem = path.join(s.dir, 'a.pem');
    const good = fs.readFileSync(pem);
    fs.writeFileSync(pem, 'not a certificate\n');
    s.proc.child.kill('SIGHUP');
    const log = path.join(s.dir, 'error.log');
    await waitFor(() => /lighttpd\.conf:\d+: ssl\.pemfile: no certificate in ssl\.pemfile ".*a\.pem"; keeping the certificates loaded before/.test(fs.readFileSync(log, 'utf8')), NET_MS, 20, 'the failed reload in the error log');
    fs.writeFileSync(pem, good);
    const after = await TlsClient.connect(s.tlsPort, s.ca, 'a.example');
    try {
      assert.is(after.fingerprint, seen, 'still the certificate of the last good reload');
      after.send('GET /hello.txt HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
      assert.is((await after.read()).status, 200);
    } finally { after.close(); }
  } finally { old.close(); }
});

async function tt(files: Record<string, string>, conf: (dir: string) => string) {
  const dir = makeTempDir('tls-bad', files);
  dirs.push(dir);
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, conf(dir));
  const r = await runLantern(['-tt', '-f', file], { cwd: dir });
  assert.is.not(r.code, 0, `-tt fails; stdout ${r.stdout}`);
  assert.not.match(r.stderr, STACK_LINE);
  return { r, file };
}

test('bad configs stop -tt with file:line, the key and the reason', async () => {
  const s = await ready();
  const base = (dir: string, rest: string) => `server.document-root = "${dir}"\nserver.modules = ( "mod_openssl" )\nssl.engine = "enable"\n${rest}`;
  const cases: Array<[string, (d: string) => string, RegExp]> = [
    ['a missing PEM file', (d) => base(d, `ssl.pemfile = "${d}/missing.pem"\n`), /lighttpd\.conf:4: ssl\.pemfile: cannot read ssl\.pemfile ".*missing\.pem": ENOENT/],
    ['a key that is not the certificate\'s', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.crt"\nssl.privkey = "${s.dir}/b.key"\n`), /lighttpd\.conf:4: ssl\.pemfile: the private key in ".*b\.key" does not match the certificate/],
    ['a certificate without a key', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.crt"\n`), /lighttpd\.conf:4: ssl\.pemfile: no private key in ssl\.pemfile/],
    ['an ssl-conf-cmd node:tls cannot do', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.pem"\nssl.openssl.ssl-conf-cmd = ( "VerifyMode" => "Peer" )\n`), /lighttpd\.conf:5: ssl\.openssl\.ssl-conf-cmd "VerifyMode" is not supported/],
    ['an unknown Options flag', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.pem"\nssl.openssl.ssl-conf-cmd = ( "Options" => "-SessionTicket,Bugs" )\n`), /lighttpd\.conf:5: .*"Bugs" is not supported/],
    ['ssl.engine without a certificate', (d) => base(d, ''), /lighttpd\.conf:3: ssl\.engine: ssl\.pemfile has to be set/],
    ['a socket block with ssl.* keys but no ssl.pemfile', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.pem"\n$SERVER["socket"] == "127.0.0.1:1" {\n  ssl.cipher-list = "HIGH"\n}\n`), /lighttpd\.conf:6: ssl\.cipher-list: ssl\.pemfile has to be set in the same \$SERVER\["socket"\] block/],
    ['a cipher string OpenSSL refuses', () => base(s.dir, `ssl.pemfile = "${s.dir}/a.pem"\nssl.openssl.ssl-conf-cmd = ( "CipherString" => "NO-SUCH-CIPHER" )\n`), /lighttpd\.conf:5: the global scope: .*no cipher match/],
    ['a wrong type', (d) => base(d, 'ssl.pemfile = ( "a", "b" )\n'), /lighttpd\.conf:4: ssl\.pemfile: expected a string/],
  ];
  // Independent processes: run them at once.
  const runs = await Promise.all(cases.map(([, conf]) => tt({}, conf)));
  cases.forEach(([what, , re], i) => assert.match(runs[i]!.r.stderr, re, what));
  // A good config passes -tt.
  const dir = makeTempDir('tls-good');
  dirs.push(dir);
  const good = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(good, base(dir, `ssl.pemfile = "${s.dir}/a.pem"\nssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.3", "Options" => "-SessionTicket, ServerPreference" )\n`));
  const ok = await runLantern(['-tt', '-f', good], { cwd: dir });
  assert.is(ok.code, 0, ok.stderr);
});

test('ssl.* keys without mod_openssl load it with lighttpd 1.4.69\'s warning', async () => {
  const s = await ready();
  const dir = makeTempDir('tls-compat');
  dirs.push(dir);
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, `server.document-root = "${dir}"\nssl.engine = "enable"\nssl.pemfile = "${s.dir}/a.pem"\n`);
  const r = await runLantern(['-tt', '-f', file], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /lighttpd\.conf:2: Warning: please add "mod_openssl" to server\.modules/);
  fs.writeFileSync(file, `server.document-root = "${dir}"\nserver.compat-module-load = "disable"\nssl.engine = "enable"\n`);
  const off = await runLantern(['-tt', '-f', file], { cwd: dir });
  assert.is.not(off.code, 0);
  assert.match(off.stderr, /lighttpd\.conf:3: ssl\.engine = "enable" needs "mod_openssl" in server\.modules/);
});

withPerl('ssl.verifyclient.*: SSL_CLIENT_* and REMOTE_USER from a client certificate; enforce refuses a client without one; MinProtocol TLSv1.3 refuses TLS 1.2', async () => {
  const s = await ready();
  makeLeaf(s.dir, 'client', 'alice');
  const dir = makeTempDir('tls-verify', { 'www/env.pl': ENV_PL(PERL!) });
  dirs.push(dir);
  const optional = await ListeningSocket.open();
  const enforced = await ListeningSocket.open();
  const tls13 = await ListeningSocket.open();
  const conf = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(conf, `server.port = ${optional.port}
server.bind = "127.0.0.1"
server.document-root = "${dir}/www"
server.modules = ( "mod_openssl", "mod_cgi" )
cgi.assign = ( ".pl" => "${PERL}" )
ssl.engine = "enable"
ssl.pemfile = "${s.dir}/a.pem"
ssl.ca-file = "${s.dir}/ca.crt"
ssl.verifyclient.activate = "enable"
ssl.verifyclient.enforce = "disable"
ssl.verifyclient.username = "SSL_CLIENT_S_DN_CN"
ssl.verifyclient.exportcert = "enable"
$SERVER["socket"] == "127.0.0.1:${enforced.port}" {
  ssl.pemfile = "${s.dir}/a.pem"
  ssl.ca-file = "${s.dir}/ca.crt"
  ssl.verifyclient.activate = "enable"
  ssl.verifyclient.enforce = "enable"
}
$SERVER["socket"] == "127.0.0.1:${tls13.port}" {
  ssl.pemfile = "${s.dir}/a.pem"
  ssl.verifyclient.activate = "disable"
  ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.3" )
}
`);
  const proc = await startLanternProcess(['-D', '-f', conf], optional, { cwd: dir, sockets: [optional, enforced, tls13] });
  const envFrom = async (port: number, extra: tls.ConnectionOptions) => {
    const c = await TlsClient.connect(port, s.ca, 'a.example', extra);
    try {
      c.send('GET /env.pl HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
      const r = await c.read();
      assert.is(r.status, 200);
      return new Map(r.body.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    } finally { c.close(); }
  };
  try {
    const client = { cert: fs.readFileSync(path.join(s.dir, 'client.crt')), key: fs.readFileSync(path.join(s.dir, 'client.key')) };
    const withCert = await envFrom(optional.port, client);
    assert.is(withCert.get('SSL_CLIENT_VERIFY'), 'SUCCESS');
    assert.is(withCert.get('SSL_CLIENT_S_DN_CN'), 'alice');
    assert.is(withCert.get('SSL_CLIENT_S_DN'), '/O=first/CN=alice');
    assert.is(withCert.get('REMOTE_USER'), 'alice');
    assert.is(withCert.get('AUTH_TYPE'), 'SSL_CLIENT_VERIFY');
    assert.match(withCert.get('SSL_CLIENT_M_SERIAL') ?? '', /^[0-9A-F]+$/);
    assert.match(withCert.get('SSL_CLIENT_CERT') ?? '', /^-----BEGIN CERTIFICATE-----/);
    const without = await envFrom(optional.port, {});
    assert.is(without.get('SSL_CLIENT_VERIFY'), 'NONE');
    assert.is(without.get('REMOTE_USER'), undefined);
    // The socket with enforce refuses a client without a certificate...
    let refused = false;
    try {
      const c = await TlsClient.connect(enforced.port, s.ca, 'a.example');
      c.send('GET /env.pl HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
      await c.read();
      c.close();
    } catch {
      refused = true;
    }
    assert.ok(refused, 'no answer without a client certificate');
    // ...and one whose certificate another CA signed.
    makeCa(dir);
    makeLeaf(dir, 'mallory', 'mallory');
    let untrusted = false;
    try {
      const c = await TlsClient.connect(enforced.port, s.ca, 'a.example', { cert: fs.readFileSync(path.join(dir, 'mallory.crt')), key: fs.readFileSync(path.join(dir, 'mallory.key')) });
      c.send('GET /env.pl HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
      await c.read();
      c.close();
    } catch {
      untrusted = true;
    }
    assert.ok(untrusted, 'no answer with a certificate of an unknown CA');
    // Without enforce the request goes on and says why the certificate failed.
    const failed = await envFrom(optional.port, { cert: fs.readFileSync(path.join(dir, 'mallory.crt')), key: fs.readFileSync(path.join(dir, 'mallory.key')) });
    assert.match(failed.get('SSL_CLIENT_VERIFY') ?? '', /^FAILED:[A-Z_]+/);
    assert.is(failed.get('REMOTE_USER'), undefined);
    // ...and serves one with a certificate.
    assert.is((await envFrom(enforced.port, client)).get('SSL_CLIENT_VERIFY'), 'SUCCESS');
    // ssl.openssl.ssl-conf-cmd MinProtocol TLSv1.3 on the third socket: a TLS 1.2 client is refused.
    let old = false;
    try {
      (await TlsClient.connect(tls13.port, s.ca, 'a.example', { maxVersion: 'TLSv1.2' })).close();
    } catch {
      old = true;
    }
    assert.ok(old, 'a TLS 1.2 client is refused');
    const c13 = await TlsClient.connect(tls13.port, s.ca, 'a.example');
    assert.is(c13.socket.getProtocol(), 'TLSv1.3');
    c13.close();
    const c12 = await TlsClient.connect(optional.port, s.ca, 'a.example', { maxVersion: 'TLSv1.2', cert: client.cert, key: client.key });
    assert.is(c12.socket.getProtocol(), 'TLSv1.2', 'the other sockets take TLS 1.2');
    c12.close();
  } finally {
    assert.is(await proc.stop('SIGTERM'), 0);
  }
});

T.run();

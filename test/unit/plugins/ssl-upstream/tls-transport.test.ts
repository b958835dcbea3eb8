// The TLS transport on its own, against a node:tls server: 'connect' only after the handshake,
// SNI from the member's host name (none for an IP), a failed verification as a TlsHandshakeError
// with OpenSSL's reason, and the member's session offered to its next connection.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsMemberState, tlsTransport, type TlsHandshakeError } from '../../../../plugins/ssl-upstream/tls-transport.js';
import type { TransportDefinition, TransportStream } from '../../../../plugins/proxy-core/types.js';
import { makeTempDir, removeDir } from '../../../helpers/spawn-lantern.js';
import { skipUnless, which, withTimeout } from '../../../helpers/wait.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

const T = suite('ssl-upstream transport');
const test = skipUnless(T, which('openssl') !== null, 'openssl not installed');
let dir = '';
let certs: TestCerts;
let server: tls.Server;
let port = 0;
/** SNI and resumption of each connection the server accepted. */
const accepted: Array<{ servername: string | false; reused: boolean }> = [];
const sockets = new Set<tls.TLSSocket>();

T.before(async () => {
  if (which('openssl') === null) return;
  dir = makeTempDir('ssl-upstream-transport');
  certs = makeTestCerts(dir);
  server = tls.createServer({ key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert) }, (s) => {
    accepted.push({ servername: (s as unknown as { servername: string | false }).servername, reused: s.isSessionReused() });
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(`echo:${d.toString()}`));
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

T.after(async () => {
  for (const s of sockets) s.destroy();
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  removeDir(dir);
});

/** The server's view of the newest connection, once it has accepted `count` (TLS 1.3: the client may be done first). */
function lastAccepted(count: number) {
  return withTimeout(new Promise<{ servername: string | false; reused: boolean }>((resolve) => {
    const i = setInterval(() => { if (accepted.length >= count) { clearInterval(i); resolve(accepted[count - 1]!); } }, 5);
  }), 5000, `connection #${count} at the server`);
}

/** Open one connection; resolves with the stream once 'connect' (or rejects on 'error'). */
function open(t: TransportDefinition, state: unknown, hostname: string | null, got: Buffer[] = []): Promise<TransportStream> {
  const s = t.open({ address: { kind: 'tcp', host: '127.0.0.1', port }, request: null, onData: (c) => got.push(c), log: () => {}, hostname, memberState: state });
  return withTimeout(new Promise<TransportStream>((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  }), 5000, 'the TLS connection');
}

function closed(s: TransportStream): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => { s.once('close', () => resolve()); s.destroy(); }), 5000, 'close');
}

test('bytes both ways after the handshake; SNI is the member\'s host name, none for an IP literal', async () => {
  const t = tlsTransport.bound({ name: 'b', protocol: 'http' }, { caFile: certs.caCert });
  const got: Buffer[] = [];
  const n = accepted.length;
  const s = await open(t, t.memberState!(), 'localhost', got);
  s.write('ping');
  await withTimeout(new Promise<void>((resolve) => { const i = setInterval(() => { if (Buffer.concat(got).toString() === 'echo:ping') { clearInterval(i); resolve(); } }, 5); }), 5000, 'the echo');
  assert.is((await lastAccepted(n + 1)).servername, 'localhost');
  await closed(s);
  const ip = await open(t, t.memberState!(), null);
  assert.is((await lastAccepted(n + 2)).servername, false);
  await closed(ip);
});

test('the second connection of a member resumes the first one\'s session; counters say so', async () => {
  const t = tlsTransport.bound({ name: 'b', protocol: 'http' }, { caFile: certs.caCert });
  const state = t.memberState!() as TlsMemberState;
  const got: Buffer[] = [];
  const first = await open(t, state, null, got);
  // TLS 1.3 tickets arrive after the handshake: one round trip brings them.
  first.write('x');
  await withTimeout(new Promise<void>((resolve) => { const i = setInterval(() => { if (state.session !== null && got.length > 0) { clearInterval(i); resolve(); } }, 5); }), 5000, 'a session ticket');
  await closed(first);
  const n = accepted.length;
  const second = await open(t, state, null);
  assert.is((await lastAccepted(n + 1)).reused, true);
  await closed(second);
  assert.equal(t.counters!(state), { tlsFullHandshakes: 1, tlsResumedHandshakes: 1, tlsFailedHandshakes: 0 });
});

test('a certificate from an unknown CA: a TlsHandshakeError with the reason; the session is forgotten', async () => {
  const t = tlsTransport.bound({ name: 'b', protocol: 'http' }, { caFile: certs.clientCert });
  const state = t.memberState!() as TlsMemberState;
  state.session = Buffer.from('stale');
  const err = await open(t, state, null).then(() => null, (e: TlsHandshakeError) => e);
  assert.ok(err, 'the handshake fails');
  assert.is(err!.tlsHandshakeFailed, true);
  assert.match(err!.message, `TLS handshake with 127.0.0.1:${port} failed: unable to verify the first certificate`);
  assert.is(err!.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.is(state.session, null);
  assert.is(state.failed, 1);
});

test('a name the certificate does not carry fails; insecure-skip-verify lets it through', async () => {
  const t = tlsTransport.bound({ name: 'b', protocol: 'http' }, { caFile: certs.caCert, sni: 'other.test' });
  const err = await open(t, t.memberState!(), null).then(() => null, (e: Error) => e);
  assert.match(err?.message ?? '', "Hostname/IP does not match certificate's altnames");
  const insecure = tlsTransport.bound({ name: 'b', protocol: 'http' }, { sni: 'other.test', insecureSkipVerify: true });
  const n = accepted.length;
  const s = await open(insecure, insecure.memberState!(), null);
  assert.is((await lastAccepted(n + 1)).servername, 'other.test');
  await closed(s);
});

test('a refused TCP connect stays a plain error (503 upstream), not a handshake failure', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const t = tlsTransport.bound({ name: 'b', protocol: 'http' }, { caFile: certs.caCert });
  const s = t.open({ address: { kind: 'tcp', host: '127.0.0.1', port: deadPort }, request: null, onData: () => {}, log: () => {}, hostname: null, memberState: t.memberState!() });
  const err = await withTimeout(new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve)), 5000, 'the refusal');
  assert.is(err.code, 'ECONNREFUSED');
  assert.is((err as Partial<TlsHandshakeError>).tlsHandshakeFailed, undefined);
});

T.run();

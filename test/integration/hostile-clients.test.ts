// Availability under hostile clients and failing backends (checklist E10, G1, G2, A-rows on
// timing): the findings of an attack over loopback with default settings and one backend behind
// lighttpd's `proxy.server`, each replayed here while a probe request must still get its 200.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, refusedPort, type FakeBackend, type FakeReply, type FakeRequest } from '../helpers/fake-backend.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { connectRaw, rawRequest, type RawResponse } from '../helpers/raw-client.js';
import { proxyApi } from '../helpers/proxy-setup.js';
import { waitFor } from '../helpers/wait.js';
import type { ProxyCoreApi } from '../../plugins/proxy-core/api.js';

const H = suite('hostile clients');

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const cleanups: Array<() => Promise<void>> = [];
H.after.each(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function backend(respond: (req: FakeRequest) => FakeReply | Promise<FakeReply>): Promise<FakeBackend> {
  const be = await fakeBackend({ respond });
  cleanups.push(() => be.close());
  return be;
}

/** The smallest lighttpd config: mod_proxy and one backend, nothing else; the error log in a file. */
async function gateway(be: FakeBackend, extra = ''): Promise<{ lt: LanternHandle; errorLog: () => string }> {
  const lt = await startLantern(`server.modules = ( "mod_proxy" )
server.document-root = "%DIR%"
server.errorlog = "%DIR%/error.log"
proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${be.port} ) ) )
${extra}`);
  cleanups.push(() => lt.stop());
  const file = path.join(lt.dir, 'error.log');
  return { lt, errorLog: () => (fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '') };
}

async function get(lt: LanternHandle, target: string, timeoutMs = 5000): Promise<RawResponse> {
  return rawRequest(lt.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, { halfClose: false, timeoutMs });
}

/** A probe request: its 200 within 1 s. */
async function probe(lt: LanternHandle): Promise<void> {
  const t0 = Date.now();
  const r = await get(lt, '/probe', 1000);
  assert.is(r.status, 200, 'the probe is answered');
  assert.ok(Date.now() - t0 < 1000, `the probe took ${Date.now() - t0} ms`);
}

H('17 slow uploaders (Content-Length: 1000, a byte now and then) hold no backend connection; a probe gets its 200', async () => {
  const be = await backend(() => OK);
  const { lt } = await gateway(be);
  const uploaders = await Promise.all(Array.from({ length: 17 }, async () => {
    const c = await connectRaw(lt.port);
    await c.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nx');
    return c;
  }));
  try {
    for (let round = 0; round < 3; round++) {
      for (const c of uploaders) await c.write('y');
      await probe(lt);
    }
    assert.is(be.connections.flatMap((c) => c.requests).filter((r) => r.target === '/upload').length, 0, 'no upload reached the backend unfinished');
    // One uploader finishes: its whole body goes, with its length.
    const done = uploaders[0]!;
    await done.write('z'.repeat(1000 - 4));
    const r = await done.readResponse(3000);
    assert.is(r.status, 200);
    const got = be.connections.flatMap((c) => c.requests).filter((x) => x.target === '/upload');
    assert.is(got.length, 1);
    assert.is(got[0]!.body.length, 1000);
  } finally {
    for (const c of uploaders) c.destroy();
  }
});

H('F2 a body trickled a byte at a time gets 408 by server.request-body-timeout, though no pause reaches max-read-idle', async () => {
  const be = await backend(() => OK);
  const { lt } = await gateway(be, 'server.request-body-timeout = 1\nserver.request-body-min-rate = 1000');
  const c = await connectRaw(lt.port);
  try {
    await c.write('POST /trickle HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
    const t0 = Date.now();
    let closed = false;
    void c.waitClose(6000).then((x) => { closed = x; });
    while (!closed && Date.now() - t0 < 5000) {
      await c.write('x').catch(() => { closed = true; });
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await c.readResponse(1000);
    assert.is(r.status, 408);
    assert.ok(Date.now() - t0 < 4000, `408 after ${Date.now() - t0} ms`);
    assert.is(be.requestCount, 0, 'nothing reached the backend');
  } finally { c.destroy(); }
});

H('16 clients that never read a 10 MiB response hold no backend connection; a probe gets its 200; the bytes are intact when read', async () => {
  const size = 10 * 1024 * 1024;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) payload.write(String(i).padStart(16, '.'), i, 'latin1');
  const big = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`), payload]);
  const be = await backend((req) => (req.target === '/big' ? big : OK));
  const { lt } = await gateway(be);
  const readers = await Promise.all(Array.from({ length: 16 }, async () => {
    const c = await connectRaw(lt.port);
    c.socket.pause();
    await c.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    return c;
  }));
  try {
    // Every response is read from the backend and its connection goes back to the pool. (Until
    // the 16 requests have reached the backend nothing is busy yet either: wait for both.)
    await waitFor(() => be.requestCount === 16 && busy(lt) === 0, 10_000, 5, 'the backend responses to be read whole');
    await probe(lt);
    const snap = proxyApi<ProxyCoreApi>(lt).snapshot().backends[0]!;
    assert.ok(snap.responseBytesToDisk > 0, 'what the clients did not take went to a temp file');
    // A late reader gets every byte, in order.
    const first = readers[0]!;
    first.socket.resume();
    const r = await first.readResponse(20_000);
    assert.is(r.status, 200);
    assert.is(r.body.length, size);
    assert.ok(r.body.equals(payload), 'the body is intact');
  } finally {
    for (const c of readers) c.destroy();
  }
});

H('E10 4 clients asking for a URL with a malformed answer cannot switch off the only member', async () => {
  const be = await backend((req) => (req.target.startsWith('/bad') ? 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n' : OK));
  const { lt, errorLog } = await gateway(be);
  // 4 attackers, 10 requests each, at once.
  const attacks = await Promise.all(Array.from({ length: 4 }, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(lt, `/bad?i=${i}`)).status);
    return statuses;
  }));
  assert.ok(attacks.flat().every((s) => s === 502), `the bad answers are 502: ${attacks.flat().join(',')}`);
  for (let i = 0; i < 20; i++) await probe(lt);
  const log = errorLog();
  assert.match(log, /backend "[^"]*" 127\.0\.0\.1:\d+: invalid response from backend \([^)]*\) for GET \/bad\?i=0/, 'each failure is logged');
  assert.not.match(log, /disabled for/, 'the member was never disabled');
});

H('E10 a member failing for every path is disabled, and only while another member serves', async () => {
  const broken = await backend(() => 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n');
  const good = await backend(() => OK);
  const lt = await startLantern(`server.modules = ( "mod_proxy" )
server.document-root = "%DIR%"
server.errorlog = "%DIR%/error.log"
proxy.balance = "round-robin"
proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${broken.port} ), ( "host" => "127.0.0.1", "port" => ${good.port} ) ) )
`);
  cleanups.push(() => lt.stop());
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await get(lt, `/p${i}`)).status);
  const log = fs.readFileSync(path.join(lt.dir, 'error.log'), 'latin1');
  assert.match(log, new RegExp(`127\\.0\\.0\\.1:${broken.port}: disabled for 1 s: 3 of \\d requests failed within 10 s`));
  // Once it is out, every request goes to the good member.
  assert.equal(statuses.slice(-4), [200, 200, 200, 200]);
});

/** `n` clients that each send a GET for `target` and stay connected; resolves once all are written. */
async function clients(lt: LanternHandle, n: number, target: string): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => new Promise<void>((resolve, reject) => {
      const s = net.connect(lt.port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, () => resolve()));
      s.on('error', () => { /* reset by the test or refused under load */ });
      s.once('error', reject);
      s.setTimeout(10_000, () => reject(new Error('client write timed out')));
      sockets.push(s);
    })));
  }
  return sockets;
}

/** Requests proxy-core has in flight or queued, over every backend. */
function busy(lt: LanternHandle): number {
  const snap = proxyApi<ProxyCoreApi>(lt).snapshot();
  return snap.backends.reduce((n, b) => n + b.active + b.queued, 0);
}

const openUpstream = (be: FakeBackend) => be.connections.filter((c) => !c.closedByPeer).length;

H('G1 1 000 clients that reset (RST) while their requests wait leave no upstream connection after 1 s', async () => {
  const be = await backend(() => 'stall');
  const { lt } = await gateway(be);
  const socks = await clients(lt, 1000, '/slow');
  await be.waitRequests(16, 5000);
  assert.is(openUpstream(be), 16, 'the pool is full');
  for (const s of socks) s.resetAndDestroy();
  const t0 = Date.now();
  await be.waitFor((b) => openUpstream(b) === 0, 1000, 'every upstream connection to be closed');
  assert.ok(Date.now() - t0 <= 1000);
  await waitFor(() => busy(lt) === 0, 1000, 1, 'nothing in flight or queued');
});

H('G1 abort-on-close: 1 000 clients that close (FIN) leave no upstream connection after 1 s', async () => {
  const be = await backend(() => 'stall');
  const { lt } = await gateway(be, 'proxy-core.abort-on-close = "enable"');
  const socks = await clients(lt, 1000, '/slow');
  await be.waitRequests(16, 5000);
  for (const s of socks) s.destroy();
  await be.waitFor((b) => openUpstream(b) === 0, 1000, 'every upstream connection to be closed');
  await waitFor(() => busy(lt) === 0, 1000, 1, 'nothing in flight or queued');
});

H('G1 without abort-on-close a half-closed client still gets its answer (lighttpd test harnesses)', async () => {
  let answer: () => void = () => {};
  const answered = new Promise<void>((r) => { answer = r; });
  const be = await backend(async () => { await answered; return OK; });
  const { lt } = await gateway(be);
  const c = await connectRaw(lt.port);
  await c.end('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
  await be.waitRequests(1, 2000);
  answer();
  const r = await c.readResponse(2000);
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'ok');
  c.destroy();
});

H('the backend sees the normalised target lantern routed on; forward-raw-target sends it as received', async () => {
  const be = await backend(() => OK);
  const { lt } = await gateway(be, '$HTTP["url"] =~ "^/raw/" { proxy-core.forward-raw-target = "enable" }');
  for (const t of ['/x/../app/headers', '/%61pp/headers', '/app//./headers?q=%7e%2f']) assert.is((await get(lt, t)).status, 200);
  await get(lt, '/raw/../raw/%61');
  const seen = be.connections.flatMap((c) => c.requests).map((r) => r.target);
  assert.equal(seen, ['/app/headers', '/app/headers', '/app/headers?q=~%2F', '/raw/../raw/%61']);
});

H('the error log names each backend failure: refused, read timeout, bad response, disabled, none available', async () => {
  const refused = await refusedPort();
  const be = await backend((req) => {
    if (req.target === '/slow') return 'stall';
    if (req.target === '/bad') return 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n';
    return OK;
  });
  const lt = await startLantern(`server.modules = ( "mod_proxy" )
server.document-root = "%DIR%"
server.errorlog = "%DIR%/error.log"
proxy.server = (
  "/down/" => ( ( "host" => "127.0.0.1", "port" => ${refused}, "disable-time" => 1 ) ),
  "" => ( ( "host" => "127.0.0.1", "port" => ${be.port}, "read-timeout" => 1 ) ) )
`);
  cleanups.push(() => lt.stop());
  const log = () => fs.readFileSync(path.join(lt.dir, 'error.log'), 'latin1');
  assert.is((await get(lt, '/down/a')).status, 503, 'refused: 503 as in lighttpd');
  assert.is((await get(lt, '/down/b')).status, 503);
  assert.is((await get(lt, '/slow')).status, 504);
  assert.is((await get(lt, '/bad')).status, 502);
  const text = log();
  const line = (re: RegExp, what: string) => assert.match(text, re, what);
  line(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d: \\(proxy-core\\) backend "[^"]+" 127\\.0\\.0\\.1:${refused}: backend refused the connection \\(ECONNREFUSED\\) for GET /down/a$`, 'm'), 'refused, in lighttpd\'s line format');
  line(new RegExp(`127\\.0\\.0\\.1:${refused}: disabled for 1 s: backend refused the connection`), 'disabled');
  line(/no member is available for GET \/down\/b: 503/, 'none available');
  line(/backend read timeout \([^)]*\) for GET \/slow/, 'read timeout');
  line(/invalid response from backend \(invalid Content-Length\) for GET \/bad/, 'bad response with its reason');
});

H('a client answered before its body was in (404) that reads the answer and closes leaves no connection behind', async () => {
  const lt = await startLantern('server.document-root = "%DIR%"\n');
  cleanups.push(() => lt.stop());
  const c = await connectRaw(lt.port);
  await c.write(`POST /nofile.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(50)}`);
  const r = await c.readResponse(2000);
  assert.is(r.status, 404);
  c.destroy();
  await waitFor(() => lt.server.connections.size === 0, 1000, 5, 'the connection to be closed');
});

H('keep-alive after a POST body spooled to a temp file (65 537 bytes): the next request on the connection is answered', async () => {
  const be = await backend(() => OK);
  const { lt } = await gateway(be);
  const c = await connectRaw(lt.port);
  try {
    const body = 'b'.repeat(65537);
    await c.write(`POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.is((await c.readResponse(3000)).status, 200);
    await c.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.is((await c.readResponse(3000)).status, 200);
    const got = be.connections.flatMap((x) => x.requests);
    assert.is(got[0]!.body.length, 65537);
    assert.is(got[1]!.target, '/next');
  } finally { c.destroy(); }
});

H.run();

// Reliability checklist rows E1-E10 and E12 through proxy-core: refused and unreachable members,
// timeouts, the retry rule, body replay, disabling and probing, the wait queue. Each test asserts
// the status, what each fake backend received, and the member state and counters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { rawExchange, type RawExchangeResult } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';
import type { BackendSnapshot, MemberSnapshot } from '../../plugins/proxy-core/api.js';
import { blackhole, startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const E = suite('proxy-core failover and retries (E1-E10, E12)');
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
let lt: ProxyHandle;
const be: Record<string, FakeBackend> = {};
let refused: string;
let refused2: string;
let hole: { address: string; close(): void };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-e-'));
const missingSock = path.join(tmp, 'missing.sock');
const lateSock = path.join(tmp, 'late.sock');

E.before(async () => {
  refused = `127.0.0.1:${await fakeBackend.refusedPort()}`;
  refused2 = `127.0.0.1:${await fakeBackend.refusedPort()}`;
  hole = await blackhole();
  be.good = await fakeBackend();
  be.stall = await fakeBackend({ respond: () => 'stall' });
  be.reset = await fakeBackend({ respond: () => 'reset' });
  be.reset2 = await fakeBackend({ respond: () => 'reset' });
  be.reset3 = await fakeBackend({ respond: () => 'reset' });
  be.e500 = await fakeBackend({ respond: (r) => r.target.includes('404') ? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops' });
  // Answers the first request on each connection, closes the connection on the second (E5 race).
  be.once = await fakeBackend({ respond: (req, conn) => (conn.requests.indexOf(req) === 0 ? OK : 'close') });
  // Answers, then closes the idle connection.
  be.closer = await fakeBackend({ respond: () => ({ chunks: [OK], then: 'close' }) });
  be.slow = await fakeBackend({ respond: () => ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', fakeBackend.pause, 'ok'] });
  lt = await startProxy(`
proxy-core.balancer := "test-first"
$HTTP["url"] =^ "/e1/" { proxy-core.backends = ( "${refused}", "${be.good.address}" ) }
$HTTP["url"] =^ "/e1unix/" { proxy-core.backends = ( "unix:${missingSock}", "${be.good.address}" ) }
$HTTP["url"] =^ "/e2/" { proxy-core.backends = ( "${hole.address}", "${be.good.address}" ) proxy-core.connect-timeout = "0.3" }
$HTTP["url"] =^ "/e2only/" { proxy-core.backends = ( "${hole.address}" ) proxy-core.connect-timeout = "0.3" }
$HTTP["url"] =^ "/e3/" { proxy-core.backends = ( "${be.stall.address}", "${be.good.address}" ) proxy-core.read-timeout = "0.3" }
$HTTP["url"] =^ "/e3retry/" {
  proxy-core.backends = ( "${be.stall.address}", "${be.good.address}" )
  proxy-core.read-timeout = "0.3"
  proxy-core.retry-read-timeout = "enable"
  proxy-core.max-fails = 100
}
$HTTP["url"] =^ "/e4/" { proxy-core.backends = ( "${be.reset.address}", "${be.good.address}" ) proxy-core.max-fails = 100 }
$HTTP["url"] =^ "/e5/" { proxy-core.backends = ( "${be.once.address}" ) }
$HTTP["url"] =^ "/e5idle/" { proxy-core.backends = ( "${be.closer.address}" ) }
$HTTP["url"] =^ "/e6/" { proxy-core.backends = ( "${be.e500.address}", "${be.good.address}" ) proxy-core.retry-on-5xx = "enable" proxy-core.max-fails = 100 }
$HTTP["url"] =^ "/e6off/" { proxy-core.backends = ( "${be.e500.address}", "${be.good.address}" ) }
$HTTP["url"] =^ "/e7/" {
  server.stream-request-body = 2
  proxy-core.backends = ( "${be.reset2.address}", "${be.good.address}" )
  proxy-core.retry-body-buffer-size = 16
  proxy-core.max-fails = 100
}
$HTTP["url"] =^ "/e8/" { proxy-core.backends = ( "${be.reset.address}", "${be.reset2.address}", "${be.reset3.address}" ) proxy-core.max-tries = 2 proxy-core.max-fails = 100 }
$HTTP["url"] =^ "/e8all/" { proxy-core.backends = ( "${be.reset.address}", "${be.reset2.address}", "${be.reset3.address}" ) proxy-core.max-tries = 9 proxy-core.max-fails = 100 }
$HTTP["url"] =^ "/e9/" { proxy-core.backends = ( "${refused}", "${refused2}" ) proxy-core.disable-time = 30 }
$HTTP["url"] =^ "/e10/" { proxy-core.backends = ( "unix:${lateSock}" ) proxy-core.disable-time = "0.2" }
$HTTP["url"] =^ "/e10cap/" { proxy-core.backends = ( "${refused2}", "${refused}" ) proxy-core.max-eject-percent = 50 proxy-core.disable-time = 30 }
$HTTP["url"] =^ "/e12/" { proxy-core.backends = ( "${be.slow.address}" ) proxy-core.max-pool-size = 1 proxy-core.max-backlog-size = 1 proxy-core.queue-timeout = "0.4" }
`);
});

E.after(async () => {
  await lt?.stop();
  for (const b of Object.values(be)) await b.close();
  hole?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function send(request: string, timeoutMs = 4000): Promise<RawExchangeResult> {
  return rawExchange({ port: lt.port, send: request, expectResponses: 1, timeoutMs });
}
const GET = (p: string) => send(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
const POST = (p: string, body = 'data') => send(`POST ${p} HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`);

/** The backend whose members are exactly `addresses`. */
function backend(...addresses: string[]): BackendSnapshot {
  const found = lt.api.snapshot().backends.find((b) => b.members.map((m) => m.key).join() === addresses.join());
  assert.ok(found, `a backend with ${addresses.join(', ')}`);
  return found!;
}
function member(b: BackendSnapshot, address: string): MemberSnapshot {
  return b.members.find((m) => m.key === address)!;
}
/** Requests for `target` a fake backend received. */
const got = (b: FakeBackend, target: string) => b.connections.flatMap((c) => c.requests).filter((r) => r.target === target);

E('E1 refused → next member; the refused member is disabled; any method', async () => {
  const r = await GET('/e1/a');
  assert.is(r.responses[0]?.status, 200);
  const b = backend(refused, be.good.address);
  const m = member(b, refused);
  assert.is(m.state, 'disabled');
  assert.is(m.failures.refused, 1);
  assert.ok(m.lastError?.includes('refused'));
  // A POST is retried too: nothing reached the refused member. (It is disabled now: skipped.)
  const p = await POST('/e1/p');
  assert.is(p.responses[0]?.status, 200);
  assert.is(got(be.good, '/e1/p').length, 1);
});

E('E1 missing unix socket → refused → next member', async () => {
  const r = await POST('/e1unix/a');
  assert.is(r.responses[0]?.status, 200);
  const m = member(backend(`unix:${missingSock}`, be.good.address), `unix:${missingSock}`);
  assert.is(m.failures.refused, 1);
  assert.is(m.state, 'disabled');
});

E('E2 connect timeout → next member; the only member → 504', async () => {
  const r = await GET('/e2/a');
  assert.is(r.responses[0]?.status, 200);
  const m = member(backend(hole.address, be.good.address), hole.address);
  assert.is(m.failures.connectTimeout, 1);
  assert.is(m.state, 'disabled');
  const started = Date.now();
  const r2 = await GET('/e2only/a');
  assert.is(r2.responses[0]?.status, 504);
  assert.ok(Date.now() - started < 2000);
});

E('E3 read timeout → 504, not retried by default', async () => {
  const r = await GET('/e3/a');
  assert.is(r.responses[0]?.status, 504);
  assert.is(got(be.good, '/e3/a').length, 0, 'not retried');
  assert.is(member(backend(be.stall.address, be.good.address), be.stall.address).failures.readTimeout, 1);
});

E('E3 with retry-read-timeout: GET retried on the next member, POST never', async () => {
  const r = await GET('/e3retry/a');
  assert.is(r.responses[0]?.status, 200);
  assert.is(got(be.good, '/e3retry/a').length, 1);
  const p = await POST('/e3retry/p');
  assert.is(p.responses[0]?.status, 504);
  assert.is(got(be.good, '/e3retry/p').length, 0, 'a POST is never sent twice');
});

E('E4 non-idempotent request after bytes reached the backend: not retried → 502', async () => {
  const p = await POST('/e4/p');
  assert.is(p.responses[0]?.status, 502);
  assert.is(got(be.reset, '/e4/p').length, 1);
  assert.is(got(be.good, '/e4/p').length, 0);
  const g = await GET('/e4/g');
  assert.is(g.responses[0]?.status, 200, 'an idempotent one is retried');
  assert.is(got(be.good, '/e4/g').length, 1);
});

E('E5 an idle connection the backend closed is dropped, never used', async () => {
  const first = await GET('/e5idle/1');
  assert.is(first.responses[0]?.status, 200);
  await be.closer.waitFor((b) => b.connections[0]!.closed, 2000, 'the backend to close its idle connection');
  const second = await GET('/e5idle/2');
  assert.is(second.responses[0]?.status, 200);
  assert.is(be.closer.connectionCount, 2, 'a new connection');
  assert.is(backend(be.closer.address).members[0]!.failures.reset, 0);
  await waitFor(() => backend(be.closer.address).members[0]!.connections === 0, 2000, 1, 'the pool to drop the closed connection');
});

E('E5 a reused connection dying before any response byte: GET retried once on a fresh connection; POST → 502', async () => {
  assert.is((await GET('/e5/1')).responses[0]?.status, 200);
  const before = be.once.connectionCount;
  const g = await GET('/e5/2');
  assert.is(g.responses[0]?.status, 200);
  assert.is(be.once.connectionCount, before + 1, 'one fresh connection');
  const b = backend(be.once.address);
  assert.is(b.members[0]!.failures.reset, 0, 'not counted against the member');
  assert.is(b.members[0]!.state, 'up');
  const p = await POST('/e5/3');
  assert.is(p.responses[0]?.status, 502, 'a POST may have reached the backend: not sent again');
});

E('E6 retry-on-5xx: GET goes to the next member and the 500 counts; POST gets the 500', async () => {
  const g = await GET('/e6/a');
  assert.is(g.responses[0]?.status, 200);
  assert.is(got(be.good, '/e6/a').length, 1);
  const m = member(backend(be.e500.address, be.good.address), be.e500.address);
  assert.is(m.failures.status5xx, 1);
  const p = await POST('/e6/p');
  assert.is(p.responses[0]?.status, 500);
  assert.is(p.responses[0]?.body.toString(), 'oops');
  assert.is(got(be.good, '/e6/p').length, 0);
  const nf = await GET('/e6/404');
  assert.is(nf.responses[0]?.status, 404);
  assert.is(member(backend(be.e500.address, be.good.address), be.e500.address).failures.status5xx, 2, 'a 404 is no failure');
});

E('E6 without retry-on-5xx the 500 is passed on', async () => {
  const g = await GET('/e6off/a');
  assert.is(g.responses[0]?.status, 500);
  assert.is(got(be.good, '/e6off/a').length, 0);
});

E('E7 the body is replayed byte for byte; a body over the retry buffer is not retried', async () => {
  const body = 'exactly16bytes!!';
  const r = await send(`PUT /e7/a HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  assert.is(r.responses[0]?.status, 200);
  assert.is(got(be.good, '/e7/a')[0]?.body.toString(), body);
  assert.is(got(be.reset2, '/e7/a')[0]?.body.toString(), body);
  const chunked = await send('PUT /e7/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.is(chunked.responses[0]?.status, 200);
  assert.is(got(be.good, '/e7/c')[0]?.body.toString(), 'abcde');
  const big = 'x'.repeat(17);
  const r2 = await send(`PUT /e7/big HTTP/1.1\r\nHost: h\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  assert.is(r2.responses[0]?.status, 502);
  assert.is(got(be.good, '/e7/big').length, 0);
});

E('E8 each member at most once, at most max-tries members', async () => {
  const r = await GET('/e8/a');
  assert.is(r.responses[0]?.status, 502);
  const counts = [be.reset, be.reset2, be.reset3].map((b) => got(b, '/e8/a').length);
  assert.equal(counts, [1, 1, 0]);
  const all = await GET('/e8all/a');
  assert.is(all.responses[0]?.status, 502);
  assert.equal([be.reset, be.reset2, be.reset3].map((b) => got(b, '/e8all/a').length), [1, 1, 1]);
});

E('E9 every member down → 503 at once, without trying', async () => {
  const first = await GET('/e9/a');
  assert.is(first.responses[0]?.status, 503, 'both refused: 503, as lighttpd answers a backend it cannot reach');
  const b = backend(refused, refused2);
  assert.ok(b.members.every((m) => m.state === 'disabled'));
  const started = Date.now();
  const second = await GET('/e9/b');
  assert.is(second.responses[0]?.status, 503);
  assert.ok(Date.now() - started < 500);
  const after = backend(refused, refused2);
  assert.is(after.allDown, 1);
  assert.ok(after.members.every((m) => m.failures.refused === 1), 'not tried again');
});

E('E10 after disable-time one probe; a failed probe doubles the time; a good one brings the member back', async () => {
  const key = `unix:${lateSock}`;
  assert.is((await GET('/e10/1')).responses[0]?.status, 503, 'a missing unix socket is refused: 503');
  let m = backend(key).members[0]!;
  assert.is(m.state, 'disabled');
  const firstMs = m.disabledUntilMs - m.lastErrorAtMs;
  assert.ok(firstMs >= 150 && firstMs <= 300, `first disable ${firstMs} ms`);
  assert.is((await GET('/e10/2')).responses[0]?.status, 503, 'disabled: not tried');
  await untilPast(m.disabledUntilMs);
  assert.is((await GET('/e10/3')).responses[0]?.status, 503, 'the probe is refused');
  m = backend(key).members[0]!;
  const secondMs = m.disabledUntilMs - m.lastErrorAtMs;
  assert.ok(secondMs >= 350 && secondMs <= 500, `doubled: ${secondMs} ms`);
  const late = await fakeBackend({ path: lateSock });
  try {
    await untilPast(m.disabledUntilMs);
    assert.is((await GET('/e10/4')).responses[0]?.status, 200, 'the probe succeeds');
    m = backend(key).members[0]!;
    assert.is(m.state, 'up');
  } finally {
    await late.close();
  }
});

E('E10 max-eject-percent: never more than that share of members disabled', async () => {
  assert.is((await GET('/e10cap/a')).responses[0]?.status, 503, 'both tried and refused');
  const b = backend(refused2, refused);
  assert.is(b.members.filter((m) => m.state === 'disabled').length, 1);
  assert.ok(b.members.every((m) => m.failures.refused === 1));
});

E('E12 pool full: one request queued, the next refused with 503; a queue timeout gives 504', async () => {
  const a = send('GET /e12/a HTTP/1.1\r\nHost: h\r\n\r\n');
  await be.slow.waitFor((b) => b.pausedReplies === 1, 2000, 'the first reply to pause');
  const b = send('GET /e12/b HTTP/1.1\r\nHost: h\r\n\r\n');
  await waitQueued(1);
  const c = await GET('/e12/c');
  assert.is(c.responses[0]?.status, 503, 'queue full');
  be.slow.release(2);
  assert.is((await a).responses[0]?.status, 200);
  assert.is((await b).responses[0]?.status, 200, 'the queued one is served');
  assert.is(backend(be.slow.address).queueFull, 1);
  // Timeout: the only connection is busy longer than queue-timeout.
  const d = send('GET /e12/d HTTP/1.1\r\nHost: h\r\n\r\n');
  await be.slow.waitFor((x) => x.pausedReplies === 1, 2000, 'the next reply to pause');
  const started = Date.now();
  const e = await GET('/e12/e');
  assert.is(e.responses[0]?.status, 504);
  assert.ok(Date.now() - started >= 350);
  be.slow.release();
  assert.is((await d).responses[0]?.status, 200);
  assert.is(backend(be.slow.address).queueTimeouts, 1);
  assert.is(got(be.slow, '/e12/e').length, 0, 'the timed-out request never reached the backend');
});

function waitQueued(n: number): Promise<void> {
  return waitFor(() => backend(be.slow.address).queued >= n, 2000, 1, `${n} queued request(s)`);
}

/** The disable time is the thing under test: poll the clock until it has passed. */
function untilPast(ms: number): Promise<void> {
  return waitFor(() => Date.now() > ms, 2000, 5, 'the disable time to pass');
}

E.run();

// Reliability checklist rows E1-E12: backend failure, retries, balancing (proxy-core, HTTP).
// Outcome tuple: status; what each backend received; member state and counters (snapshot()).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fakeBackend, pause, refusedPort, type FakeBackend } from '../helpers/fake-backend.js';
import { rawExchange } from '../helpers/raw-client.js';
import type { LanternHandle } from '../helpers/lantern.js';
import { proxyApi, startProxy } from '../helpers/proxy-setup.js';
import { waitFor } from '../helpers/wait.js';
import type { ProxyCoreApi, MemberSnapshot } from '../../plugins/proxy-core/api.js';

const E = suite('reliability E: failure, retries, balancing');
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

function member(lt: LanternHandle, key: string): MemberSnapshot {
  const m = proxyApi<ProxyCoreApi>(lt).snapshot().backends.flatMap((b) => b.members).find((x) => x.key === key);
  if (!m) throw new Error(`no member ${key}`);
  return m;
}

const get = (lt: LanternHandle, path = '/', extra = '') =>
  rawExchange({ port: lt.port, send: `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`, expectResponses: 1, timeoutMs: 8000 });

async function run(backends: FakeBackend[], refused: number[], conf: string, fn: (lt: LanternHandle) => Promise<void>) {
  const addrs = [...refused.map((p) => `127.0.0.1:${p}`), ...backends.map((b) => b.address)];
  const lt = await startProxy(addrs, conf);
  try { await fn(lt); } finally { await lt.stop(); for (const b of backends) await b.close(); }
}

E('E1 a refusing member: the next one answers; the refuser is disabled and counted', async () => {
  const dead = await refusedPort();
  const be = await fakeBackend({ respond: () => OK });
  await run([be], [dead], 'proxy-core.disable-time = 30', async (lt) => {
    for (let i = 0; i < 4; i++) assert.is((await get(lt, `/e1/${i}`)).responses[0].status, 200);
    assert.is(be.requestCount, 4, 'every request reached the live member');
    const m = member(lt, `127.0.0.1:${dead}`);
    assert.is(m.state, 'disabled');
    assert.is(m.failures.refused, 1, 'tried once, then left out for disable-time');
  });
});

E('E1 a missing unix socket counts as refused; none left → 503 (lighttpd: unreachable backend)', async () => {
  const lt = await startProxy(['unix:/nonexistent/lantern-test.sock']);
  try {
    const r = await get(lt, '/e1u');
    assert.is(r.responses[0].status, 503);
    assert.is(member(lt, 'unix:/nonexistent/lantern-test.sock').failures.refused, 1);
  } finally { await lt.stop(); }
});

/** A listener whose accept queue is full, so connects to it hang (no SYN-ACK): python, not Node, so nothing accepts. */
async function blackhole(): Promise<{ port: number; proc: ChildProcess }> {
  const code = `
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(60)
`;
  const proc = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    proc.once('exit', () => reject(new Error('python exited')));
  });
  return { port, proc };
}

E('E2 connect timeout → the next member; alone → 504', async () => {
  const bh = await blackhole();
  const be = await fakeBackend({ respond: () => OK });
  try {
    let lt = await startProxy([`127.0.0.1:${bh.port}`, be.address], 'proxy-core.connect-timeout = "0.5"\nproxy-core.disable-time = 30');
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await get(lt, `/e2/${i}`)).responses[0].status);
      assert.equal(statuses, [200, 200, 200]);
      assert.ok(member(lt, `127.0.0.1:${bh.port}`).failures.connectTimeout >= 1);
    } finally { await lt.stop(); }
    lt = await startProxy([`127.0.0.1:${bh.port}`], 'proxy-core.connect-timeout = "0.5"');
    try {
      assert.is((await get(lt, '/e2b')).responses[0].status, 504);
    } finally { await lt.stop(); }
  } finally { bh.proc.kill('SIGKILL'); await be.close(); }
});

E('E3 read timeout → 504; GET not retried unless configured; POST never', async () => {
  const a = await fakeBackend({ respond: () => 'stall' });
  const b = await fakeBackend({ respond: () => 'stall' });
  await run([a, b], [], 'proxy-core.read-timeout = "0.5"', async (lt) => {
    assert.is((await get(lt, '/e3')).responses[0].status, 504);
    assert.is(a.requestCount + b.requestCount, 1, 'not retried');
  });
  const c = await fakeBackend({ respond: () => 'stall' });
  const d = await fakeBackend({ respond: () => OK });
  await run([c, d], [], 'proxy-core.read-timeout = "0.5"\nproxy-core.retry-read-timeout = "enable"', async (lt) => {
    const r = await rawExchange({ port: lt.port, send: 'POST /e3p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi', expectResponses: 1, timeoutMs: 8000 });
    assert.ok([200, 504].includes(r.responses[0].status));
    assert.is(c.requestCount + d.requestCount, 1, 'POST never retried');
    const g = await get(lt, '/e3g');
    assert.is(g.responses[0].status, 200, 'GET retried on the other member when configured');
  });
});

E('E3 the read timeout counts silence, not the whole answer: bytes every 0.3 s under a 0.5 s limit go through', async () => {
  // Four pieces 0.3 s apart: the answer takes ~0.9 s, longer than the limit, but no gap reaches it.
  const be = await fakeBackend({ respond: () => ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na', pause, 'b', pause, 'c', pause, 'd'] });
  await run([be], [], 'proxy-core.read-timeout = "0.5"', async (lt) => {
    let released = 0;
    const trickle = setInterval(() => { if (released < 3) { released++; be.release(); } }, 300);
    try {
      const r = await get(lt, '/e3-trickle');
      assert.is(r.responses[0].status, 200);
      assert.is(r.responses[0].body.toString(), 'abcd');
      assert.is(released, 3, 'every gap was waited out');
      assert.is(member(lt, be.address).failures.readTimeout, 0);
    } finally {
      clearInterval(trickle);
    }
  });
});

E('E4 a non-idempotent request that reached the backend is not retried', async () => {
  const a = await fakeBackend({ respond: () => 'close' });
  const b = await fakeBackend({ respond: () => 'close' });
  await run([a, b], [], '', async (lt) => {
    const r = await rawExchange({ port: lt.port, send: 'POST /e4 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', expectResponses: 1, timeoutMs: 8000 });
    assert.is(r.responses[0].status, 502);
    assert.is(a.requestCount + b.requestCount, 1, 'sent exactly once');
  });
});

E('E5 a pooled connection the backend closed while idle is never used; the request succeeds', async () => {
  const be = await fakeBackend({ respond: () => OK, then: 'close' });
  await run([be], [], '', async (lt) => {
    assert.is((await get(lt, '/e5a')).responses[0].status, 200);
    await be.waitFor((b) => b.connections[0].closed, 3000, 'backend closed the first connection');
    assert.is((await get(lt, '/e5b')).responses[0].status, 200);
    assert.is(be.connectionCount, 2);
  });
});

E('E6 5xx with retry-on-5xx: idempotent retried on the next member, POST not; 500 counts as a failure, 404 never', async () => {
  const a = await fakeBackend({ respond: () => 'HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nx' });
  const b = await fakeBackend({ respond: (req) => req.target.startsWith('/nf') ? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' : OK });
  await run([a, b], [], 'proxy-core.retry-on-5xx = "enable"\nproxy-core.disable-time = 30', async (lt) => {
    const r = await get(lt, '/e6');
    assert.is(r.responses[0].status, 200, 'GET retried');
    const p = await rawExchange({ port: lt.port, send: 'POST /e6p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx', expectResponses: 1, timeoutMs: 5000 });
    assert.ok([200, 500].includes(p.responses[0].status));
    assert.ok(member(lt, a.address).failures.status5xx >= 1);
    for (let i = 0; i < 3; i++) await get(lt, `/nf${i}`);
    assert.is(member(lt, b.address).failures.status5xx, 0);
    assert.is(member(lt, b.address).state, 'up', 'a 404 never disables');
  });
});

E('E7 retrying with a body replays the same bytes', async () => {
  const a = await fakeBackend({ respond: () => 'HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n' });
  const b = await fakeBackend({ respond: (req) => `HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body}` });
  await run([a, b], [], 'proxy-core.retry-on-5xx = "enable"', async (lt) => {
    const body = 'payload-'.repeat(100);
    const r = await rawExchange({ port: lt.port, send: `PUT /e7 HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`, expectResponses: 1, timeoutMs: 5000 });
    assert.is(r.responses[0].status, 200);
    assert.is(r.responses[0].body.toString(), body, 'the second member got the same bytes');
  });
});

E('E8 every member tried at most once; all refused → 503', async () => {
  const ports = [await refusedPort(), await refusedPort(), await refusedPort()];
  const lt = await startProxy(ports.map((p) => `127.0.0.1:${p}`), 'proxy-core.max-tries = 10');
  try {
    const r = await get(lt, '/e8');
    assert.is(r.responses[0].status, 503);
    for (const p of ports) assert.is(member(lt, `127.0.0.1:${p}`).failures.refused, 1, `member ${p} tried once`);
  } finally { await lt.stop(); }
});

E('E9 all members down → immediate 503', async () => {
  const port = await refusedPort();
  const lt = await startProxy([`127.0.0.1:${port}`], 'proxy-core.disable-time = 30');
  try {
    await get(lt, '/e9a');
    const t0 = Date.now();
    const r = await get(lt, '/e9b');
    assert.is(r.responses[0].status, 503);
    assert.ok(Date.now() - t0 < 500, 'no waiting');
    assert.is(member(lt, `127.0.0.1:${port}`).failures.refused, 1, 'a down member is not tried again');
  } finally { await lt.stop(); }
});

E('E10 recovery: after disable-time one probe; success brings the member back', async () => {
  const be = await fakeBackend({ respond: () => OK });
  const addr = be.address;
  await be.close();
  const lt = await startProxy([addr], 'proxy-core.disable-time = "0.3"');
  try {
    await get(lt, '/e10a');
    assert.is(member(lt, addr).state, 'disabled');
    // Bring a backend up on the same port.
    const port = Number(addr.split(':')[1]);
    const revived = await new Promise<import('node:net').Server>((resolve) => {
      import('node:net').then(({ default: net }) => {
        const s = net.createServer((c) => c.on('data', () => c.write(OK)));
        s.listen(port, '127.0.0.1', () => resolve(s));
      });
    });
    try {
      await waitFor(() => Date.now() >= member(lt, addr).disabledUntilMs, 3000, 5, 'disable time over');
      assert.is((await get(lt, '/e10b')).responses[0].status, 200, 'the probe succeeds');
      assert.is(member(lt, addr).state, 'up');
    } finally { revived.close(); }
  } finally { await lt.stop(); }
});

E('E11 hash balancer: same key → same member; key\'s member down → next; back once healthy', async () => {
  const bes = await Promise.all([0, 1, 2].map((i) => fakeBackend({ respond: () => `HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${i}` })));
  const lt = await startProxy(bes.map((b) => b.address), 'proxy-core.balancer := "hash"\nproxy-core.disable-time = "0.3"');
  try {
    const who = async (p: string) => (await get(lt, p)).responses[0].body.toString();
    const first = await who('/key-42');
    for (let i = 0; i < 5; i++) assert.is(await who('/key-42'), first, 'stable');
    const owner = bes[Number(first)];
    const ownerAddr = owner.address;
    await owner.close();
    const moved = await who('/key-42');
    assert.is.not(moved, first, 'moved to another member while its member is down');
    assert.is(await who('/key-42'), moved, 'stays on the next member');
    const port = Number(ownerAddr.split(':')[1]);
    const net = (await import('node:net')).default;
    const revived = await new Promise<import('node:net').Server>((resolve) => {
      const s = net.createServer((c) => c.on('data', () => c.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${first}`)));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
    try {
      await waitFor(async () => (await who('/key-42')) === first, 5000, 100, 'back on its member');
    } finally { revived.close(); }
  } finally { await lt.stop(); for (const b of bes) await b.close(); }
});

E('E12 max connections per member: bounded queue, then 503; queue timeout → 504', async () => {
  const be = await fakeBackend({ respond: () => 'stall' });
  await run([be], [], 'proxy-core.max-pool-size = 1\nproxy-core.max-backlog-size = 1\nproxy-core.queue-timeout = "0.5"\nproxy-core.read-timeout = 5', async (lt) => {
    const p1 = get(lt, '/e12-1');
    await be.waitRequests(1, 3000);
    const p2 = get(lt, '/e12-2');
    await waitFor(() => proxyApi<ProxyCoreApi>(lt).snapshot().backends[0].queued === 1, 3000, 5, 'one queued');
    const r3 = await get(lt, '/e12-3');
    assert.is(r3.responses[0].status, 503, 'queue full');
    const r2 = await p2;
    assert.is(r2.responses[0].status, 504, 'queue timeout');
    void p1;
  });
});

E.run();

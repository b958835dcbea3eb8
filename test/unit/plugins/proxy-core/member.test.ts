// Unit tests of a member's pool and health (plugins/proxy-core/member.ts, backend.ts): keep-alive
// reuse, maxPoolSize, idle-close detection (E5), disable / probe / doubling (E10), maxEjectPercent.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_BACKEND_OPTIONS, type BackendOptions } from '../../../../plugins/proxy-core/api.js';
import { Backend } from '../../../../plugins/proxy-core/backend.js';
import type { Member } from '../../../../plugins/proxy-core/member.js';
import type { UpstreamConnection, UpstreamOwner } from '../../../../plugins/proxy-core/upstream-connection.js';
import type { Balancer } from '../../../../plugins/proxy-core/types.js';
import { waitFor } from '../../../helpers/wait.js';

const T = suite('proxy-core/member');

const first: Balancer = { select: (ms, _r, tried, now) => ms.find((m) => !tried.has(m) && m.available(now)) ?? null };

/** What the backends made here wrote to the error log. */
let logged: string[] = [];

function backend(options: Partial<BackendOptions>, members: string[]): Backend {
  const b = new Backend({
    name: 't', protocol: 'http', balancer: 'first', hashKey: 'url', options: { ...DEFAULT_BACKEND_OPTIONS, ...options },
    protocolOptions: { maxResponseHeadBytes: 1000 }, log: (m) => logged.push(m),
  });
  b.bind({ name: 'http', keepAlive: true, streamsUnknownLength: true, usesEnv: false, createExchange: () => { throw new Error('unused'); } }, first);
  for (const m of members) b.addMember(m);
  return b;
}

class Owner implements UpstreamOwner {
  connected = 0;
  ended = 0;
  onUpstreamConnect(): void { this.connected++; }
  onUpstreamData(): void {}
  onUpstreamEnd(): void { this.ended++; }
  onUpstreamError(): void {}
  onUpstreamWriteError(): boolean { return false; }
  onUpstreamDrain(): void {}
  onUpstreamTimeout(): void {}
  onClientDrain(): void {}
}

let server: net.Server;
let port = 0;
const accepted: net.Socket[] = [];
T.before(async () => {
  server = net.createServer((s) => { accepted.push(s); s.on('error', () => {}); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
T.after(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connected(c: UpstreamConnection): Promise<void> {
  await waitFor(() => c.state === 'busy', 2000, 1, 'the connection');
}

T('the pool: at most maxPoolSize, idle connections reused last-in first-out, a closed idle one dropped', async () => {
  const b = backend({ maxPoolSize: 2 }, [`127.0.0.1:${port}`]);
  const m = b.members[0] as Member;
  const o = new Owner();
  const c1 = m.acquire(o, false);
  const c2 = m.acquire(o, false);
  await connected(c1);
  await connected(c2);
  assert.is(m.open, 2);
  assert.not.ok(m.hasCapacity);
  assert.not.ok(m.available(Date.now()));
  m.release(c1, true);
  m.release(c2, true);
  assert.is(m.idle.length, 2);
  assert.is(m.acquire(o, false), c2, 'the most recently used first');
  m.release(c2, false);
  await waitFor(() => m.open === 1, 2000, 1, 'the unreusable one to close');
  // E5: the backend closes the idle connection: it leaves the pool at once.
  const before = accepted.length;
  assert.ok(before >= 2);
  for (const s of accepted) s.end();
  await waitFor(() => m.open === 0 && m.idle.length === 0, 2000, 1, 'the idle connection to be dropped');
  const fresh = m.acquire(o, false);
  assert.is.not(fresh, c1);
  fresh.destroy();
});

T('E10: a refused connection disables at once, and the error log says so', () => {
  logged = [];
  const b = backend({ disableTimeMs: 1000 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const [m1] = b.members as Member[];
  m1!.recordFailure('refused', 'connection refused', '/a');
  assert.is(m1!.state, 'disabled');
  assert.is(b.failures.refused, 1);
  assert.equal(logged, ['backend "t" 127.0.0.1:1: disabled for 1 s: connection refused']);
});

T('E10: failures of one path never disable a member, however many', () => {
  const b = backend({ maxFails: 3 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[1] as Member;
  for (let i = 0; i < 50; i++) m.recordFailure('badResponse', 'bad', '/broken');
  assert.is(m.state, 'up');
  assert.is(m.failures.badResponse, 50, 'still counted');
});

T('E10: response-level failures over different paths disable at maxFails and failurePercent', () => {
  logged = [];
  const b = backend({ maxFails: 3, failurePercent: 50 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[1] as Member;
  m.recordFailure('reset', 'r', '/a');
  m.recordFailure('readTimeout', 't', '/b');
  assert.is(m.state, 'up', 'two failures: under maxFails');
  m.recordFailure('reset', 'r', '/a');
  assert.is(m.state, 'disabled');
  assert.match(logged.join('\n'), /127\.0\.0\.1:2: disabled for 1 s: 3 of 3 requests failed within 10 s \(last: r\)/);
});

T('E10: answers in the window keep the rate under failurePercent', () => {
  const b = backend({ maxFails: 3, failurePercent: 50 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[1] as Member;
  for (let i = 0; i < 10; i++) m.recordSuccess();
  for (let i = 0; i < 9; i++) m.recordFailure('reset', 'r', `/p${i % 3}`);
  assert.is(m.state, 'up', '9 of 19 failed: under 50 %');
  m.recordFailure('reset', 'r', '/p9');
  assert.is(m.state, 'disabled', '10 of 20');
});

T('E10: response-level failures never disable the last member in use; connect-level ones do', () => {
  logged = [];
  const b = backend({ maxFails: 2 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const [m1, m2] = b.members as Member[];
  m1!.recordFailure('refused', 'refused', '/');
  assert.is(m1!.state, 'disabled');
  for (let i = 0; i < 10; i++) m2!.recordFailure('badResponse', 'bad', `/p${i}`);
  assert.is(m2!.state, 'up', 'the last member in use stays');
  assert.match(logged.join('\n'), /127\.0\.0\.1:2: not disabled: it is the last member in use/);
  const single = backend({}, ['127.0.0.1:3']);
  const only = single.members[0] as Member;
  only.recordFailure('refused', 'refused', '/');
  assert.is(only.state, 'disabled', 'lighttpd: a refusing member is left out for disable-time');
});

T('E10: the failure window starts again after failureWindowMs', async () => {
  const b = backend({ maxFails: 2, failureWindowMs: 30 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[1] as Member;
  m.recordFailure('reset', 'r', '/a');
  await new Promise((r) => setTimeout(r, 60));
  m.recordFailure('reset', 'r', '/b');
  assert.is(m.state, 'up', 'the first failure fell out of the window');
});

T('E10: after the disable time one probe; each failed probe doubles the time up to the cap; a good one restores', () => {
  const b = backend({ disableTimeMs: 100, maxDisableTimeMs: 350 }, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[0] as Member;
  const now = Date.now();
  m.disable(now);
  assert.is(m.disabledUntilMs - now, 100);
  assert.not.ok(m.available(now + 50));
  assert.ok(m.available(now + 100), 'due for a probe');
  m.startAttempt();
  assert.is(m.state, 'probing');
  assert.not.ok(m.available(now + 100), 'one probe at a time');
  m.probeAbandoned();
  assert.ok(m.available(now + 100), 'an abandoned probe may be tried again');
  m.startAttempt();
  m.recordFailure('refused', 'x', '/');
  m.endAttempt();
  const d2 = m.disabledUntilMs - Date.now();
  assert.ok(d2 > 150 && d2 <= 200, `doubled: ${d2}`);
  m.disable(Date.now());
  const d3 = m.disabledUntilMs - Date.now();
  assert.ok(d3 > 300 && d3 <= 350, `capped: ${d3}`);
  logged = [];
  m.recordSuccess();
  assert.is(m.state, 'up');
  assert.equal(logged, ['backend "t" 127.0.0.1:1: re-enabled: its probe request was answered']);
  m.disable(Date.now());
  assert.ok(m.disabledUntilMs - Date.now() <= 100, 'back to the base time');
});

T('E10: maxEjectPercent keeps enough members in use', () => {
  const b = backend({ maxEjectPercent: 50 }, ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4']);
  for (const m of b.members as Member[]) m.recordFailure('refused', 'x', '/');
  assert.is(b.members.filter((m) => m.state === 'disabled').length, 2);
});

T('a removed member takes no requests and resolves once its last attempt ends', async () => {
  const b = backend({}, ['127.0.0.1:1', '127.0.0.1:2']);
  const m = b.members[0] as Member;
  m.startAttempt();
  let removed = false;
  const p = b.removeMember('127.0.0.1:1').then(() => { removed = true; });
  assert.equal(b.members.map((x) => x.key), ['127.0.0.1:2']);
  assert.not.ok(m.available(Date.now()));
  await Promise.resolve();
  assert.not.ok(removed);
  m.endAttempt();
  await p;
  assert.ok(removed);
});

T.run();

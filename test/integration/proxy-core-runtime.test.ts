// proxy-core at runtime: backends and members added and removed through the API without losing a
// request, hostnames resolved (injected resolver) to all their addresses and re-resolved, unix and
// IPv6 members, the rewrite hooks, X-Sendfile, config-built backends and config errors.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { rawExchange, type RawExchangeResult } from '../helpers/raw-client.js';
import { startLantern } from '../helpers/lantern.js';
import { waitFor } from '../helpers/wait.js';
import type { BackendSnapshot } from '../../plugins/proxy-core/api.js';
import { proxyConf, startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const R = suite('proxy-core runtime: API, resolution, hooks, X-Sendfile, config');
let lt: ProxyHandle;
let a: FakeBackend;
let b: FakeBackend;
let slow: FakeBackend;
let files: FakeBackend;
let anyIf: FakeBackend;
let sendfile = '';

R.before(async () => {
  a = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA' });
  b = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB' });
  slow = await fakeBackend({ respond: () => ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n', fakeBackend.pause, 'slow'] });
  files = await fakeBackend({ respond: (req) => `HTTP/1.1 200 OK\r\nX-Sendfile: ${sendfile}\r\nContent-Type: text/x-backend\r\nContent-Disposition: inline\r\nContent-Length: 7\r\n\r\nbackend${req.target.includes('skip') ? '' : ''}` });
  anyIf = await fakeBackend({ host: '0.0.0.0' });
  lt = await startProxy(`
mimetype.assign = ( ".txt" => "text/plain" )
$HTTP["url"] =^ "/xs/" { proxy-core.backends = ( "${files.address}" ) proxy-core.allow-x-sendfile = "enable" }
$HTTP["url"] =^ "/xsoff/" { proxy-core.backends = ( "${files.address}" ) }
$HTTP["url"] =^ "/shared1/" { proxy-core.backends = ( "${a.address}" ) proxy-core.max-pool-size = 3 }
$HTTP["url"] =^ "/shared2/" { proxy-core.backends = ( "${a.address}" ) proxy-core.max-pool-size = 3 }
$HTTP["url"] =^ "/own/" { proxy-core.backends = ( "${a.address}" ) proxy-core.max-pool-size = 4 }
`, { files: { 'pub/file.txt': 'file body\n', 'secret.txt': 'secret\n' } });
});

R.after(async () => {
  await lt?.stop();
  for (const x of [a, b, slow, files, anyIf]) await x?.close();
});

const GET = (path: string, extra = ''): Promise<RawExchangeResult> =>
  rawExchange({ port: lt.port, send: `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`, expectResponses: 1, timeoutMs: 4000 });
const body = async (path: string) => (await GET(path)).responses[0]?.body.toString();
const snap = (name: string): BackendSnapshot => lt.api.snapshot().backends.find((x) => x.name === name)!;

R('addBackend at runtime, then forward to it', async () => {
  lt.api.addBackend({ name: 'rt1', protocol: 'http', balancer: 'test-rr', members: [a.address, { address: b.address, weight: 2 }] });
  const got = [await body('/api/rt1/1'), await body('/api/rt1/2')].sort();
  assert.equal(got, ['A', 'B']);
  assert.is(snap('rt1').members[1]!.weight, 2);
  assert.throws(() => lt.api.addBackend({ name: 'rt1', protocol: 'http', balancer: 'test-rr', members: [] }), /exists/);
  assert.throws(() => lt.api.addBackend({ name: 'rt2', protocol: 'nope', balancer: 'test-rr', members: [] }), /no protocol "nope"/);
  assert.throws(() => lt.api.addBackend({ name: 'rt3', protocol: 'http', balancer: 'nope', members: [] }), /no balancer "nope"/);
});

R('keep-alive to backends: one connection reused, at most maxKeepAliveRequests, closed after keepAliveIdleMs', async () => {
  const ka = await fakeBackend();
  try {
    lt.api.addBackend({ name: 'ka', protocol: 'http', balancer: 'test-rr', members: [ka.address], options: { maxKeepAliveRequests: 3, keepAliveIdleMs: 150 } });
    for (let i = 0; i < 4; i++) assert.is((await GET(`/api/ka/${i}`)).responses[0]?.status, 200);
    assert.equal(ka.connections.map((c) => c.requests.length), [3, 1]);
    assert.ok(ka.connections[0]!.closedByPeer, 'closed after its third request');
    await ka.waitFor((x) => x.connections[1]!.closedByPeer, 2000, 'the idle connection to be closed');
    await waitFor(() => snap('ka').idle === 0 && snap('ka').members[0]!.connections === 0, 2000, 1, 'the pool to be empty');
  } finally {
    await lt.api.removeBackend('ka');
    await ka.close();
  }
});

R('removeBackend with requests in flight: they all finish; then the backend is gone', async () => {
  lt.api.addBackend({ name: 'rm', protocol: 'http', balancer: 'test-rr', members: [slow.address] });
  const inflight = Array.from({ length: 5 }, (_, i) => GET(`/api/rm/${i}`));
  await slow.waitFor((x) => x.pausedReplies === 5, 3000, 'five replies in progress');
  let removed = false;
  const removal = lt.api.removeBackend('rm').then(() => { removed = true; });
  assert.is(lt.api.getBackend('rm'), undefined, 'no new requests go there');
  assert.is((await GET('/api/rm/late')).responses[0]?.status, 404);
  assert.not.ok(removed, 'removal waits for the requests in flight');
  slow.release(5);
  for (const r of await Promise.all(inflight)) assert.is(r.responses[0]?.body.toString(), 'slow');
  await removal;
  await slow.waitFor((x) => x.connections.every((c) => c.closed), 2000, 'its connections to close');
});

R('addMember / removeMember under load lose no request', async () => {
  const h = lt.api.addBackend({ name: 'mm', protocol: 'http', balancer: 'test-rr', members: [a.address] });
  const results: string[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const r = await GET('/api/mm/x');
      results.push(`${r.responses[0]?.status}:${r.responses[0]?.body.toString()}`);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await waitFor(() => results.length >= 50, 5000, 1, '50 answers from A');
  h.addMember(b.address);
  await waitFor(() => results.filter((x) => x === '200:B').length >= 20, 5000, 1, 'B to take requests');
  await h.removeMember(a.address);
  const mark = results.length;
  await waitFor(() => results.length >= mark + 50, 5000, 1, '50 more answers');
  stop = true;
  await Promise.all(workers);
  assert.ok(results.every((x) => x === '200:A' || x === '200:B'), `every request answered: ${results.filter((x) => !x.startsWith('200')).slice(0, 3)}`);
  assert.ok(results.slice(mark + 8).every((x) => x === '200:B'), 'after the removal only B');
  assert.equal(h.members.map((m) => m.key), [b.address]);
});

R('a hostname resolves to all its addresses; a changed answer adds and removes members', async () => {
  let answer = ['127.0.0.1'];
  let lookups = 0;
  const h = lt.api.addBackend({
    name: 'dns', protocol: 'http', balancer: 'test-rr', members: [`svc.test:${anyIf.port}`],
    options: { resolve: async (host) => { lookups++; assert.is(host, 'svc.test'); return answer; }, resolveIntervalMs: 1 },
  });
  // The first request waits for the first lookup instead of failing.
  assert.is((await GET('/api/dns/1')).responses[0]?.status, 200);
  assert.equal(h.members.map((m) => m.key), [`127.0.0.1:${anyIf.port}`]);
  answer = ['127.0.0.1', '127.0.0.2'];
  await h.resolveNow();
  assert.equal(h.members.map((m) => m.key), [`127.0.0.1:${anyIf.port}`, `127.0.0.2:${anyIf.port}`]);
  for (let i = 0; i < 4; i++) assert.is((await GET(`/api/dns/${i}`)).responses[0]?.status, 200);
  assert.ok(snap('dns').members.every((m) => m.requests >= 2), 'both addresses serve');
  assert.ok(snap('dns').members.every((m) => m.hostname === 'svc.test'));
  // Re-resolved by the once-a-second tick, without a call.
  answer = ['127.0.0.2'];
  const before = lookups;
  await waitFor(() => h.members.length === 1, 3000, 10, 'the vanished address to leave');
  assert.ok(lookups > before);
  assert.equal(h.members.map((m) => m.key), [`127.0.0.2:${anyIf.port}`]);
  assert.is((await GET('/api/dns/after')).responses[0]?.status, 200);
  await lt.api.removeBackend('dns');
});

R('unix socket and IPv6 members', async () => {
  const path = `${lt.dir}/../lantern-uds-${process.pid}.sock`;
  const u = await fakeBackend({ path, respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nU' });
  let v6: FakeBackend | null = null;
  try { v6 = await fakeBackend({ host: '::1', respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n6' }); } catch { /* no IPv6 here */ }
  try {
    lt.api.addBackend({ name: 'uds', protocol: 'http', balancer: 'test-rr', members: [`unix:${path}`] });
    assert.is(await body('/api/uds/x'), 'U');
    assert.is(u.connections[0]!.requests[0]!.header('host'), 'h');
    if (v6) {
      lt.api.addBackend({ name: 'v6', protocol: 'http', balancer: 'test-rr', members: [v6.address] });
      assert.is(await body('/api/v6/x'), '6');
      assert.is(snap('v6').members[0]!.key, `[::1]:${v6.port}`);
    }
  } finally {
    await lt.api.removeBackend('uds');
    await lt.api.removeBackend('v6');
    await u.close();
    await v6?.close();
  }
});

R('upstreamRequest and upstreamResponse hooks rewrite what goes up and comes back; CR/LF from a hook → 500', async () => {
  lt.api.addBackend({ name: 'hk', protocol: 'http', balancer: 'test-rr', members: [a.address] });
  lt.api.hooks.upstreamRequest.tap('test', (up) => {
    if (!up.target.startsWith('/api/hk/')) return;
    up.target = up.target.replace('/api/hk/', '/rewritten/');
    up.headers.push('X-Added', up.target.includes('bad') ? 'a\r\nInjected: 1' : 'yes');
  });
  lt.api.hooks.upstreamResponse.tap('test', (head, req) => {
    if (!req.path.startsWith('/api/hk/')) return;
    head.status = 203;
    head.headers.push('X-Seen', 'by hook');
  });
  const r = await GET('/api/hk/x');
  assert.is(r.responses[0]?.status, 203);
  assert.is(r.responses[0]?.header('x-seen'), 'by hook');
  const req = a.connections.flatMap((c) => c.requests).find((x) => x.target === '/rewritten/x')!;
  assert.is(req.header('x-added'), 'yes');
  const before = a.requestCount;
  const bad = await GET('/api/hk/bad');
  assert.is(bad.responses[0]?.status, 500);
  assert.is(a.requestCount, before, 'nothing sent');
});

R('X-Sendfile: the named file is served instead of the body; outside the docroot → 403', async () => {
  sendfile = `${lt.dir}/pub/file.txt`;
  const r = await GET('/xs/a');
  const res = r.responses[0]!;
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'file body\n');
  assert.is(res.header('content-type'), 'text/x-backend', 'the backend\'s Content-Type is the file\'s (lighttpd)');
  assert.is(res.header('content-disposition'), 'inline', 'the backend\'s other fields stay');
  assert.is(res.header('x-sendfile'), undefined);
  assert.ok(res.header('etag'));
  const range = await GET('/xs/b', 'Range: bytes=0-3\r\n');
  assert.is(range.responses[0]?.status, 206);
  assert.is(range.responses[0]?.body.toString(), 'file');
  sendfile = `${lt.dir}/../../etc/passwd`;
  assert.is((await GET('/xs/c')).responses[0]?.status, 403);
  assert.match(fs.readFileSync(`${lt.dir}/error.log`, 'utf8'), /X-Sendfile: .*etc\/passwd is outside the allowed roots/);
  sendfile = `${lt.dir}/pub/missing.txt`;
  assert.is((await GET('/xs/d')).responses[0]?.status, 404);
  // Not enabled: the backend's answer as is.
  sendfile = `${lt.dir}/pub/file.txt`;
  const off = await GET('/xsoff/a');
  assert.is(off.responses[0]?.body.toString(), 'backend');
});

R('blocks with the same settings share one backend; different settings get their own', async () => {
  await GET('/shared1/x');
  await GET('/shared2/x');
  await GET('/own/x');
  const withA = lt.api.snapshot().backends.filter((x) => x.name.startsWith('lighttpd.conf:') && x.members[0]?.key === a.address);
  assert.is(withA.length, 2);
  assert.equal(withA.map((x) => x.requests).sort(), [1, 2]);
});

R('config errors stop the start: unknown balancer or protocol, bad address', async () => {
  const fails = async (conf: string, re: RegExp) => {
    let err: unknown = null;
    try { const x = await startLantern(proxyConf(conf)); await x.stop(); } catch (e) { err = e; }
    assert.ok(err instanceof Error, `${conf}: refused`);
    assert.match((err as Error).message, re);
  };
  await fails('proxy-core.backends = ( "127.0.0.1:1" )\nproxy-core.balancer := "nope"', /lighttpd\.conf:\d+: proxy-core\.balancer: no balancer "nope"/);
  await fails('proxy-core.backends = ( "127.0.0.1:1" )\nproxy-core.protocol = "nope"', /proxy-core\.protocol: no protocol "nope"/);
  await fails('proxy-core.backends = ( "::1:80" )', /lighttpd\.conf:\d+: .*brackets/);
  await fails('proxy-core.backends = ( "127.0.0.1:1" )\nproxy-core.trust-forwarded-from = ( "nonsense" )', /lighttpd\.conf:\d+: .*"nonsense" is not an address/);
  await fails('proxy-core.read-timeout = "soon"', /proxy-core\.read-timeout/);
});

R.run();

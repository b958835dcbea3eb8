// Reliability checklist rows C1-C6: what lantern sends upstream (HTTP backend).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { rawExchange } from '../helpers/raw-client.js';
import type { LanternHandle } from '../helpers/lantern.js';
import { startProxy } from '../helpers/proxy-setup.js';

const C = suite('reliability C: upstream requests');
let be: FakeBackend;
let lt: LanternHandle;

C.before(async () => {
  be = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });
  lt = await startProxy([be.address]);
});
C.after(async () => { await lt?.stop(); await be?.close(); });

async function forward(bytes: string) {
  const before = be.requestCount;
  const r = await rawExchange({ port: lt.port, send: bytes, expectResponses: 1, timeoutMs: 5000 });
  assert.is(r.responses[0]?.status, 200, 'proxied');
  await be.waitRequests(before + 1, 3000);
  const all = be.connections.flatMap((c) => c.requests);
  return { r, up: all[all.length - 1] };
}

C('C1 hop-by-hop fields and every name listed in Connection are removed', async () => {
  const { up } = await forward('GET /c1 HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: foo\r\nX-Kept: yes\r\n\r\n');
  for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'transfer-encoding']) {
    assert.is(up.header(name), undefined, `${name} removed`);
  }
  assert.ok(!/x-secret/i.test(up.header('connection') ?? ''), 'Connection does not name X-Secret');
  assert.is(up.header('x-kept'), 'yes');
});

C('C2 framing toward the backend is regenerated: client chunk extensions never forwarded', async () => {
  const { up } = await forward('POST /c2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3;x\r\n!!!\r\n0\r\n\r\n');
  assert.is(up.body.toString(), 'hello!!!');
  assert.not.ok(up.raw.toString('latin1').includes('ext=1'), 'extension not forwarded');
  const te = up.header('transfer-encoding');
  const cl = up.header('content-length');
  assert.ok((te === 'chunked') !== (cl !== undefined), 'exactly one framing');
  // A Content-Length request keeps its length.
  const { up: up2 } = await forward('POST /c2b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody');
  assert.is(up2.header('content-length'), '4');
  assert.is(up2.body.toString(), 'body');
});

C('C3 X-Forwarded-For/-Proto/-Host set from the connection; client values untrusted', async () => {
  const { up } = await forward('GET /c3 HTTP/1.1\r\nHost: site.example:8080\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n\r\n');
  assert.is(up.header('x-forwarded-for'), '127.0.0.1');
  assert.is(up.header('x-forwarded-proto'), 'http');
  assert.is(up.header('x-forwarded-host'), 'site.example:8080');
});

C('C4 repeated fields keep their order; exactly one Host', async () => {
  const { up } = await forward('GET /c4 HTTP/1.1\r\nHost: one.example\r\nX-A: 1\r\nX-B: 2\r\nX-A: 3\r\n\r\n');
  const xa = up.headers.filter(([n]) => n.toLowerCase() === 'x-a').map(([, v]) => v).join(', ');
  assert.is(xa, '1, 3');
  assert.is(up.headers.filter(([n]) => n.toLowerCase() === 'host').length, 1);
  assert.is(up.header('host'), 'one.example');
});

C('C4/B4 absolute-form target: the upstream gets one regenerated Host and an origin-form target', async () => {
  const { up } = await forward('GET http://target.example/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n');
  assert.is(up.target, '/abs?q=1');
  assert.is(up.headers.filter(([n]) => n.toLowerCase() === 'host').length, 1);
  assert.is(up.header('host'), 'target.example');
});

C('C6 an empty Host on HTTP/1.1 → 400, nothing forwarded', async () => {
  const before = be.requestCount;
  const r = await rawExchange({ port: lt.port, send: 'GET /c6 HTTP/1.1\r\nHost:\r\n\r\n', timeoutMs: 4000 });
  assert.is(r.responses[0]?.status, 400);
  assert.is(be.requestCount, before);
});

C.run();

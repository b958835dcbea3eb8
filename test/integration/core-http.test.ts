// The core's HTTP/1.x behaviour beyond the checklist's A/B rows: answering in the request's
// version, keep-alive rules of 1.0 and 1.1, Expect: 100-continue, half-closed clients, and the
// connection timeouts (head, body, keep-alive idle).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawExchange, connectRaw } from '../helpers/raw-client.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { seen } from '../helpers/plugins/echo/index.js';

const ECHO = new URL('../helpers/plugins/echo/index.ts', import.meta.url).pathname;
const H = suite('core http');
let lt: LanternHandle;

H.before(async () => {
  lt = await startLantern(`
server.modules = ( "${ECHO}" )
server.document-root = "%DIR%"
server.max-read-idle = 1
server.max-keep-alive-idle = 1
server.max-keep-alive-requests = 3
$HTTP["url"] =^ "/echo/early" { echo.early = "enable" }
$HTTP["url"] =^ "/echo/stream" { echo.stream = "enable" }
`, { files: { 'index.html': 'hello\n' } });
});
H.after(async () => { await lt?.stop(); });

const send = (bytes: string | string[], expect?: number, halfClose = false) =>
  rawExchange({ port: lt.port, send: bytes, expectResponses: expect, halfClose, timeoutMs: 5000 });

H('HTTP/1.0 gets HTTP/1.0 and close, unless it asks for keep-alive', async () => {
  let r = await send('GET /index.html HTTP/1.0\r\n\r\n');
  assert.is(r.responses[0].version, 'HTTP/1.0');
  assert.is(r.responses[0].header('connection'), 'close');
  assert.ok(r.closed);
  r = await send('GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /index.html HTTP/1.0\r\n\r\n', 2);
  assert.is(r.responses.length, 2);
  assert.is(r.responses[0].header('connection'), 'keep-alive');
  assert.is(r.responses[0].body.toString(), 'hello\n');
});

H('HTTP/1.1 keeps the connection; Connection: close closes it after the answer', async () => {
  let r = await send('GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', 1);
  assert.is(r.responses[0].version, 'HTTP/1.1');
  assert.is(r.responses[0].header('connection'), undefined);
  assert.not.ok(r.closed);
  r = await send('GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.is(r.responses[0].header('connection'), 'close');
  assert.ok(r.closed);
});

H('server.max-keep-alive-requests closes after that many requests', async () => {
  const one = 'GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await send(one.repeat(5));
  assert.is(r.responses.length, 3);
  assert.is(r.responses[2].header('connection'), 'close');
  assert.ok(r.closed);
});

H('a body of unknown length: chunked to HTTP/1.1, close-delimited to HTTP/1.0', async () => {
  let r = await send('GET /echo/stream HTTP/1.1\r\nHost: a\r\n\r\nGET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', 2);
  assert.ok(r.responses[0].chunked);
  assert.is(r.responses[0].body.toString(), 'part1part2');
  assert.ok(r.responses[0].raw.toString('latin1').endsWith('\r\n0\r\n\r\n'));
  assert.is(r.responses[1].status, 200, 'the connection goes on after a chunked answer');
  r = await send('GET /echo/stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.not.ok(r.responses[0].chunked);
  assert.is(r.responses[0].header('content-length'), undefined);
  assert.is(r.responses[0].header('connection'), 'close');
  assert.is(r.responses[0].body.toString(), 'part1part2');
  assert.ok(r.closed);
});

H('a half-closed client still gets its answer (allowHalfOpen)', async () => {
  const r = await send('GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', undefined, true);
  assert.is(r.responses.length, 1);
  assert.is(r.responses[0].status, 200);
  assert.is(r.responses[0].body.toString(), 'hello\n');
  assert.ok(r.closed);
});

H('Expect: 100-continue: one 100 when the handler reads the body, then the answer', async () => {
  const c = await connectRaw(lt.port);
  try {
    await c.write('POST /echo/c HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    const interim = await c.readResponse(3000);
    assert.is(interim.status, 100);
    await c.write('hello');
    const res = await c.readResponse(3000);
    assert.is(res.status, 200);
    assert.is(JSON.parse(res.body.toString()).body, 'hello');
  } finally { c.destroy(); }
});

H('Expect: 100-continue with an early final answer: no 100, and the connection closes', async () => {
  const r = await send('POST /echo/early HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  assert.equal(r.responses.map((x) => x.status), [200]);
  assert.is(r.responses[0].header('connection'), 'close');
  assert.ok(r.closed);
});

H('an unknown expectation → 417; Expect on HTTP/1.0 is ignored', async () => {
  let r = await send('POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx');
  assert.is(r.responses[0].status, 417);
  r = await send('POST /echo/x HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx');
  assert.equal(r.responses.map((x) => x.status), [200]);
});

H('F1 a head that never completes → 408 and close after server.max-read-idle', async () => {
  const r = await rawExchange({ port: lt.port, send: 'GET /index.html HTTP/1.1\r\nHost: a\r\n', timeoutMs: 5000 });
  assert.is(r.responses[0]?.status, 408);
  assert.ok(r.closed);
});

H('F2 a body that stops arriving → 408, close, the handler sees the body fail', async () => {
  const before = seen.length;
  const r = await rawExchange({ port: lt.port, send: 'POST /echo/slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', timeoutMs: 5000 });
  assert.is(r.responses[0]?.status, 408);
  assert.ok(r.closed);
  assert.ok(seen[before]?.bodyError);
});

H('F5 an idle keep-alive connection is closed silently', async () => {
  const c = await connectRaw(lt.port);
  try {
    await c.write('GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n');
    const res = await c.readResponse(3000);
    assert.is(res.status, 200);
    assert.ok(await c.waitClose(4000), 'closed after the idle timeout');
    assert.is(c.unread.length, 0, 'nothing written on an idle close');
  } finally { c.destroy(); }
});

H('OPTIONS * answers with Allow', async () => {
  const r = await send('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', 1);
  assert.is(r.responses[0].status, 200);
  assert.ok(r.responses[0].header('allow')?.includes('GET'));
});

H('HEAD: same head as GET, no body', async () => {
  const r = await rawExchange({ port: lt.port, send: 'HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', expectResponses: 2, headRequests: [true, false], timeoutMs: 4000 });
  assert.is(r.responses[0].header('content-length'), '6');
  assert.is(r.responses[0].body.length, 0);
  assert.is(r.responses[1].body.toString(), 'hello\n');
});

H.run();

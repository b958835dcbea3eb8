// Reliability checklist rows D1-D13 through proxy-core and the http protocol: a fake backend
// answers literal bytes per path; each test asserts status, client connection state, what the
// client got, and whether the backend connection was closed (not reused).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend, type FakeConnection, type FakeReply } from '../helpers/fake-backend.js';
import { connectRaw, rawExchange, type RawExchangeResult, type RawResponse } from '../helpers/raw-client.js';
import { startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const D = suite('proxy-core backend responses (D1-D13)');
let be: FakeBackend;
let lt: ProxyHandle;

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const replies: Record<string, FakeReply> = {
  '/d1': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/d2': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  '/d3-cl': 'HTTP/1.1 200 OK\r\nContent-Length: foo\r\n\r\nhello',
  '/d3-te': { chunks: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\nhello'], then: 'close' },
  '/d3-te2': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  '/d4-fold': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok',
  '/d4-nul': 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok',
  '/d4-space': 'HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok',
  '/d5-garbage': { chunks: ['FOO BAR\r\n\r\n'], then: 'close' },
  '/d5-partial': { chunks: ['HTTP/1.1 200 OK\r\nX-A: 1\r\n'], then: 'close' },
  '/d5-huge': `HTTP/1.1 200 OK\r\n${'X-Big: '.concat('x'.repeat(8000), '\r\n').repeat(10)}Content-Length: 2\r\n\r\nok`,
  '/d6-cl': { chunks: ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'], then: 'close' },
  '/d6-chunked': { chunks: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'], then: 'close' },
  '/d6-nothing': 'close',
  '/d7-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA',
  '/d7-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA',
  '/d8': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  '/d9': { chunks: ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil', fakeBackend.pause, ' close'], then: 'close' },
  '/d10': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  '/d10-te': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
  '/d11-204': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello',
  '/d11-304': 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/d12': 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n' + OK,
  '/d12-expect': 'HTTP/1.1 100 Continue\r\n\r\n' + OK,
  '/d13': 'HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: upgrade, X-Hop\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\nok',
  '/te': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/trailer': 'HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n',
  '/trailer-forbidden': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\nX-Checksum: abc\r\nConnection: close\r\n\r\n',
  '/trailer-big': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(20000).toString(16)}\r\n${'x'.repeat(20000)}\r\n0\r\nX-Checksum: big\r\n\r\n`,
};
/** Answers to HEAD (a backend sends the head its GET would have, and no body). */
const headReplies: Record<string, FakeReply> = {
  '/te': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
  '/cl': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n',
};

D.before(async () => {
  be = await fakeBackend({ respond: (req) => (req.method === 'HEAD' ? headReplies[req.target] : undefined) ?? replies[req.target] ?? OK });
  lt = await startProxy(`proxy-core.backends = ( "${be.address}" )\nproxy-core.balancer := "test-first"\nproxy-core.max-fails = 1000\n`);
});
D.after(async () => { await lt?.stop(); await be?.close(); });

function get(path: string, opts: { method?: string; version?: string; timeoutMs?: number; extra?: string } = {}): Promise<RawExchangeResult> {
  const method = opts.method ?? 'GET';
  return rawExchange({
    port: lt.port,
    send: `${method} ${path} HTTP/${opts.version ?? '1.1'}\r\nHost: h\r\n${opts.extra ?? ''}\r\n`,
    expectResponses: 1,
    headRequests: [method === 'HEAD'],
    timeoutMs: opts.timeoutMs ?? 3000,
  });
}

/** The backend connection that carried `path`. */
function connFor(path: string): FakeConnection {
  const c = be.connections.find((x) => x.requests.some((r) => r.target === path));
  assert.ok(c, `a backend connection got ${path}`);
  return c!;
}

async function backendClosed(path: string): Promise<void> {
  const c = connFor(path);
  await be.waitFor(() => c.closed, 2000, `lantern to close the backend connection of ${path}`);
}

async function bad(path: string): Promise<void> {
  const r = await get(path);
  assert.is(r.responses[0]?.status, 502, `${path}: 502`);
  assert.not.ok(r.raw.toString('latin1').includes('hello'), `${path}: nothing of the bad response reached the client`);
  await backendClosed(path);
}

D('D1 backend CL + TE → 502, backend connection closed', async () => { await bad('/d1'); });
D('D2 two different Content-Lengths → 502', async () => { await bad('/d2'); });
D('D3 invalid CL, unknown TE, chunked twice → 502', async () => {
  await bad('/d3-cl');
  await bad('/d3-te');
  await bad('/d3-te2');
});
D('D4 obs-fold, NUL, space before colon in a backend field → 502', async () => {
  await bad('/d4-fold');
  await bad('/d4-nul');
  await bad('/d4-space');
});
D('D5 garbage status line, head cut short, head too large → 502', async () => {
  await bad('/d5-garbage');
  await bad('/d5-partial');
  await bad('/d5-huge');
});

D('D6 backend dies mid-body after the head went out → client closed, response incomplete', async () => {
  const r = await get('/d6-cl');
  assert.is(r.responses[0]?.status, 200);
  assert.is(r.responses[0]?.complete, false);
  assert.ok(r.closed, 'client connection closed');
  assert.ok(r.raw.toString().endsWith('0123456789'), 'the bytes that came are forwarded');
});

D('D6 chunked downstream: no final 0-chunk after a backend death', async () => {
  const r = await get('/d6-chunked');
  assert.is(r.responses[0]?.status, 200);
  assert.ok(r.closed);
  assert.is(r.responses[0]?.complete, false);
  assert.not.ok(r.raw.toString().includes('0\r\n\r\n'), 'no last-chunk');
});

D('D6 backend closes before any byte → 502', async () => {
  const r = await get('/d6-nothing');
  assert.is(r.responses[0]?.status, 502);
  assert.not.ok(r.closed, 'a 502 keeps the client connection');
});

D('D7 bytes after the CL body / after the last chunk: dropped, backend connection not reused', async () => {
  const r = await get('/d7-cl');
  assert.is(r.responses[0]?.body.toString(), 'ok');
  assert.not.ok(r.raw.toString().includes('EXTRA'));
  await backendClosed('/d7-cl');
  const r2 = await get('/d7-chunked');
  assert.is(r2.responses[0]?.body.toString(), 'ok');
  assert.not.ok(r2.raw.toString().includes('EXTRA'));
  await backendClosed('/d7-chunked');
});

D('D8 complete CL body while the backend keeps the connection: finished at once', async () => {
  const started = Date.now();
  const r = await get('/d8', { timeoutMs: 2000 });
  assert.is(r.responses[0]?.status, 200);
  assert.is(r.responses[0]?.body.toString(), 'hello');
  assert.not.ok(r.timedOut);
  assert.ok(Date.now() - started < 1500, 'not at a read timeout');
});

D('D9 close-delimited: chunked to a 1.1 client, close-delimited to a 1.0 client', async () => {
  for (const version of ['1.1', '1.0']) {
    const c = await connectRaw(lt.port);
    await c.write(`GET /d9 HTTP/${version}\r\nHost: h\r\n\r\n`);
    // The head and the first piece go out before the backend has finished.
    await c.readUntil((b) => b.toString().includes('until'), 3000, 'the first piece');
    be.release();
    const closed = await c.waitClose(version === '1.1' ? 300 : 3000);
    const text = c.received.toString();
    if (version === '1.1') {
      assert.match(text, /Transfer-Encoding: chunked/);
      assert.ok(text.endsWith('6\r\n close\r\n0\r\n\r\n'), 'the body is re-chunked and completed');
      assert.not.ok(closed, 'the 1.1 client keeps its connection');
    } else {
      assert.not.match(text, /Transfer-Encoding/);
      assert.ok(text.endsWith('until close'));
      assert.ok(closed, 'the end of the body is the end of the connection');
    }
    c.destroy();
  }
});

D('D10 HEAD response with a body: no body to the client, CL kept, backend connection closed', async () => {
  const r = await get('/d10', { method: 'HEAD' });
  assert.is(r.responses[0]?.status, 200);
  assert.is(r.responses[0]?.header('content-length'), '5');
  assert.not.ok(r.raw.toString().includes('hello'));
  await backendClosed('/d10');
  const r2 = await get('/d10-te', { method: 'HEAD' });
  assert.is(r2.responses[0]?.status, 200);
  assert.is(r2.responses[0]?.body.length, 0);
});

/** The head of a response as raw text, and what came after it, read with readResponse({ head }). */
async function headThenGet(version: '1.0' | '1.1', path: string, extra = ''): Promise<{ head: RawResponse; get: RawResponse; closed: boolean }> {
  const c = await connectRaw(lt.port);
  try {
    await c.write(`HEAD ${path} HTTP/${version}\r\nHost: h\r\n${extra}\r\n`);
    const head = await c.readResponse(3000, { head: true });
    // Nothing may follow the head of a HEAD response (no body, no last-chunk).
    assert.is(c.unread.length, 0, `no bytes after the HEAD response: ${JSON.stringify(c.unread.toString('latin1'))}`);
    await c.write(`GET /te HTTP/${version}\r\nHost: h\r\n${extra}\r\n`);
    const get = await c.readResponse(3000);
    return { head, get, closed: c.closed };
  } finally {
    c.destroy();
  }
}

D('D10 HEAD answered chunked by the backend: Transfer-Encoding: chunked, no body, the connection serves the next GET', async () => {
  const { head, get } = await headThenGet('1.1', '/te');
  const text = head.raw.toString('latin1');
  assert.is(head.status, 200);
  assert.match(text, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.not.match(text, /Content-Length/i);
  assert.ok(text.endsWith('\r\n\r\n'), 'the head and nothing else');
  assert.is(head.header('content-type'), 'text/plain');
  assert.is(get.status, 200);
  assert.is(get.body.toString(), 'hello');
  assert.ok(get.complete);
});

D('D10 HEAD answered with Content-Length: 1234 keeps it, no body, the connection serves the next GET', async () => {
  const { head, get } = await headThenGet('1.1', '/cl');
  const text = head.raw.toString('latin1');
  assert.match(text, /\r\nContent-Length: 1234\r\n/);
  assert.not.match(text, /Transfer-Encoding/i);
  assert.ok(text.endsWith('\r\n\r\n'));
  assert.is(get.body.toString(), 'hello');
});

D('D10 HEAD from an HTTP/1.0 client never gets Transfer-Encoding (RFC 9112 §6.1)', async () => {
  const { head, get } = await headThenGet('1.0', '/te', 'Connection: keep-alive\r\n');
  const text = head.raw.toString('latin1');
  assert.ok(text.startsWith('HTTP/1.0 200'));
  assert.not.match(text, /Transfer-Encoding|Content-Length/i);
  assert.ok(text.endsWith('\r\n\r\n'));
  // The keep-alive HEAD left the connection usable; the GET is framed by its length.
  assert.is(get.body.toString(), 'hello');
  assert.not.match(get.raw.toString('latin1'), /Transfer-Encoding/i);
  const cl = await headThenGet('1.0', '/cl', 'Connection: keep-alive\r\n');
  assert.match(cl.head.raw.toString('latin1'), /\r\nContent-Length: 1234\r\n/);
});

D('trailers of a chunked backend response reach an HTTP/1.1 client in the last chunk', async () => {
  const r = await get('/trailer');
  const res = r.responses[0]!;
  assert.is(res.status, 200);
  assert.is(res.header('transfer-encoding'), 'chunked');
  assert.is(res.header('content-length'), undefined);
  assert.is(res.body.toString(), 'hello');
  assert.ok(res.raw.toString('latin1').endsWith('\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n'), JSON.stringify(res.raw.toString('latin1')));
  assert.equal(res.trailers, [['X-Checksum', 'abc']]);
  assert.not.ok(r.closed);
});

D('trailers after a body that streamed (head already sent) reach the client too', async () => {
  const r = await get('/trailer-big');
  const res = r.responses[0]!;
  assert.is(res.body.length, 20000);
  assert.ok(res.complete);
  assert.ok(res.raw.toString('latin1').endsWith('\r\n0\r\nX-Checksum: big\r\n\r\n'));
});

D('a trailer with a forbidden name (Content-Length, Connection) is not forwarded', async () => {
  const r = await get('/trailer-forbidden');
  const res = r.responses[0]!;
  assert.is(res.body.toString(), 'hello');
  assert.ok(res.raw.toString('latin1').endsWith('5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n'), JSON.stringify(res.raw.toString('latin1')));
  assert.not.ok(r.closed, 'the Connection: close trailer did not close anything');
});

D('an HTTP/1.0 client gets the body with no trailers', async () => {
  const r = await get('/trailer', { version: '1.0' });
  const res = r.responses[0]!;
  const text = res.raw.toString('latin1');
  assert.is(res.header('content-length'), '5');
  assert.not.match(text, /Transfer-Encoding|X-Checksum: abc/i);
  assert.ok(text.endsWith('\r\n\r\nhello'), 'the body is the last thing sent');
  assert.equal(res.trailers, []);
});

D('D11 204 and 304 with a body: sent without one, no CL on 204, backend connection closed', async () => {
  const r = await get('/d11-204');
  assert.is(r.responses[0]?.status, 204);
  assert.is(r.responses[0]?.header('content-length'), undefined);
  assert.not.ok(r.raw.toString().includes('hello'));
  await backendClosed('/d11-204');
  const r2 = await get('/d11-304');
  assert.is(r2.responses[0]?.status, 304);
  assert.not.ok(r2.raw.toString().includes('hello'));
  await backendClosed('/d11-304');
});

D('D12 interim responses are forwarded in order before the final one', async () => {
  const r = await get('/d12');
  assert.equal(r.responses.map((x) => x.status), [103, 102, 200]);
  assert.is(r.responses[0]?.header('link'), '</s.css>; rel=preload');
  const r10 = await get('/d12', { version: '1.0' });
  assert.equal(r10.responses.map((x) => x.status), [200], 'no 1xx to an HTTP/1.0 client');
});

D('D12/G4 a backend 100 after lantern sent its own is not forwarded twice', async () => {
  const c = await connectRaw(lt.port);
  await c.write('POST /d12-expect HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
  assert.is((await c.readResponse(3000)).status, 100);
  await c.write('hi');
  const res = await c.readResponse(3000);
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'ok');
  c.destroy();
});

D('D13 Upgrade, Connection and what Connection names are stripped from a non-101', async () => {
  const r = await get('/d13');
  const res = r.responses[0]!;
  assert.is(res.status, 200);
  assert.is(res.header('upgrade'), undefined);
  assert.is(res.header('x-hop'), undefined);
  assert.not.ok((res.header('connection') ?? '').toLowerCase().includes('upgrade'));
});

D.run();

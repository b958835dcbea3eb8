// Reliability checklist rows A1-A17 (request framing, client → lantern) over raw sockets.
// Each test asserts the outcome tuple: status, whether lantern closed, what reached a handler.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawExchange, connectRaw } from '../helpers/raw-client.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { seen } from '../helpers/plugins/echo/index.js';

const ECHO = new URL('../helpers/plugins/echo/index.ts', import.meta.url).pathname;
const A = suite('reliability A: request framing');
let lt: LanternHandle;

A.before(async () => {
  lt = await startLantern(`
server.modules = ( "${ECHO}" )
server.document-root = "%DIR%"
server.max-request-size = 1
`, { files: { 'index.html': 'hi\n' } });
});
A.after(async () => { await lt?.stop(); });

async function send(bytes: string | string[], opts: { expect?: number; halfClose?: boolean } = {}) {
  return rawExchange({ port: lt.port, send: bytes, expectResponses: opts.expect, halfClose: opts.halfClose, timeoutMs: 4000 });
}

/** Send, expect exactly one answer with `status`, the connection closed, and no handler call. */
async function rejected(bytes: string, status: number | number[], what: string) {
  const before = seen.length;
  const r = await send(bytes);
  const statuses = Array.isArray(status) ? status : [status];
  assert.is(r.responses.length, 1, `${what}: one response`);
  assert.ok(statuses.includes(r.responses[0].status), `${what}: status ${r.responses[0].status}, want ${statuses.join('/')}`);
  assert.ok(r.closed, `${what}: connection closed`);
  assert.is(seen.length, before, `${what}: nothing reached the handler`);
}

const POST = 'POST /echo HTTP/1.1\r\nHost: t\r\n';

A('A1 CL + TE: chunked, either order → 400, close, nothing forwarded', async () => {
  await rejected(`${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'CL first');
  await rejected(`${POST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, 400, 'TE first');
});

A('A2 TE obfuscations → 400/501, close, nothing forwarded', async () => {
  const variants = [
    'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: identity',
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 'Transfer-Encoding : chunked',
    'Transfer-Encoding: \x0bchunked', 'X: x\nTransfer-Encoding: chunked', 'Transfer-Encoding:\r\n chunked',
  ];
  for (const v of variants) await rejected(`${POST}${v}\r\n\r\n0\r\n\r\n`, [400, 501], JSON.stringify(v));
  // A tab before the value is ordinary optional whitespace (RFC 9112 §5.1): valid.
  const r = await send(`${POST}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`, { expect: 1 });
  assert.is(r.responses[0].status, 200);
});

A('A3 chunked not final (chunked, gzip) → 400, close', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, 400, 'chunked, gzip');
});

A('A4 TE: gzip, chunked → 501, close', async () => {
  await rejected(`${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501, 'gzip, chunked');
});

A('A5 TE in an HTTP/1.0 request → 400, close', async () => {
  await rejected('POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'TE on 1.0');
});

A('A6 conflicting Content-Length → 400, close; identical list folded', async () => {
  await rejected(`${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400, 'two lines');
  await rejected(`${POST}Content-Length: 5, 6\r\n\r\nhello!`, 400, 'list');
  const r = await send(`${POST}Content-Length: 5, 5\r\n\r\nhello`, { expect: 1 });
  assert.is(r.responses[0].status, 200);
  assert.is(JSON.parse(r.responses[0].body.toString()).body, 'hello');
});

A('A7 invalid Content-Length → 400, close, no overflow', async () => {
  for (const cl of ['+5', '-1', '0x10', '1_0', '', '9007199254740993', '99999999999999999999', '5 5', '5a']) {
    await rejected(`${POST}Content-Length: ${cl}\r\n\r\n`, 400, `CL ${JSON.stringify(cl)}`);
  }
});

/** A chunked request whose body framing is bad: the handler took the request but got an error. */
async function badChunked(body: string, what: string) {
  const before = seen.length;
  const r = await send(`${POST}Transfer-Encoding: chunked\r\n\r\n${body}`);
  assert.is(r.responses.length, 1, `${what}: one response`);
  assert.is(r.responses[0].status, 400, `${what}: status`);
  assert.ok(r.closed, `${what}: closed`);
  for (const s of seen.slice(before)) {
    assert.is(s.body, '', `${what}: no body delivered as complete`);
    assert.ok(s.bodyError, `${what}: the handler saw the body fail`);
  }
}

A('A8 bad chunk sizes → 400, close, body never delivered', async () => {
  for (const size of ['0x1', '+1', '-0', ' 1', '', '0_2e', '11111111111111111', 'g']) {
    await badChunked(`${size}\r\na\r\n0\r\n\r\n`, `size ${JSON.stringify(size)}`);
  }
});

A('A9 runaway chunk data / missing CRLF after data → 400, close', async () => {
  await badChunked('5\r\nhelloEXTRA\r\n0\r\n\r\n', 'runaway');
  await badChunked('5\r\nhello0\r\n\r\n', 'missing CRLF');
});

A('A10 bare LF / bare CR in chunk lines → 400, close', async () => {
  await badChunked('5\nhello\r\n0\r\n\r\n', 'LF after size');
  await badChunked('5\r\nhello\n0\r\n\r\n', 'LF after data');
  await badChunked('5;a=b\rc\r\nhello\r\n0\r\n\r\n', 'CR in ext');
});

A('A11 chunk extensions ignored; over the cap → 400', async () => {
  const r = await send(`${POST}Transfer-Encoding: chunked\r\n\r\n5;name=value;x\r\nhello\r\n0;end\r\n\r\n`, { expect: 1 });
  assert.is(r.responses[0].status, 200);
  assert.is(JSON.parse(r.responses[0].body.toString()).body, 'hello');
  await badChunked(`5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`, 'huge ext');
});

A('A12 trailers: malformed → 400; forbidden names dropped', async () => {
  await badChunked('5\r\nhello\r\n0\r\nbad trailer\r\n\r\n', 'no colon');
  const r = await send(`${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 99\r\nX-Check: ok\r\n\r\n`, { expect: 1 });
  assert.is(r.responses[0].status, 200);
  const got = JSON.parse(r.responses[0].body.toString());
  assert.is(got.body, 'hello');
  assert.equal(got.trailers.map((t: string) => t.toLowerCase()).filter((t: string) => t === 'content-length'), []);
  assert.ok(got.trailers.includes('X-Check'));
});

A('A13 body shorter than CL, then the client closes → the body fails, never completes', async () => {
  const before = seen.length;
  const r = await send(`${POST}Content-Length: 100\r\n\r\nshort`, { halfClose: true });
  assert.is(seen.length, before + 1);
  assert.ok(seen[before].bodyError, 'handler saw the body fail');
  assert.is(seen[before].body, '');
  assert.ok(r.closed);
  assert.ok(r.responses.every((x) => x.status !== 200));
});

A('A14 no CL/TE: the following bytes are the next request', async () => {
  const r = await send('GET /echo/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/2 HTTP/1.1\r\nHost: t\r\n\r\n', { expect: 2 });
  assert.is(r.responses.length, 2);
  assert.is(JSON.parse(r.responses[0].body.toString()).path, '/echo/1');
  assert.is(JSON.parse(r.responses[1].body.toString()).path, '/echo/2');
});

A('A15 pipelining: responses in order; a bad third request → 400 + close after two answers', async () => {
  const three = ['/echo/a', '/echo/b', '/echo/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join('');
  let r = await send(three, { expect: 3 });
  assert.equal(r.responses.map((x) => JSON.parse(x.body.toString()).path), ['/echo/a', '/echo/b', '/echo/c']);
  r = await send(`${POST}Content-Length: 3\r\n\r\nabcGET /echo/g HTTP/1.1\r\nHost: t\r\n\r\n`, { expect: 2 });
  assert.is(JSON.parse(r.responses[0].body.toString()).body, 'abc');
  assert.is(JSON.parse(r.responses[1].body.toString()).path, '/echo/g');
  r = await send('GET /echo/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/2 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/3 HTTP/1.1\r\nHost : t\r\n\r\n');
  assert.equal(r.responses.map((x) => x.status), [200, 200, 400]);
  assert.ok(r.closed);
});

A('A15 requests pipelined before the client\'s FIN are all answered, then the connection closes (lighttpd)', async () => {
  // A file nobody asked for yet: its first answer waits for a stat, so the FIN is read while the
  // first request is still in progress.
  fs.writeFileSync(path.join(lt.dir, 'fin-1.txt'), 'one\n');
  const three = 'GET /fin-1.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/after-fin HTTP/1.1\r\nHost: t\r\n\r\nGET /index.html HTTP/1.0\r\n\r\n';
  let r = await send(three, { halfClose: true });
  assert.equal(r.responses.map((x) => x.status), [200, 200, 200]);
  assert.is(r.responses[0].body.toString(), 'one\n');
  assert.is(JSON.parse(r.responses[1].body.toString()).path, '/echo/after-fin');
  assert.is(r.responses[2].body.toString(), 'hi\n');
  assert.ok(r.closed, 'closed after the last answer');
  // A partial head after them: the complete ones are answered, the fragment is not (A16).
  fs.writeFileSync(path.join(lt.dir, 'fin-2.txt'), 'two\n');
  r = await send('GET /fin-2.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/x HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/partial HTTP/1.1\r\nHo', { halfClose: true });
  assert.equal(r.responses.map((x) => x.status), [200, 200]);
  assert.ok(r.closed);
});

A('A16 leading CRLF ignored; lone CRLF then EOF → silent close', async () => {
  let r = await send('\r\n\r\nGET /index.html HTTP/1.1\r\nHost: t\r\n\r\n', { expect: 1 });
  assert.is(r.responses[0].status, 200);
  r = await send('\r\n', { halfClose: true });
  assert.is(r.responses.length, 0);
  assert.is(r.raw.length, 0);
  assert.ok(r.closed);
});

A('A17 body over server.max-request-size → 413 + close, nothing forwarded', async () => {
  await rejected(`${POST}Content-Length: 2048\r\n\r\n${'x'.repeat(2048)}`, 413, 'CL over the limit');
  // Chunked: the limit is found while reading; the handler never sees a complete body.
  const before = seen.length;
  const r = await send(`${POST}Transfer-Encoding: chunked\r\n\r\n800\r\n${'y'.repeat(2048)}\r\n0\r\n\r\n`);
  assert.is(r.responses[0]?.status, 413);
  assert.ok(r.closed);
  for (const s of seen.slice(before)) assert.is(s.body, '');
});

A('A17 early 413 is not lost to a reset while the client still uploads (F6 lingering close)', async () => {
  const c = await connectRaw(lt.port);
  await c.write(`${POST}Content-Length: 200000\r\n\r\n`);
  const res = await c.readResponse(3000);
  assert.is(res.status, 413);
  await c.write('z'.repeat(64 * 1024)).catch(() => {});
  assert.ok(await c.waitClose(4000));
  c.destroy();
});

A.run();

// Request's response framing on the bytes it writes: HEAD heads (RFC 9110 §9.3.2, checklist
// D10) and trailer fields in the last chunk (RFC 9112 §7.1.2, RFC 9110 §6.5.1). The connection is
// a stand-in that records writes; the head parser is the test helper's, not the server's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../../core/connection.js';
import type { HeaderList, RequestHead } from '../../../core/http1/types.js';
import { Request } from '../../../core/request.js';
import { parseResponses, type RawResponse } from '../../helpers/http-bytes.js';

const R = suite('request response framing');

interface Wire {
  conn: Connection;
  bytes(): string;
  finished: () => boolean;
}

/** A connection that records what the response writes, and whether it was finished or aborted. */
function wire(): Wire {
  const out: string[] = [];
  let done = false;
  const server = {
    hooks: { responseStart: { isUsed: () => false, call: () => {} } },
    httpDate: () => 'Thu, 01 Jan 1970 00:00:00 GMT',
    serverFieldFor: () => 'Server: lantern\r\n',
    headTail: () => 'Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: lantern\r\n\r\n',
    debugFlags: { responseHeader: false },
    globalMerged: { values: new Map(), locs: new Map(), captures: [], matched: [0] },
    logError: () => {},
  };
  const conn = {
    scheme: 'http',
    server,
    closed: false,
    writeRaw(data: string | Buffer) { out.push(typeof data === 'string' ? data : data.toString('latin1')); return true; },
    writeChunk(head: string, data: Buffer, tail: string) { out.push(head + data.toString('latin1') + tail); return true; },
    cork() {},
    uncork() {},
    writable: () => true,
    onceDrain: () => {},
    canKeepAlive: () => true,
    responseFinished: () => { done = true; },
    responseAborted: () => { done = true; },
    bodyReadStarted: () => {},
    pauseBody: () => {},
    resumeBody: () => {},
  };
  return { conn: conn as unknown as Connection, bytes: () => out.join(''), finished: () => done };
}

function request(method: string, versionMinor: 0 | 1 = 1): { req: Request; w: Wire } {
  const w = wire();
  const head = {
    method, target: '/', versionMinor, headers: ['Host', 'h'], host: 'h', targetScheme: null, pathAndQuery: '/',
    contentLength: -1, chunked: false, keepAlive: true, expectContinue: false, hasExpect: false, connectionTokens: [], upgrade: null, headBytes: 0,
  } satisfies RequestHead;
  return { req: new Request(w.conn, head, 0), w };
}

function parsed(bytes: string, head: boolean): RawResponse {
  const r = parseResponses(Buffer.from(bytes, 'latin1'), 0, { finalsBefore: 0, headRequests: [head], end: 'stopped' }).responses;
  assert.is(r.length, 1, `one response in ${JSON.stringify(bytes)}`);
  return r[0]!;
}

/** The head text only (status line and fields). */
const headOf = (bytes: string) => bytes.slice(0, bytes.indexOf('\r\n\r\n') + 4);

R('HEAD ended without a body: no length field at all (its length is unknown)', () => {
  const { req, w } = request('HEAD');
  req.writeHead(200, ['Content-Type', 'text/plain']);
  req.end();
  assert.not.match(w.bytes(), /Content-Length|Transfer-Encoding/i);
  assert.ok(w.bytes().endsWith('\r\n\r\n'), 'nothing after the head');
  assert.ok(w.finished());
  assert.ok(req.keepAlive);
});

R('HEAD with headWouldBeChunked: Transfer-Encoding: chunked, no body, no last chunk', () => {
  const { req, w } = request('HEAD');
  req.headWouldBeChunked = true;
  req.writeHead(200, ['Content-Type', 'text/plain']);
  req.end();
  const text = w.bytes();
  assert.match(text, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.not.match(text, /Content-Length/i);
  assert.is(text, headOf(text), 'the head and nothing else');
  assert.ok(req.keepAlive, 'the connection stays usable');
});

R('HEAD with headWouldBeChunked to an HTTP/1.0 client: never Transfer-Encoding (RFC 9112 §6.1)', () => {
  const { req, w } = request('HEAD', 0);
  req.headWouldBeChunked = true;
  req.writeHead(200, []);
  req.end();
  assert.ok(w.bytes().startsWith('HTTP/1.0 200'));
  assert.not.match(w.bytes(), /Transfer-Encoding|Content-Length/i);
  assert.ok(w.bytes().endsWith('\r\n\r\n'));
});

R('HEAD: a Content-Length the handler set wins over headWouldBeChunked', () => {
  const { req, w } = request('HEAD');
  req.headWouldBeChunked = true;
  req.writeHead(200, ['Content-Length', '1234']);
  req.end();
  assert.match(w.bytes(), /\r\nContent-Length: 1234\r\n/);
  assert.not.match(w.bytes(), /Transfer-Encoding/i);
  assert.ok(w.bytes().endsWith('\r\n\r\n'));
  assert.ok(w.finished());
});

R('a handler Content-Length that is not 1*DIGIT is never sent; the core frames the body itself', () => {
  for (const bad of ['0x10', '1e3', ' 16x', '-1', '16.0', '']) {
    const { req, w } = request('GET');
    req.writeHead(200, ['Content-Length', bad]);
    req.end('hello');
    const text = w.bytes();
    assert.match(text, /\r\nContent-Length: 5\r\n/, JSON.stringify(bad));
    assert.not.ok(text.includes(`Content-Length: ${bad}\r\n`), JSON.stringify(bad));
    assert.ok(text.endsWith('\r\n\r\nhello'), JSON.stringify(bad));
  }
  const { req, w } = request('GET');
  req.writeHead(200, ['Content-Length', '5, 5']);
  req.end('hello');
  assert.match(w.bytes(), /\r\nContent-Length: 5\r\n/, 'a list of one repeated value is folded');
});

R('HEAD handed the body a GET would send: that length, no body', () => {
  const { req, w } = request('HEAD');
  req.writeHead(200, []);
  req.end('hello');
  assert.match(w.bytes(), /\r\nContent-Length: 5\r\n/);
  assert.not.match(w.bytes(), /hello/);
  assert.ok(w.finished());
  assert.ok(req.keepAlive);
});

R('HEAD streamed with write(): chunked as the GET would be, no body bytes', () => {
  const { req, w } = request('HEAD');
  req.writeHead(200, []);
  req.write('abc');
  req.end();
  assert.match(w.bytes(), /\r\nTransfer-Encoding: chunked\r\n/);
  assert.is(w.bytes(), headOf(w.bytes()));
});

R('GET ended at once keeps its Content-Length (headWouldBeChunked is for HEAD only)', () => {
  const { req, w } = request('GET');
  req.headWouldBeChunked = true;
  req.writeHead(200, []);
  req.end('hello');
  const res = parsed(w.bytes(), false);
  assert.is(res.header('content-length'), '5');
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.body.toString(), 'hello');
});

R('end(body, trailers) on HTTP/1.1: chunked, the trailers in the last chunk', () => {
  const { req, w } = request('GET');
  req.writeHead(200, ['Content-Type', 'text/plain']);
  req.end('hello', ['X-Checksum', 'abc', 'Server-Timing', 'db;dur=5']);
  const text = w.bytes();
  assert.ok(text.endsWith('\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=5\r\n\r\n'), JSON.stringify(text));
  const res = parsed(text, false);
  assert.is(res.header('transfer-encoding'), 'chunked');
  assert.is(res.header('content-length'), undefined);
  assert.is(res.body.toString(), 'hello');
  assert.ok(w.finished());
  assert.ok(req.keepAlive);
});

R('trailers after a streamed body go in the last chunk', () => {
  const { req, w } = request('GET');
  req.writeHead(200, []);
  req.write('abc');
  req.end(undefined, ['X-Checksum', 'abc']);
  assert.ok(w.bytes().endsWith('3\r\nabc\r\n0\r\nX-Checksum: abc\r\n\r\n'), JSON.stringify(w.bytes()));
});

R('forbidden and invalid trailer fields are dropped, never sent', () => {
  const { req, w } = request('GET');
  req.writeHead(200, []);
  const trailers: HeaderList = [
    'Content-Length', '99', 'Transfer-Encoding', 'chunked', 'Host', 'evil', 'Connection', 'close',
    'Set-Cookie', 'a=b', 'Proxy-Authenticate', 'x', 'X-Split', 'a\r\nX-Injected: 1', 'X-Nul', 'a\0b',
    'Bad Name', 'v', 'X-Wide', 'caf\u20ac', 'X-Ok', 'yes',
  ];
  req.end('hi', trailers);
  assert.ok(w.bytes().endsWith('2\r\nhi\r\n0\r\nX-Ok: yes\r\n\r\n'), JSON.stringify(w.bytes()));
});

R('only forbidden trailers: a plain last chunk', () => {
  const { req, w } = request('GET');
  req.writeHead(200, []);
  req.end('hi', ['Content-Length', '2']);
  assert.ok(w.bytes().endsWith('2\r\nhi\r\n0\r\n\r\n'), JSON.stringify(w.bytes()));
});

R('trailers are dropped when the response is not chunked: HTTP/1.0, Content-Length, HEAD', () => {
  const v10 = request('GET', 0);
  v10.req.writeHead(200, []);
  v10.req.end('hello', ['X-Checksum', 'abc']);
  assert.match(v10.w.bytes(), /\r\nContent-Length: 5\r\n/);
  assert.ok(v10.w.bytes().endsWith('\r\n\r\nhello'));
  assert.not.match(v10.w.bytes(), /X-Checksum/);
  assert.ok(v10.req.keepAlive, 'still framed by its length, not by a close');

  const cl = request('GET');
  cl.req.writeHead(200, ['Content-Length', '5']);
  cl.req.end('hello', ['X-Checksum', 'abc']);
  assert.ok(cl.w.bytes().endsWith('\r\n\r\nhello'));
  assert.not.match(cl.w.bytes(), /X-Checksum|Transfer-Encoding/);

  const head = request('HEAD');
  head.req.headWouldBeChunked = true;
  head.req.writeHead(200, []);
  head.req.end(undefined, ['X-Checksum', 'abc']);
  assert.is(head.w.bytes(), headOf(head.w.bytes()));
  assert.not.match(head.w.bytes(), /X-Checksum/);
  assert.ok(head.w.finished());
});

R('G7 writeHead(fieldsValid): vouched fields go out unscanned; a list changed after is checked again (500, nothing split)', () => {
  const ok = request('GET');
  ok.req.writeHead(200, ['X-A', 'one', 'Content-Length', '2'], true);
  ok.req.end('hi');
  const r = parsed(ok.w.bytes(), false);
  assert.is(r.status, 200);
  assert.ok(ok.w.bytes().includes('X-A: one\r\n'));
  const bad = request('GET');
  const list: HeaderList = ['X-A', 'one'];
  bad.req.writeHead(200, list, true);
  list.push('X-Injected', 'a\r\nSet-Cookie: evil=1');
  bad.req.end('hi');
  const text = bad.w.bytes();
  assert.is(parsed(text, false).status, 500);
  assert.not.ok(text.includes('evil'), 'the injected line never reaches the wire');
});

R.run();

// The response-body filter (core/body-filter.ts, Request.setBodyFilter): what goes on the wire
// when a responseStart tap installs one, back-pressure both ways, and the end and abort paths.
// The connection is a stand-in that records writes; responses are parsed by the test helper.
import { Transform, type Duplex } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BodyFilter } from '../../../core/body-filter.js';
import type { Connection } from '../../../core/connection.js';
import type { RequestHead } from '../../../core/http1/types.js';
import { Request } from '../../../core/request.js';
import { parseResponses, type RawResponse } from '../../helpers/http-bytes.js';
import { withTimeout } from '../../helpers/wait.js';

const F = suite('body filter');

interface Wire {
  conn: Connection;
  bytes(): string;
  state: { finished: boolean; aborted: boolean; full: boolean; drains: Array<() => void> };
}

/** A connection whose socket can be made "full" (writes return false until drain()). */
function wire(tap: (req: Request) => void): Wire {
  const out: string[] = [];
  const state = { finished: false, aborted: false, full: false, drains: [] as Array<() => void> };
  const server = {
    hooks: { responseStart: { isUsed: () => true, call: tap } },
    httpDate: () => 'Thu, 01 Jan 1970 00:00:00 GMT',
    headTail: () => 'Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: lantern\r\n\r\n',
    debugFlags: { responseHeader: false },
    globalMerged: { values: new Map(), locs: new Map(), captures: [], matched: [0] },
    logError: () => {},
  };
  const conn = {
    scheme: 'http',
    server,
    closed: false,
    writeRaw(data: string | Buffer) { out.push(typeof data === 'string' ? data : data.toString('latin1')); return !state.full; },
    writeChunk(head: string, data: Buffer, tail: string) { out.push(head + data.toString('latin1') + tail); return !state.full; },
    cork() {},
    uncork() {},
    writable: () => !state.full,
    onceDrain: (cb: () => void) => { if (state.full) state.drains.push(cb); else queueMicrotask(cb); },
    canKeepAlive: () => true,
    responseFinished: () => { state.finished = true; },
    responseAborted: () => { state.aborted = true; },
  };
  return { conn: conn as unknown as Connection, bytes: () => out.join(''), state };
}

function request(tap: (req: Request) => void, method = 'GET', versionMinor: 0 | 1 = 1): { req: Request; w: Wire } {
  const w = wire(tap);
  const head = {
    method, target: '/', versionMinor, headers: ['Host', 'h'], host: 'h', targetScheme: null, pathAndQuery: '/',
    contentLength: -1, chunked: false, keepAlive: true, expectContinue: false, hasExpect: false, connectionTokens: [], upgrade: null, headBytes: 0,
  } satisfies RequestHead;
  return { req: new Request(w.conn, head, 0), w };
}

function parsed(w: Wire, head = false): RawResponse {
  const r = parseResponses(Buffer.from(w.bytes(), 'latin1'), 0, { finalsBefore: 0, headRequests: [head], end: 'closed' }).responses[0];
  assert.ok(r, `a response in ${JSON.stringify(w.bytes())}`);
  return r!;
}

/** An upper-casing filter; `made` counts the streams it created. */
function upper(opts: { whole?: boolean; outputLength?: number } = {}): BodyFilter & { made: Duplex[] } {
  const made: Duplex[] = [];
  return {
    made,
    outputLength: opts.outputLength,
    whole: opts.whole ? (b) => Buffer.from(b.toString('latin1').toUpperCase(), 'latin1') : undefined,
    stream: () => {
      const t = new Transform({ transform(chunk: Buffer, _e, cb) { cb(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')); } });
      made.push(t);
      return t;
    },
  };
}

const until = (what: string, cond: () => boolean) => withTimeout(new Promise<void>((resolve) => {
  const check = () => (cond() ? resolve() : setImmediate(check));
  check();
}), 2000, what);

F('a whole body given to end(): transformed at once, sent with its own length, the handler\'s dropped', () => {
  const f = upper({ whole: true });
  const { req, w } = request((r) => r.setBodyFilter(f));
  req.respond(200, ['Content-Type', 'text/plain', 'Content-Length', '5'], 'hello');
  const res = parsed(w);
  assert.is(res.header('content-length'), '5');
  assert.equal(res.headerAll('content-length').length, 1);
  assert.is(res.body.toString(), 'HELLO');
  assert.ok(w.state.finished);
  assert.is(f.made.length, 0, 'no stream made for a whole body');
});

F('a streamed body goes through the stream, chunked, and ends when the filter\'s output does', async () => {
  const f = upper();
  const { req, w } = request((r) => r.setBodyFilter(f));
  req.writeHead(200, ['Content-Length', '10']);
  assert.ok(req.write('abcde'));
  req.write(Buffer.from('fghij'));
  req.end(undefined, ['X-Sum', '1']);
  assert.not.ok(w.state.finished, 'not before the filter has put out its end');
  assert.not.ok(req.finished);
  await until('the response to finish', () => w.state.finished);
  const res = parsed(w);
  assert.is(res.header('transfer-encoding'), 'chunked');
  assert.is(res.header('content-length'), undefined);
  assert.is(res.body.toString(), 'ABCDEFGHIJ');
  assert.equal(res.trailers, [['X-Sum', '1']], 'trailers follow the filtered body');
  assert.ok(req.finished);
  assert.not.ok(req.write('more'), 'nothing after the end');
});

F('end(body) with a filter that has no whole(): streamed, chunked', async () => {
  const f = upper();
  const { req, w } = request((r) => r.setBodyFilter(f));
  req.respond(200, ['Content-Type', 'text/plain'], 'hello');
  await until('the response to finish', () => w.state.finished);
  const res = parsed(w);
  assert.is(res.header('transfer-encoding'), 'chunked');
  assert.is(res.body.toString(), 'HELLO');
});

F('HTTP/1.0: the filtered body is close-delimited and the connection is not kept', async () => {
  const { req, w } = request((r) => r.setBodyFilter(upper()), 'GET', 0);
  req.writeHead(200, ['Content-Length', '3']);
  req.write('abc');
  req.end();
  await until('the response to finish', () => w.state.finished);
  assert.not.ok(req.keepAlive);
  const res = parsed(w);
  assert.is(res.header('content-length'), undefined);
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.body.toString(), 'ABC');
});

F('outputLength: the head carries the filter\'s length', async () => {
  const { req, w } = request((r) => r.setBodyFilter(upper({ outputLength: 3 })));
  req.writeHead(200, ['Content-Length', '999']);
  req.write('xyz');
  req.end();
  await until('the response to finish', () => w.state.finished);
  const res = parsed(w);
  assert.is(res.header('content-length'), '3');
  assert.is(res.body.toString(), 'XYZ');
});

F('HEAD, 204 and 304: no filter runs, the handler\'s fields stand', () => {
  for (const [method, status] of [['HEAD', 200], ['GET', 204], ['GET', 304]] as const) {
    const f = upper();
    const { req, w } = request((r) => r.setBodyFilter(f), method);
    req.respond(status, ['Content-Length', '5'], method === 'HEAD' ? undefined : 'hello');
    const res = parsed(w, method === 'HEAD');
    if (status !== 204) assert.is(res.header('content-length'), '5', `${method} ${status}`);
    assert.is(res.body.length, 0);
    assert.ok(w.state.finished);
    assert.is(f.made.length, 0);
  }
});

F('a slow client: the filter is paused, then the handler is told to wait, and both resume on drain', async () => {
  const f = upper();
  const { req, w } = request((r) => r.setBodyFilter(f));
  req.writeHead(200, []);
  w.state.full = true;
  const piece = Buffer.alloc(8192, 0x61);
  let writes = 0;
  while (req.write(piece)) {
    writes++;
    assert.ok(writes < 64, 'write() returns false within a bounded number of pieces');
    await new Promise((r) => setImmediate(r));
  }
  const stream = f.made[0]!;
  assert.ok(stream.isPaused(), 'the filter output is paused while the socket is full');
  let drained = false;
  req.onDrain(() => { drained = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(drained, 'the handler waits while the client does not read');
  w.state.full = false;
  for (const cb of w.state.drains.splice(0)) cb();
  await until('the handler to be told to go on', () => drained);
  req.end();
  await until('the response to finish', () => w.state.finished);
  const res = parsed(w);
  assert.is(res.body.length, (writes + 1) * piece.length);
  assert.ok(res.body.every((b) => b === 0x41));
});

F('the client goes away: the filter stream is destroyed and nothing more is written', async () => {
  const f = upper();
  const { req, w } = request((r) => r.setBodyFilter(f));
  req.writeHead(200, []);
  req.write('abc');
  req.clientGone();
  assert.ok(f.made[0]!.destroyed);
  assert.not.ok(req.write('def'));
  req.end();
  await new Promise((r) => setTimeout(r, 10));
  assert.not.ok(w.state.finished);
});

F('a filter error aborts the response', async () => {
  const { req, w } = request((r) => r.setBodyFilter({
    stream: () => new Transform({ transform(_c, _e, cb) { cb(new Error('broken')); } }),
  }));
  req.writeHead(200, []);
  req.write('abc');
  await until('the response to be aborted', () => w.state.aborted);
  assert.ok(req.incomplete);
});

F('setBodyFilter after the head went out throws', () => {
  const { req } = request(() => {});
  req.writeHead(200, []);
  req.write('x');
  assert.throws(() => req.setBodyFilter(upper()), /head already sent/);
});

F('endBodyLength: the tap sees the length of a body given whole to end(), -1 when streamed', () => {
  const seen: number[] = [];
  const a = request((r) => { seen.push(r.endBodyLength); });
  a.req.respond(200, [], 'hello');
  const b = request((r) => { seen.push(r.endBodyLength); });
  b.req.writeHead(200, []);
  b.req.write('x');
  assert.equal(seen, [5, -1]);
});

F.run();

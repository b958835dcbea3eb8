// Unit tests of the HTTP/1.x backend exchange (plugins/proxy-backend-http/http-exchange.ts): the
// request head and framing (C2), response decoding through the shared parser (D1-D12), reuse (D7).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ErrorCode } from '../../../../core/errors.js';
import type { HeaderList, ResponseHead } from '../../../../core/http1/types.js';
import { HttpExchange } from '../../../../plugins/proxy-backend-http/http-exchange.js';
import { httpProtocol } from '../../../../plugins/proxy-backend-http/index.js';
import type { ResponseSink, UpstreamRequest } from '../../../../plugins/proxy-core/types.js';

const T = suite('proxy-backend-http/http-exchange');

function upstream(o: { method?: string; bodyLength?: number; upgrade?: string | null; clientCL?: number } = {}): UpstreamRequest {
  return {
    method: o.method ?? 'GET', target: '/p?q=1', headers: ['Host', 'h', 'X-A', '1'], bodyLength: o.bodyLength ?? 0,
    upgrade: o.upgrade ?? null, env: [],
    req: { head: { contentLength: o.clientCL ?? -1 } } as unknown as UpstreamRequest['req'],
  };
}
const exchange = (o: Parameters<typeof upstream>[0] = {}, httpVersion: '1.0' | '1.1' = '1.1') =>
  new HttpExchange(upstream(o), { maxResponseHeadBytes: 4096, httpVersion });

class Sink implements ResponseSink {
  heads: ResponseHead[] = [];
  body = '';
  ended = false;
  trailers: HeaderList | undefined;
  errors: Array<[ErrorCode, string]> = [];
  head(h: ResponseHead): void { this.heads.push(h); }
  data(c: Buffer): void { this.body += c.toString('latin1'); }
  end(t?: HeaderList): void { this.ended = true; this.trailers = t; }
  error(code: ErrorCode, detail: string): void { this.errors.push([code, detail]); }
  fallThrough(): void { throw new Error('this protocol never falls through'); }
}

/** Feed `bytes` one piece per element (split anywhere). */
function feed(ex: HttpExchange, ...pieces: string[]): Sink {
  const s = new Sink();
  for (const p of pieces) ex.receive(Buffer.from(p, 'latin1'), s);
  return s;
}

T('request head: method, target, fields, framing regenerated (C2)', () => {
  assert.is(exchange().head(), 'GET /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n');
  assert.match(exchange({ method: 'POST', bodyLength: 5 }).head(), /\r\nContent-Length: 5\r\n\r\n$/);
  assert.match(exchange({ method: 'POST', bodyLength: -1 }).head(), /\r\nTransfer-Encoding: chunked\r\n\r\n$/);
  assert.match(exchange({ method: 'POST' }).head(), /\r\nContent-Length: 0\r\n\r\n$/, 'an empty POST says so');
  assert.match(exchange({ method: 'DELETE', clientCL: 0 }).head(), /\r\nContent-Length: 0\r\n\r\n$/);
  assert.match(exchange({ upgrade: 'websocket' }).head(), /\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n$/);
  assert.is(exchange({}, '1.0').head(), 'GET /p?q=1 HTTP/1.0\r\nHost: h\r\nX-A: 1\r\nConnection: close\r\n\r\n');
});

T('request body: raw with a length, chunk-framed without, trailers at the end', () => {
  const raw = exchange({ method: 'POST', bodyLength: 3 });
  assert.equal(raw.body(Buffer.from('abc')), Buffer.from('abc'));
  assert.is(raw.end([]), null);
  const ch = exchange({ method: 'POST', bodyLength: -1 });
  const framed = ch.body(Buffer.from('abc')) as Array<string | Buffer>;
  assert.is(framed.map((x) => x.toString()).join(''), '3\r\nabc\r\n');
  assert.is(ch.end(['X-T', 'v']), '0\r\nX-T: v\r\n\r\n');
});

T('Content-Length body split anywhere; D8: done as soon as it is complete; reusable', () => {
  const ex = exchange();
  const s = feed(ex, 'HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 5\r\n\r\nhe', 'llo');
  assert.is(s.heads[0]!.status, 200);
  assert.is(s.body, 'hello');
  assert.ok(s.ended);
  assert.ok(ex.reusable());
});

T('chunked body with trailers; D7: data after the last chunk → not reusable', () => {
  const ex = exchange();
  const s = feed(ex, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n');
  assert.is(s.body, 'abc');
  assert.equal(s.trailers, ['X-T', '1']);
  assert.ok(ex.reusable());
  const ex2 = exchange();
  feed(ex2, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
  assert.not.ok(ex2.reusable());
  const ex3 = exchange();
  const s3 = feed(ex3, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'late');
  assert.is(s3.body, 'ok');
  assert.not.ok(ex3.reusable(), 'bytes in a later read too');
});

T('D9 close-delimited: data until receiveEnd, never reusable', () => {
  const ex = exchange();
  const s = feed(ex, 'HTTP/1.1 200 OK\r\n\r\nabc', 'def');
  assert.not.ok(s.ended);
  ex.receiveEnd(s);
  assert.is(s.body, 'abcdef');
  assert.ok(s.ended);
  assert.not.ok(ex.reusable());
});

T('D12: interim heads first, any number; 101 only for an upgrade', () => {
  const s = feed(exchange(), 'HTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
  assert.equal(s.heads.map((h) => h.status), [103, 100, 204]);
  assert.ok(s.ended);
  const bad = feed(exchange(), 'HTTP/1.1 101 Switching Protocols\r\n\r\n');
  assert.is(bad.errors[0]![0], 'LT_ERR_BACKEND_BAD_RESPONSE');
  const up = feed(exchange({ upgrade: 'websocket' }), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframe');
  assert.is(up.heads[0]!.status, 101);
  assert.is(up.body, 'frame', 'bytes after the 101 are tunnel data');
});

T('D10/D11: HEAD, 204, 304 end at the head; a body announced on 204/304 or extra bytes → not reusable', () => {
  const head = new HttpExchange(upstream({ method: 'HEAD' }), { maxResponseHeadBytes: 4096 });
  const s = feed(head, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  assert.ok(s.ended);
  assert.is(s.body, '');
  assert.ok(head.reusable());
  const headBody = new HttpExchange(upstream({ method: 'HEAD' }), { maxResponseHeadBytes: 4096 });
  feed(headBody, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  assert.not.ok(headBody.reusable());
  const nc = exchange();
  feed(nc, 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n');
  assert.not.ok(nc.reusable());
  const nm = exchange();
  feed(nm, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n');
  assert.ok(nm.reusable(), 'a 304 may carry the length of the GET');
});

T('D1-D5 through the shared parser: errors, never a partial head', () => {
  for (const r of ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'FOO\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n']) {
    const s = feed(exchange(), r);
    assert.is(s.errors[0]?.[0], 'LT_ERR_BACKEND_BAD_RESPONSE', JSON.stringify(r));
    assert.is(s.heads.length, 0);
  }
  const big = feed(exchange(), 'HTTP/1.1 200 OK\r\nX: ' + 'x'.repeat(5000));
  assert.is(big.errors[0]?.[0], 'LT_ERR_BACKEND_BAD_RESPONSE', 'head over maxResponseHeadBytes');
  const chunk = feed(exchange(), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.is(chunk.errors[0]?.[0], 'LT_ERR_BACKEND_BAD_RESPONSE');
});

T('receiveEnd: nothing → reset; inside the head → bad response; D6 mid-body → reset', () => {
  const a = exchange(); const sa = new Sink(); a.receiveEnd(sa);
  assert.is(sa.errors[0]![0], 'LT_ERR_BACKEND_RESET');
  const b = exchange(); const sb = feed(b, 'HTTP/1.1 200 OK\r\n'); b.receiveEnd(sb);
  assert.is(sb.errors[0]![0], 'LT_ERR_BACKEND_BAD_RESPONSE');
  const c = exchange(); const sc = feed(c, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234'); c.receiveEnd(sc);
  assert.is(sc.errors[0]![0], 'LT_ERR_BACKEND_RESET');
  assert.not.ok(sc.ended);
});

T('keep-alive follows the backend: Connection: close or HTTP/1.0 → not reusable', () => {
  const a = exchange();
  feed(a, 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.not.ok(a.reusable());
  const b = exchange();
  feed(b, 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.not.ok(b.reusable());
});

T('the protocol definition: HTTP/1.0 neither keeps connections nor streams unknown lengths', () => {
  assert.equal(httpProtocol.capabilities!({ maxResponseHeadBytes: 1, httpVersion: '1.0' }), { keepAlive: false, streamsUnknownLength: false });
  assert.equal(httpProtocol.capabilities!({ maxResponseHeadBytes: 1 }), { keepAlive: true, streamsUnknownLength: true });
  assert.is(httpProtocol.name, 'http');
});

T.run();

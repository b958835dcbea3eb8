// Unit tests of the SCGI/uwsgi exchange (plugins/proxy-backend-scgi/exchange.ts): the head each
// protocol sends, and response decoding in CGI and HTTP modes: split anywhere, Content-Length,
// chunked, close-delimited, truncated, HEAD, bad heads (checklist G9, D1-D12).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ErrorCode } from '../../../../core/errors.js';
import type { HeaderList, ResponseHead } from '../../../../core/http1/types.js';
import { GatewayExchange } from '../../../../plugins/proxy-backend-scgi/exchange.js';
import { scgiProtocol, uwsgiProtocol } from '../../../../plugins/proxy-backend-scgi/index.js';
import { encodeScgiHead } from '../../../../plugins/proxy-backend-scgi/netstring.js';
import type { ResponseSink, UpstreamRequest } from '../../../../plugins/proxy-core/types.js';

const T = suite('proxy-backend-scgi/exchange');

const ENV: Array<[string, string]> = [['CONTENT_LENGTH', '3'], ['REQUEST_METHOD', 'POST'], ['HTTP_HOST', 'h']];

function upstream(o: { method?: string; env?: Array<[string, string]>; upgrade?: string | null } = {}): UpstreamRequest {
  return {
    method: o.method ?? 'GET', target: '/p', headers: [], bodyLength: 3, upgrade: o.upgrade ?? null,
    env: o.env ?? ENV, req: {} as unknown as UpstreamRequest['req'],
  };
}
const exchange = (o: Parameters<typeof upstream>[0] = {}, maxResponseHeadBytes = 4096) =>
  scgiProtocol.createExchange(upstream(o), { maxResponseHeadBytes }, { fresh: true });

class Sink implements ResponseSink {
  heads: ResponseHead[] = [];
  body = '';
  ended = 0;
  trailers: HeaderList | undefined;
  errors: Array<[ErrorCode, string]> = [];
  head(h: ResponseHead): void { this.heads.push(h); }
  data(c: Buffer): void { this.body += c.toString('latin1'); }
  end(t?: HeaderList): void { this.ended++; this.trailers = t; }
  error(code: ErrorCode, detail: string): void { this.errors.push([code, detail]); }
  fallThrough(): void { throw new Error('this protocol never falls through'); }
}

/** Feeds the pieces, then the backend's FIN when `fin`. */
function feed(ex: ReturnType<typeof exchange>, pieces: string[], fin = true): Sink {
  const s = new Sink();
  for (const p of pieces) ex.receive(Buffer.from(p, 'latin1'), s);
  if (fin) ex.receiveEnd(s);
  return s;
}

/** Every split of `bytes` into two reads (and one read per byte) gives the same outcome. */
function everySplit(bytes: string, check: (s: Sink, how: string) => void, o: Parameters<typeof upstream>[0] = {}): void {
  for (let i = 0; i <= bytes.length; i++) check(feed(exchange(o), [bytes.slice(0, i), bytes.slice(i)]), `split at ${i}`);
  check(feed(exchange(o), [...bytes]), 'one byte per read');
}

T('protocol definitions: one request per connection, known length, CGI env', () => {
  for (const p of [scgiProtocol, uwsgiProtocol]) {
    assert.is(p.keepAlive, false);
    assert.is(p.streamsUnknownLength, false);
    assert.is(p.usesEnv, true);
  }
  assert.is(scgiProtocol.name, 'scgi');
  assert.is(uwsgiProtocol.name, 'uwsgi');
});

T('scgi head is the netstring of env; body raw; no end bytes; never reusable', () => {
  const ex = exchange();
  assert.equal(ex.head(), Buffer.from('56:CONTENT_LENGTH\x003\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00HTTP_HOST\x00h\x00,', 'latin1'));
  const chunk = Buffer.from('abc');
  assert.is(ex.body(chunk), chunk);
  assert.is(ex.end([]), null);
  feed(ex, ['Status: 200 OK\r\n\r\n']);
  assert.is(ex.reusable(), false);
});

T('uwsgi head is the packet of env', () => {
  const ex = uwsgiProtocol.createExchange(upstream({ env: [['CONTENT_LENGTH', '0']] }), { maxResponseHeadBytes: 4096 }, { fresh: true });
  assert.equal(ex.head(), Buffer.from([0, 19, 0, 0, 14, 0, ...Buffer.from('CONTENT_LENGTH'), 1, 0, 0x30]));
});

T('uwsgi: an environment over 64 KiB throws from head() with a clear message', () => {
  const ex = uwsgiProtocol.createExchange(upstream({ env: [['CONTENT_LENGTH', '0'], ['HTTP_X', 'x'.repeat(70000)]] }), { maxResponseHeadBytes: 4096 }, { fresh: true });
  assert.throws(() => ex.head(), /uwsgi: environment variable HTTP_X larger than 64 KiB/);
  const big = uwsgiProtocol.createExchange(upstream({ env: [['A', 'x'.repeat(40000)], ['B', 'x'.repeat(40000)]] }), { maxResponseHeadBytes: 4096 }, { fresh: true });
  assert.throws(() => big.head(), /^uwsgi: environment larger than 64 KiB/);
});

T('CGI mode: Status line, fields, body until close; split at every byte', () => {
  everySplit('Status: 404 Not Here\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nbody bytes', (s, how) => {
    assert.equal(s.errors, [], how);
    assert.is(s.heads.length, 1, how);
    assert.is(s.heads[0]!.status, 404, how);
    assert.is(s.heads[0]!.reason, 'Not Here', how);
    assert.equal(s.heads[0]!.headers, ['Content-Type', 'text/plain', 'X-A', '1'], how);
    assert.is(s.body, 'body bytes', how);
    assert.is(s.ended, 1, how);
  });
});

T('CGI mode: bare LF lines and no Status → 200', () => {
  const s = feed(exchange(), ['Content-Type: text/html\n\n<p>']);
  assert.is(s.heads[0]!.status, 200);
  assert.is(s.body, '<p>');
  assert.is(s.ended, 1);
});

T('HTTP mode: status line, close-delimited body; split at every byte', () => {
  everySplit('HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n\r\nhello', (s, how) => {
    assert.equal(s.errors, [], how);
    assert.is(s.heads[0]!.status, 201, how);
    assert.is(s.heads[0]!.reason, 'Created', how);
    assert.is(s.body, 'hello', how);
    assert.is(s.ended, 1, how);
  });
});

T('HTTP mode with Content-Length: ends after that many bytes, before the FIN; extra bytes dropped', () => {
  everySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA', (s, how) => {
    assert.equal(s.errors, [], how);
    assert.is(s.body, 'hello', how);
    assert.is(s.ended, 1, how);
  });
  const ex = exchange();
  const s = feed(ex, ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'], false);
  assert.is(s.ended, 1, 'complete without waiting for the close');
  ex.receiveEnd(s);
  assert.is(s.ended, 1);
  assert.equal(s.errors, []);
  assert.is(ex.reusable(), false);
  const zero = feed(exchange(), ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], false);
  assert.is(zero.ended, 1);
});

T('CGI mode with Content-Length: the length is honoured too (the client gets that Content-Length)', () => {
  const s = feed(exchange(), ['Status: 200 OK\r\nContent-Length: 3\r\n\r\nabcdef'], false);
  assert.is(s.body, 'abc');
  assert.is(s.ended, 1);
  assert.equal(s.heads[0]!.headers, ['Content-Length', '3']);
});

T('HTTP mode chunked: de-chunked with the shared decoder, trailers to end(); split at every byte', () => {
  everySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n', (s, how) => {
    assert.equal(s.errors, [], how);
    assert.is(s.heads[0]!.chunked, true, how);
    assert.is(s.body, 'abcde', how);
    assert.is(s.ended, 1, how);
    assert.equal(s.trailers, ['X-T', '1'], how);
  });
});

T('HTTP mode chunked: a bad chunk is LT_ERR_BACKEND_BAD_RESPONSE; a FIN mid-body is LT_ERR_BACKEND_RESET', () => {
  const bad = feed(exchange(), ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']);
  assert.is(bad.errors.length, 1);
  assert.is(bad.errors[0]![0], 'LT_ERR_BACKEND_BAD_RESPONSE');
  assert.is(bad.ended, 0);
  const cut = feed(exchange(), ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab']);
  assert.equal(cut.errors.map((e) => e[0]), ['LT_ERR_BACKEND_RESET']);
  assert.is(cut.body, 'ab');
  assert.is(cut.ended, 0);
});

T('truncated Content-Length body: FIN → LT_ERR_BACKEND_RESET, never end()', () => {
  for (const head of ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'Status: 200 OK\r\nContent-Length: 10\r\n\r\n']) {
    const s = feed(exchange(), [head + 'short']);
    assert.is(s.body, 'short');
    assert.is(s.ended, 0);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_RESET']);
  }
});

T('FIN before the head is complete (or before any byte) → LT_ERR_BACKEND_RESET', () => {
  for (const partial of ['', 'HTT', 'HTTP/1.1 200 OK\r\n', 'Status: 200 OK\r\nContent-Type: x']) {
    const s = feed(exchange(), partial === '' ? [] : [partial]);
    assert.is(s.heads.length, 0, partial);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_RESET'], partial);
    assert.is(s.ended, 0);
  }
});

T('bad heads → LT_ERR_BACKEND_BAD_RESPONSE, reported once, later bytes ignored', () => {
  const heads = [
    'HTTP/1.1 2x0 OK\r\n\r\n', // malformed status line
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', // D2
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', // D1
    'Status: abc\r\n\r\n', // invalid CGI Status
    'Bad Field\r\n\r\n', // not a field line
    '\r\n\r\n', // empty CGI header block
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', // 101 without Upgrade asked
  ];
  for (const h of heads) {
    const ex = exchange();
    const s = feed(ex, [h, 'more bytes']);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE'], JSON.stringify(h));
    assert.is(s.heads.length, 0, h);
    assert.is(s.ended, 0, h);
    assert.is(s.body, '', h);
  }
});

T('a head over maxResponseHeadBytes → LT_ERR_BACKEND_BAD_RESPONSE', () => {
  const s = feed(exchange({}, 64), ['Status: 200 OK\r\nX-Long: ' + 'a'.repeat(100) + '\r\n\r\n']);
  assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
});

T('HEAD: the head, then end() at once; body bytes dropped, in both modes', () => {
  for (const r of ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello']) {
    everySplit(r, (s, how) => {
      assert.equal(s.errors, [], how);
      assert.is(s.heads.length, 1, how);
      assert.is(s.heads[0]!.noBody, true, how);
      assert.is(s.body, '', how);
      assert.is(s.ended, 1, how);
    }, { method: 'HEAD' });
  }
});

T('the CGI protocol\'s HEAD: a 200 without Content-Length is read to its end, its body handed on (the core sends only its length)', () => {
  const cgi = (o: Parameters<typeof upstream>[0] = {}) => new GatewayExchange(upstream(o), { maxResponseHeadBytes: 4096 }, () => Buffer.alloc(0), 'LT_ERR_SCRIPT_FAILED', true);
  for (let i = 0; i <= 40; i += 5) {
    const bytes = 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello';
    const s = feed(cgi({ method: 'HEAD' }), [bytes.slice(0, i), bytes.slice(i)], false);
    assert.is(s.heads.length, 1);
    assert.is(s.ended, 0, 'not ended before the script\'s end');
    const done = feed(cgi({ method: 'HEAD' }), [bytes.slice(0, i), bytes.slice(i)]);
    assert.is(done.body, 'hello');
    assert.is(done.ended, 1);
  }
  // Its own Content-Length, or a 204 / 304: the answer ends at its head, as for the other protocols.
  for (const r of ['Status: 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'Status: 204 No Content\r\n\r\nx', 'Status: 304 Not Modified\r\n\r\nx']) {
    const s = feed(cgi({ method: 'HEAD' }), [r], false);
    assert.is(s.ended, 1, r);
    assert.is(s.body, '', r);
  }
});

T('204 / 304 end at the head', () => {
  const s = feed(exchange(), ['Status: 204 No Content\r\n\r\n'], false);
  assert.is(s.heads[0]!.status, 204);
  assert.is(s.ended, 1);
});

T('interim 1xx heads are relayed before the final one (D12)', () => {
  everySplit('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', (s, how) => {
    assert.equal(s.heads.map((h) => h.status), [103, 200], how);
    assert.is(s.body, 'ok', how);
    assert.is(s.ended, 1, how);
  });
});

T('101 to a request that asked to upgrade: bytes after it pass through until the FIN', () => {
  const s = feed(exchange({ upgrade: 'websocket' }), ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nfr', 'ame']);
  assert.is(s.heads[0]!.status, 101);
  assert.is(s.body, 'frame');
  assert.is(s.ended, 1);
});

T('GatewayExchange takes any head encoder', () => {
  const ex = new GatewayExchange(upstream({ env: [['CONTENT_LENGTH', '0']] }), { maxResponseHeadBytes: 4096 }, encodeScgiHead);
  assert.is(ex.head().toString('latin1'), '24:CONTENT_LENGTH\x000\x00SCGI\x001\x00,');
});

T.run();

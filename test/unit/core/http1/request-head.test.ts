// Tests for core/http1/request-head.ts: RFC 9112 request heads, checklist rows A1-A7, A16, B1-B9.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ErrorCode } from '../../../../core/errors.js';
import { parseRequestHead, type RequestHeadOptions } from '../../../../core/http1/request-head.js';
import { DEFAULT_REQUEST_LIMITS, type RequestHead, type RequestLimits } from '../../../../core/http1/types.js';

const RequestHeadSuite = suite('request-head');
const L = DEFAULT_REQUEST_LIMITS;

function parse(text: string, limits: RequestLimits = L, opts?: RequestHeadOptions) {
  return parseRequestHead(Buffer.from(text, 'latin1'), limits, opts);
}

function head(text: string, limits: RequestLimits = L, opts?: RequestHeadOptions): RequestHead {
  const r = parse(text, limits, opts);
  if (r.kind !== 'head') throw new Error(`expected a head for ${JSON.stringify(text).slice(0, 200)}, got ${JSON.stringify(r)}`);
  return r.head;
}

function rejects(text: string, code: ErrorCode, limits: RequestLimits = L, opts?: RequestHeadOptions): void {
  const r = parse(text, limits, opts);
  assert.is(r.kind, 'error', `expected ${code} for ${JSON.stringify(text).slice(0, 200)}, got ${JSON.stringify(r)}`);
  if (r.kind === 'error') assert.is(r.error.code, code, JSON.stringify(text).slice(0, 200));
}

/** A request with the given field lines (each without CRLF). */
function req(fields: string[], line = 'GET / HTTP/1.1'): string {
  return line + '\r\n' + fields.map((f) => f + '\r\n').join('') + '\r\n';
}

RequestHeadSuite('parses a simple GET', () => {
  const text = 'GET /index.html?x=1 HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent:  wrk \r\nAccept: */*\r\n\r\n';
  const r = parse(text + 'NEXT');
  assert.is(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.is(r.consumed, text.length);
  assert.equal(r.head, {
    method: 'GET',
    target: '/index.html?x=1',
    versionMinor: 1,
    headers: ['Host', 'Example.com:8080', 'User-Agent', 'wrk', 'Accept', '*/*'],
    host: 'example.com:8080',
    targetScheme: null,
    pathAndQuery: '/index.html?x=1',
    contentLength: -1,
    chunked: false,
    keepAlive: true,
    expectContinue: false,
    hasExpect: false,
    connectionTokens: [],
    upgrade: null,
    headBytes: text.length,
  });
});

RequestHeadSuite('field names keep their case, order is kept, values are trimmed of SP and HTAB only', () => {
  const h = head(req(['Host: a', 'X-B: \t 1 2 \t', 'x-a:', 'X-B: 3']));
  assert.equal(h.headers, ['Host', 'a', 'X-B', '1 2', 'x-a', '', 'X-B', '3']);
});

RequestHeadSuite('obs-text (0x80-0xFF) is allowed in values and decoded as latin1', () => {
  const h = head(req(['Host: a', 'X-Name: caf\xe9 \xff']));
  assert.is(h.headers[3], 'caf\xe9 \xff');
});

RequestHeadSuite('every strict prefix of a valid head is incomplete', () => {
  const text = req(['Host: a', 'Content-Length: 3', 'X: y'], 'POST /p HTTP/1.1');
  for (let k = 0; k < text.length; k++) assert.is(parse(text.slice(0, k)).kind, 'incomplete', `prefix ${k}`);
  assert.is(parse(text).kind, 'head');
});

RequestHeadSuite('A15 pipelined requests parse one after the other', () => {
  const a = req(['Host: a'], 'GET /1 HTTP/1.1');
  const b = req(['Host: a'], 'GET /2 HTTP/1.1');
  const buf = Buffer.from(a + b);
  const r1 = parseRequestHead(buf, L);
  assert.is(r1.kind, 'head');
  if (r1.kind !== 'head') return;
  assert.is(r1.head.target, '/1');
  const r2 = parseRequestHead(buf.subarray(r1.consumed), L);
  assert.is(r2.kind === 'head' && r2.head.target, '/2');
});

RequestHeadSuite('common and extension methods are tokens', () => {
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PURGE', 'M-SEARCH', 'get']) {
    assert.is(head(req(['Host: a'], `${m} / HTTP/1.1`)).method, m);
  }
});

// --- A16: empty lines before the request line ---
RequestHeadSuite('A16 leading CRLFs are skipped and counted in consumed', () => {
  const text = '\r\n\r\n' + req(['Host: a']);
  const r = parse(text);
  assert.is(r.kind, 'head');
  if (r.kind === 'head') {
    assert.is(r.consumed, text.length);
    assert.is(r.head.headBytes, text.length);
  }
});

RequestHeadSuite('A16 a buffer of only CRLFs is empty; a lone CR is incomplete', () => {
  assert.equal(parse('\r\n'), { kind: 'empty', consumed: 2 });
  assert.equal(parse('\r\n\r\n\r'), { kind: 'empty', consumed: 4 });
  assert.equal(parse('\r'), { kind: 'incomplete' });
  assert.equal(parse(''), { kind: 'incomplete' });
});

RequestHeadSuite('A16 a bare LF before the request line → 400', () => {
  rejects('\n' + req(['Host: a']), 'LT_ERR_BAD_REQUEST_LINE');
  rejects('\r\n\n' + req(['Host: a']), 'LT_ERR_BAD_REQUEST_LINE');
});

// --- bare CR / LF anywhere (RFC 9112 §2.2) ---
RequestHeadSuite('bare LF ending the request line → 400', () => {
  const r = parse('GET / HTTP/1.1\nHost: a\r\n\r\n');
  assert.is(r.kind, 'error');
});

RequestHeadSuite('bare LF ending a field line or the head → 400 LT_ERR_BAD_HEADER', () => {
  rejects('GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'LT_ERR_BAD_HEADER');
  rejects('GET / HTTP/1.1\r\nHost: a\r\n\n', 'LT_ERR_BAD_HEADER');
  rejects('GET / HTTP/1.1\r\nHost: a\n\n', 'LT_ERR_BAD_HEADER');
});

RequestHeadSuite('bare CR in the request line, a value, or as a line → 400', () => {
  assert.is(parse('GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n').kind, 'error');
  assert.is(parse('GET / HTTP/1.1\r\r\nHost: a\r\n\r\n').kind, 'error');
  rejects(req(['Host: a', 'X: a\rb']), 'LT_ERR_BAD_HEADER');
  rejects('GET / HTTP/1.1\r\nHost: a\r\n\rX: b\r\n\r\n', 'LT_ERR_BAD_HEADER');
});

// --- B9: limits ---
const SMALL: RequestLimits = { maxRequestLineBytes: 64, maxFieldBytes: 40, maxHeadBytes: 200, maxHeaderCount: 4 };

RequestHeadSuite('B9 a request line over the limit → 414, also before it ends', () => {
  const line = 'GET /' + 'a'.repeat(60) + ' HTTP/1.1';
  rejects(req(['Host: a'], line), 'LT_ERR_URI_TOO_LONG', SMALL);
  rejects('GET /' + 'a'.repeat(70), 'LT_ERR_URI_TOO_LONG', SMALL);
  const exact = 'GET /' + 'a'.repeat(64 - 14) + ' HTTP/1.1';
  assert.is(exact.length, 64);
  assert.is(head(req(['Host: a'], exact), SMALL).target.length, 64 - 13);
  assert.is(parse('GET /' + 'a'.repeat(59), SMALL).kind, 'incomplete');
});

RequestHeadSuite('B9 one field line over the limit → 431 LT_ERR_HEADER_TOO_LARGE, also before it ends', () => {
  rejects(req(['Host: a', 'X: ' + 'v'.repeat(38)]), 'LT_ERR_HEADER_TOO_LARGE', SMALL);
  rejects('GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(38), 'LT_ERR_HEADER_TOO_LARGE', SMALL);
  assert.is(head(req(['Host: a', 'X: ' + 'v'.repeat(37)]), SMALL).headers[3]!.length, 37);
});

RequestHeadSuite('B9 a head over maxHeadBytes → 431 LT_ERR_HEADERS_TOO_LARGE, also unfinished', () => {
  const limits = { ...SMALL, maxHeaderCount: 100 };
  const fields = ['Host: a'];
  for (let k = 0; k < 8; k++) fields.push(`X-${k}: ${'v'.repeat(20)}`);
  rejects(req(fields), 'LT_ERR_HEADERS_TOO_LARGE', limits);
  const text = req(fields);
  rejects(text.slice(0, 200), 'LT_ERR_HEADERS_TOO_LARGE', limits);
  assert.is(parse(text.slice(0, 199), limits).kind, 'incomplete');
  // Exactly at the limit is fine.
  const exact = req(['Host: a', 'X: ' + 'v'.repeat(200 - 16 - 9 - 5 - 2)]);
  assert.is(exact.length, 200);
  assert.is(parse(exact, { ...limits, maxFieldBytes: 1000 }).kind, 'head');
});

RequestHeadSuite('B9 more than maxHeaderCount fields → LT_ERR_TOO_MANY_HEADERS; exactly the max is fine', () => {
  rejects(req(['Host: a', 'A: 1', 'B: 2', 'C: 3', 'D: 4']), 'LT_ERR_TOO_MANY_HEADERS', SMALL);
  assert.is(head(req(['Host: a', 'A: 1', 'B: 2', 'C: 3']), SMALL).headers.length, 8);
  rejects('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD', 'LT_ERR_TOO_MANY_HEADERS', SMALL);
});

RequestHeadSuite('B9 a large unfinished head (over 4 KiB, native checks) still hits every limit', () => {
  const big: RequestLimits = { maxRequestLineBytes: 8192, maxFieldBytes: 6000, maxHeadBytes: 20000, maxHeaderCount: 3 };
  assert.is(parse('GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(5000), big).kind, 'incomplete');
  rejects('GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(6000), 'LT_ERR_HEADER_TOO_LARGE', big);
  rejects('GET /' + 'a'.repeat(8200), 'LT_ERR_URI_TOO_LONG', big);
  rejects('GET / HTTP/1.1\r\nHost: a\nX: ' + 'v'.repeat(5000), 'LT_ERR_BAD_HEADER', big);
  rejects('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: ' + 'v'.repeat(5000), 'LT_ERR_TOO_MANY_HEADERS', big);
  rejects('GET / HTTP/1.1\r\n' + 'X: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n'.repeat(3).repeat(1) + 'Y: ' + 'v'.repeat(20000), 'LT_ERR_HEADER_TOO_LARGE', big);
  rejects('GET / HTTP/1.1\r\nX: ' + 'v'.repeat(5990) + '\r\nY: ' + 'v'.repeat(5990) + '\r\nZ: ' + 'v'.repeat(5990) + '\r\nW', 'LT_ERR_TOO_MANY_HEADERS', big);
  rejects('GET / HTTP/1.1\r\nX: ' + 'v'.repeat(5990) + '\r\nY: ' + 'v'.repeat(5990) + '\r\nZ: ' + 'v'.repeat(5990) + '\r\n\r', 'LT_ERR_HEADERS_TOO_LARGE', { ...big, maxHeadBytes: 18000 });
});

// --- B1: method and version ---
RequestHeadSuite('B1 a bad method token → 400 LT_ERR_BAD_METHOD', () => {
  rejects(req(['Host: a'], 'G(T / HTTP/1.1'), 'LT_ERR_BAD_METHOD');
  rejects(req(['Host: a'], 'G=":<>(e),[T];? / HTTP/1.1'), 'LT_ERR_BAD_METHOD');
  rejects(req(['Host: a'], ' GET / HTTP/1.1'), 'LT_ERR_BAD_METHOD');
  rejects(req(['Host: a'], 'G\xc9T / HTTP/1.1'), 'LT_ERR_BAD_METHOD');
});

RequestHeadSuite('B1 garbage (a TLS ClientHello) is refused from its first bytes', () => {
  rejects('\x16\x03\x01\x02\x00\x01', 'LT_ERR_BAD_METHOD');
  rejects('GE{', 'LT_ERR_BAD_METHOD');
  assert.is(parse('GE').kind, 'incomplete');
});

RequestHeadSuite('B1 malformed versions → 400 LT_ERR_BAD_VERSION', () => {
  for (const v of ['HTTP/1.01', 'HTTP/1.32', 'http/1.1', 'HTTP/1', 'HTTP/1.', 'HTTP/11', 'HTTP/1.1 ', 'HTTP/a.1', 'HTTP/1.1x', 'HTTPS/1.1']) {
    rejects(req(['Host: a'], `GET / ${v}`), 'LT_ERR_BAD_VERSION');
  }
});

RequestHeadSuite('B1 an HTTP/0.9 simple request (no version) → 400', () => {
  rejects('GET /\r\n\r\n', 'LT_ERR_BAD_VERSION');
  rejects('GET\r\n\r\n', 'LT_ERR_BAD_REQUEST_LINE');
});

RequestHeadSuite('B1 a well-formed other major version → 505', () => {
  rejects(req(['Host: a'], 'GET / HTTP/2.0'), 'LT_ERR_VERSION_NOT_SUPPORTED');
  rejects(req(['Host: a'], 'GET / HTTP/3.0'), 'LT_ERR_VERSION_NOT_SUPPORTED');
  rejects(req(['Host: a'], 'GET / HTTP/0.9'), 'LT_ERR_VERSION_NOT_SUPPORTED');
  rejects('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'LT_ERR_VERSION_NOT_SUPPORTED');
});

RequestHeadSuite('B1 HTTP/1.0 and 1.1 as received; a higher 1.x minor is handled as 1.1', () => {
  assert.is(head(req([], 'GET / HTTP/1.0')).versionMinor, 0);
  assert.is(head(req(['Host: a'])).versionMinor, 1);
  assert.is(head(req(['Host: a'], 'GET / HTTP/1.2')).versionMinor, 1);
  rejects(req([], 'GET / HTTP/1.9'), 'LT_ERR_HOST_MISSING');
});

RequestHeadSuite('B1 exactly one SP between the parts', () => {
  assert.is(parse(req(['Host: a'], 'GET  / HTTP/1.1')).kind, 'error');
  assert.is(parse(req(['Host: a'], 'GET /  HTTP/1.1')).kind, 'error');
  assert.is(parse(req(['Host: a'], 'GET\t/ HTTP/1.1')).kind, 'error');
});

// --- B2: target forms ---
RequestHeadSuite('B2 space, CTL, DEL or non-ASCII in the target → 400 LT_ERR_BAD_TARGET', () => {
  rejects(req(['Host: a'], 'GET /a b HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET /a\x01b HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET /a\x7fb HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET /caf\xe9 HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET /a\tb HTTP/1.1'), 'LT_ERR_BAD_TARGET');
});

RequestHeadSuite('B2 `*` only with OPTIONS', () => {
  rejects(req(['Host: a'], 'GET * HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  const h = head(req(['Host: a'], 'OPTIONS * HTTP/1.1'));
  assert.is(h.pathAndQuery, '*');
  assert.is(h.target, '*');
  rejects(req(['Host: a'], 'OPTIONS *x HTTP/1.1'), 'LT_ERR_BAD_TARGET');
});

RequestHeadSuite('B2 CONNECT needs authority-form with a port', () => {
  rejects(req(['Host: a'], 'CONNECT example.com HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'CONNECT / HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'CONNECT example.com: HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  const h = head(req(['Host: example.com:443'], 'CONNECT example.com:443 HTTP/1.1'));
  assert.is(h.method, 'CONNECT');
  assert.is(h.pathAndQuery, 'example.com:443');
  assert.is(h.host, 'example.com:443');
});

RequestHeadSuite('B2 a relative target without / → 400', () => {
  rejects(req(['Host: a'], 'GET foo HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET a/b HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET ?x HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET example.com:80 HTTP/1.1'), 'LT_ERR_BAD_TARGET');
});

RequestHeadSuite('B2 absolute-form: http/https (any case) with a valid authority', () => {
  let h = head(req(['Host: other'], 'GET http://Example.com:8080/p?q=1 HTTP/1.1'));
  assert.is(h.target, 'http://Example.com:8080/p?q=1');
  assert.is(h.targetScheme, 'http');
  assert.is(h.host, 'example.com:8080');
  assert.is(h.pathAndQuery, '/p?q=1');
  h = head(req(['Host: a'], 'GET HTTPS://a HTTP/1.1'));
  assert.is(h.targetScheme, 'https');
  assert.is(h.pathAndQuery, '/');
  assert.is(head(req(['Host: a'], 'GET http://a?x=1 HTTP/1.1')).pathAndQuery, '/?x=1');
  rejects(req(['Host: a'], 'GET ftp://a/ HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET http:///x HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET http://u:p@a/ HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET http://a:99999/ HTTP/1.1'), 'LT_ERR_BAD_TARGET');
  rejects(req(['Host: a'], 'GET http:/a/ HTTP/1.1'), 'LT_ERR_BAD_TARGET');
});

RequestHeadSuite('B4 the absolute-form authority wins over Host; without Host on 1.1 it is the host (lighttpd)', () => {
  assert.is(head(req(['Host: evil.example'], 'GET http://good.example/ HTTP/1.1')).host, 'good.example');
  assert.is(head(req([], 'GET http://good.example:8080/x HTTP/1.1')).host, 'good.example:8080');
  rejects(req([], 'GET /x HTTP/1.1'), 'LT_ERR_HOST_MISSING');
  rejects(req(['Host: a', 'Host: b'], 'GET http://good.example/ HTTP/1.1'), 'LT_ERR_HOST_DUPLICATE');
  assert.is(head(req([], 'GET http://good.example/ HTTP/1.0')).host, 'good.example');
});

// --- B3: Host ---
RequestHeadSuite('B3 HTTP/1.1 without Host → 400 LT_ERR_HOST_MISSING; 1.0 without Host is fine', () => {
  rejects(req(['X: y']), 'LT_ERR_HOST_MISSING');
  assert.is(head(req([], 'GET / HTTP/1.0')).host, '');
});

RequestHeadSuite('B3 two Host lines → 400 LT_ERR_HOST_DUPLICATE, even identical, any case', () => {
  rejects(req(['Host: a', 'Host: a']), 'LT_ERR_HOST_DUPLICATE');
  rejects(req(['Host: a', 'X: 1', 'HOST: b']), 'LT_ERR_HOST_DUPLICATE');
  rejects(req(['host: a', 'Host: a'], 'GET / HTTP/1.0'), 'LT_ERR_HOST_DUPLICATE');
});

RequestHeadSuite('B3 invalid Host values → 400 LT_ERR_HOST_INVALID', () => {
  for (const v of ['bad host', '..a', 'a..b', '.a', '.', 'a:99999', '[::1', '[::1]x', '[zz::1]', 'a:', ':80', 'u@a', 'a:123456',
    'a:8a', 'a/b', 'a%41', 'caf\xe9', 'a:-1', '[::1]:', '[fe80::1%eth0]', '[::1/64]', '[v1.x]', '[]']) {
    rejects(req([`Host: ${v}`]), 'LT_ERR_HOST_INVALID');
  }
});

RequestHeadSuite('B3 valid Host values are lowercased, a trailing dot removed', () => {
  assert.is(head(req(['Host: Example.COM.'])).host, 'example.com');
  assert.is(head(req(['Host: example.com.:8080'])).host, 'example.com:8080');
  assert.is(head(req(['Host: [::1]:8080'])).host, '[::1]:8080');
  assert.is(head(req(['Host: [2001:DB8::1]'])).host, '[2001:db8::1]');
  assert.is(head(req(['Host: 127.0.0.1:80'])).host, '127.0.0.1:80');
  assert.is(head(req(['Host: a-b_c.d:65535'])).host, 'a-b_c.d:65535');
  assert.is(head(req(['Host:   a   '])).host, 'a');
  assert.is(head(req(['Host: a'])).headers[1], 'a', 'the header itself is kept as received');
});

RequestHeadSuite('C6 an empty Host on 1.1 → 400 unless allowEmptyHost; on 1.0 it is fine', () => {
  rejects(req(['Host:']), 'LT_ERR_HOST_INVALID');
  rejects(req(['Host:  ']), 'LT_ERR_HOST_INVALID');
  assert.is(head(req(['Host:']), L, { allowEmptyHost: true }).host, '');
  assert.is(head(req(['Host:'], 'GET / HTTP/1.0')).host, '');
});

// --- B5-B8: field syntax ---
RequestHeadSuite('B5 whitespace between the field name and the colon → 400', () => {
  rejects(req(['Host : a']), 'LT_ERR_BAD_HEADER');
  rejects(req(['Host: a', 'Transfer-Encoding\t: chunked']), 'LT_ERR_BAD_HEADER');
  rejects(req(['Host: a', 'Content-Length : 5']), 'LT_ERR_BAD_HEADER');
});

RequestHeadSuite('B6 obs-fold and whitespace before the first field → 400', () => {
  rejects(req(['Host: a', 'X: b', ' c']), 'LT_ERR_BAD_HEADER');
  rejects(req(['Host: a', 'X: b', '\tc']), 'LT_ERR_BAD_HEADER');
  rejects(req([' Host: a']), 'LT_ERR_BAD_HEADER');
  rejects(req(['\tX: y', 'Host: a']), 'LT_ERR_BAD_HEADER');
});

RequestHeadSuite('B7 bad field names → 400', () => {
  for (const f of ['\x02: a', ':foo: a', ': a', 'fo\xefo: a', 'foo bar', 'foo', 'a(b): c', 'a"b: c', '\x7f: a']) {
    rejects(req(['Host: a', f]), 'LT_ERR_BAD_HEADER');
  }
});

RequestHeadSuite('B8 NUL, bare CR, other CTLs or DEL in a value → 400', () => {
  for (const v of ['a\x00b', 'a\rb', 'a\x0bb', 'a\x1bb', 'a\x7fb', '\x00']) {
    rejects(req(['Host: a', `X: ${v}`]), 'LT_ERR_BAD_HEADER');
  }
  assert.is(head(req(['Host: a', 'X: a\tb'])).headers[3], 'a\tb', 'HTAB is allowed');
});

// --- A6/A7: Content-Length ---
RequestHeadSuite('A7 valid Content-Length values', () => {
  assert.is(head(req(['Host: a', 'Content-Length: 5'])).contentLength, 5);
  assert.is(head(req(['Host: a', 'content-length: 0'])).contentLength, 0);
  assert.is(head(req(['Host: a', 'Content-Length: 007'])).contentLength, 7);
  assert.is(head(req(['Host: a', 'Content-Length: 999999999999999'])).contentLength, 999999999999999);
  assert.is(head(req(['Host: a', 'Content-Length:  42  '])).contentLength, 42);
});

RequestHeadSuite('A7 invalid Content-Length → 400 LT_ERR_CL_INVALID, no overflow', () => {
  for (const v of ['+5', '-1', '0x10', '1_0', '', '1 0', '5a', ' ', '1.0', '9007199254740993', '1000000000000000', '٣',
    '99999999999999999999999999', '5,', ',5', '5,,5', '5, ,5']) {
    rejects(req(['Host: a', `Content-Length: ${v}`]), 'LT_ERR_CL_INVALID');
  }
});

RequestHeadSuite('A6 different Content-Length values → 400 LT_ERR_CL_CONFLICT', () => {
  rejects(req(['Host: a', 'Content-Length: 5', 'Content-Length: 6']), 'LT_ERR_CL_CONFLICT');
  rejects(req(['Host: a', 'Content-Length: 5, 6']), 'LT_ERR_CL_CONFLICT');
  rejects(req(['Host: a', 'Content-Length: 5', 'Content-Length: 5, 6']), 'LT_ERR_CL_CONFLICT');
});

RequestHeadSuite('A6 identical Content-Length duplicates are folded into one', () => {
  let h = head(req(['Host: a', 'Content-Length: 5', 'Content-Length: 5']));
  assert.is(h.contentLength, 5);
  assert.equal(h.headers, ['Host', 'a', 'Content-Length', '5']);
  h = head(req(['Host: a', 'Content-Length: 5 , 5,5']));
  assert.is(h.contentLength, 5);
  assert.equal(h.headers, ['Host', 'a', 'Content-Length', '5']);
});

// --- A1-A5: Transfer-Encoding ---
RequestHeadSuite('TE chunked (any case) → chunked, contentLength -1', () => {
  const h = head(req(['Host: a', 'Transfer-Encoding: chunked'], 'POST / HTTP/1.1'));
  assert.is(h.chunked, true);
  assert.is(h.contentLength, -1);
  assert.is(head(req(['Host: a', 'transfer-encoding: ChUnKeD'])).chunked, true);
});

RequestHeadSuite('A1 CL+TE → LT_ERR_CL_AND_TE, either order', () => {
  rejects(req(['Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked']), 'LT_ERR_CL_AND_TE');
  rejects(req(['Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 5']), 'LT_ERR_CL_AND_TE');
  rejects(req(['Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 0']), 'LT_ERR_CL_AND_TE');
});

RequestHeadSuite('A2 TE obfuscations → 400 LT_ERR_TE_INVALID', () => {
  for (const v of ['xchunked', 'chunkedx', 'chunked, identity', 'identity', 'chunked, chunked', 'chunked;q=1', ' , chunked',
    'chunked,', '"chunked"', 'chunked chunked', 'foo', '']) {
    rejects(req(['Host: a', `Transfer-Encoding: ${v}`]), 'LT_ERR_TE_INVALID');
  }
});

RequestHeadSuite('A2 TE repeated on two lines is joined: chunked + chunked → 400', () => {
  rejects(req(['Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']), 'LT_ERR_TE_INVALID');
});

RequestHeadSuite('A2 TE with a CTL or a space before the colon, or after a bare LF → 400', () => {
  rejects(req(['Host: a', 'Transfer-Encoding: \x0bchunked']), 'LT_ERR_BAD_HEADER');
  rejects(req(['Host: a', 'Transfer-Encoding : chunked']), 'LT_ERR_BAD_HEADER');
  rejects('GET / HTTP/1.1\r\nHost: a\r\nX: x\nTransfer-Encoding: chunked\r\n\r\n', 'LT_ERR_BAD_HEADER');
});

RequestHeadSuite('A2 `Transfer-Encoding:\\tchunked` is plain OWS (RFC 9110 §5.6.3) → chunked', () => {
  assert.is(head(req(['Host: a', 'Transfer-Encoding:\tchunked'])).chunked, true);
});

RequestHeadSuite('A3 chunked not last → 400 LT_ERR_TE_INVALID', () => {
  rejects(req(['Host: a', 'Transfer-Encoding: chunked, gzip']), 'LT_ERR_TE_INVALID');
  rejects(req(['Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip']), 'LT_ERR_TE_INVALID');
  rejects(req(['Host: a', 'Transfer-Encoding: gzip']), 'LT_ERR_TE_INVALID');
});

RequestHeadSuite('A4 a known coding before a final chunked → 501 LT_ERR_TE_NOT_IMPLEMENTED', () => {
  for (const v of ['gzip, chunked', 'identity, chunked', 'deflate,chunked', 'x-gzip , chunked', 'compress, gzip, chunked']) {
    rejects(req(['Host: a', `Transfer-Encoding: ${v}`]), 'LT_ERR_TE_NOT_IMPLEMENTED');
  }
  rejects(req(['Host: a', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked']), 'LT_ERR_TE_NOT_IMPLEMENTED');
  rejects(req(['Host: a', 'Transfer-Encoding: foo, chunked']), 'LT_ERR_TE_INVALID');
});

RequestHeadSuite('A5 TE in an HTTP/1.0 request → 400 LT_ERR_TE_HTTP10', () => {
  rejects(req(['Transfer-Encoding: chunked'], 'POST / HTTP/1.0'), 'LT_ERR_TE_HTTP10');
  rejects(req(['Host: a', 'Transfer-Encoding: gzip'], 'POST / HTTP/1.0'), 'LT_ERR_TE_HTTP10');
});

// --- connection management ---
RequestHeadSuite('keepAlive: 1.1 unless close; 1.0 only with keep-alive', () => {
  assert.is(head(req(['Host: a'])).keepAlive, true);
  assert.is(head(req(['Host: a', 'Connection: close'])).keepAlive, false);
  assert.is(head(req(['Host: a', 'Connection: Keep-Alive, CLOSE'])).keepAlive, false);
  assert.is(head(req([], 'GET / HTTP/1.0')).keepAlive, false);
  assert.is(head(req(['Connection: Keep-Alive'], 'GET / HTTP/1.0')).keepAlive, true);
  assert.is(head(req(['Connection: keep-alive', 'Connection: close'], 'GET / HTTP/1.0')).keepAlive, false);
});

RequestHeadSuite('connectionTokens are lowercased and trimmed, from every Connection line', () => {
  const h = head(req(['Host: a', 'Connection: Keep-Alive ,  Upgrade,,X-Secret', 'connection: TE']));
  assert.equal(h.connectionTokens, ['keep-alive', 'upgrade', 'x-secret', 'te']);
});

RequestHeadSuite('G4 expectContinue only for HTTP/1.1 with 100-continue (any case)', () => {
  assert.is(head(req(['Host: a', 'Expect: 100-Continue'])).expectContinue, true);
  assert.is(head(req(['Expect: 100-continue'], 'GET / HTTP/1.0')).expectContinue, false);
  const h = head(req(['Host: a', 'Expect: something-else']));
  assert.is(h.expectContinue, false);
  assert.equal(h.headers.slice(2), ['Expect', 'something-else'], 'an unknown expectation is left to the server (417)');
  assert.is(h.hasExpect, true, 'the server learns there is an expectation without searching the fields');
  assert.is(head(req(['Host: a', 'Accept: */*'])).hasExpect, false);
  assert.is(head(req(['EXPECT: 100-continue', 'Host: a'])).hasExpect, true);
  assert.is(head(req(['Expect: foo'], 'GET / HTTP/1.0')).hasExpect, false, 'HTTP/1.0: Expect is ignored (G4)');
});

RequestHeadSuite('G5/G6 upgrade only on 1.1 with Connection: upgrade', () => {
  assert.is(head(req(['Host: a', 'Connection: Upgrade', 'Upgrade: websocket'])).upgrade, 'websocket');
  assert.is(head(req(['Host: a', 'Upgrade: websocket'])).upgrade, null);
  assert.is(head(req(['Connection: upgrade', 'Upgrade: websocket'], 'GET / HTTP/1.0')).upgrade, null);
  assert.is(head(req(['Host: a', 'Connection: upgrade'])).upgrade, null);
});

RequestHeadSuite('the limits object is honoured per call (the field table grows)', () => {
  const fields = ['Host: a'];
  for (let k = 0; k < 300; k++) fields.push(`X-${k}: v`);
  const many: RequestLimits = { ...L, maxHeaderCount: 400 };
  assert.is(head(req(fields), many).headers.length, 602);
  rejects(req(fields), 'LT_ERR_TOO_MANY_HEADERS');
});

RequestHeadSuite.run();

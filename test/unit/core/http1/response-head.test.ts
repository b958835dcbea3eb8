// Tests for core/http1/response-head.ts: HTTP/1.x and CGI response heads, checklist rows D1-D5, D9-D12, G7, G10.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkResponseHead, isValidatedHead, makeResponseHead, parseResponseHead } from '../../../../core/http1/response-head.js';
import type { ResponseHead, ResponseHeadOptions } from '../../../../core/http1/types.js';

const ResponseHeadSuite = suite('response-head');

const HTTP: ResponseHeadOptions = { mode: 'http', requestMethod: 'GET', maxHeadBytes: 8192 };
const CGI: ResponseHeadOptions = { mode: 'cgi', requestMethod: 'GET', maxHeadBytes: 8192 };

function parse(text: string, opts: ResponseHeadOptions = HTTP) {
  return parseResponseHead(Buffer.from(text, 'latin1'), opts);
}

function head(text: string, opts: ResponseHeadOptions = HTTP): ResponseHead {
  const r = parse(text, opts);
  if (r.kind !== 'head') throw new Error(`expected a head for ${JSON.stringify(text).slice(0, 200)}, got ${JSON.stringify(r)}`);
  return r.head;
}

function rejects(text: string, opts: ResponseHeadOptions = HTTP): void {
  const r = parse(text, opts);
  assert.is(r.kind, 'error', `expected an error for ${JSON.stringify(text).slice(0, 200)}, got ${JSON.stringify(r)}`);
  if (r.kind === 'error') assert.is(r.error.code, 'LT_ERR_BACKEND_BAD_RESPONSE');
}

ResponseHeadSuite('http: a 200 with Content-Length', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\n';
  const r = parse(text + 'hello');
  assert.is(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.is(r.consumed, text.length);
  assert.equal({ ...r.head }, {
    status: 200, reason: 'OK', versionMinor: 1, headers: ['Content-Length', '5', 'X-A', 'b'], contentLength: 5,
    chunked: false, noBody: false, closeDelimited: false, keepAlive: true, localRedirect: null,
  });
});

ResponseHeadSuite('http: reason may be empty or missing with its SP', () => {
  assert.is(head('HTTP/1.1 200 \r\n\r\n').reason, '');
  assert.is(head('HTTP/1.1 404\r\n\r\n').status, 404);
  assert.is(head('HTTP/1.1 200 All Good\tNow\r\n\r\n').reason, 'All Good\tNow');
  assert.is(head('HTTP/1.1 200 caf\xe9\r\n\r\n').reason, 'caf\xe9');
});

ResponseHeadSuite('http: every strict prefix is incomplete', () => {
  const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n';
  for (let k = 0; k < text.length; k++) assert.is(parse(text.slice(0, k)).kind, 'incomplete', `prefix ${k}`);
});

ResponseHeadSuite('D5 garbage instead of a status line → error from the first bytes', () => {
  rejects('<html>');
  rejects('HTTX');
  rejects('\r\nHTTP/1.1 200 OK\r\n\r\n');
  rejects('http/1.1 200 OK\r\n\r\n');
  assert.is(parse('HTT').kind, 'incomplete');
});

ResponseHeadSuite('D5 malformed status lines → error', () => {
  for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 200OK', 'HTTP/2.0 200 OK', 'HTTP/1.1  200 OK',
    'HTTP/1.1 099 X', 'HTTP/1.1 600 X', 'HTTP/1.x 200 OK', 'HTTP/1.1 200 O\x00K', 'HTTP/1.1 abc OK', 'HTTP/1.10 200 OK']) {
    rejects(line + '\r\n\r\n');
  }
  rejects('HTTP/1.1 200 OK\nX: y\r\n\r\n');
});

ResponseHeadSuite('D5 a head over maxHeadBytes → error, also unfinished', () => {
  const opts = { ...HTTP, maxHeadBytes: 64 };
  rejects('HTTP/1.1 200 OK\r\nX: ' + 'v'.repeat(60) + '\r\n\r\n', opts);
  rejects('HTTP/1.1 200 OK\r\nX: ' + 'v'.repeat(60), opts);
  rejects('HTTP/1.1 200 OK\r\nX: ' + 'v'.repeat(9000), HTTP);
  assert.is(parse('HTTP/1.1 200 OK\r\nX: ' + 'v'.repeat(6000)).kind, 'incomplete');
  const many = 'HTTP/1.1 200 OK\r\n' + 'A: 1\r\n'.repeat(5) + '\r\n';
  rejects(many, { ...HTTP, maxHeaderCount: 4 });
  assert.is(head(many, { ...HTTP, maxHeaderCount: 5 }).headers.length, 10);
});

ResponseHeadSuite('D4 obs-fold, NUL/CR/LF in a value, whitespace before a colon → error', () => {
  rejects('HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nX : a\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nX\x01: a\r\n\r\n');
});

ResponseHeadSuite('D1 Content-Length with Transfer-Encoding → error', () => {
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n');
});

ResponseHeadSuite('D2 two different Content-Lengths → error; identical ones fold', () => {
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n');
  const h = head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n');
  assert.is(h.contentLength, 5);
  assert.equal(h.headers, ['Content-Length', '5']);
});

ResponseHeadSuite('D3 invalid Content-Length, unknown TE, chunked twice → error', () => {
  rejects('HTTP/1.1 200 OK\r\nContent-Length: foo\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n');
});

ResponseHeadSuite('framing: chunked, Content-Length, close-delimited (D9)', () => {
  const c = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n');
  assert.is(c.chunked, true);
  assert.is(c.contentLength, -1);
  assert.is(c.closeDelimited, false);
  assert.is(c.keepAlive, true);
  const d = head('HTTP/1.1 200 OK\r\n\r\n');
  assert.is(d.closeDelimited, true);
  assert.is(d.keepAlive, false, 'a close-delimited body ends the connection');
  assert.is(d.contentLength, -1);
});

ResponseHeadSuite('D10/D11 no body for HEAD, 1xx, 204, 304 (CL/TE headers kept)', () => {
  const h = head('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { ...HTTP, requestMethod: 'HEAD' });
  assert.is(h.noBody, true);
  assert.is(h.contentLength, 0);
  assert.equal(h.headers, ['Content-Length', '100']);
  const t = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { ...HTTP, requestMethod: 'HEAD' });
  assert.is(t.chunked, false);
  assert.is(t.closeDelimited, false);
  for (const status of [204, 304]) {
    const n = head(`HTTP/1.1 ${status} X\r\nContent-Length: 7\r\n\r\n`);
    assert.is(n.noBody, true);
    assert.is(n.contentLength, 0);
    assert.is(n.closeDelimited, false);
    assert.is(n.keepAlive, true);
  }
});

ResponseHeadSuite('D12 1xx heads come back as heads with noBody; the caller loops', () => {
  const text = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';
  const final = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  const buf = Buffer.from(text + 'HTTP/1.1 100 Continue\r\n\r\n' + final);
  const r1 = parseResponseHead(buf, HTTP);
  assert.is(r1.kind === 'head' && r1.head.status, 103);
  assert.is(r1.kind === 'head' && r1.head.noBody, true);
  if (r1.kind !== 'head') return;
  const r2 = parseResponseHead(buf.subarray(r1.consumed), HTTP);
  assert.is(r2.kind === 'head' && r2.head.status, 100);
  if (r2.kind !== 'head') return;
  const r3 = parseResponseHead(buf.subarray(r1.consumed + r2.consumed), HTTP);
  assert.is(r3.kind === 'head' && r3.head.status, 200);
});

ResponseHeadSuite('keepAlive per version and Connection', () => {
  assert.is(head('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.is(head('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
  const ka = head('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n');
  assert.is(ka.keepAlive, true);
  assert.is(ka.versionMinor, 0);
  assert.is(head('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: upgrade, CLOSE\r\n\r\n').keepAlive, false);
});

// --- CGI mode (RFC 3875 §6) ---
ResponseHeadSuite('G10 cgi: a document with LF-only line endings', () => {
  const text = 'Content-Type: text/html\nX-A: b\n\n';
  const r = parse(text + '<html>', CGI);
  assert.is(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.is(r.consumed, text.length);
  assert.equal({ ...r.head }, {
    status: 200, reason: 'OK', versionMinor: 1, headers: ['Content-Type', 'text/html', 'X-A', 'b'], contentLength: -1,
    chunked: false, noBody: false, closeDelimited: true, keepAlive: true, localRedirect: null,
  });
});

ResponseHeadSuite('G10 cgi: CRLF, LF and mixed endings all end the block', () => {
  for (const text of ['Content-Type: a\r\n\r\n', 'Content-Type: a\r\n\n', 'Content-Type: a\n\r\n', 'Content-Type: a\nX: b\r\n\n']) {
    assert.is(parse(text + 'BODY', CGI).kind === 'head' && (parse(text + 'BODY', CGI) as { consumed: number }).consumed, text.length);
  }
});

ResponseHeadSuite('G10 cgi: bare CR and NUL are still refused', () => {
  rejects('Content-Type: a\rb\n\n', CGI);
  rejects('Content-Type: a\x00b\n\n', CGI);
  rejects('Content-Type: a\n\r\r\n', CGI);
  rejects('Content-Type: a\n folded\n\n', CGI);
});

ResponseHeadSuite('G10 cgi: Status sets status and reason and is removed from the headers', () => {
  const h = head('Status: 404 Not Found\nContent-Type: text/plain\n\n', CGI);
  assert.is(h.status, 404);
  assert.is(h.reason, 'Not Found');
  assert.equal(h.headers, ['Content-Type', 'text/plain']);
  const bare = head('status: 503\n\n', CGI);
  assert.is(bare.status, 503);
  assert.is(bare.reason, 'Service Unavailable');
  assert.equal(bare.headers, []);
});

ResponseHeadSuite('G10 cgi: an invalid Status → error', () => {
  for (const v of ['abc', '20', '2000', '200OK', '', '099', '700 X', ' ']) rejects(`Status: ${v}\nContent-Type: a\n\n`, CGI);
  rejects('Status: 200\nStatus: 404\n\n', CGI);
});

ResponseHeadSuite('G10 cgi: a local Location without Status is a local redirect', () => {
  const h = head('Location: /other/path?x=1\n\n', CGI);
  assert.is(h.localRedirect, '/other/path?x=1');
  assert.is(h.status, 200);
});

ResponseHeadSuite('G10 cgi: an absolute Location without Status → 302; `//host` is not local', () => {
  const h = head('Location: http://example.com/\n\n', CGI);
  assert.is(h.status, 302);
  assert.is(h.reason, 'Found');
  assert.is(h.localRedirect, null);
  assert.is(head('Location: //evil.example/x\n\n', CGI).status, 302);
  const s = head('Status: 301 Moved\nLocation: /x\n\n', CGI);
  assert.is(s.status, 301);
  assert.is(s.localRedirect, null);
});

ResponseHeadSuite('G10 cgi: an empty header block → error', () => {
  rejects('\n\nbody', CGI);
  rejects('\r\n\r\nbody', CGI);
});

ResponseHeadSuite('G10 cgi: Content-Length validated; Transfer-Encoding: chunked decoded, never forwarded; with a Content-Length refused (D1)', () => {
  const h = head('Content-Type: a\nContent-Length: 12\n\n', CGI);
  assert.is(h.contentLength, 12);
  assert.is(h.closeDelimited, false);
  assert.is(h.chunked, false);
  assert.equal(h.headers, ['Content-Type', 'a', 'Content-Length', '12']);
  const c = head('Content-Type: a\nTransfer-Encoding: chunked\n\n', CGI);
  assert.is(c.chunked, true, 'the protocol decodes the body');
  assert.is(c.closeDelimited, false);
  assert.equal(c.headers, ['Content-Type', 'a'], 'the field itself is not forwarded');
  assert.is(head('Content-Type: a\nTransfer-Encoding: chunked\n\n', { ...CGI, requestMethod: 'HEAD' }).chunked, false, 'no body to decode for a HEAD');
  rejects('Content-Type: a\nContent-Length: 12\nTransfer-Encoding: chunked\n\n', CGI);
  rejects('Content-Type: a\nTransfer-Encoding: gzip\n\n', CGI);
  rejects('Content-Type: a\nContent-Length: x\n\n', CGI);
  rejects('Content-Type: a\nContent-Length: 1\nContent-Length: 2\n\n', CGI);
});

ResponseHeadSuite('G10 cgi: HEAD and 204/304 have no body', () => {
  assert.is(head('Content-Type: a\n\n', { ...CGI, requestMethod: 'HEAD' }).noBody, true);
  const h = head('Status: 304\n\n', CGI);
  assert.is(h.noBody, true);
  assert.is(h.closeDelimited, false);
});

ResponseHeadSuite('cgi: every strict prefix is incomplete', () => {
  const text = 'Status: 200 OK\r\nContent-Type: a\n\n';
  for (let k = 0; k < text.length; k++) assert.is(parse(text.slice(0, k), CGI).kind, 'incomplete', `prefix ${k}`);
});

ResponseHeadSuite('G7: parsed and constructed heads are marked validated; a copy or a hand-made literal is not', () => {
  const parsed = head('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.ok(isValidatedHead(parsed));
  assert.ok(isValidatedHead(makeResponseHead(204, ['X-A', 'b'])));
  const copy = { ...parsed, headers: ['X-A', 'b\r\nSet-Cookie: evil'] };
  assert.not.ok(isValidatedHead(copy));
  assert.is(checkResponseHead(copy), 'CR, LF or NUL in X-A');
});

ResponseHeadSuite.run();

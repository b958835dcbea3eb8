// Tests of the test-side HTTP/1.x framing reader (test/helpers/http-bytes.ts), RFC 9112 §6.3 and §7.1.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteLog, parseRequestAt, parseResponseAt, parseResponses, scanChunked, splitHead } from '../../helpers/http-bytes.js';

const HttpBytes = suite('http-bytes');
const bytes = (text: string) => Buffer.from(text, 'latin1');

HttpBytes('ByteLog keeps earlier views valid while it grows', () => {
  const log = new ByteLog();
  log.append(bytes('abc'));
  const first = log.view(0, 3);
  log.append(Buffer.alloc(10_000, 0x78));
  assert.is(first.toString(), 'abc');
  assert.is(log.length, 10_003);
  assert.is(log.view(9_999).length, 4);
});

HttpBytes('splitHead keeps name case, trims OWS, joins obs-fold, skips lines without colon', () => {
  const { startLine, headers } = splitHead('HTTP/1.1 200 OK\r\nX-A:  one \r\n\tfolded\r\nnocolon\nX-B:two\r\n\r\n');
  assert.is(startLine, 'HTTP/1.1 200 OK');
  assert.equal(headers, [
    ['X-A', 'one folded'],
    ['X-B', 'two'],
  ]);
});

HttpBytes('Content-Length response: whole, and null while the body is short', () => {
  const wire = bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Y: z\r\n\r\nhelloNEXT');
  const parsed = parseResponseAt(wire, 0);
  assert.ok(parsed);
  assert.is(parsed.response.status, 200);
  assert.is(parsed.response.reason, 'OK');
  assert.is(parsed.response.version, 'HTTP/1.1');
  assert.is(parsed.response.body.toString(), 'hello');
  assert.is(parsed.response.header('x-y'), 'z');
  assert.is(parsed.end, wire.length - 4);
  assert.is(parsed.response.raw.toString(), wire.subarray(0, wire.length - 4).toString());
  assert.is(parseResponseAt(bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'), 0), null);
});

HttpBytes('truncated Content-Length body at close is returned incomplete', () => {
  const parsed = parseResponseAt(bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'), 0, { end: 'closed' });
  assert.ok(parsed);
  assert.is(parsed.response.complete, false);
  assert.is(parsed.response.body.toString(), 'hel');
});

HttpBytes('chunked body is decoded, extensions ignored, trailers kept, raw kept', () => {
  const wire = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: done\r\n\r\n');
  const parsed = parseResponseAt(wire, 0);
  assert.ok(parsed);
  assert.is(parsed.response.chunked, true);
  assert.is(parsed.response.body.toString(), 'hello!');
  assert.equal(parsed.response.trailers, [['X-T', 'done']]);
  assert.is(parsed.response.raw.length, wire.length);
  assert.is(parsed.end, wire.length);
});

HttpBytes('chunked body split anywhere needs more bytes until the last chunk', () => {
  const wire = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n');
  for (let cut = 0; cut < wire.length; cut++) assert.is(parseResponseAt(wire.subarray(0, cut), 0), null, `cut at ${cut}`);
  assert.is(parseResponseAt(wire, 0)?.response.body.toString(), '0123456789');
});

HttpBytes('scanChunked: bare LF accepted, bad size is malformed, partial keeps received data', () => {
  assert.is(scanChunked(bytes('3\nabc\n0\n\n'), 0).state, 'done');
  assert.is(scanChunked(bytes('zz\r\nabc\r\n'), 0).state, 'malformed');
  assert.is(scanChunked(bytes('3\r\nabcX0\r\n\r\n'), 0).state, 'malformed');
  const partial = scanChunked(bytes('3\r\nabc\r\n5\r\nde'), 0);
  assert.is(partial.state, 'partial');
  assert.is(partial.body.toString(), 'abcde');
});

HttpBytes('1xx, 204, 304 and HEAD responses have no body', () => {
  const wire = bytes(
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  );
  const { responses, end, stop } = parseResponses(wire, 0, { headRequests: [false, false, true] });
  assert.equal(
    responses.map((r) => [r.status, r.body.toString()]),
    [
      [100, ''],
      [204, ''],
      [304, ''],
      [200, ''],
      [200, 'ok'],
    ],
  );
  assert.is(end, wire.length);
  assert.is(stop, false);
});

HttpBytes('close-delimited body is complete only when the peer closed', () => {
  const wire = bytes('HTTP/1.0 200 OK\r\n\r\nuntil close');
  assert.is(parseResponseAt(wire, 0), null);
  assert.is(parseResponseAt(wire, 0, { end: 'closed' })?.response.complete, true);
  assert.is(parseResponseAt(wire, 0, { end: 'stopped' })?.response.complete, false);
  assert.is(parseResponseAt(wire, 0, { end: 'closed' })?.response.body.toString(), 'until close');
});

HttpBytes('a non-chunked Transfer-Encoding response runs until close (RFC 9112 §6.3(4))', () => {
  const wire = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef');
  assert.is(parseResponseAt(wire, 0), null);
  assert.is(parseResponseAt(wire, 0, { end: 'closed' })?.response.body.toString(), 'abcdef');
});

HttpBytes('reading stops after 101 and after a broken chunked body', () => {
  const upgraded = bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nHTTP/1.1 200 OK\r\n\r\n');
  const first = parseResponses(upgraded, 0);
  assert.is(first.responses.length, 1);
  assert.is(first.stop, true);
  const broken = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n');
  const second = parseResponses(broken, 0);
  assert.is(second.responses[0].complete, false);
  assert.is(second.stop, true);
});

HttpBytes('a status line that is not HTTP is not a response', () => {
  assert.is(parseResponseAt(bytes('SSH-2.0-x\r\n\r\n'), 0, { end: 'closed' }), null);
});

HttpBytes('parseRequestAt: Content-Length, chunked, none, and partial bodies', () => {
  const wire = bytes('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  const first = parseRequestAt(wire, 0);
  assert.ok(first);
  assert.is(first.request.method, 'POST');
  assert.is(first.request.target, '/a');
  assert.is(first.request.version, 'HTTP/1.1');
  assert.is(first.request.body.toString(), 'abc');
  assert.is(first.request.header('HOST'), 'x');
  const second = parseRequestAt(wire, first.end);
  assert.is(second?.request.target, '/b');
  assert.is(second?.request.complete, true);
  assert.is(second?.end, wire.length);

  const chunked = parseRequestAt(bytes('PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'), 0);
  assert.is(chunked?.request.body.toString(), 'hi');
  assert.is(chunked?.request.chunked, true);
  const partial = parseRequestAt(bytes('POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345'), 0);
  assert.is(partial?.request.complete, false);
  assert.is(partial?.request.body.toString(), '12345');
  assert.is(parseRequestAt(bytes('GET / HTTP/1.1\r\nHost: x\r\n'), 0), null);
});

HttpBytes.run();

// Tests for core/http1/chunked.ts: RFC 9112 §7.1 decoding, checklist rows A8-A12.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedDecoder, chunkHeader, isAllowedTrailer, LAST_CHUNK, lastChunkWithTrailers, type ChunkedDecoderOptions } from '../../../../core/http1/chunked.js';

const Chunked = suite('chunked');

interface Outcome {
  used: number;
  body: string;
  done: boolean;
  error: string | null;
  trailers: string[];
  pieces: Buffer[];
}

/** Feeds `input` (latin1) in one push, or in pieces of `step` bytes. */
function decode(input: string, step = 0, opts?: ChunkedDecoderOptions): Outcome {
  const d = new ChunkedDecoder(opts);
  const buf = Buffer.from(input, 'latin1');
  const pieces: Buffer[] = [];
  let used = 0;
  const parts = step > 0 ? Math.ceil(buf.length / step) : 1;
  for (let p = 0; p < parts && !d.done; p++) {
    const piece = step > 0 ? buf.subarray(p * step, (p + 1) * step) : buf;
    const n = d.push(piece, (c) => pieces.push(c));
    if (n < 0) return { used: -1, body: '', done: false, error: d.error!.code, trailers: [], pieces };
    used += n;
  }
  return {
    used,
    body: Buffer.concat(pieces).toString('latin1'),
    done: d.done,
    error: d.error?.code ?? null,
    trailers: d.trailers,
    pieces,
  };
}

function rejects(input: string, code = 'LT_ERR_CHUNK_INVALID', opts?: ChunkedDecoderOptions): void {
  for (const step of [0, 1]) {
    const r = decode(input, step, opts);
    assert.is(r.error, code, `${JSON.stringify(input)} step ${step}`);
    assert.is(r.used, -1);
  }
}

Chunked('decodes chunks and stops at the end of the body', () => {
  const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
  const r = decode(body + 'GET / HTTP/1.1\r\n');
  assert.is(r.body, 'hello world');
  assert.is(r.done, true);
  assert.is(r.used, body.length, 'the pipelined request is not consumed');
  assert.equal(r.trailers, []);
});

Chunked('hex sizes in either case, leading zeros', () => {
  const data = 'x'.repeat(0x1a);
  assert.is(decode(`1A\r\n${data}\r\n0\r\n\r\n`).body, data);
  assert.is(decode(`001a\r\n${data}\r\n000\r\n\r\n`).body, data);
});

Chunked('every split point, byte by byte, gives the same result', () => {
  const input = '3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: v\r\n\r\n';
  const whole = decode(input);
  for (const step of [1, 2, 3, 5, 7]) {
    const r = decode(input, step);
    assert.is(r.body, whole.body, `step ${step}`);
    assert.is(r.used, input.length);
    assert.equal(r.trailers, ['X-T', 'v']);
  }
});

Chunked('onData gets subarrays of the input (zero copy)', () => {
  const d = new ChunkedDecoder();
  const buf = Buffer.from('4\r\nabcd\r\n0\r\n\r\n');
  const seen: Buffer[] = [];
  d.push(buf, (c) => seen.push(c));
  assert.is(seen.length, 1);
  assert.is(seen[0]!.buffer, buf.buffer);
  assert.is(seen[0]!.byteOffset, buf.byteOffset + 3);
  assert.is(d.bytesDecoded, 4);
});

Chunked('push after done returns 0; after an error returns -1', () => {
  const d = new ChunkedDecoder();
  assert.is(d.push(Buffer.from('0\r\n\r\n'), () => {}), 5);
  assert.is(d.push(Buffer.from('x'), () => {}), 0);
  const e = new ChunkedDecoder();
  assert.is(e.push(Buffer.from('z\r\n'), () => {}), -1);
  assert.is(e.push(Buffer.from('0\r\n\r\n'), () => {}), -1);
  assert.is(e.error!.code, 'LT_ERR_CHUNK_INVALID');
});

Chunked('A8 bad chunk sizes → LT_ERR_CHUNK_INVALID', () => {
  for (const size of ['0x1', '+1', '-0', ' 1', '', '0_2e', '1 ', '1\t', 'g', '1g', '\u00a01']) {
    rejects(`${size}\r\na\r\n0\r\n\r\n`);
  }
});

Chunked('A8 more than 16 hex digits, or a value over 2^53 → error', () => {
  rejects('00000000000000001\r\na\r\n0\r\n\r\n');
  rejects('20000000000001\r\n');
  rejects('ffffffffffffffff\r\n');
  // 16 digits with a small value are fine.
  assert.is(decode('0000000000000001\r\na\r\n0\r\n\r\n').body, 'a');
  // 2^53 - 1 exactly is accepted (the body just never ends here).
  const d = new ChunkedDecoder();
  assert.is(d.push(Buffer.from('1fffffffffffff\r\nabc'), () => {}), 19);
  assert.is(d.bytesDecoded, 3);
});

Chunked('A9 chunk data longer than its size, or without CRLF → error', () => {
  rejects('3\r\nabcd\r\n0\r\n\r\n');
  rejects('3\r\nabc0\r\n\r\n');
  rejects('3\r\nabc\n0\r\n\r\n');
  rejects('3\r\nabc\r0\r\n\r\n');
});

Chunked('A10 bare LF or bare CR as the chunk-size line ending or inside an extension → error', () => {
  rejects('3\nabc\r\n0\r\n\r\n');
  rejects('3\rabc\r\n0\r\n\r\n');
  rejects('3;a\nb\r\nabc\r\n0\r\n\r\n');
  rejects('3;a\rb\r\nabc\r\n0\r\n\r\n');
  rejects('3;a\x00b\r\nabc\r\n0\r\n\r\n');
  rejects('0\n\r\n');
  rejects('0\r\n\n', 'LT_ERR_TRAILER_INVALID');
});

Chunked('A11 extensions are ignored; BWS before ; is allowed; the total is capped', () => {
  assert.is(decode('3;name=value;other="q s"\r\nabc\r\n0;last\r\n\r\n').body, 'abc');
  assert.is(decode('3 ;a\r\nabc\r\n0\t;b\r\n\r\n').body, 'abc');
  // The extension bytes after ';' count toward the cap.
  const long = 'x'.repeat(100);
  assert.is(decode(`3;${long}\r\nabc\r\n0\r\n\r\n`, 0, { maxChunkExtBytes: 100 }).body, 'abc');
  rejects(`3;${long}x\r\nabc\r\n0\r\n\r\n`, 'LT_ERR_CHUNK_INVALID', { maxChunkExtBytes: 100 });
  rejects(`3;${'x'.repeat(5000)}\r\n`);
});

Chunked('A12 trailers: valid fields kept, forbidden names dropped', () => {
  const r = decode('0\r\nX-Checksum: abc \r\nContent-Length: 5\r\nHost: evil\r\nTransfer-Encoding: chunked\r\n' +
    'Proxy-Authorization: x\r\nTE: trailers\r\nContent-Type: a/b\r\nSet-Cookie: s=1\r\nX-Other:v\r\n\r\n');
  assert.is(r.done, true);
  assert.equal(r.trailers, ['X-Checksum', 'abc', 'X-Other', 'v']);
});

Chunked('A12 malformed trailer lines → LT_ERR_TRAILER_INVALID', () => {
  for (const line of ['no colon', ' X: folded', 'X : a', 'X: a\x00b', ': v', 'X\x01: v']) {
    rejects(`0\r\n${line}\r\n\r\n`, 'LT_ERR_TRAILER_INVALID');
  }
  rejects('0\r\nX: a\nY: b\r\n\r\n', 'LT_ERR_TRAILER_INVALID');
  rejects('0\r\nX: a\rY: b\r\n\r\n', 'LT_ERR_TRAILER_INVALID');
});

Chunked('A12 the trailer section size and count are capped', () => {
  rejects(`0\r\nX: ${'v'.repeat(100)}\r\n\r\n`, 'LT_ERR_TRAILER_INVALID', { maxTrailerBytes: 50 });
  rejects('0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'LT_ERR_TRAILER_INVALID', { maxTrailerCount: 2 });
  assert.equal(decode('0\r\nA: 1\r\nB: 2\r\n\r\n', 0, { maxTrailerCount: 2 }).trailers, ['A', '1', 'B', '2']);
});

Chunked('a body cut short is simply not done (the caller decides, A13/D6)', () => {
  const r = decode('5\r\nhel');
  assert.is(r.done, false);
  assert.is(r.error, null);
  assert.is(r.body, 'hel');
  assert.is(decode('5\r\nhello\r\n0\r\n').done, false);
});

Chunked('chunkHeader and LAST_CHUNK', () => {
  assert.is(chunkHeader(1), '1\r\n');
  assert.is(chunkHeader(255), 'ff\r\n');
  assert.is(chunkHeader(65536), '10000\r\n');
  assert.is(LAST_CHUNK, '0\r\n\r\n');
  const encoded = chunkHeader(5) + 'hello\r\n' + LAST_CHUNK;
  assert.is(decode(encoded).body, 'hello');
});

Chunked('lastChunkWithTrailers: valid fields in order; forbidden, split-prone or non-latin1 ones dropped', () => {
  assert.is(lastChunkWithTrailers([]), LAST_CHUNK);
  assert.is(lastChunkWithTrailers(['X-Checksum', 'abc', 'Server-Timing', 'db;dur=5']), '0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=5\r\n\r\n');
  const out = lastChunkWithTrailers([
    'Content-Length', '5', 'transfer-encoding', 'chunked', 'Host', 'h', 'Connection', 'close', 'Trailer', 'X',
    'Proxy-Foo', '1', 'X-Split', 'a\r\nX-Injected: 1', 'X-Lf', 'a\nb', 'X-Nul', 'a\0b', 'Bad:Name', 'v', '', 'v',
    'X-Wide', '\u20ac', 'X-Ok', 'yes',
  ]);
  assert.is(out, '0\r\nX-Ok: yes\r\n\r\n');
  // What the encoder writes, the decoder reads back the same.
  const back = decode(chunkHeader(2) + 'hi\r\n' + lastChunkWithTrailers(['X-A', '1', 'x-b', 'two words']));
  assert.equal(back.trailers, ['X-A', '1', 'x-b', 'two words']);
});

Chunked('isAllowedTrailer follows RFC 9110 §6.5.1 (framing, routing, hop-by-hop: no)', () => {
  for (const n of ['content-length', 'transfer-encoding', 'host', 'connection', 'te', 'trailer', 'proxy-authorization', 'set-cookie']) {
    assert.not.ok(isAllowedTrailer(n), n);
  }
  for (const n of ['x-checksum', 'server-timing', 'etag']) assert.ok(isAllowedTrailer(n), n);
});

Chunked.run();

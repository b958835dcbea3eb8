// Unit tests of the FastCGI record codec (plugins/proxy-backend-fastcgi/record.ts): header bytes,
// padding, content split at 65 535 bytes, and the incremental decoder fed bytes split anywhere (G8).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FCGI_END_REQUEST, FCGI_KEEP_CONN, FCGI_OVERLOADED, FCGI_PARAMS, FCGI_RESPONDER, FCGI_STDERR, FCGI_STDIN, FCGI_STDOUT,
  RecordDecoder, encodeBeginRequest, encodeEndRequest, encodeRecord, encodeStream, frameStream, type FcgiRecord,
} from '../../../../plugins/proxy-backend-fastcgi/record.js';

const T = suite('proxy-backend-fastcgi/record');

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const simple = (records: FcgiRecord[]) => records.map((r) => [r.type, r.requestId, r.content.toString('latin1')]);

T('a record is the 8-byte header, the content and zero padding to a multiple of 8', () => {
  assert.equal(encodeRecord(FCGI_STDOUT, 1, Buffer.from('hello')), hex('01 06 0001 0005 03 00  68656c6c6f 000000'));
  // Already aligned: no padding.
  assert.equal(encodeRecord(FCGI_STDIN, 1, Buffer.from('12345678')), hex('01 05 0001 0008 00 00  3132333435363738'));
  // The request id and the length are big-endian.
  assert.equal(encodeRecord(FCGI_STDERR, 0x0102, Buffer.alloc(0x0103, 0x61)).subarray(0, 8), hex('01 07 0102 0103 05 00'));
});

T('an empty record (a stream terminator) is the header alone', () => {
  assert.equal(encodeRecord(FCGI_STDIN, 1), hex('01 05 0001 0000 00 00'));
  assert.equal(encodeRecord(FCGI_PARAMS, 1, Buffer.alloc(0)), hex('01 04 0001 0000 00 00'));
});

T('content over 65 535 bytes is split into several records, none over 65 535', () => {
  const data = Buffer.alloc(70000);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  const out = encodeRecord(FCGI_STDOUT, 1, data);
  // 65 535 + 1 padding, then 4 465 + 7 padding.
  assert.is(out.length, 8 + 65535 + 1 + 8 + 4465 + 7);
  assert.equal(out.subarray(0, 8), hex('01 06 0001 ffff 01 00'));
  assert.equal(out.subarray(65544, 65552), hex('01 06 0001 1171 07 00'));
  const records = new RecordDecoder().push(out);
  assert.equal(records.map((r) => r.content.length), [65535, 4465]);
  assert.equal(Buffer.concat(records.map((r) => r.content)), data);
  assert.is(encodeRecord(FCGI_STDOUT, 1, Buffer.alloc(65535)).length, 8 + 65535 + 1);
  assert.is(new RecordDecoder().push(encodeRecord(FCGI_STDOUT, 1, Buffer.alloc(65536))).length, 2);
});

T('encodeStream gives nothing for empty data (an empty record would end the stream)', () => {
  assert.is(encodeStream(FCGI_STDIN, 1, Buffer.alloc(0)).length, 0);
  assert.equal(frameStream(FCGI_STDIN, 1, Buffer.alloc(0)), []);
  assert.equal(encodeStream(FCGI_STDIN, 1, Buffer.from('ab')), hex('01 05 0001 0002 06 00 6162 000000000000'));
});

T('frameStream does not copy the data: its pieces are views of it', () => {
  const data = Buffer.alloc(70000, 0x78);
  const pieces = frameStream(FCGI_STDIN, 1, data);
  assert.is(pieces.length, 6); // header, content, padding (1) twice
  assert.is(pieces[1]!.buffer, data.buffer);
  assert.is(pieces[4]!.buffer, data.buffer);
  assert.equal(Buffer.concat(pieces), encodeRecord(FCGI_STDIN, 1, data));
  const small = Buffer.from('12345678');
  assert.is(frameStream(FCGI_STDIN, 1, small)[1], small);
});

T('BEGIN_REQUEST and END_REQUEST bodies (§5.1, §5.5)', () => {
  assert.equal(encodeBeginRequest(1, FCGI_RESPONDER, FCGI_KEEP_CONN), hex('01 01 0001 0008 00 00  0001 01 0000000000'));
  assert.equal(encodeEndRequest(1, 0x01020304, FCGI_OVERLOADED), hex('01 03 0001 0008 00 00  01020304 02 000000'));
});

/** Several records with odd paddings, including padding on an empty record and 255 padding bytes. */
const stream = Buffer.concat([
  hex('01 06 0001 0003 05 00 616263 0000000000'),
  hex('01 07 0001 0000 02 00 0000'),
  hex('01 06 0001 0002 ff 00 6465'), Buffer.alloc(255),
  encodeRecord(FCGI_STDOUT, 1, Buffer.from('fghij')),
  encodeEndRequest(1, 0, 0),
]);
const expected = [[6, 1, 'abc'], [7, 1, ''], [6, 1, 'de'], [6, 1, 'fghij'], [3, 1, '\0\0\0\0\0\0\0\0']];

T('the decoder reads records whole, skipping any padding', () => {
  const d = new RecordDecoder();
  assert.equal(simple(d.push(stream)), expected);
  assert.is(d.pendingBytes, 0);
  assert.is(d.error, null);
});

T('the decoder takes bytes split at every boundary (header, content, padding)', () => {
  for (let i = 1; i < stream.length; i++) {
    const d = new RecordDecoder();
    const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
    assert.equal(simple(got), expected, `split at ${i}`);
  }
});

T('the decoder takes bytes one at a time, and in three pieces at every pair of boundaries', () => {
  const d = new RecordDecoder();
  const got: FcgiRecord[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
  assert.equal(simple(got), expected);
  const short = stream.subarray(0, 64);
  const shortExpected = simple(new RecordDecoder().push(short));
  for (let i = 1; i < short.length; i++) {
    for (let j = i; j < short.length; j++) {
      const e = new RecordDecoder();
      const r = [...e.push(short.subarray(0, i)), ...e.push(short.subarray(i, j)), ...e.push(short.subarray(j))];
      assert.equal(simple(r), shortExpected, `split at ${i}, ${j}`);
    }
  }
});

T('pendingBytes counts an unfinished record', () => {
  const d = new RecordDecoder();
  assert.equal(d.push(hex('01 06 00')), []);
  assert.is(d.pendingBytes, 3);
  assert.equal(d.push(hex('01 0002 06 00 6162')), []);
  assert.is(d.pendingBytes, 10);
  assert.equal(simple(d.push(Buffer.alloc(6))), [[6, 1, 'ab']]);
  assert.is(d.pendingBytes, 0);
});

T('a version other than 1 is an error, from its first byte; records before it are kept', () => {
  const d = new RecordDecoder();
  const got = d.push(Buffer.concat([encodeRecord(FCGI_STDOUT, 1, Buffer.from('ok')), Buffer.from('HTTP/1.1 200 OK\r\n')]));
  assert.equal(simple(got), [[6, 1, 'ok']]);
  assert.match(d.error!, 'version 72');
  assert.equal(d.push(encodeRecord(FCGI_STDOUT, 1, Buffer.from('more'))), []);
  const e = new RecordDecoder();
  assert.equal(e.push(hex('02')), []);
  assert.match(e.error!, 'version 2');
});

T('the request id and type of every record are reported (management records too)', () => {
  const d = new RecordDecoder();
  const got = d.push(Buffer.concat([encodeRecord(11, 0, Buffer.alloc(8)), encodeRecord(FCGI_END_REQUEST, 7, Buffer.alloc(8))]));
  assert.equal(got.map((r) => [r.type, r.requestId]), [[11, 0], [3, 7]]);
});

T.run();

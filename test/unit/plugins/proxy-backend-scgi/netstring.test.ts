// Unit tests of the SCGI netstring head (plugins/proxy-backend-scgi/netstring.ts): exact bytes,
// CONTENT_LENGTH first, SCGI=1, no duplicate names (checklist G9), and the decoder.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeScgiHead, encodeScgiHead } from '../../../../plugins/proxy-backend-scgi/netstring.js';

const T = suite('proxy-backend-scgi/netstring');

const bytes = (s: string) => Buffer.from(s, 'latin1');

T('small env: exact bytes, CONTENT_LENGTH first, then SCGI=1, then the rest in order', () => {
  const head = encodeScgiHead([['CONTENT_LENGTH', '27'], ['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/deepthought']]);
  const payload = 'CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00REQUEST_URI\x00/deepthought\x00';
  assert.is(payload.length, 70);
  assert.equal(head, bytes(`70:${payload},`));
});

T('the spec example: CONTENT_LENGTH 27 ... gives the same netstring layout', () => {
  // SCGI spec §3: "70:CONTENT_LENGTH<00>27<00>SCGI<00>1<00>REQUEST_METHOD<00>POST<00>REQUEST_URI<00>/deepthought<00>,"
  const head = encodeScgiHead([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '27'], ['REQUEST_URI', '/deepthought']]);
  assert.is(head.toString('latin1'), '70:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00REQUEST_URI\x00/deepthought\x00,');
});

T('a second CONTENT_LENGTH / SCGI / any repeated name is skipped (first wins)', () => {
  const head = encodeScgiHead([['CONTENT_LENGTH', '0'], ['SCGI', '2'], ['A', '1'], ['CONTENT_LENGTH', '9'], ['A', '2']]);
  assert.is(head.toString('latin1'), '28:CONTENT_LENGTH\x000\x00SCGI\x001\x00A\x001\x00,');
});

T('no CONTENT_LENGTH in env: "0" is sent; latin1 values go up byte for byte', () => {
  const head = encodeScgiHead([['X', 'caf\xe9']]);
  assert.equal(head, Buffer.concat([bytes('31:CONTENT_LENGTH\x000\x00SCGI\x001\x00X\x00caf'), Buffer.from([0xe9, 0, 0x2c])]));
});

T('a NUL in a value is refused (it would split the pairs)', () => {
  assert.throws(() => encodeScgiHead([['CONTENT_LENGTH', '0'], ['X', 'a\x00b']]), /scgi: NUL byte/);
});

T('decoder: round trip, consumed, incomplete at every cut', () => {
  const env: Array<[string, string]> = [['CONTENT_LENGTH', '3'], ['SCGI', '1'], ['QUERY_STRING', ''], ['HTTP_HOST', 'h']];
  const head = encodeScgiHead(env);
  const withBody = Buffer.concat([head, bytes('abc')]);
  const d = decodeScgiHead(withBody)!;
  assert.equal(d.env, env);
  assert.is(d.consumed, head.length);
  for (let i = 0; i < head.length; i++) assert.is(decodeScgiHead(head.subarray(0, i)), null, `cut at ${i}`);
  assert.equal(decodeScgiHead(bytes('0:,')), { env: [], consumed: 3 });
});

T('decoder: malformed netstrings throw', () => {
  assert.throws(() => decodeScgiHead(bytes('x:')), /length/);
  assert.throws(() => decodeScgiHead(bytes(':,')), /without a length/);
  assert.throws(() => decodeScgiHead(bytes('01:a')), /length/);
  assert.throws(() => decodeScgiHead(bytes('2:a\x00;')), /not followed by ','/);
  assert.throws(() => decodeScgiHead(bytes('2:a\x00,')), /complete name\/value pair/);
  assert.throws(() => decodeScgiHead(bytes('3:a\x00b,')), /complete name\/value pair/);
  assert.throws(() => decodeScgiHead(bytes('8:a\x001\x00a\x002\x00,')), /given twice/);
  assert.throws(() => decodeScgiHead(bytes('3:\x00b\x00,')), /empty header name/);
});

T.run();

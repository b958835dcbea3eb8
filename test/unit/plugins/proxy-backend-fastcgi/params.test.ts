// Unit tests of FastCGI name-value pairs (plugins/proxy-backend-fastcgi/params.ts, §3.4): 1-byte
// lengths below 128, 4-byte lengths with the high bit above, latin1 byte strings.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeParams, encodeParams } from '../../../../plugins/proxy-backend-fastcgi/params.js';

const T = suite('proxy-backend-fastcgi/params');

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

T('short names and values have one-byte lengths', () => {
  assert.equal(encodeParams([['A', 'bc'], ['EMPTY', '']]), hex('01 02 41 6263  05 00 454d505459'));
  assert.equal(encodeParams([]), Buffer.alloc(0));
});

T('127 bytes is one length byte; 128 and more are four bytes with the high bit set', () => {
  const v127 = 'v'.repeat(127);
  const a = encodeParams([['N', v127]]);
  assert.equal(a.subarray(0, 3), hex('01 7f 4e'));
  assert.is(a.length, 2 + 1 + 127);
  const b = encodeParams([['N', 'v'.repeat(128)]]);
  assert.equal(b.subarray(0, 6), hex('01 80000080 4e'));
  const longName = 'H'.repeat(300);
  const c = encodeParams([[longName, 'x'.repeat(70000)]]);
  assert.equal(c.subarray(0, 8), hex('8000012c 80011170'));
  assert.is(c.length, 8 + 300 + 70000);
});

T('values are byte strings: latin1 out, latin1 back, never re-encoded', () => {
  // "é" as the two UTF-8 bytes the client sent, held as a latin1 string by the core.
  const raw = Buffer.from('/caf\u00e9', 'utf8').toString('latin1');
  const out = encodeParams([['REQUEST_URI', raw], ['X', '\u00ff']]);
  assert.equal(out.subarray(2 + 11), hex('2f636166c3a9 01 01 58 ff'));
  assert.equal(decodeParams(out), [['REQUEST_URI', raw], ['X', '\u00ff']]);
});

T('decode reads back what encode wrote, in order, duplicates kept', () => {
  const pairs: Array<[string, string]> = [
    ['CONTENT_LENGTH', '0'], ['HTTP_X', 'a'], ['HTTP_X', 'b'], ['K'.repeat(200), ''], ['', 'v'.repeat(65536)],
  ];
  assert.equal(decodeParams(encodeParams(pairs)), pairs);
});

T('a pair cut short is an error', () => {
  const out = encodeParams([['NAME', 'value'.repeat(40)]]);
  for (const n of [1, 3, 6, out.length - 1]) {
    assert.throws(() => decodeParams(out.subarray(0, n)), /cut short/, `cut at ${n}`);
  }
});

T.run();

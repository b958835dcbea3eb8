// Tests for core/http1/field-lines.ts: field-line scanning, Content-Length and Transfer-Encoding
// values (RFC 9110 §5.5, §8.6; RFC 9112 §5, §6.1).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FIELD_BAD_NAME, FIELD_BAD_VALUE, FIELD_BARE_LF, FIELD_FOLD, FIELD_OK, FIELD_PARTIAL, FIELD_SPACE_BEFORE_COLON, TE_CHUNKED,
  TE_INVALID, TE_NOT_IMPLEMENTED, classifyTransferCoding, fieldScan, hasField, parseContentLength, pushListTokensLower, scanFieldLine,
} from '../../../../core/http1/field-lines.js';

const FieldLines = suite('field-lines');

function scan(line: string, lfEnds = false): number {
  return scanFieldLine(Buffer.from(line, 'latin1'), 0, lfEnds);
}

FieldLines('scanFieldLine finds name, trimmed value and the next line', () => {
  const buf = Buffer.from('Name: \t v a l \t\r\nNext', 'latin1');
  assert.is(scanFieldLine(buf, 0, false), FIELD_OK);
  assert.is(fieldScan.nameEnd, 4);
  assert.is(buf.toString('latin1', fieldScan.valueStart, fieldScan.valueEnd), 'v a l');
  assert.is(fieldScan.next, 17);
  assert.is(scan('Empty:\r\n'), FIELD_OK);
  assert.is(fieldScan.valueStart, fieldScan.valueEnd);
});

FieldLines('scanFieldLine failures', () => {
  assert.is(scan(' X: a\r\n'), FIELD_FOLD);
  assert.is(scan('\tX: a\r\n'), FIELD_FOLD);
  assert.is(scan(': a\r\n'), FIELD_BAD_NAME);
  assert.is(scan('X a\r\n'), FIELD_SPACE_BEFORE_COLON);
  assert.is(scan('X\t: a\r\n'), FIELD_SPACE_BEFORE_COLON);
  assert.is(scan('X\x00: a\r\n'), FIELD_BAD_NAME);
  assert.is(scan('X: a\x00\r\n'), FIELD_BAD_VALUE);
  assert.is(scan('X: a\rb\r\n'), FIELD_BAD_VALUE);
  assert.is(scan('X: a\x7f\r\n'), FIELD_BAD_VALUE);
  assert.is(scan('X: a\n'), FIELD_BARE_LF);
  assert.is(scan('X: a\n', true), FIELD_OK);
  assert.is(fieldScan.next, 5);
});

FieldLines('scanFieldLine reports a line cut short as partial, wherever the cut is', () => {
  const line = 'X-Name:  value\r\n';
  for (let k = 0; k < line.length - 1; k++) assert.is(scan(line.slice(0, k)), FIELD_PARTIAL, `cut at ${k}`);
  assert.is(scan(line.slice(0, line.length - 1)), FIELD_PARTIAL);
  assert.is(scan(line), FIELD_OK);
});

FieldLines('parseContentLength', () => {
  assert.is(parseContentLength('0'), 0);
  assert.is(parseContentLength('123'), 123);
  assert.is(parseContentLength('999999999999999'), 999999999999999);
  assert.is(parseContentLength('1000000000000000'), -1);
  assert.is(parseContentLength('5, 5 ,5'), 5);
  assert.is(parseContentLength('5, 6'), -2);
  for (const bad of ['', '+1', '-1', '1e3', '0x1', '1_0', '1 0', ',', '5,', ',5', '5,,5', '5 5']) {
    assert.is(parseContentLength(bad), -1, JSON.stringify(bad));
  }
});

FieldLines('classifyTransferCoding', () => {
  assert.is(classifyTransferCoding('chunked'), TE_CHUNKED);
  assert.is(classifyTransferCoding('CHUNKED'), TE_CHUNKED);
  assert.is(classifyTransferCoding(' chunked\t'), TE_CHUNKED);
  assert.is(classifyTransferCoding('gzip, chunked'), TE_NOT_IMPLEMENTED);
  assert.is(classifyTransferCoding('identity,chunked'), TE_NOT_IMPLEMENTED);
  for (const bad of ['', 'gzip', 'chunked, gzip', 'chunked,chunked', 'chunked,', ',chunked', 'foo, chunked', 'chunked;x=1', 'x chunked']) {
    assert.is(classifyTransferCoding(bad), TE_INVALID, JSON.stringify(bad));
  }
});

FieldLines('pushListTokensLower trims OWS only and skips empty elements', () => {
  const out: string[] = [];
  pushListTokensLower('Keep-Alive', out);
  pushListTokensLower(' Upgrade , ,X-A\t', out);
  pushListTokensLower('close\xa0', out);
  assert.equal(out, ['keep-alive', 'upgrade', 'x-a', 'close\xa0']);
});

FieldLines('hasField: a name in any case, by length first (no other field of five letters)', () => {
  assert.ok(hasField(['Host', 'a', 'RANGE', 'bytes=0-1'], 'range'));
  assert.ok(hasField(['range', ''], 'range'));
  assert.not.ok(hasField(['Host', 'a', 'Rangx', 'bytes=0-1', 'If-Range', '"x"'], 'range'));
  assert.not.ok(hasField([], 'range'));
});

FieldLines.run();

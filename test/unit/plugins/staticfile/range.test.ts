// Unit tests of plugins/staticfile/range.ts: Range parsing (RFC 9110 §14.1-14.2) and multipart/byteranges layout (§14.6).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decideRange, multipartBody, MAX_RANGES, type ByteRange } from '../../../../plugins/staticfile/range.js';

const T = suite('staticfile/range');

const ranges = (v: string, size: number) => {
  const d = decideRange(v, size);
  return d.kind === 'ranges' ? d.ranges : d.kind;
};

T('single int-range, open range and suffix-range', () => {
  assert.equal(ranges('bytes=0-99', 1000), [{ start: 0, end: 99 }]);
  assert.equal(ranges('bytes=100-', 1000), [{ start: 100, end: 999 }]);
  assert.equal(ranges('bytes=-500', 1000), [{ start: 500, end: 999 }]);
  assert.equal(ranges('bytes=-5000', 1000), [{ start: 0, end: 999 }]);
  assert.equal(ranges('bytes=990-2000', 1000), [{ start: 990, end: 999 }]);
  assert.equal(ranges('Bytes = 1-2', 10), [{ start: 1, end: 2 }]);
  assert.equal(ranges('bytes=5-99999999999999999999', 10), [{ start: 5, end: 9 }]);
});

T('unsatisfiable → 416', () => {
  assert.is(ranges('bytes=1000-', 1000), 'unsatisfiable');
  assert.is(ranges('bytes=-0', 1000), 'unsatisfiable');
  assert.is(ranges('bytes=2000-3000, 5000-', 1000), 'unsatisfiable');
  assert.is(ranges('bytes=99999999999999999999-', 1000), 'unsatisfiable');
});

T('unsatisfiable members are dropped when others are satisfiable', () => {
  assert.equal(ranges('bytes=2000-3000, 0-0', 1000), [{ start: 0, end: 0 }]);
});

T('syntactically invalid or foreign units → ignored (200 full)', () => {
  for (const v of ['bytes', 'bytes=', 'bytes=a-b', 'bytes=5-1', 'bytes=1', 'bytes=--1', 'items=0-1', 'bytes=0-1,x', 'bytes=+1-2', 'bytes=0x1-2']) {
    assert.is(ranges(v, 1000), 'ignore', v);
  }
});

T('more than MAX_RANGES ranges → ignored; empty file → ignored', () => {
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
  assert.is(ranges(`bytes=${many}`, 10000), 'ignore');
  assert.is(ranges('bytes=0-0', 0), 'ignore');
});

T('disjoint ranges keep the client order; overlapping ones are coalesced ascending', () => {
  assert.equal(ranges('bytes=50-59, 0-9', 100), [{ start: 50, end: 59 }, { start: 0, end: 9 }]);
  assert.equal(ranges('bytes=50-59, 0-9, 55-70, 10-12', 100), [{ start: 0, end: 12 }, { start: 50, end: 70 }]);
  assert.equal(ranges('bytes=0-10, 0-10, 0-10', 100), [{ start: 0, end: 10 }]);
});

T('property: every returned range lies inside the file, and coalesced ranges never overlap', () => {
  const spec = fc.oneof(
    fc.tuple(fc.nat(300), fc.option(fc.nat(300))).map(([a, b]) => `${a}-${b === null ? '' : a + b}`),
    fc.nat(300).map((n) => `-${n}`),
  );
  fc.assert(fc.property(fc.array(spec, { minLength: 1, maxLength: MAX_RANGES }), fc.nat(400), (specs, size) => {
    const d = decideRange(`bytes=${specs.join(', ')}`, size);
    if (d.kind !== 'ranges') return true;
    const sorted = [...d.ranges].sort((a, b) => a.start - b.start);
    for (const r of d.ranges) if (r.start < 0 || r.end >= size || r.end < r.start) return false;
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.end) return false;
    return true;
  }));
});

T('multipart body: exact length, part heads, closing delimiter', () => {
  const rs: ByteRange[] = [{ start: 0, end: 1 }, { start: 5, end: 7 }];
  const body = multipartBody(rs, 10, 'text/plain', 'BOUND');
  assert.is(body.contentType, 'multipart/byteranges; boundary=BOUND');
  const file = Buffer.from('0123456789');
  const bytes = Buffer.concat(body.pieces.map((p) => (Buffer.isBuffer(p) ? p : file.subarray(p.start, p.end + 1))));
  assert.is(bytes.length, body.length);
  assert.is(bytes.toString(),
    '\r\n--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01' +
    '\r\n--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n567' +
    '\r\n--BOUND--\r\n');
});

T.run();

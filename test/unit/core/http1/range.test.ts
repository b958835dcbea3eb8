// Unit tests of core/http1/range.ts: Range parsing as lighttpd 1.4 does it (RFC 9110 §14.1-14.2),
// multipart/byteranges layout (§14.6), If-Range (§13.1.5) and ranges of a body held in memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  COALESCE_GAP_BYTES, decideRange, ifRangeMatches, multipartBody, MAX_RANGES, rangesOfBody, type ByteRange,
} from '../../../../core/http1/range.js';

const T = suite('http1/range');

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
  assert.equal(ranges('Bytes= 1 - 2 ', 10), [{ start: 1, end: 2 }]);
  assert.equal(ranges('bytes=5-99999999999999999999', 10), [{ start: 5, end: 9 }]);
});

T('no valid, satisfiable range-spec → 416, garbage included (lighttpd)', () => {
  for (const v of ['bytes=1000-', 'bytes=-0', 'bytes=2000-3000, 5000-', 'bytes=99999999999999999999-', 'bytes=', 'bytes=a-b', 'bytes=5-1', 'bytes=1', 'bytes=--1', 'bytes=+1-2', 'bytes=0x1-2']) {
    assert.is(ranges(v, 1000), 'unsatisfiable', v);
  }
});

T('invalid and unsatisfiable members are skipped when others are valid', () => {
  assert.equal(ranges('bytes=2000-3000, 0-0', 1000), [{ start: 0, end: 0 }]);
  assert.equal(ranges('bytes=x, 0-4, 9-3', 1000), [{ start: 0, end: 4 }]);
  assert.equal(ranges('bytes=0-4,', 1000), [{ start: 0, end: 4 }]);
});

T('another unit, no "bytes=" or an empty file → ignored (200 full)', () => {
  for (const v of ['items=0-1', 'bytes', '0-4', 'bytes =0-4']) assert.is(ranges(v, 1000), 'ignore', v);
  assert.is(ranges('bytes=0-0', 0), 'ignore');
});

T('after MAX_RANGES valid ranges the rest are ignored', () => {
  const specs = Array.from({ length: MAX_RANGES + 3 }, (_, i) => `${i * 1000}-${i * 1000 + 1}`);
  const got = ranges(`bytes=${specs.join(',')}`, 100_000);
  assert.ok(Array.isArray(got));
  assert.is((got as ByteRange[]).length, MAX_RANGES);
  assert.equal((got as ByteRange[])[MAX_RANGES - 1], { start: (MAX_RANGES - 1) * 1000, end: (MAX_RANGES - 1) * 1000 + 1 });
});

T('ranges apart by more than COALESCE_GAP_BYTES keep the client order; closer or overlapping ones merge', () => {
  assert.equal(ranges('bytes=500-509, 0-9', 1000), [{ start: 500, end: 509 }, { start: 0, end: 9 }]);
  assert.equal(ranges('bytes=0-2,5-7', 1000), [{ start: 0, end: 7 }]);
  // 9 + gap is within reach of 0-9, 10 + gap is not.
  assert.equal(ranges(`bytes=0-9,${9 + COALESCE_GAP_BYTES}-${20 + COALESCE_GAP_BYTES}`, 1000), [{ start: 0, end: 20 + COALESCE_GAP_BYTES }]);
  assert.is((ranges(`bytes=0-9,${10 + COALESCE_GAP_BYTES}-${20 + COALESCE_GAP_BYTES}`, 1000) as ByteRange[]).length, 2);
  assert.equal(ranges('bytes=500-599, 0-9, 550-700, 10-12', 1000), [{ start: 500, end: 700 }, { start: 0, end: 12 }]);
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
    '--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01' +
    '\r\n--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n567' +
    '\r\n--BOUND--\r\n');
});

T('multipart body without a Content-Type: parts carry Content-Range only (lighttpd)', () => {
  const body = multipartBody([{ start: 0, end: 0 }, { start: 200, end: 200 }], 300, undefined, 'B');
  assert.is(Buffer.isBuffer(body.pieces[0]) && body.pieces[0].toString(), '--B\r\nContent-Range: bytes 0-0/300\r\n\r\n');
});

T('in-memory body: one range is a slice of the body with its Content-Range', () => {
  const body = Buffer.from('ABCDEFGHIJ');
  const d = decideRange('bytes=2-4', body.length);
  assert.is(d.kind, 'ranges');
  const r = rangesOfBody(body, (d as { ranges: ByteRange[] }).ranges, 'text/plain', 'X');
  assert.is(r.body.toString(), 'CDE');
  assert.is(r.contentRange, 'bytes 2-4/10');
  assert.is(r.contentType, null);
  const suffix = rangesOfBody(body, [{ start: 7, end: 9 }], undefined, 'X');
  assert.is(suffix.body.toString(), 'HIJ');
});

T('in-memory body: several ranges become one multipart/byteranges buffer of the announced length', () => {
  const body = Buffer.from('x'.repeat(100) + 'ABC' + 'y'.repeat(100) + 'DEF');
  const rs: ByteRange[] = [{ start: 203, end: 205 }, { start: 100, end: 102 }];
  const r = rangesOfBody(body, rs, 'text/html', 'BOUND');
  assert.is(r.contentType, 'multipart/byteranges; boundary=BOUND');
  assert.is(r.contentRange, null);
  assert.is(r.body.length, multipartBody(rs, body.length, 'text/html', 'BOUND').length);
  assert.is(r.body.toString(),
    '--BOUND\r\nContent-Type: text/html\r\nContent-Range: bytes 203-205/206\r\n\r\nDEF' +
    '\r\n--BOUND\r\nContent-Type: text/html\r\nContent-Range: bytes 100-102/206\r\n\r\nABC' +
    '\r\n--BOUND--\r\n');
});

T('property: a single range of an in-memory body is the bytes the range names', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(250), fc.nat(250), (bytes, a, b) => {
    const body = Buffer.from(bytes);
    const d = decideRange(`bytes=${a}-${a + b}`, body.length);
    if (d.kind !== 'ranges') return a >= body.length;
    const r = rangesOfBody(body, d.ranges, undefined, 'B');
    return r.body.equals(body.subarray(a, Math.min(a + b, body.length - 1) + 1)) && r.contentRange === `bytes ${a}-${Math.min(a + b, body.length - 1)}/${body.length}`;
  }));
});

T('If-Range: a quoted value must be the ETag, anything else the Last-Modified, byte for byte', () => {
  const lm = 'Tue, 05 Mar 2024 06:07:08 GMT';
  assert.ok(ifRangeMatches('"abc"', '"abc"', lm));
  assert.not.ok(ifRangeMatches('"abc"', '"abd"', lm));
  assert.not.ok(ifRangeMatches('"abc"', undefined, lm), 'no ETag: a tag never matches');
  assert.not.ok(ifRangeMatches('W/"abc"', 'W/"abc"', lm), 'a weak tag is compared with the date');
  assert.ok(ifRangeMatches(lm, '"abc"', lm));
  assert.not.ok(ifRangeMatches('Tue, 05 Mar 2024 06:07:09 GMT', '"abc"', lm));
  assert.not.ok(ifRangeMatches(lm, '"abc"', null), 'no Last-Modified: a date never matches');
});

T.run();

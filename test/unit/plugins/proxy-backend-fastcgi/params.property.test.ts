// Property tests for FastCGI name-value pairs (plugins/proxy-backend-fastcgi/params.ts, §3.4):
// any latin1 pairs round-trip with one-byte lengths below 128 and four-byte lengths (high bit
// set) from 128 on, cut into PARAMS records anywhere and read back through the record decoder at
// any chunking; a stream cut short throws a RangeError, garbage never throws anything else.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeParams, encodeParams, paramsText } from '../../../../plugins/proxy-backend-fastcgi/params.js';
import type { EnvRun } from '../../../../plugins/proxy-core/types.js';
import {
  FCGI_GET_VALUES, FCGI_NULL_REQUEST_ID, FCGI_PARAMS, FCGI_STDIN, RecordDecoder, encodeRecord, frameStream,
} from '../../../../plugins/proxy-backend-fastcgi/record.js';

const ParamsProperty = suite('proxy-backend-fastcgi/params.property');

/** Any byte as one latin1 character (names and values are byte strings, never re-encoded). */
const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
/** Lengths around the 127/128 switch, small ones, and now and then one beyond 64 KiB. */
const length = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 126, 127, 128, 129, 255, 256), weight: 4 },
  { arbitrary: fc.nat(20), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 400 }), weight: 2 },
  { arbitrary: fc.integer({ min: 65530, max: 70000 }), weight: 1 },
);
/** A latin1 string of a chosen length, from a short random pattern (cheap even at 70 000). */
const text = fc.tuple(length, fc.string({ unit: latin1Char, minLength: 1, maxLength: 6 }))
  .map(([n, pattern]) => pattern.repeat(Math.ceil(n / pattern.length)).slice(0, n));
const pair = fc.tuple(text, text);
/** Several pairs; duplicates come from the small alphabet of the short names. */
const pairs = fc.array(fc.oneof(pair, fc.tuple(fc.constantFrom('A', 'HTTP_X', ''), text)), { maxLength: 6 });

/** §3.4 read independently: each length is 1 byte (< 128) or 4 bytes with the top bit set. */
function layout(out: Buffer, list: ReadonlyArray<readonly [string, string]>): number[] {
  const boundaries = [0];
  let at = 0;
  for (const [name, value] of list) {
    for (const n of [name.length, value.length]) {
      if (n < 128) {
        assert.is(out[at], n, `one-byte length ${n}`);
        at += 1;
      } else {
        assert.ok(out[at]! >= 0x80, `four-byte length ${n} has the high bit set`);
        assert.is(out.readUInt32BE(at) - 0x80000000, n);
        at += 4;
      }
    }
    assert.is(out.toString('latin1', at, at + name.length), name);
    at += name.length;
    assert.is(out.toString('latin1', at, at + value.length), value);
    at += value.length;
    boundaries.push(at);
  }
  assert.is(at, out.length, 'nothing else is written');
  return boundaries;
}

ParamsProperty('runs of shared pairs (EnvRun) encode to the same bytes, whole or broken, first use or later', () => {
  fc.assert(fc.property(fc.array(pair, { minLength: 1, maxLength: 8 }), fc.nat(7), fc.nat(7), fc.option(fc.nat(7)), (raw, from, len, replaced) => {
    // Pair objects as the environment shares them: a run is some of the very objects of the list.
    const list: Array<readonly [string, string]> = raw.map(([n, v]) => [n, v] as const);
    const start = from % list.length;
    const run: EnvRun = { pairs: list.slice(start, start + 1 + (len % (list.length - start))), encoded: new Map() };
    const other: EnvRun = { pairs: [['NOT', 'here']], encoded: new Map() };
    // A setenv value replaces a pair with another object (same name and value or not).
    if (replaced !== null) {
      const at = replaced % list.length;
      list[at] = [list[at]![0], list[at]![1]];
    }
    const plain = paramsText(list);
    assert.is(paramsText(list, [run, other]), plain, 'first use');
    assert.is(paramsText(list, [run]), plain, 'with the kept encoding');
    assert.is(paramsText(list, [other, run]), plain, 'behind a run that is not there: pair by pair');
    assert.equal(decodeParams(Buffer.from(plain, 'latin1')), list);
  }));
});

ParamsProperty('any latin1 pairs round-trip in order, duplicates kept, with §3.4 length bytes', () => {
  fc.assert(fc.property(pairs, (list) => {
    const out = encodeParams(list);
    layout(out, list);
    assert.equal(decodeParams(out), list);
  }), { numRuns: 300 });
});

ParamsProperty('a stream cut short throws a RangeError; cut between pairs it gives the pairs before', () => {
  fc.assert(fc.property(fc.array(pair, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (list, rawCuts) => {
    const out = encodeParams(list);
    const boundaries = layout(out, list);
    // Random cuts, plus every pair boundary and its neighbours (inside a length, a name, a value).
    const cuts = new Set(rawCuts.map((c) => c % out.length));
    for (const b of boundaries) for (const d of [-1, 0, 1, 2, 4, 5]) if (b + d >= 0 && b + d < out.length) cuts.add(b + d);
    for (const cut of cuts) {
      const k = boundaries.indexOf(cut);
      if (k >= 0) {
        assert.equal(decodeParams(out.subarray(0, cut)), list.slice(0, k), `cut at pair boundary ${cut}`);
      } else {
        assert.throws(() => decodeParams(out.subarray(0, cut)), (err: unknown) => err instanceof RangeError && /cut short/.test(err.message), `cut at ${cut}`);
      }
    }
  }), { numRuns: 200 });
});

ParamsProperty('PARAMS records split at arbitrary points, read at arbitrary chunks, give the pairs back', () => {
  fc.assert(fc.property(
    pairs, fc.integer({ min: 1, max: 65535 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(),
    (list, id, rawSplits, rawCuts, interleave) => {
      const stream = encodeParams(list);
      // Split the stream into PARAMS records anywhere (inside a length too), never empty ones:
      // an empty PARAMS record ends the stream (§3.3).
      const splits = [...new Set(rawSplits.map((s) => s % (stream.length + 1)))].filter((s) => s > 0 && s < stream.length).sort((a, b) => a - b);
      const segments: Buffer[] = [];
      let prev = 0;
      for (const s of [...splits, stream.length]) {
        if (s > prev) segments.push(stream.subarray(prev, s));
        prev = s;
      }
      const records: Buffer[] = [];
      for (const seg of segments) {
        records.push(...frameStream(FCGI_PARAMS, id, seg));
        // Other requests' and management records may come between (§3.3 multiplexing).
        if (interleave) records.push(encodeRecord(FCGI_STDIN, id === 1 ? 2 : 1, Buffer.from('x')), encodeRecord(FCGI_GET_VALUES, FCGI_NULL_REQUEST_ID));
      }
      records.push(encodeRecord(FCGI_PARAMS, id));
      const bytes = Buffer.concat(records);
      const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
      const d = new RecordDecoder();
      const got: Buffer[] = [];
      let ended = false;
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        for (const r of d.push(bytes.subarray(from, cut))) {
          if (r.type !== FCGI_PARAMS || r.requestId !== id) continue;
          assert.not.ok(ended, 'nothing after the terminator');
          if (r.content.length === 0) ended = true;
          else got.push(r.content);
        }
        from = cut;
      }
      assert.ok(ended, 'the empty PARAMS record ends the stream');
      assert.is(d.error, null);
      assert.equal(decodeParams(Buffer.concat(got)), list);
    },
  ), { numRuns: 200 });
});

ParamsProperty('garbage: decodeParams returns pairs that fit the input or throws a RangeError, nothing else', () => {
  fc.assert(fc.property(fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    // Plausible streams: small one-byte lengths, then a few bytes changed.
    fc.tuple(fc.array(fc.tuple(fc.nat(10), fc.nat(10)), { maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([lens, at, byte]) => {
        const b = [...encodeParams(lens.map(([n, v]) => ['n'.repeat(n), 'v'.repeat(v)] as [string, string]))];
        if (b.length > 0) b[at % b.length] = byte;
        return Uint8Array.from(b);
      }),
  ), (bytes) => {
    const buf = Buffer.from(bytes);
    let out: Array<[string, string]>;
    try {
      out = decodeParams(buf);
    } catch (err) {
      assert.instance(err, RangeError);
      assert.match((err as Error).message, /cut short/);
      return;
    }
    // Every byte accounted for: at least one length byte per length, then the bytes themselves.
    const minimum = out.reduce((sum, [n, v]) => sum + 2 + n.length + v.length, 0);
    assert.ok(minimum <= buf.length);
    for (const [n, v] of out) for (const s of [n, v]) for (let i = 0; i < s.length; i++) assert.ok(s.charCodeAt(i) <= 0xff);
    // What was read writes back (canonically) and reads back the same.
    assert.equal(decodeParams(encodeParams(out)), out);
  }), { numRuns: 800 });
});

ParamsProperty.run();

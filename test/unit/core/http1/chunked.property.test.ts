// Property tests for core/http1/chunked.ts: any split of a chunked body decodes to the same bytes
// (RFC 9112 §7.1), and mutated bodies never throw (checklist A8-A12).
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedDecoder } from '../../../../core/http1/chunked.js';

const ChunkedProperty = suite('chunked.property');

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'.split('');
const trailerName = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 8 }).map((n) => 'X-' + n);
const trailerValue = fc.string({ unit: fc.constantFrom(...'abc 019;=,\xe9'.split('')), maxLength: 10 }).map((v) => v.trim());
const extension = fc.constantFrom('', ';a', ';a=b', ';name="quoted value"', ' ;x', '\t;y=1;z');

const body = fc.record({
  chunks: fc.array(fc.record({ data: fc.uint8Array({ minLength: 1, maxLength: 40 }), ext: extension, upper: fc.boolean(), zeros: fc.nat(3) }), { maxLength: 6 }),
  lastExt: extension,
  trailers: fc.array(fc.tuple(trailerName, trailerValue), { maxLength: 3 }),
  next: fc.uint8Array({ maxLength: 10 }),
});

interface Encoded {
  bytes: Buffer;
  bodyLength: number;
  data: Buffer;
  trailers: string[];
}

type BodySpec = typeof body extends fc.Arbitrary<infer T> ? T : never;

function encode(b: BodySpec): Encoded {
  const parts: Buffer[] = [];
  for (const c of b.chunks) {
    let size = c.data.length.toString(16);
    if (c.upper) size = size.toUpperCase();
    parts.push(Buffer.from('0'.repeat(c.zeros) + size + c.ext + '\r\n', 'latin1'), Buffer.from(c.data), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0' + b.lastExt + '\r\n', 'latin1'));
  for (const [n, v] of b.trailers) parts.push(Buffer.from(`${n}: ${v}\r\n`, 'latin1'));
  parts.push(Buffer.from('\r\n'));
  const framed = Buffer.concat(parts);
  return {
    bytes: Buffer.concat([framed, Buffer.from(b.next)]),
    bodyLength: framed.length,
    data: Buffer.concat(b.chunks.map((c) => Buffer.from(c.data))),
    trailers: b.trailers.flat(),
  };
}

/** Feeds `bytes` cut at `cuts`; returns the decoded data and how many bytes the body used. */
function feed(bytes: Buffer, cuts: number[]) {
  const d = new ChunkedDecoder();
  const out: Buffer[] = [];
  let used = 0;
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut < prev) continue;
    const n = d.push(bytes.subarray(prev, cut), (c) => out.push(Buffer.from(c)));
    if (n < 0) return { data: Buffer.concat(out), used: -1, decoder: d };
    used += n;
    prev = cut;
    if (d.done) break;
  }
  return { data: Buffer.concat(out), used, decoder: d };
}

ChunkedProperty('random split points produce the same decoded bytes, trailers and length', () => {
  fc.assert(fc.property(body, fc.array(fc.nat(), { maxLength: 8 }), (b, rawCuts) => {
    const enc = encode(b);
    const cuts = rawCuts.map((c) => c % (enc.bytes.length + 1)).sort((x, y) => x - y);
    const r = feed(enc.bytes, cuts);
    assert.is(r.used, enc.bodyLength);
    assert.ok(r.decoder.done);
    assert.ok(r.data.equals(enc.data));
    assert.equal(r.decoder.trailers, enc.trailers);
    assert.is(r.decoder.bytesDecoded, enc.data.length);
  }), { numRuns: 500 });
});

ChunkedProperty('byte by byte gives the same result as one push', () => {
  fc.assert(fc.property(body, (b) => {
    const enc = encode(b);
    const cuts = Array.from({ length: enc.bytes.length }, (_, k) => k);
    const r = feed(enc.bytes, cuts);
    assert.is(r.used, enc.bodyLength);
    assert.ok(r.data.equals(enc.data));
    assert.equal(r.decoder.trailers, enc.trailers);
  }), { numRuns: 150 });
});

ChunkedProperty('mutated bodies never throw; -1 always comes with an error, and never past the input', () => {
  fc.assert(fc.property(body, fc.nat(), fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x3b, 0x30, 0x78, 0x2d, 0xff), fc.boolean(), (b, at, byte, insert) => {
    const enc = encode(b);
    const s = [...enc.bytes];
    const k = at % (s.length + 1);
    if (insert) s.splice(k, 0, byte);
    else s[Math.min(k, s.length - 1)] = byte;
    const r = feed(Buffer.from(s), [Math.floor(s.length / 2)]);
    assert.ok(r.used === -1 ? r.decoder.error !== null : r.decoder.error === null);
    if (r.used >= 0) assert.ok(r.used <= s.length);
  }), { numRuns: 800 });
});

ChunkedProperty.run();

// Property tests for the FastCGI record codec (plugins/proxy-backend-fastcgi/record.ts, FastCGI
// 1.0 §3.3): any type, request id and content length round-trip; records written with any
// padding (0..255, any bytes) decode the same whatever the chunk boundaries; arbitrary bytes
// decode exactly as an independent reading of §3.3 says, never throw and stay bounded.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_HEADER_LEN, FCGI_MAX_CONTENT_BYTES,
  RecordDecoder, encodeBeginRequest, encodeEndRequest, encodeRecord, encodeStream, frameStream, type FcgiRecord,
} from '../../../../plugins/proxy-backend-fastcgi/record.js';
import { withinTime } from '../../../helpers/timing.js';

const RecordProperty = suite('proxy-backend-fastcgi/record.property');

/** Decoding these small streams takes microseconds; anything near this is a pathology (a loop). */
const MAX_DECODE_MS = 100;

const recordType = fc.integer({ min: 0, max: 255 });
const requestId = fc.oneof(fc.constantFrom(0, 1, 255, 256, 65535), fc.integer({ min: 0, max: 65535 }));
/** Content lengths with weight on the §3.3 boundaries: 8-byte padding, 65 535 per record. */
const contentLength = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 7, 8, 9, 15, 16, 65527, 65528, 65534, 65535, 65536, 65537, 131069, 131070, 131071, 131072), weight: 3 },
  { arbitrary: fc.nat(300), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 140000 }), weight: 1 },
);

/** `n` bytes that differ from record to record (cheap to make, unlike a 140 kB uint8Array). */
function fill(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/**
 * §3.3 written independently: version 1, type, requestId (BE), contentLength (BE),
 * paddingLength, reserved, content, padding. Padding and reserved may be anything.
 */
function rawRecord(type: number, id: number, content: Buffer, padding: Buffer, reserved = 0): Buffer {
  const h = [1, type, id >> 8, id & 0xff, content.length >> 8, content.length & 0xff, padding.length, reserved];
  return Buffer.concat([Buffer.from(h), content, padding]);
}

interface Decoded {
  records: Array<[number, number, string]>;
  error: string | null;
  pending: number;
}

/** An independent reading of §3.3 over the whole input: what any chunking must give. */
function referenceDecode(bytes: Buffer): Decoded {
  const records: Array<[number, number, string]> = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 1) return { records, error: `record version ${bytes[at]} (expected 1)`, pending: 0 };
    if (bytes.length - at < 8) return { records, error: null, pending: bytes.length - at };
    const contentBytes = bytes[at + 4]! * 256 + bytes[at + 5]!;
    const total = 8 + contentBytes + bytes[at + 6]!;
    if (bytes.length - at < total) return { records, error: null, pending: bytes.length - at };
    records.push([bytes[at + 1]!, bytes[at + 2]! * 256 + bytes[at + 3]!, bytes.toString('hex', at + 8, at + 8 + contentBytes)]);
    at += total;
  }
  return { records, error: null, pending: 0 };
}

/** Sorted cut points inside `length` from raw naturals. */
const cutsFor = (raw: number[], length: number): number[] => raw.map((c) => c % (length + 1)).sort((a, b) => a - b);

/** Feeds `bytes` to one decoder in the pieces the cuts make (empty pieces included). */
function feed(bytes: Buffer, cuts: number[]): { decoded: Decoded; raw: FcgiRecord[]; decoder: RecordDecoder } {
  const { d, raw } = withinTime(() => {
    const d = new RecordDecoder();
    const raw: FcgiRecord[] = [];
    let prev = 0;
    for (const cut of [...cuts, bytes.length]) {
      raw.push(...d.push(bytes.subarray(prev, cut)));
      prev = cut;
    }
    return { d, raw };
  }, MAX_DECODE_MS, `decoding ${bytes.length} bytes`);
  return {
    decoded: { records: raw.map((r) => [r.type, r.requestId, r.content.toString('hex')]), error: d.error, pending: d.pendingBytes },
    raw,
    decoder: d,
  };
}

RecordProperty('encodeRecord: any type, id and content round-trips, split into records of at most 65 535 bytes padded to 8', () => {
  fc.assert(fc.property(recordType, requestId, contentLength, fc.nat(255), (type, id, n, seed) => {
    const content = fill(n, seed);
    const out = encodeRecord(type, id, content);
    assert.is(out.length % 8, 0, 'every record is padded to a multiple of 8');
    const pieces = n === 0 ? 1 : Math.ceil(n / FCGI_MAX_CONTENT_BYTES);
    const padding = (k: number) => (8 - (k % 8)) % 8;
    let expectedLength = 0;
    for (let k = 0; k < pieces; k++) {
      const len = k < pieces - 1 ? FCGI_MAX_CONTENT_BYTES : n - k * FCGI_MAX_CONTENT_BYTES;
      expectedLength += FCGI_HEADER_LEN + len + padding(len);
    }
    assert.is(out.length, expectedLength);
    // The bytes as §3.3 reads them: version 1, reserved 0, zero padding.
    let at = 0;
    for (let k = 0; k < pieces; k++) {
      assert.is(out[at], 1, 'version');
      assert.is(out[at + 7], 0, 'reserved');
      const len = out.readUInt16BE(at + 4);
      assert.is(out[at + 6], padding(len), 'padding length');
      const pad = out.subarray(at + 8 + len, at + 8 + len + out[at + 6]!);
      assert.ok(pad.every((b) => b === 0), 'padding bytes are zero');
      at += 8 + len + out[at + 6]!;
    }
    assert.is(at, out.length);
    const d = new RecordDecoder();
    const records = d.push(out);
    assert.is(records.length, pieces);
    for (const [k, r] of records.entries()) {
      assert.is(r.type, type);
      assert.is(r.requestId, id);
      if (k < pieces - 1) assert.is(r.content.length, FCGI_MAX_CONTENT_BYTES, 'only the last piece is short');
      else assert.ok(r.content.length <= FCGI_MAX_CONTENT_BYTES && (n === 0 || r.content.length > 0), 'no empty piece');
    }
    assert.ok(Buffer.concat(records.map((r) => r.content)).equals(content));
    assert.is(d.pendingBytes, 0);
    assert.is(d.error, null);
  }), { numRuns: 150 });
});

RecordProperty('encodeStream/frameStream: nothing for empty data, else the same bytes as encodeRecord', () => {
  fc.assert(fc.property(recordType, requestId, contentLength, fc.nat(255), (type, id, n, seed) => {
    const content = fill(n, seed);
    const stream = encodeStream(type, id, content);
    assert.ok(Buffer.concat(frameStream(type, id, content)).equals(stream));
    if (n === 0) {
      // An empty record would end the stream (§3.3): the caller writes the terminator itself.
      assert.is(stream.length, 0);
      assert.equal(frameStream(type, id, content), []);
      assert.is(encodeRecord(type, id, content).length, 8);
    } else {
      assert.ok(stream.equals(encodeRecord(type, id, content)));
    }
  }), { numRuns: 150 });
});

const recordSpec = fc.record({
  type: recordType,
  id: requestId,
  length: fc.oneof({ arbitrary: fc.nat(40), weight: 5 }, fc.constantFrom(0, 255, 256, 65535), fc.integer({ min: 0, max: 3000 })),
  seed: fc.nat(255),
  // §3.3: any padding length; the padding bytes are never looked at.
  padding: fc.uint8Array({ maxLength: 255 }),
  reserved: fc.integer({ min: 0, max: 255 }),
});

RecordProperty('records with any padding decode the same at arbitrary chunk boundaries, content unchanged', () => {
  fc.assert(fc.property(
    fc.array(recordSpec, { maxLength: 8 }),
    fc.nat(),
    fc.array(fc.nat(), { maxLength: 12 }),
    (specs, tailCut, rawCuts) => {
      const records = specs.map((s) => ({ ...s, content: fill(s.length, s.seed) }));
      const framed = records.map((r) => rawRecord(r.type, r.id, r.content, Buffer.from(r.padding), r.reserved));
      // A trailing record cut short (never its whole length): held as pending, not reported.
      const last = framed.length > 0 ? framed[framed.length - 1]! : rawRecord(6, 1, Buffer.from('x'), Buffer.alloc(7));
      const partial = last.subarray(0, tailCut % last.length);
      const bytes = Buffer.concat([...framed, partial]);
      const { decoded, raw } = feed(bytes, cutsFor(rawCuts, bytes.length));
      assert.equal(decoded.records, records.map((r) => [r.type, r.id, r.content.toString('hex')]));
      assert.is(decoded.error, null);
      assert.is(decoded.pending, partial.length);
      // Records handed out earlier are still intact after the later pushes.
      for (const [k, r] of raw.entries()) assert.ok(r.content.equals(records[k]!.content), `record ${k}`);
    },
  ), { numRuns: 400 });
});

RecordProperty('byte at a time, one push and a random split all give the same records', () => {
  fc.assert(fc.property(fc.array(recordSpec.map((s) => ({ ...s, length: s.length % 64, padding: s.padding.subarray(0, 16) })), { minLength: 1, maxLength: 5 }), (specs) => {
    const bytes = Buffer.concat(specs.map((s) => rawRecord(s.type, s.id, fill(s.length, s.seed), Buffer.from(s.padding), s.reserved)));
    const whole = feed(bytes, []).decoded;
    const single = feed(bytes, Array.from({ length: bytes.length }, (_, k) => k)).decoded;
    assert.equal(single, whole);
    assert.is(whole.records.length, specs.length);
  }), { numRuns: 150 });
});

type Mutation = { kind: 'replace' | 'insert'; at: number; byte: number } | { kind: 'delete'; at: number } | { kind: 'truncate'; at: number };
const SPECIAL = [0x00, 0x01, 0x02, 0x07, 0x08, 0x80, 0xff];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  const s = [...bytes];
  for (const m of mutations) {
    if (m.kind === 'insert') s.splice(m.at % (s.length + 1), 0, m.byte);
    else if (s.length === 0) continue;
    else if (m.kind === 'replace') s[m.at % s.length] = m.byte;
    else if (m.kind === 'delete') s.splice(m.at % s.length, 1);
    else s.length = m.at % (s.length + 1);
  }
  return Buffer.from(s);
}

/** Random bytes, or valid records with a few bytes changed (mostly version 1, plausible lengths). */
const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  // Mostly valid version bytes so the decoder gets past the first header.
  fc.array(fc.tuple(fc.constant(1), fc.uint8Array({ minLength: 0, maxLength: 40 })), { maxLength: 6 })
    .map((parts) => Buffer.concat(parts.map(([v, rest]) => Buffer.from([v, ...rest])))),
  fc.tuple(fc.array(recordSpec.map((s) => ({ ...s, length: s.length % 100, padding: s.padding.subarray(0, 20) })), { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([specs, muts]) => mutate(Buffer.concat(specs.map((s) => rawRecord(s.type, s.id, fill(s.length, s.seed), Buffer.from(s.padding), s.reserved))), muts)),
);

RecordProperty('garbage and truncated input: never throws, bounded, exactly what §3.3 says at any chunking', () => {
  fc.assert(fc.property(garbage, fc.array(fc.nat(), { maxLength: 10 }), (bytes, rawCuts) => {
    const expected = referenceDecode(bytes);
    const { decoded, decoder } = feed(bytes, cutsFor(rawCuts, bytes.length));
    assert.equal(decoded, expected);
    assert.ok(decoded.records.length <= bytes.length / FCGI_HEADER_LEN, 'each record uses at least a header');
    if (decoder.error !== null) {
      // A broken stream stays broken: nothing more is decoded.
      assert.equal(decoder.push(encodeRecord(6, 1, Buffer.from('more'))), []);
      assert.is(decoder.pendingBytes, 0);
    }
  }), { numRuns: 1000 });
});

RecordProperty('BEGIN_REQUEST and END_REQUEST bodies (§5.1, §5.5) decode to the fields given', () => {
  fc.assert(fc.property(
    requestId, fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 255 }),
    (id, role, flags, appStatus, protocolStatus) => {
      const [begin] = new RecordDecoder().push(encodeBeginRequest(id, role, flags));
      assert.is(begin!.type, FCGI_BEGIN_REQUEST);
      assert.is(begin!.requestId, id);
      assert.is(begin!.content.length, 8);
      assert.is(begin!.content.readUInt16BE(0), role);
      assert.is(begin!.content[2], flags);
      assert.ok(begin!.content.subarray(3).every((b) => b === 0), 'reserved bytes zero');
      const [end] = new RecordDecoder().push(encodeEndRequest(id, appStatus, protocolStatus));
      assert.is(end!.type, FCGI_END_REQUEST);
      assert.is(end!.requestId, id);
      assert.is(end!.content.length, 8);
      assert.is(end!.content.readUInt32BE(0), appStatus >>> 0);
      assert.is(end!.content[4], protocolStatus);
      assert.ok(end!.content.subarray(5).every((b) => b === 0), 'reserved bytes zero');
    },
  ), { numRuns: 200 });
});

RecordProperty.run();

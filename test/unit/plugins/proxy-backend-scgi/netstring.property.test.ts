// Property tests for the SCGI netstring head (plugins/proxy-backend-scgi/netstring.ts, SCGI spec
// §3, checklist G9): any environment round-trips with CONTENT_LENGTH first, SCGI=1 second and
// each name once (the first wins); every cut of a head is incomplete; malformed or random input
// is null or a clean `scgi:` Error, never another exception, and the verdict never changes once
// the bytes that decide it are in.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeScgiHead, encodeScgiHead, type ScgiHead } from '../../../../plugins/proxy-backend-scgi/netstring.js';
import { withinTime } from '../../../helpers/timing.js';

const NetstringProperty = suite('proxy-backend-scgi/netstring.property');

/** Any byte but NUL, as one latin1 character. */
const nonNul = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
const name = fc.oneof(
  { arbitrary: fc.constantFrom('CONTENT_LENGTH', 'SCGI', 'REQUEST_METHOD', 'HTTP_HOST', 'A', 'a', 'X:Y', 'N,'), weight: 2 },
  { arbitrary: fc.string({ unit: nonNul, minLength: 1, maxLength: 12 }), weight: 3 },
);
const value = fc.oneof(
  fc.string({ unit: nonNul, maxLength: 16 }),
  fc.constantFrom('', '0', '27', ',', ':', '10:', '\xff\xe9'),
  fc.tuple(fc.integer({ min: 0, max: 3000 }), nonNul).map(([n, c]) => c.repeat(n)),
);
const env = fc.array(fc.tuple(name, value), { maxLength: 10 });

/** What the head must carry (SCGI §3): CONTENT_LENGTH first, SCGI=1, then each other name once, first wins. */
function expectedEnv(list: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const cl = list.find(([n]) => n === 'CONTENT_LENGTH');
  const out: Array<[string, string]> = [['CONTENT_LENGTH', cl ? cl[1] : '0'], ['SCGI', '1']];
  for (const [n, v] of list) if (!out.some(([m]) => m === n)) out.push([n, v]);
  return out;
}

NetstringProperty('any environment round-trips: CONTENT_LENGTH first, SCGI=1, each name once, the body untouched', () => {
  fc.assert(fc.property(env, fc.uint8Array({ maxLength: 20 }), (list, body) => {
    const head = encodeScgiHead(list);
    const expected = expectedEnv(list);
    // The netstring itself: decimal length without leading zeros, ':', payload, ','.
    const text = head.toString('latin1');
    const colon = text.indexOf(':');
    const digits = text.slice(0, colon);
    assert.match(digits, /^(0|[1-9][0-9]*)$/);
    const payload = expected.map(([n, v]) => `${n}\0${v}\0`).join('');
    assert.is(Number(digits), payload.length);
    assert.is(text.slice(colon + 1), payload + ',');
    const decoded = decodeScgiHead(Buffer.concat([head, Buffer.from(body)]));
    assert.equal(decoded, { env: expected, consumed: head.length });
  }), { numRuns: 400 });
});

NetstringProperty('every cut of a head is incomplete (null), never an error or a shorter head', () => {
  fc.assert(fc.property(env, fc.array(fc.nat(), { maxLength: 8 }), (list, rawCuts) => {
    const head = encodeScgiHead(list);
    const cuts = head.length <= 200 ? Array.from({ length: head.length }, (_, k) => k) : rawCuts.map((c) => c % head.length);
    for (const cut of cuts) assert.is(decodeScgiHead(head.subarray(0, cut)), null, `cut at ${cut}`);
  }), { numRuns: 300 });
});

NetstringProperty('a NUL in any name or value that is sent is refused with an scgi: error', () => {
  fc.assert(fc.property(env, fc.nat(), fc.nat(), fc.boolean(), (list, which, at, inName) => {
    const sent = expectedEnv(list).filter(([n]) => n !== 'SCGI');
    const [n, v] = sent[which % sent.length]!;
    const s = inName ? n : v;
    const k = at % (s.length + 1);
    const withNul = s.slice(0, k) + '\0' + s.slice(k);
    // Put it first so it is the one sent (the first of a name wins).
    const bad: Array<[string, string]> = [inName ? [withNul, v] : [n, withNul], ...list];
    assert.throws(() => encodeScgiHead(bad), /^scgi: NUL byte/);
  }), { numRuns: 200 });
});

type Outcome = { ok: ScgiHead | null } | { error: string };
function outcome(buf: Buffer): Outcome {
  try {
    return { ok: decodeScgiHead(buf) };
  } catch (err) {
    // Only the decoder's own errors: never a TypeError, RangeError or the like.
    assert.is((err as Error).constructor, Error, `${(err as Error).constructor.name}: ${(err as Error).message}`);
    assert.match((err as Error).message, /^scgi: /);
    return { error: (err as Error).message };
  }
}

const SPECIAL = [0x00, 0x2c, 0x3a, 0x30, 0x31, 0x39, 0x20, 0x2d, 0xff];
const malformed = fc.oneof(
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
  // Netstring-shaped: digits, ':', NUL-separated words, maybe ','.
  fc.tuple(fc.string({ unit: fc.constantFrom(...'00123456789'.split('')), maxLength: 4 }), fc.array(fc.string({ unit: fc.constantFrom('a', 'B', '\0', ','), maxLength: 4 }), { maxLength: 6 }), fc.boolean())
    .map(([digits, words, comma]) => Buffer.from(`${digits}:${words.join('\0')}${comma ? ',' : ''}`, 'latin1')),
  // A valid head with a byte changed, inserted or removed.
  fc.tuple(env, fc.nat(), fc.constantFrom(...SPECIAL), fc.constantFrom('replace', 'insert', 'delete'))
    .map(([list, at, byte, kind]) => {
      const b = [...encodeScgiHead(list)];
      const k = at % b.length;
      if (kind === 'replace') b[k] = byte;
      else if (kind === 'insert') b.splice(k, 0, byte);
      else b.splice(k, 1);
      return Buffer.from(b);
    }),
);

NetstringProperty('malformed input: null, a consistent head, or an scgi: error; the verdict is stable as bytes arrive', () => {
  fc.assert(fc.property(malformed, fc.uint8Array({ minLength: 1, maxLength: 10 }), (buf, more) => {
    const r = withinTime(() => outcome(buf), 50, 'decoding a netstring');
    if ('ok' in r && r.ok !== null) {
      const h = r.ok;
      assert.ok(h.consumed <= buf.length);
      assert.is(buf[h.consumed - 1], 0x2c, 'the netstring ends with ","');
      // A netstring length: decimal digits without leading zeros, and exactly the payload's size.
      const text = buf.toString('latin1', 0, h.consumed);
      const digits = text.slice(0, text.indexOf(':'));
      assert.match(digits, /^(0|[1-9][0-9]*)$/);
      assert.is(Number(digits), h.consumed - digits.length - 2);
      const names = h.env.map(([n]) => n);
      assert.is(new Set(names).size, names.length, 'no name twice');
      for (const [n, v] of h.env) assert.ok(n !== '' && !n.includes('\0') && !v.includes('\0'));
      // What follows is the body: the head alone decodes the same, and any cut of it is incomplete.
      assert.equal(decodeScgiHead(buf.subarray(0, h.consumed)), h);
      for (let cut = 0; cut < h.consumed; cut++) assert.equal(outcome(buf.subarray(0, cut)), { ok: null }, `cut at ${cut}`);
    }
    // More bytes never change a decided verdict (a head or an error).
    if (!('ok' in r && r.ok === null)) assert.equal(outcome(Buffer.concat([buf, Buffer.from(more)])), r);
  }), { numRuns: 1000 });
});

NetstringProperty.run();

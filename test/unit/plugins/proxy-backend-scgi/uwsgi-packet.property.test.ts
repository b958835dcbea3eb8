// Property tests for the uwsgi packet (plugins/proxy-backend-scgi/uwsgi-packet.ts, uWSGI docs
// "The uwsgi protocol"): any environment round-trips with u16 little-endian sizes and each name
// once (first wins); a var or a packet over 64 KiB is refused with a clear error, exactly at the
// limit; every cut is incomplete; random bytes are null, a packet or a clean `uwsgi:` Error.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeUwsgiPacket, encodeUwsgiPacket, type UwsgiPacket } from '../../../../plugins/proxy-backend-scgi/uwsgi-packet.js';

const UwsgiProperty = suite('proxy-backend-scgi/uwsgi-packet.property');

const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const name = fc.oneof(
  fc.constantFrom('CONTENT_LENGTH', 'PATH_INFO', 'A', '', 'HTTP_HOST'),
  fc.string({ unit: latin1Char, maxLength: 10 }),
);
const value = fc.oneof(
  fc.string({ unit: latin1Char, maxLength: 12 }),
  // Both bytes of the u16 length in use.
  fc.tuple(fc.constantFrom(255, 256, 257, 0x1234, 4000), latin1Char).map(([n, c]) => c.repeat(n)),
);
const env = fc.array(fc.tuple(name, value), { maxLength: 8 });
const modifier = fc.integer({ min: 0, max: 255 });

/** The vars sent: each name once, the first wins. */
function unique(list: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [n, v] of list) if (!out.some(([m]) => m === n)) out.push([n, v]);
  return out;
}

/** The packet written byte by byte from the docs: u8 modifier1, u16le datasize, u8 modifier2, vars. */
function referencePacket(vars: Array<[string, string]>, m1: number, m2: number): Buffer {
  const le = (n: number) => [n & 0xff, n >> 8];
  const data: number[] = [];
  for (const [n, v] of vars) {
    data.push(...le(n.length), ...Buffer.from(n, 'latin1'));
    data.push(...le(v.length), ...Buffer.from(v, 'latin1'));
  }
  return Buffer.from([m1, ...le(data.length), m2, ...data]);
}

UwsgiProperty('any environment round-trips with little-endian sizes, each name once, the body untouched', () => {
  fc.assert(fc.property(env, modifier, modifier, fc.uint8Array({ maxLength: 10 }), (list, m1, m2, body) => {
    const vars = unique(list);
    const packet = encodeUwsgiPacket(list, m1, m2);
    assert.ok(packet.equals(referencePacket(vars, m1, m2)), 'the bytes the protocol describes');
    const decoded = decodeUwsgiPacket(Buffer.concat([packet, Buffer.from(body)]));
    assert.equal(decoded, { modifier1: m1, modifier2: m2, env: vars, consumed: packet.length });
  }), { numRuns: 300 });
});

UwsgiProperty('the defaults are modifier1 0 and modifier2 0; every cut of a packet is incomplete', () => {
  fc.assert(fc.property(env, fc.array(fc.nat(), { maxLength: 8 }), (list, rawCuts) => {
    const packet = encodeUwsgiPacket(list);
    assert.is(packet[0], 0);
    assert.is(packet[3], 0);
    const cuts = packet.length <= 300 ? Array.from({ length: packet.length }, (_, k) => k) : rawCuts.map((c) => c % packet.length);
    for (const cut of cuts) assert.is(decodeUwsgiPacket(packet.subarray(0, cut)), null, `cut at ${cut}`);
  }), { numRuns: 200 });
});

UwsgiProperty('over 64 KiB is refused: a var over 65 535 bytes, or vars over 65 535 in all; up to the limit fits', () => {
  // Sizes chosen around the limits: a var of 65 535 / 65 536 bytes, and totals near 65 535.
  const size = fc.oneof(
    fc.constantFrom(0, 1, 65530, 65531, 65535, 65536),
    fc.integer({ min: 0, max: 70000 }),
    fc.integer({ min: 16000, max: 33000 }),
  );
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('K', 'L', 'M', 'NN'), size, size), { minLength: 1, maxLength: 4 }), (specs) => {
    const list = specs.map(([n, a, b]): [string, string] => [n + 'k'.repeat(a % 7 === 0 ? 0 : a), 'v'.repeat(b)]);
    const vars = unique(list);
    const big = vars.find(([n, v]) => n.length > 65535 || v.length > 65535);
    const total = vars.reduce((sum, [n, v]) => sum + 4 + n.length + v.length, 0);
    if (big) {
      assert.throws(() => encodeUwsgiPacket(list), (err: unknown) => err instanceof Error && /^uwsgi: environment variable .* larger than 64 KiB$/.test(err.message));
    } else if (total > 65535) {
      assert.throws(() => encodeUwsgiPacket(list), (err: unknown) => err instanceof Error && err.message === `uwsgi: environment larger than 64 KiB (${total} bytes)`);
    } else {
      const packet = encodeUwsgiPacket(list);
      assert.is(packet.length, 4 + total);
      assert.is(packet.readUInt16LE(1), total);
      assert.equal(decodeUwsgiPacket(packet)!.env, vars);
    }
  }), { numRuns: 150 });
});

UwsgiProperty('the limit is exact: vars of 65 535 bytes in all fit, 65 536 do not, however they are split', () => {
  fc.assert(fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.constantFrom(-1, 0, 1), (weights, delta) => {
    // k vars with distinct names whose 4 + name + value bytes add up to 65 535 + delta.
    const k = weights.length;
    const target = 0xffff + delta - 4 * k - k; // names are one byte each
    const sum = weights.reduce((a, b) => a + b + 1, 0);
    const sizes = weights.map((w) => Math.floor(((w + 1) / sum) * target));
    sizes[0] += target - sizes.reduce((a, b) => a + b, 0);
    const list = sizes.map((n, i): [string, string] => [String.fromCharCode(0x41 + i), 'v'.repeat(n)]);
    if (delta <= 0) {
      const packet = encodeUwsgiPacket(list);
      assert.is(packet.length, 4 + 0xffff + delta);
      assert.is(packet.readUInt16LE(1), 0xffff + delta);
    } else {
      assert.throws(() => encodeUwsgiPacket(list), /^uwsgi: environment larger than 64 KiB \(65536 bytes\)$/);
    }
  }), { numRuns: 60 });
});

type Outcome = { ok: UwsgiPacket | null } | { error: string };
function outcome(buf: Buffer): Outcome {
  try {
    return { ok: decodeUwsgiPacket(buf) };
  } catch (err) {
    assert.is((err as Error).constructor, Error, `${(err as Error).constructor.name}: ${(err as Error).message}`);
    assert.match((err as Error).message, /^uwsgi: /);
    return { error: (err as Error).message };
  }
}

const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
  // A small datasize so that the vars are actually read.
  fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 50 })).map(([n, rest]) => Buffer.from([0, n, 0, 0, ...rest])),
  fc.tuple(env, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([list, at, byte, insert]) => {
    const b = [...encodeUwsgiPacket(list)];
    if (insert) b.splice(at % (b.length + 1), 0, byte);
    else b[at % b.length] = byte;
    return Buffer.from(b);
  }),
);

UwsgiProperty('garbage: null, a packet that fits its datasize, or an uwsgi: error; decided verdicts do not change', () => {
  fc.assert(fc.property(garbage, fc.uint8Array({ minLength: 1, maxLength: 8 }), (buf, more) => {
    const r = outcome(buf);
    if (buf.length < 4 || buf.length < 4 + buf.readUInt16LE(1)) assert.equal(r, { ok: null }, 'incomplete until datasize bytes are in');
    if ('ok' in r && r.ok !== null) {
      const p = r.ok;
      assert.is(p.consumed, 4 + buf.readUInt16LE(1));
      // Every var's bytes lie inside datasize: re-encoding gives the same size.
      assert.is(p.env.reduce((sum, [n, v]) => sum + 4 + n.length + v.length, 0), p.consumed - 4);
      assert.equal(decodeUwsgiPacket(buf.subarray(0, p.consumed)), p);
    }
    if (!('ok' in r && r.ok === null)) assert.equal(outcome(Buffer.concat([buf, Buffer.from(more)])), r);
  }), { numRuns: 1000 });
});

UwsgiProperty.run();

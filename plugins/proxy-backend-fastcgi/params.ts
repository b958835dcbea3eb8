// FastCGI 1.0 §3.4 name-value pairs (the FCGI_PARAMS stream, FCGI_GET_VALUES): each length in one
// byte below 128, else in four bytes with the high bit set. Names and values are byte strings
// (latin1), as proxy-core builds the CGI environment (RFC 3875 §4.1): never re-encoded.
import { Buffer } from 'node:buffer';

/** §3.4: a length above 2^31-1 cannot be written. */
const MAX_LENGTH = 0x7fffffff;

/** Strings longer than this are copied natively; shorter ones by a loop (no call into C++). */
const NATIVE_COPY_CHARS = 64;

/** The bytes `encodeParams(pairs)` makes, without making them; throws when a name or value is too long. */
export function paramsByteLength(pairs: ReadonlyArray<readonly [string, string]>): number {
  let n = 0;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const nameLength = pair[0].length;
    const valueLength = pair[1].length;
    if (nameLength > MAX_LENGTH || valueLength > MAX_LENGTH) throw new RangeError(`FastCGI parameter ${pair[0].slice(0, 64)} is too long`);
    // latin1 is one byte per UTF-16 unit, so the string lengths are the byte lengths.
    n += (nameLength < 128 ? 1 : 4) + (valueLength < 128 ? 1 : 4) + nameLength + valueLength;
  }
  return n;
}

function writeLength(out: Buffer, at: number, n: number): number {
  if (n < 128) {
    out[at] = n;
    return at + 1;
  }
  out[at] = ((n >>> 24) & 0x7f) | 0x80;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
  return at + 4;
}

/** `s` as latin1 (the low byte of each UTF-16 unit, as Buffer's latin1) at `at`; returns the end. */
function writeLatin1(out: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n > NATIVE_COPY_CHARS) return at + out.write(s, at, n, 'latin1');
  for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  return at + n;
}

/**
 * Writes the pairs at `at` in `out` (which has `paramsByteLength(pairs)` bytes there) and returns
 * where they end. Straight into the request's one buffer: no string or buffer per pair, and no
 * copy of the whole (the PARAMS stream of a request is about 600 bytes of about 40 short strings).
 */
export function writeParams(pairs: ReadonlyArray<readonly [string, string]>, out: Buffer, at: number): number {
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const name = pair[0];
    const value = pair[1];
    at = writeLength(out, at, name.length);
    at = writeLength(out, at, value.length);
    at = writeLatin1(out, at, name);
    at = writeLatin1(out, at, value);
  }
  return at;
}

/** The pairs as one buffer, ready to be cut into FCGI_PARAMS records. */
export function encodeParams(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const out = Buffer.allocUnsafe(paramsByteLength(pairs));
  writeParams(pairs, out, 0);
  return out;
}

/** Reads the pairs of a whole PARAMS stream (or GET_VALUES body); throws when it is cut short. */
export function decodeParams(data: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let at = 0;
  const readLength = (): number => {
    if (at >= data.length) throw new RangeError('name-value pair cut short');
    if (data[at]! < 128) return data[at++]!;
    if (at + 4 > data.length) throw new RangeError('name-value pair length cut short');
    const n = data.readUInt32BE(at) & MAX_LENGTH;
    at += 4;
    return n;
  };
  while (at < data.length) {
    const nameBytes = readLength();
    const valueBytes = readLength();
    if (at + nameBytes + valueBytes > data.length) throw new RangeError('name-value pair cut short');
    const name = data.toString('latin1', at, at + nameBytes);
    at += nameBytes;
    pairs.push([name, data.toString('latin1', at, at + valueBytes)]);
    at += valueBytes;
  }
  return pairs;
}

// FastCGI 1.0 §3.4 name-value pairs (the FCGI_PARAMS stream, FCGI_GET_VALUES): each length in one
// byte below 128, else in four bytes with the high bit set. Names and values are byte strings
// (latin1), as proxy-core builds the CGI environment (RFC 3875 §4.1): never re-encoded.
import { Buffer } from 'node:buffer';

/** §3.4: a length above 2^31-1 cannot be written. */
const MAX_LENGTH = 0x7fffffff;

/** A §3.4 length as latin1 characters (one byte each). */
function lengthChars(n: number): string {
  return n < 128 ? String.fromCharCode(n) : String.fromCharCode(((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/**
 * The pairs as one byte string, ready to be cut into FCGI_PARAMS records. Built as one latin1
 * string and copied into a Buffer once: one native call per request instead of two per pair.
 */
export function encodeParams(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  let text = '';
  for (const [name, value] of pairs) {
    if (name.length > MAX_LENGTH || value.length > MAX_LENGTH) throw new RangeError(`FastCGI parameter ${name.slice(0, 64)} is too long`);
    // latin1 is one byte per UTF-16 unit, so the string lengths are the byte lengths.
    text += lengthChars(name.length) + lengthChars(value.length) + name + value;
  }
  return Buffer.from(text, 'latin1');
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

// FastCGI 1.0 §3.4 name-value pairs (the FCGI_PARAMS stream, FCGI_GET_VALUES): each length in one
// byte below 128, else in four bytes with the high bit set. Names and values are byte strings
// (latin1), as proxy-core builds the CGI environment (RFC 3875 §4.1): never re-encoded.
import { Buffer } from 'node:buffer';

/** §3.4: a length above 2^31-1 cannot be written. */
const MAX_LENGTH = 0x7fffffff;

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

/** A §3.4 length as latin1 characters (one byte each). */
function lengthChars(n: number): string {
  return n < 128 ? String.fromCharCode(n) : String.fromCharCode(((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/**
 * Per name, the start of its pair for each value length below 128: the two length bytes and the
 * name, one flat string made once. Names are few (the CGI variables and the HTTP_* names of the
 * fields clients send); past PREFIX_NAMES_MAX new names are encoded each time (at most 256 x 128
 * short strings, whatever the clients send).
 */
const prefixes = new Map<string, Array<string | undefined>>();
const PREFIX_NAMES_MAX = 256;

function pairPrefix(name: string, valueLength: number): string {
  let byLength = prefixes.get(name);
  if (byLength === undefined) {
    if (prefixes.size >= PREFIX_NAMES_MAX) return lengthChars(name.length) + lengthChars(valueLength) + name;
    byLength = [];
    prefixes.set(name, byLength);
  }
  let prefix = byLength[valueLength];
  if (prefix === undefined) {
    // Flattened once here (Buffer's latin1 write of a one-part string), not on every request.
    prefix = Buffer.from(lengthChars(name.length) + lengthChars(valueLength) + name, 'latin1').toString('latin1');
    byLength[valueLength] = prefix;
  }
  return prefix;
}

/**
 * Writes the pairs at `at` in `out` (which has `paramsByteLength(pairs)` bytes there) and returns
 * where they end. The pairs are joined into one latin1 string first and copied in by one native
 * write: about 40 short strings, many of them views into the request's head, cost less this way
 * than one native call each, a JavaScript loop over their characters, or an array join (counted
 * with `npm run bench:instructions -- --case fastcgi`). Each pair's lengths and name come as one
 * string made once per name and value length (pairPrefix).
 */
export function writeParams(pairs: ReadonlyArray<readonly [string, string]>, out: Buffer, at: number): number {
  let text = '';
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const value = pair[1];
    const n = value.length;
    text += (n < 128 ? pairPrefix(pair[0], n) : lengthChars(pair[0].length) + lengthChars(n) + pair[0]) + value;
  }
  return at + out.write(text, at, text.length, 'latin1');
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

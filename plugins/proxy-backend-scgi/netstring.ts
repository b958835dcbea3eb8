// SCGI request head (SCGI protocol spec, Neil Schemenauer 2006, §3): one netstring
// `<length>:<name NUL value NUL>...,` with CONTENT_LENGTH first and `SCGI` = `1`, then the body.
// Checklist G9. Names and values are byte strings (latin1), one byte per character.
import { Buffer } from 'node:buffer';

export type EnvList = ReadonlyArray<readonly [string, string]>;

/** Most digits accepted in a netstring length (decoder): 10 digits is far beyond any real head. */
const MAX_LENGTH_DIGITS = 10;

/**
 * Encodes the SCGI head for `env`: CONTENT_LENGTH (from env, "0" if missing) first, then
 * `SCGI` `1`, then every other variable in order, each name once (the spec allows no duplicates;
 * the first one wins). Throws on a NUL in a name or value, which would split the pairs.
 */
export function encodeScgiHead(env: EnvList): Buffer {
  let contentLength = '0';
  for (const [name, value] of env) {
    if (name === 'CONTENT_LENGTH') { contentLength = value; break; }
  }
  const pairs: string[] = ['CONTENT_LENGTH', contentLength, 'SCGI', '1'];
  const seen = new Set<string>(['CONTENT_LENGTH', 'SCGI']);
  for (const [name, value] of env) {
    if (seen.has(name)) continue;
    seen.add(name);
    pairs.push(name, value);
  }
  let payloadBytes = 0;
  for (const s of pairs) {
    if (s.indexOf('\0') !== -1) throw new Error(`scgi: NUL byte in environment variable ${JSON.stringify(s.slice(0, 64))}`);
    payloadBytes += s.length + 1;
  }
  const prefix = payloadBytes + ':';
  const out = Buffer.allocUnsafe(prefix.length + payloadBytes + 1);
  let at = out.write(prefix, 0, 'latin1');
  for (const s of pairs) {
    at += out.write(s, at, 'latin1');
    out[at++] = 0;
  }
  out[at] = 0x2c; // ','
  return out;
}

export interface ScgiHead {
  /** The variables in the order received. */
  env: Array<[string, string]>;
  /** Bytes of the netstring, the trailing ',' included: the body starts here. */
  consumed: number;
}

/**
 * Decodes the netstring at the front of `buf` (for the fake backend and tests). Returns null
 * while it is incomplete; throws when it is malformed (length not digits, no ',', a pair cut
 * short, an empty name, a name given twice).
 */
export function decodeScgiHead(buf: Buffer): ScgiHead | null {
  let i = 0;
  let length = 0;
  for (; i < buf.length && buf[i] !== 0x3a; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9 || i >= MAX_LENGTH_DIGITS || (i === 1 && buf[0] === 0x30)) throw new Error('scgi: bad netstring length');
    length = length * 10 + d;
  }
  if (i === buf.length) return null;
  if (i === 0) throw new Error('scgi: netstring without a length');
  const start = i + 1;
  const end = start + length;
  if (buf.length <= end) return null;
  if (buf[end] !== 0x2c) throw new Error("scgi: netstring not followed by ','");
  const fields = buf.toString('latin1', start, end).split('\0');
  // "a\0b\0" splits into ['a', 'b', '']: an even count of strings before the final empty one.
  if (fields.pop() !== '' || fields.length % 2 !== 0) throw new Error('scgi: headers do not end with a complete name/value pair');
  const env: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (let k = 0; k < fields.length; k += 2) {
    const name = fields[k]!;
    if (name === '') throw new Error('scgi: empty header name');
    if (seen.has(name)) throw new Error(`scgi: header ${name} given twice`);
    seen.add(name);
    env.push([name, fields[k + 1]!]);
  }
  return { env, consumed: end + 1 };
}

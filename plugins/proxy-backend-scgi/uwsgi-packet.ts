// The uwsgi packet format (uWSGI docs, "The uwsgi protocol"): a 4-byte header (modifier1 u8,
// datasize u16 little-endian, modifier2 u8), then the vars, each `u16le keysize, key, u16le
// valsize, value`. modifier1 0 / modifier2 0: a WSGI-style request whose body follows the packet.
import { Buffer } from 'node:buffer';
import type { EnvList } from './netstring.js';

/** Largest datasize, key or value: they are u16 fields. */
const MAX_U16 = 0xffff;

/**
 * Encodes the request packet for `env` (each name once, the first wins). Throws when the vars
 * do not fit the u16 datasize or a key or value does not fit its u16 length: proxy-core answers
 * 500 and logs the message.
 */
export function encodeUwsgiPacket(env: EnvList, modifier1 = 0, modifier2 = 0): Buffer {
  const seen = new Set<string>();
  const vars: Array<readonly [string, string]> = [];
  let dataSize = 0;
  for (const pair of env) {
    const [name, value] = pair;
    if (seen.has(name)) continue;
    seen.add(name);
    if (name.length > MAX_U16 || value.length > MAX_U16) throw new Error(`uwsgi: environment variable ${name.slice(0, 64)} larger than 64 KiB`);
    dataSize += 4 + name.length + value.length;
    vars.push(pair);
  }
  if (dataSize > MAX_U16) throw new Error(`uwsgi: environment larger than 64 KiB (${dataSize} bytes)`);
  const out = Buffer.allocUnsafe(4 + dataSize);
  out[0] = modifier1;
  out.writeUInt16LE(dataSize, 1);
  out[3] = modifier2;
  let at = 4;
  for (const [name, value] of vars) {
    at = out.writeUInt16LE(name.length, at);
    at += out.write(name, at, 'latin1');
    at = out.writeUInt16LE(value.length, at);
    at += out.write(value, at, 'latin1');
  }
  return out;
}

export interface UwsgiPacket {
  modifier1: number;
  modifier2: number;
  /** The vars in the order received. */
  env: Array<[string, string]>;
  /** 4 + datasize: the body starts here. */
  consumed: number;
}

/**
 * Decodes the packet at the front of `buf` (for the fake backend and tests). Returns null while
 * it is incomplete; throws when a var runs past datasize.
 */
export function decodeUwsgiPacket(buf: Buffer): UwsgiPacket | null {
  if (buf.length < 4) return null;
  const end = 4 + buf.readUInt16LE(1);
  if (buf.length < end) return null;
  const env: Array<[string, string]> = [];
  let at = 4;
  const field = (): string => {
    if (at + 2 > end) throw new Error('uwsgi: var length runs past datasize');
    const n = buf.readUInt16LE(at);
    at += 2;
    if (at + n > end) throw new Error('uwsgi: var runs past datasize');
    at += n;
    return buf.toString('latin1', at - n, at);
  };
  while (at < end) {
    const name = field();
    env.push([name, field()]);
  }
  return { modifier1: buf[0]!, modifier2: buf[3]!, env, consumed: end };
}

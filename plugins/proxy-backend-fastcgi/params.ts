// FastCGI 1.0 §3.4 name-value pairs (the FCGI_PARAMS stream, FCGI_GET_VALUES): each length in one
// byte below 128, else in four bytes with the high bit set. Names and values are byte strings
// (latin1), as proxy-core builds the CGI environment (RFC 3875 §4.1): never re-encoded.
import { Buffer } from 'node:buffer';
import type { EnvRun } from '../proxy-core/types.js';

/** §3.4: a four-byte length has 31 bits (the high bit only marks the form). */
const MAX_LENGTH = 0x7fffffff;

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

/** Where a run's encoding is kept (EnvRun.encoded). */
const RUN_KEY = 'fastcgi';
const NO_RUNS: ReadonlyArray<EnvRun> = [];

/**
 * The pairs encoded as one latin1 string (one char per byte: its length is the byte count), for
 * one native copy (the socket's, as part of the request head). About 40 short strings, many of them views into the
 * request's head, cost less joined this way than one native call each, a JavaScript loop over
 * their characters, or an array join (counted with `npm run bench:instructions -- --case
 * fastcgi`). Each pair's lengths and name come as one string made once per name and value length
 * (pairPrefix); a run of pairs a connection's requests share (EnvRun) comes as one string made
 * once per run. Any string fits §3.4's 31-bit lengths (V8's longest string is shorter).
 */
export function paramsText(pairs: ReadonlyArray<readonly [string, string]>, runs: ReadonlyArray<EnvRun> = NO_RUNS): string {
  let text = '';
  // Runs come in env order: only the next one is looked for. One whose first pair was replaced
  // (a setenv SERVER_SOFTWARE) is never seen, and the later runs then go pair by pair: the same
  // bytes, made the slow way.
  let r = 0;
  let next = runs.length > 0 ? runs[0]!.pairs[0] : undefined;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    if (pair === next) {
      const run = runs[r]!;
      r++;
      next = r < runs.length ? runs[r]!.pairs[0] : undefined;
      if (wholeAt(pairs, i, run.pairs)) {
        text += runText(run);
        i += run.pairs.length - 1;
        continue;
      }
    }
    text += pairText(pair[0], pair[1]);
  }
  return text;
}

function pairText(name: string, value: string): string {
  const n = value.length;
  return n < 128 && name.length < 128 ? pairPrefix(name, n) + value : lengthChars(name.length) + lengthChars(n) + name + value;
}

/** Whether `pairs` holds `run` from `at` on, each of its very objects. */
function wholeAt(pairs: ReadonlyArray<readonly [string, string]>, at: number, run: ReadonlyArray<readonly [string, string]>): boolean {
  if (at + run.length > pairs.length) return false;
  for (let k = 1; k < run.length; k++) if (pairs[at + k] !== run[k]) return false;
  return true;
}

/** A run's pairs encoded, made once per run and flattened (written as one piece afterwards). */
function runText(run: EnvRun): string {
  const kept = run.encoded.get(RUN_KEY);
  if (typeof kept === 'string') return kept;
  let text = '';
  for (const [name, value] of run.pairs) text += pairText(name, value);
  text = Buffer.from(text, 'latin1').toString('latin1');
  run.encoded.set(RUN_KEY, text);
  return text;
}

/** The pairs as one buffer, ready to be cut into FCGI_PARAMS records. */
export function encodeParams(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(paramsText(pairs), 'latin1');
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

// Property tests for core/http1/request-head.ts: random and mutated requests (checklist A, B)
// never throw, never take long, never accept ambiguous framing, and parse the same at every split.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRORS } from '../../../../core/errors.js';
import { parseRequestHead } from '../../../../core/http1/request-head.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../../../../core/http1/types.js';
import { withinTime } from '../../../helpers/timing.js';

const RequestHeadProperty = suite('request-head.property');

const LIMITS: RequestLimits = { maxRequestLineBytes: 200, maxFieldBytes: 120, maxHeadBytes: 1024, maxHeaderCount: 12 };
/** One parse of these small heads takes microseconds; anything near this is a pathology. */
const MAX_PARSE_MS = 50;

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 10 });
const value = fc.string({ unit: fc.constantFrom(...' \tabcXYZ019-_.,;:/"=\xe9\xff'.split('')), maxLength: 16 });
const path = fc.string({ unit: fc.constantFrom(...'abc/._-%?=&019'.split('')), maxLength: 16 }).map((s) => '/' + s);

const field = fc.oneof(
  { arbitrary: fc.tuple(token, value).map(([n, v]) => `${n}: ${v}`), weight: 3 },
  fc.constantFrom(
    'Host: example.com', 'host: b:80', 'Content-Length: 5', 'Content-Length: 0', 'Content-Length: 5, 5', 'content-length: 6',
    'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'transfer-encoding: CHUNKED', 'Connection: close',
    'Connection: keep-alive', 'Connection: upgrade', 'Upgrade: websocket', 'Expect: 100-continue', 'Host:',
  ),
);

const validish = fc.record({
  leading: fc.nat(2),
  method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'PURGE', 'CONNECT'),
  target: fc.oneof(
    { arbitrary: path, weight: 8 },
    fc.constantFrom('*', 'http://x.example/p?q', 'HTTPS://X.example', 'x.example:443', 'foo'),
  ),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0'),
  host: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
  fields: fc.array(field, { maxLength: 8 }),
}).map((r) => '\r\n'.repeat(r.leading) + `${r.method} ${r.target} ${r.version}\r\n` +
  (r.host ? 'Host: example.com\r\n' : '') + r.fields.map((f) => f + '\r\n').join('') + '\r\n');

type Mutation =
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; byte: number }
  | { kind: 'dupLine'; at: number }
  | { kind: 'addLine'; at: number; line: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'concat' };

const SPECIAL_BYTES = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x0b, 0x7f, 0xff, 0x41, 0x3b];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL_BYTES) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL_BYTES) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('addLine' as const),
    at: fc.nat(),
    line: fc.constantFrom('Content-Length: 3', 'Content-Length: 4', 'Transfer-Encoding: chunked', 'Host: other', ' folded',
      'Transfer-Encoding : chunked', 'Content-Length: 3, 4', 'X: a\nTransfer-Encoding: chunked', 'Transfer-Encoding: xchunked'),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.constant({ kind: 'concat' as const }),
);

function mutate(text: string, mutations: Mutation[]): Buffer {
  let s = text;
  for (const m of mutations) {
    switch (m.kind) {
      case 'insert': {
        const at = m.at % (s.length + 1);
        s = s.slice(0, at) + String.fromCharCode(m.byte) + s.slice(at);
        break;
      }
      case 'replace': {
        if (s.length === 0) break;
        const at = m.at % s.length;
        s = s.slice(0, at) + String.fromCharCode(m.byte) + s.slice(at + 1);
        break;
      }
      case 'delete': {
        if (s.length === 0) break;
        const at = m.at % s.length;
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      }
      case 'dupLine':
      case 'addLine': {
        const lines = s.split('\r\n');
        const at = 1 + (m.at % Math.max(1, lines.length - 1));
        lines.splice(at, 0, m.kind === 'addLine' ? m.line : lines[Math.min(at, lines.length - 1)]!);
        s = lines.join('\r\n');
        break;
      }
      case 'truncate':
        s = s.slice(0, m.at % (s.length + 1));
        break;
      case 'concat':
        s = s + s;
        break;
    }
  }
  return Buffer.from(s, 'latin1');
}

function timedParse(buf: Buffer) {
  return withinTime(() => parseRequestHead(buf, LIMITS), MAX_PARSE_MS, 'a parse');
}

/** What an independent reading of the accepted bytes must show. */
function checkAccepted(buf: Buffer): void {
  const r = timedParse(buf);
  if (r.kind === 'error') {
    assert.ok(r.error.code in ERRORS, r.error.code);
    assert.ok(ERRORS[r.error.code].status >= 400);
    return;
  }
  if (r.kind !== 'head') return;
  const h = r.head;
  assert.ok(r.consumed <= buf.length);
  assert.is(h.headBytes, r.consumed);
  const raw = buf.subarray(0, r.consumed).toString('latin1');
  assert.ok(raw.endsWith('\r\n\r\n'), 'the head ends with CRLF CRLF');
  // No bare CR, bare LF or NUL anywhere in what was accepted.
  assert.not.match(raw, /[^\r]\n|^\n|\r[^\n]|\r$|\x00/);
  // Never both framings (A1), and TE only on 1.1 (A5).
  assert.not.ok(h.contentLength >= 0 && h.chunked, 'CL and chunked together');
  if (h.versionMinor === 0) assert.not.ok(h.chunked);
  if (h.versionMinor === 1) assert.ok(h.host.length > 0, '1.1 needs a host');
  const lines = raw.replace(/^(\r\n)+/, '').split('\r\n').slice(1, -2);
  const named = (name: string) => lines.filter((l) => l.toLowerCase().startsWith(name + ':'));
  assert.ok(named('host').length <= 1, 'at most one Host line (B3)');
  for (const l of lines) {
    assert.not.match(l, /^[ \t]/, 'no obs-fold accepted (B6)');
    assert.match(l, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/, 'a token name right before the colon (B5, B7)');
  }
  const cls = named('content-length');
  const tes = named('transfer-encoding');
  if (h.chunked) assert.is(cls.length, 0);
  if (h.contentLength >= 0) {
    assert.is(tes.length, 0);
    for (const l of cls) {
      for (const v of l.slice(15).split(',')) assert.is(Number(v.trim()), h.contentLength, 'every CL value agrees (A6)');
    }
  } else {
    assert.is(cls.length, 0);
  }
  if (h.chunked) assert.match(tes.map((l) => l.slice(18)).join(',').toLowerCase(), /^[ \t]*chunked[ \t]*$/);
  // Incremental: every shorter prefix is incomplete (or only empty lines); the exact head parses the same.
  const leading = raw.length - raw.replace(/^(\r\n)+/, '').length;
  for (let k = 0; k < r.consumed; k++) {
    const p = timedParse(buf.subarray(0, k));
    if (k >= 2 && k <= leading) assert.equal(p, { kind: 'empty', consumed: k - (k % 2) });
    else assert.is(p.kind, 'incomplete', `prefix ${k}`);
  }
  assert.equal(timedParse(buf.subarray(0, r.consumed)), r);
}

RequestHeadProperty('valid-ish requests: accepted heads are unambiguous and split-stable', () => {
  fc.assert(fc.property(validish, (text) => checkAccepted(Buffer.from(text, 'latin1'))), { numRuns: 600 });
});

RequestHeadProperty('mutated requests (CR/LF/NUL/space inserted, lines duplicated, CL/TE added) never slip through', () => {
  fc.assert(fc.property(validish, fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, muts) => {
    const buf = mutate(text, muts);
    checkAccepted(buf);
    // Whatever follows an accepted head parses (or fails) without throwing too.
    const r = parseRequestHead(buf, LIMITS);
    if (r.kind === 'head' || r.kind === 'empty') checkAccepted(buf.subarray(r.consumed));
  }), { numRuns: 1500 });
});

RequestHeadProperty('random bytes never throw and stay within bounds', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const buf = Buffer.from(bytes);
    for (const limits of [LIMITS, DEFAULT_REQUEST_LIMITS]) {
      const r = parseRequestHead(buf, limits);
      if (r.kind === 'head' || r.kind === 'empty') assert.ok(r.consumed > 0 && r.consumed <= buf.length);
    }
  }), { numRuns: 1000 });
});

RequestHeadProperty('large heads near the limits stay fast', () => {
  fc.assert(fc.property(fc.nat(9000), fc.constantFrom('v', '\r', '\n', ' '), (size, filler) => {
    const limits = DEFAULT_REQUEST_LIMITS;
    const text = 'GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(size) + filler;
    withinTime(() => parseRequestHead(Buffer.from(text, 'latin1'), limits), MAX_PARSE_MS, `a ${text.length}-byte head`);
  }), { numRuns: 100 });
});

RequestHeadProperty.run();

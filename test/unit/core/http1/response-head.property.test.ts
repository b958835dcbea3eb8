// Property tests for core/http1/response-head.ts: random and mutated backend heads never throw,
// accepted ones have one framing (checklist D1-D5) and parse the same at every split.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResponseHead } from '../../../../core/http1/response-head.js';
import type { ResponseHeadOptions } from '../../../../core/http1/types.js';

const ResponseHeadProperty = suite('response-head.property');

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 10 });
const value = fc.string({ unit: fc.constantFrom(...' \tabcXYZ019-_.,;:/"=\xe9'.split('')), maxLength: 16 });
const field = fc.oneof(
  { arbitrary: fc.tuple(token, value).map(([n, v]) => `${n}: ${v}`), weight: 3 },
  fc.constantFrom('Content-Length: 5', 'Content-Length: 7', 'Content-Length: 5, 5', 'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip', 'Connection: close', 'Connection: keep-alive', 'Status: 404 Not Found', 'Status: 200',
    'Location: /local', 'Location: http://x/', 'Content-Type: text/html'),
);

const response = fc.record({
  mode: fc.constantFrom('http' as const, 'cgi' as const),
  status: fc.constantFrom('200 OK', '204 No Content', '304', '103 Early Hints', '404 ', '500 Oops'),
  minor: fc.constantFrom('0', '1', '1'),
  fields: fc.array(field, { minLength: 1, maxLength: 6 }),
  lf: fc.boolean(),
  method: fc.constantFrom('GET', 'HEAD'),
}).map((r) => {
  const eol = r.mode === 'cgi' && r.lf ? '\n' : '\r\n';
  const statusLine = r.mode === 'http' ? `HTTP/1.${r.minor} ${r.status}\r\n` : '';
  const opts: ResponseHeadOptions = { mode: r.mode, requestMethod: r.method, maxHeadBytes: 1024, maxHeaderCount: 10 };
  return { text: statusLine + r.fields.map((f) => f + eol).join('') + eol, opts };
});

const SPECIAL = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x0b, 0x7f, 0xff];

function check(buf: Buffer, opts: ResponseHeadOptions): void {
  const r = parseResponseHead(buf, opts);
  if (r.kind === 'error') {
    assert.is(r.error.code, 'LT_ERR_BACKEND_BAD_RESPONSE');
    return;
  }
  if (r.kind !== 'head') return;
  const h = r.head;
  assert.ok(r.consumed > 0 && r.consumed <= buf.length);
  const raw = buf.subarray(0, r.consumed).toString('latin1');
  assert.not.match(raw, /\x00|\r(?!\n)/, 'no NUL or bare CR accepted');
  if (opts.mode === 'http') assert.not.match(raw, /(^|[^\r])\n/, 'no bare LF in http mode');
  assert.not.ok(h.contentLength > 0 && h.chunked, 'one framing only (D1)');
  assert.ok(h.status >= 100 && h.status <= 599);
  if (h.noBody) assert.ok(h.contentLength === 0 && !h.chunked && !h.closeDelimited);
  const lines = raw.split(/\r?\n/).filter((l) => l.length > 0);
  const named = (n: string) => lines.filter((l) => l.toLowerCase().startsWith(n + ':'));
  if (h.chunked) assert.is(named('content-length').length, 0);
  const cls = named('content-length').map((l) => l.slice(15).split(',').map((v) => Number(v.trim()))).flat();
  assert.ok(cls.every((v) => v === cls[0]), 'all Content-Length values agree (D2)');
  for (const l of lines.slice(opts.mode === 'http' ? 1 : 0)) assert.not.match(l, /^[ \t]/, 'no obs-fold (D4)');
  for (let k = 0; k < r.consumed; k++) assert.is(parseResponseHead(buf.subarray(0, k), opts).kind, 'incomplete', `prefix ${k}`);
  assert.equal(parseResponseHead(buf.subarray(0, r.consumed), opts), r);
}

ResponseHeadProperty('valid-ish responses: accepted heads are unambiguous and split-stable', () => {
  fc.assert(fc.property(response, ({ text, opts }) => check(Buffer.from(text, 'latin1'), opts)), { numRuns: 500 });
});

ResponseHeadProperty('mutated responses never throw and never slip through', () => {
  fc.assert(fc.property(response, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SPECIAL), fc.boolean()), { minLength: 1, maxLength: 3 }),
    ({ text, opts }, muts) => {
      const bytes = [...Buffer.from(text, 'latin1')];
      for (const [at, byte, insert] of muts) {
        const k = at % (bytes.length + 1);
        if (insert || k === bytes.length) bytes.splice(k, 0, byte);
        else bytes[k] = byte;
      }
      check(Buffer.from(bytes), opts);
    }), { numRuns: 1000 });
});

ResponseHeadProperty('random bytes never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('http' as const, 'cgi' as const), (bytes, mode) => {
    parseResponseHead(Buffer.from(bytes), { mode, requestMethod: 'GET', maxHeadBytes: 150 });
  }), { numRuns: 1000 });
});

ResponseHeadProperty.run();

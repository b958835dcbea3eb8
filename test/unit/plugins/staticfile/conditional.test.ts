// Unit tests of plugins/staticfile/conditional.ts: the conditionals lighttpd 1.4 evaluates for a static file (If-None-Match, else If-Modified-Since) and If-Range.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluatePreconditions, ifRangeAllows, type Validators } from '../../../../plugins/staticfile/conditional.js';

const T = suite('staticfile/conditional');
const LM_MS = Date.UTC(2020, 0, 1, 12, 0, 0, 500);
const LM = 'Wed, 01 Jan 2020 12:00:00 GMT';
const BEFORE = 'Wed, 01 Jan 2020 11:59:59 GMT';
const AFTER = 'Wed, 01 Jan 2020 12:00:01 GMT';
const V: Validators = { etag: '"abc"', lastModifiedMs: LM_MS };

const run = (headers: Record<string, string>, method = 'GET', v = V) =>
  evaluatePreconditions(method, (n) => headers[n], v);

T('no conditionals → proceed', () => {
  assert.is(run({}), 'proceed');
});

T('If-None-Match: weak comparison, * and lists → 304 for GET/HEAD, 412 otherwise', () => {
  assert.is(run({ 'if-none-match': '"abc"' }), 304);
  assert.is(run({ 'if-none-match': 'W/"abc"' }), 304);
  assert.is(run({ 'if-none-match': '"x", "abc"' }, 'HEAD'), 304);
  assert.is(run({ 'if-none-match': '*' }), 304);
  assert.is(run({ 'if-none-match': '"x"' }), 'proceed');
  assert.is(run({ 'if-none-match': '"abc"' }, 'POST'), 412);
});

T('If-Modified-Since: 304 when not modified since, a future date included (lighttpd); ignored with If-None-Match, invalid, or not GET/HEAD', () => {
  assert.is(run({ 'if-modified-since': LM }), 304);
  assert.is(run({ 'if-modified-since': AFTER }), 304);
  assert.is(run({ 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' }), 304);
  assert.is(run({ 'if-modified-since': 'Wednesday, 01-Jan-20 12:00:00 GMT' }), 304);
  assert.is(run({ 'if-modified-since': BEFORE }), 'proceed');
  assert.is(run({ 'if-modified-since': 'garbage' }), 'proceed');
  assert.is(run({ 'if-modified-since': LM, 'if-none-match': '"x"' }), 'proceed');
  assert.is(run({ 'if-modified-since': LM }, 'POST'), 'proceed');
  assert.is(run({ 'if-modified-since': LM }, 'HEAD'), 304);
});

T('If-None-Match without an ETag (static-file.etags off) falls to If-Modified-Since', () => {
  const noTag: Validators = { etag: null, lastModifiedMs: LM_MS };
  assert.is(run({ 'if-none-match': '"abc"', 'if-modified-since': LM }, 'GET', noTag), 304);
  assert.is(run({ 'if-none-match': '"abc"' }, 'GET', noTag), 'proceed');
});

T('If-None-Match with a Range: only a strong match counts', () => {
  assert.is(run({ 'if-none-match': '"abc"', range: 'bytes=0-1' }), 304);
  assert.is(run({ 'if-none-match': 'W/"abc"', range: 'bytes=0-1' }), 'proceed');
  assert.is(run({ 'if-none-match': '*', range: 'bytes=0-1' }), 304);
});

T('If-Match and If-Unmodified-Since are not evaluated for a static file (lighttpd)', () => {
  assert.is(run({ 'if-match': '"x"' }), 'proceed');
  assert.is(run({ 'if-unmodified-since': BEFORE }), 'proceed');
  assert.is(run({ 'if-match': '"x"', 'if-none-match': '"abc"' }), 304);
});

T('If-Range: the ETag or the Last-Modified string, byte for byte', () => {
  assert.ok(ifRangeAllows('"abc"', V));
  assert.not.ok(ifRangeAllows('W/"abc"', V));
  assert.not.ok(ifRangeAllows('"x"', V));
  assert.ok(ifRangeAllows(LM, V));
  assert.not.ok(ifRangeAllows(AFTER, V));
  assert.not.ok(ifRangeAllows('Wed Jan  1 12:00:00 2020', V), 'the same date in another form');
  assert.not.ok(ifRangeAllows('garbage', V));
  assert.not.ok(ifRangeAllows('"abc"', { etag: null, lastModifiedMs: LM_MS }));
});

T.run();

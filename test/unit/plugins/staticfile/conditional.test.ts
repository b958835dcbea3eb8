// Unit tests of plugins/staticfile/conditional.ts: precondition order (RFC 9110 §13.2.2) and If-Range (§13.1.5).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluatePreconditions, ifRangeAllows, type Validators } from '../../../../plugins/staticfile/conditional.js';

const T = suite('staticfile/conditional');
const LM_MS = Date.UTC(2020, 0, 1, 12, 0, 0, 500);
const LM = 'Wed, 01 Jan 2020 12:00:00 GMT';
const BEFORE = 'Wed, 01 Jan 2020 11:59:59 GMT';
const AFTER = 'Wed, 01 Jan 2020 12:00:01 GMT';
const NOW = Date.UTC(2021, 0, 1);
const V: Validators = { etag: '"abc"', lastModifiedMs: LM_MS };

const run = (headers: Record<string, string>, method = 'GET', v = V) =>
  evaluatePreconditions(method, (n) => headers[n], v, NOW);

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

T('If-Modified-Since: 304 when not modified since; ignored with If-None-Match, invalid or future dates', () => {
  assert.is(run({ 'if-modified-since': LM }), 304);
  assert.is(run({ 'if-modified-since': AFTER }), 304);
  assert.is(run({ 'if-modified-since': BEFORE }), 'proceed');
  assert.is(run({ 'if-modified-since': 'garbage' }), 'proceed');
  assert.is(run({ 'if-modified-since': LM, 'if-none-match': '"x"' }), 'proceed');
  assert.is(run({ 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' }), 'proceed');
  assert.is(run({ 'if-modified-since': LM }, 'POST'), 'proceed');
});

T('If-Match: strong comparison, 412 on mismatch; * passes', () => {
  assert.is(run({ 'if-match': '"abc"' }), 'proceed');
  assert.is(run({ 'if-match': 'W/"abc"' }), 412);
  assert.is(run({ 'if-match': '"x"' }), 412);
  assert.is(run({ 'if-match': '*' }), 'proceed');
  assert.is(run({ 'if-match': '"abc"' }, 'GET', { etag: null, lastModifiedMs: LM_MS }), 412);
});

T('If-Unmodified-Since: 412 when modified after; ignored when If-Match is present', () => {
  assert.is(run({ 'if-unmodified-since': BEFORE }), 412);
  assert.is(run({ 'if-unmodified-since': LM }), 'proceed');
  assert.is(run({ 'if-unmodified-since': BEFORE, 'if-match': '"abc"' }), 'proceed');
  assert.is(run({ 'if-unmodified-since': 'nonsense' }), 'proceed');
});

T('If-Match is evaluated before If-None-Match', () => {
  assert.is(run({ 'if-match': '"x"', 'if-none-match': '"abc"' }), 412);
});

T('If-Range: strong ETag or exact date', () => {
  assert.ok(ifRangeAllows('"abc"', V));
  assert.not.ok(ifRangeAllows('W/"abc"', V));
  assert.not.ok(ifRangeAllows('"x"', V));
  assert.ok(ifRangeAllows(LM, V));
  assert.not.ok(ifRangeAllows(AFTER, V));
  assert.not.ok(ifRangeAllows('garbage', V));
  assert.not.ok(ifRangeAllows('"abc"', { etag: null, lastModifiedMs: LM_MS }));
});

T.run();

// Unit tests of the retry rule (plugins/proxy-core/retry.ts; design.md §3; checklist E1-E8).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isIdempotent, retryDecision, type AttemptFailure, type RetryState } from '../../../../plugins/proxy-core/retry.js';

const T = suite('proxy-core/retry');

const state = (over: Partial<RetryState> = {}): RetryState => ({
  method: 'GET', bodyReplayable: true, responseStarted: false, triesLeft: 2, freshRetryUsed: false,
  retryReadTimeout: false, retryOn5xx: false, ...over,
});
const fail = (code: AttemptFailure['code'], over: Partial<AttemptFailure> = {}): AttemptFailure => ({ code, status5xx: false, staleConnection: false, ...over });

T('RFC 9110 §9.2.2 idempotent methods', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']) assert.ok(isIdempotent(m), m);
  for (const m of ['POST', 'PATCH', 'CONNECT', 'get', 'LOCK']) assert.not.ok(isIdempotent(m), m);
});

T('nothing reached the backend (refused, connect timeout): any method goes to the next member', () => {
  for (const code of ['LT_ERR_BACKEND_REFUSED', 'LT_ERR_BACKEND_CONNECT_TIMEOUT'] as const) {
    assert.is(retryDecision(fail(code), state({ method: 'POST' })), 'next-member', code);
    assert.is(retryDecision(fail(code), state({ triesLeft: 0 })), 'fail', `${code}: no tries left`);
  }
});

T('E4: bytes reached the backend: only idempotent requests with a replayable body', () => {
  assert.is(retryDecision(fail('LT_ERR_BACKEND_RESET'), state()), 'next-member');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_RESET'), state({ method: 'POST' })), 'fail');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_WRITE_TIMEOUT'), state({ method: 'PUT' })), 'next-member');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_RESET'), state({ method: 'PUT', bodyReplayable: false })), 'fail', 'E7: body not kept');
});

T('E4: never once response bytes went to the client', () => {
  assert.is(retryDecision(fail('LT_ERR_BACKEND_REFUSED'), state({ responseStarted: true })), 'fail');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_RESET', { staleConnection: true }), state({ responseStarted: true })), 'fail');
});

T('E3: a read timeout is retried only when asked', () => {
  assert.is(retryDecision(fail('LT_ERR_BACKEND_READ_TIMEOUT'), state()), 'fail');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_READ_TIMEOUT'), state({ retryReadTimeout: true })), 'next-member');
  assert.is(retryDecision(fail('LT_ERR_BACKEND_READ_TIMEOUT'), state({ retryReadTimeout: true, method: 'POST' })), 'fail');
});

T('E6: a 5xx is retried only with retryOn5xx, for idempotent requests', () => {
  const f = fail('LT_ERR_BACKEND_BAD_RESPONSE', { status5xx: true });
  assert.is(retryDecision(f, state()), 'fail');
  assert.is(retryDecision(f, state({ retryOn5xx: true })), 'next-member');
  assert.is(retryDecision(f, state({ retryOn5xx: true, method: 'POST' })), 'fail');
  assert.is(retryDecision(f, state({ retryOn5xx: true, triesLeft: 0 })), 'fail');
});

T('E5: a stale keep-alive connection: once on a fresh connection, idempotent only, whatever tries are left', () => {
  const f = fail('LT_ERR_BACKEND_RESET', { staleConnection: true });
  assert.is(retryDecision(f, state({ triesLeft: 0 })), 'fresh-connection');
  assert.is(retryDecision(f, state({ method: 'POST' })), 'fail');
  assert.is(retryDecision(f, state({ freshRetryUsed: true })), 'next-member', 'the second time it is an ordinary reset');
});

T('a malformed response is never retried', () => {
  assert.is(retryDecision(fail('LT_ERR_BACKEND_BAD_RESPONSE'), state()), 'fail');
});

T.run();

// Unit tests of plugins/authn-file/verify-pool.ts: password checks in worker threads, with a
// bounded queue, cancellation and a per-check timeout. Hashes are made by Apache's htpasswd.
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthBusyError } from '../../../../plugins/auth/types.js';
import { isCostly, hashKind } from '../../../../plugins/authn-file/password-hash.js';
import { VerifyPool, defaultPoolOptions } from '../../../../plugins/authn-file/verify-pool.js';
import { skipUnless, which, withTimeout } from '../../../helpers/wait.js';

const T = suite('authn-file/verify-pool');
const test = skipUnless(T, which('htpasswd') !== null, 'htpasswd (apache2-utils) not installed');

const htpasswd = (flags: string[], password: string) =>
  execFileSync('htpasswd', ['-nb', ...flags, 'user', password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('latin1').trim().split(':').slice(1).join(':');

let bcrypt4 = '';
let bcrypt12 = '';
let apr1 = '';
const pools: VerifyPool[] = [];
const pool = (o: Partial<ReturnType<typeof defaultPoolOptions>> = {}) => {
  const p = new VerifyPool({ ...defaultPoolOptions(), ...o });
  pools.push(p);
  return p;
};
/** Whether a promise is still unsettled after `other` settled. */
const stillPending = async (p: Promise<unknown>, other: Promise<unknown>) => {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await other.catch(() => {});
  await new Promise((r) => setImmediate(r));
  return !settled;
};

T.before(() => {
  if (which('htpasswd') === null) return;
  bcrypt4 = htpasswd(['-B', '-C', '4'], 'right');
  bcrypt12 = htpasswd(['-B', '-C', '12'], 'right');
  apr1 = htpasswd(['-m'], 'right');
});

T.after(async () => { await Promise.all(pools.map((p) => p.close())); });

test('only {SHA} and unknown formats are checked on the event loop', () => {
  assert.is(isCostly(hashKind('{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=')), false);
  assert.is(isCostly(null), false);
  for (const h of [bcrypt4, apr1, '$5$abc$def', '$6$abc$def', '80s4hNUAo5M3A']) assert.is(isCostly(hashKind(h)), true, h);
});

test('right and wrong passwords, bcrypt and apr1, in a worker made on the first check', async () => {
  const p = pool();
  assert.is(p.workers, 0, 'no worker before the first check');
  const [a, b, c, d] = await withTimeout(Promise.all([
    p.check('right', bcrypt4).result, p.check('wrong', bcrypt4).result,
    p.check('right', apr1).result, p.check('wrong', apr1).result,
  ]), 10_000, 'the checks');
  assert.equal([a, b, c, d], [true, false, true, false]);
  assert.is(p.pending, 0);
  assert.ok(p.workers >= 1 && p.workers <= 2);
});

test('a full queue refuses at once with AuthBusyError (503), and counts it', async () => {
  const p = pool({ size: 1, maxPending: 2 });
  const first = p.check('x', bcrypt4, 'a');
  const second = p.check('y', bcrypt4, 'b');
  const third = p.check('right', bcrypt4, 'c');
  await third.result.then(() => assert.unreachable('refused'), (err: unknown) => {
    assert.instance(err, AuthBusyError);
    assert.match((err as Error).message, /2 password checks are waiting/);
  });
  assert.is(p.refused, 1);
  assert.equal(await withTimeout(Promise.all([first.result, second.result]), 10_000, 'the checks'), [false, false]);
  assert.is(await withTimeout(p.check('right', bcrypt4).result, 10_000, 'a check'), true, 'room again');
});

test('one client address cannot take more than maxPerClient places; the others still get theirs', async () => {
  const p = pool({ size: 1, maxPending: 10, maxPerClient: 2 });
  const mine = [p.check('x', bcrypt4, 'hostile'), p.check('y', bcrypt4, 'hostile')];
  const third = p.check('z', bcrypt4, 'hostile');
  await third.result.then(() => assert.unreachable('refused'), (err: unknown) => {
    assert.instance(err, AuthBusyError);
    assert.match((err as Error).message, /2 password checks of hostile are waiting/);
  });
  assert.is(await withTimeout(p.check('right', bcrypt4, 'friend').result, 10_000, 'a check'), true);
  await Promise.all(mine.map((c) => c.result));
});

test('waiting checks are taken from each client address in turn, not in arrival order', async () => {
  const p = pool({ size: 1 });
  const order: string[] = [];
  const run = (name: string, client: string) => p.check('right', bcrypt4, client).result.then(() => { order.push(name); });
  const all = [run('a1', 'a'), run('a2', 'a'), run('a3', 'a'), run('a4', 'a'), run('b1', 'b')];
  await withTimeout(Promise.all(all), 10_000, 'the checks');
  assert.equal(order, ['a1', 'a2', 'b1', 'a3', 'a4'], 'b waits for one check of a, not for all of them');
});

test('cancel: a waiting check leaves the queue at once and never settles; a running one is dropped', async () => {
  const p = pool({ size: 1 });
  const running = p.check('right', bcrypt12);
  const waiting = p.check('right', bcrypt4);
  assert.is(p.pending, 2);
  waiting.cancel();
  assert.is(p.pending, 1, 'the slot is free at once');
  assert.ok(await withTimeout(stillPending(waiting.result, running.result), 10_000, 'the running check'), 'a cancelled check is never answered');
  assert.is(p.pending, 0);
  const again = p.check('right', bcrypt12);
  again.cancel();
  assert.is(p.pending, 0, 'running, cancelled: not counted');
  assert.is(await withTimeout(p.check('right', bcrypt4).result, 10_000, 'the next check'), true, 'the worker finishes, then takes the next');
});

test('a check over the timeout is refused (AuthBusyError) and its worker replaced', async () => {
  const p = pool({ size: 1, timeoutMs: 30 });
  const slow = p.check('right', bcrypt12);
  const queued = p.check('right', bcrypt12);
  for (const c of [slow, queued]) {
    await withTimeout(c.result, 10_000, 'the timeout').then(() => assert.unreachable('timed out'), (err: unknown) => {
      assert.instance(err, AuthBusyError);
      assert.match((err as Error).message, /took more than 30 ms/);
    });
  }
  assert.is(p.timedOut, 2);
  assert.is(p.pending, 0);
  const q = pool({ size: 1, timeoutMs: 10_000 });
  assert.is(await withTimeout(q.check('right', bcrypt4).result, 10_000, 'a check'), true);
});

test('close(): waiting and running checks are refused, the workers stop, later checks are refused', async () => {
  const p = pool({ size: 1 });
  const a = p.check('right', bcrypt12);
  const b = p.check('right', bcrypt4);
  const outcomes = [a, b].map((c) => c.result.then(() => 'answered', (err: unknown) => err));
  await p.close();
  for (const o of await outcomes[0]!.then(async (x) => [x, await outcomes[1]!])) assert.instance(o, AuthBusyError);
  assert.is(p.workers, 0);
  await p.check('right', bcrypt4).result.then(() => assert.unreachable('refused'), (err: unknown) => assert.match((err as Error).message, /stopping/));
});

T.run();

// Tests of the test waiting helpers (test/helpers/wait.ts): timeouts, events, polling, skip markers, PATH lookup.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimeoutError, once, skipUnless, waitFor, which, withTimeout } from '../../helpers/wait.js';

const Wait = suite('wait');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

Wait('withTimeout passes a value and an error through', async () => {
  assert.is(await withTimeout(Promise.resolve(7), 1000, 'seven'), 7);
  const err = await rejection(withTimeout(Promise.reject(new Error('own')), 1000, 'x'));
  assert.is((err as Error).message, 'own');
});

Wait('withTimeout rejects with a TimeoutError naming what was awaited', async () => {
  const err = await rejection(withTimeout(new Promise(() => {}), 20, 'the answer'));
  assert.instance(err, TimeoutError);
  assert.match((err as Error).message, 'the answer');
  assert.match((err as Error).message, '20 ms');
});

Wait('once resolves with the event arguments and removes its listeners', async () => {
  const emitter = new EventEmitter();
  const got = once(emitter, 'ping', 1000);
  emitter.emit('ping', 1, 'two');
  assert.equal(await got, [1, 'two']);
  assert.is(emitter.listenerCount('ping'), 0);
  assert.is(emitter.listenerCount('error'), 0);
});

Wait('once rejects on error first, and on timeout', async () => {
  const emitter = new EventEmitter();
  const got = once(emitter, 'ping', 1000);
  emitter.emit('error', new Error('broken'));
  assert.is(((await rejection(got)) as Error).message, 'broken');
  const late = await rejection(once(emitter, 'ping', 20));
  assert.instance(late, TimeoutError);
  assert.match((late as Error).message, "'ping'");
  assert.is(emitter.listenerCount('ping'), 0);
});

Wait('waitFor polls until the predicate holds, and times out otherwise', async () => {
  let counter = 0;
  const timer = setInterval(() => counter++, 1);
  try {
    await waitFor(() => counter >= 3, 1000);
  } finally {
    clearInterval(timer);
  }
  assert.ok(counter >= 3);
  const err = await rejection(waitFor(() => false, 20, 5, 'never'));
  assert.instance(err, TimeoutError);
  assert.match((err as Error).message, 'never');
});

Wait('skipUnless returns the test itself when the condition holds', () => {
  const registered: string[] = [];
  const fake = Object.assign((name: string) => registered.push(name), {
    skip: (name?: string) => registered.push(`skip:${name}`),
  }) as unknown as Test;
  const run = skipUnless(fake, true, 'present');
  assert.is(run, fake);
  run('a', () => {});
  assert.equal(registered, ['a']);
});

Wait('skipUnless routes tests to test.skip and announces the reason once', () => {
  const registered: string[] = [];
  const fake = Object.assign((name: string) => registered.push(name), {
    skip: (name?: string) => registered.push(`skip:${name}`),
  }) as unknown as Test;
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
  try {
    const run = skipUnless(fake, false, 'frobnicator not installed');
    run('a', () => {});
    run('b', () => {});
    skipUnless(fake, false, 'frobnicator not installed');
  } finally {
    process.stdout.write = write;
  }
  assert.equal(registered, ['skip:a', 'skip:b']);
  assert.equal(written, ['# skip: frobnicator not installed\n']);
});

Wait('which finds node on PATH and a path to it, and misses unknown or non-executable files', () => {
  const node = which('node');
  assert.ok(node);
  assert.is(which(node), node);
  assert.is(which('lantern-no-such-program-xyz'), null);
  const dir = mkdtempSync(path.join(tmpdir(), 'lantern-which-'));
  try {
    writeFileSync(path.join(dir, 'plain'), 'not a program', { mode: 0o644 });
    assert.is(which(path.join(dir, 'plain')), null);
    assert.is(which(dir), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Wait.run();

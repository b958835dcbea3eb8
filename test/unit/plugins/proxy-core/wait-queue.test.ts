// Unit tests of the bounded FIFO wait queue (plugins/proxy-core/wait-queue.ts; checklist E12).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WaitQueue, type QueueEntry } from '../../../../plugins/proxy-core/wait-queue.js';
import { withTimeout } from '../../../helpers/wait.js';

const T = suite('proxy-core/wait-queue');

class Entry implements QueueEntry {
  queuedAtMs = 0;
  timedOut = false;
  onTimeout: () => void = () => {};
  constructor(readonly id: number) {}
  queueTimedOut(): void { this.timedOut = true; this.onTimeout(); }
}

T('FIFO order and a hard capacity', () => {
  const q = new WaitQueue<Entry>(2, 0);
  const [a, b, c] = [new Entry(1), new Entry(2), new Entry(3)];
  assert.ok(q.push(a, 1));
  assert.ok(q.push(b, 2));
  assert.not.ok(q.push(c, 3), 'full');
  assert.is(q.length, 2);
  assert.is(q.shift(), a);
  assert.is(q.peek(), b);
  assert.ok(q.push(c, 4));
  assert.equal(q.drain().map((e) => e.id), [2, 3]);
  assert.is(q.length, 0);
});

T('remove() takes an entry out from anywhere', () => {
  const q = new WaitQueue<Entry>(5, 0);
  const es = [1, 2, 3].map((i) => new Entry(i));
  for (const e of es) q.push(e, 0);
  assert.ok(q.remove(es[1]!));
  assert.not.ok(q.remove(es[1]!));
  assert.ok(q.remove(es[0]!));
  assert.equal(q.drain().map((e) => e.id), [3]);
});

T('entries time out in order, each after timeoutMs', async () => {
  const q = new WaitQueue<Entry>(5, 40);
  const first = new Entry(1);
  const second = new Entry(2);
  const start = Date.now();
  q.push(first, Date.now());
  const both = new Promise<void>((resolve) => { second.onTimeout = resolve; });
  q.push(second, Date.now() + 30);
  await withTimeout(both, 2000, 'the second entry to time out');
  assert.ok(first.timedOut && second.timedOut);
  assert.ok(Date.now() - start >= 60, 'the second waited its own 40 ms');
  assert.is(q.length, 0);
});

T('a shifted entry never times out', async () => {
  const q = new WaitQueue<Entry>(5, 20);
  const e = new Entry(1);
  const later = new Entry(2);
  q.push(e, Date.now());
  q.shift();
  const done = new Promise<void>((resolve) => { later.onTimeout = resolve; });
  q.push(later, Date.now());
  await withTimeout(done, 2000, 'the later entry to time out');
  assert.not.ok(e.timedOut);
});

T('E12: entries taken out leave the timer as it is; the next oldest times out at its own deadline, never before', async () => {
  const q = new WaitQueue<Entry>(5, 40);
  const first = new Entry(1);
  q.push(first, Date.now());
  await new Promise((r) => setTimeout(r, 15));
  q.shift();
  const second = new Entry(2);
  const queuedAt = Date.now();
  const done = new Promise<number>((resolve) => { second.onTimeout = () => resolve(Date.now()); });
  q.push(second, queuedAt);
  const at = await withTimeout(done, 2000, 'the second entry to time out');
  assert.not.ok(first.timedOut);
  assert.ok(at - queuedAt >= 40, `timed out after ${at - queuedAt} ms, before its 40 ms`);
  assert.is(q.length, 0);
});

T.run();

// Password checks off the event loop: a bcrypt hash of cost 12 takes ~300 ms in JavaScript,
// SHA-crypt and MD5-crypt milliseconds, and a handful of clients sending wrong passwords in a loop
// would stall every other request. A small pool of worker threads (made on the first check,
// unref'd, terminated at shutdown) computes them. Checks wait in one FIFO per client address,
// served in turn, so clients hammering from one address delay the others by one check each, not
// by their whole backlog. The wait is bounded: past maxPending checks in all, or maxPerClient
// from one address, a check is refused at once (AuthBusyError: 503), and a check that has
// not finished within the timeout (waiting included) is refused too, its worker replaced if it
// was running.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AuthBusyError } from '../auth/types.js';

export interface VerifyPoolOptions {
  /** Worker threads, at most. */
  readonly size: number;
  /** Checks waiting or running, at most; one more is refused. */
  readonly maxPending: number;
  /** The same from one client address. */
  readonly maxPerClient: number;
  /** A check not answered within this time (waiting included) is refused. */
  readonly timeoutMs: number;
}

/** 1 worker on 2 cores (the server keeps one), 2 from 3 cores up. */
export const defaultPoolOptions = (): VerifyPoolOptions => ({
  size: Math.max(1, Math.min(2, availableParallelism() - 1)),
  maxPending: 128,
  maxPerClient: 32,
  timeoutMs: 10_000,
});

/** A check under way: its result, and cancel() for a client that went away. */
export interface PendingCheck {
  readonly result: Promise<boolean>;
  cancel(): void;
}

interface Job {
  readonly id: number;
  readonly client: string;
  readonly password: string;
  readonly hash: string;
  resolve(ok: boolean): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
  slot: Slot | null;
  done: boolean;
}

interface Slot {
  readonly worker: Worker;
  /** The job the worker computes (it may have been cancelled: the worker is busy until it answers). */
  job: Job | null;
}

/** How a worker starts: the compiled .js, or the .ts sources through tsx (LANTERN_FROM_SOURCE). */
function workerSource(): { code: string; eval: boolean } | URL {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './verify-worker.ts' : './verify-worker.js', import.meta.url);
  if (!fromSource) return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  return { eval: true, code: `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });` };
}

export class VerifyPool {
  private readonly opts: VerifyPoolOptions;
  private readonly slots: Slot[] = [];
  /** Waiting checks by client address; `turns` lists the addresses with some, next served first. */
  private readonly queues = new Map<string, Job[]>();
  private readonly turns: string[] = [];
  /** Checks waiting or running by client address. */
  private readonly perClient = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  /** Checks waiting or running (cancelled ones not counted). */
  pending = 0;
  /** Checks refused because the queue was full. */
  refused = 0;
  /** Checks refused because they took longer than the timeout. */
  timedOut = 0;
  /** Workers that failed (crashed or could not start). */
  workerFailures = 0;

  constructor(opts: VerifyPoolOptions = defaultPoolOptions()) { this.opts = opts; }

  get workers(): number { return this.slots.length; }

  /** Check `password` (a byte string) against `hash` in a worker, for the client at `client`. */
  check(password: string, hash: string, client = ''): PendingCheck {
    if (this.closed) return { result: Promise.reject(new AuthBusyError('the server is stopping')), cancel() {} };
    const mine = this.perClient.get(client) ?? 0;
    if (this.pending >= this.opts.maxPending || mine >= this.opts.maxPerClient) {
      this.refused++;
      const why = this.pending >= this.opts.maxPending ? `${this.pending} password checks are waiting` : `${mine} password checks of ${client || 'one client'} are waiting`;
      return { result: Promise.reject(new AuthBusyError(why)), cancel() {} };
    }
    let job!: Job;
    const result = new Promise<boolean>((resolve, reject) => {
      job = { id: this.nextId++, client, password, hash, resolve, reject, timer: null, slot: null, done: false };
    });
    job.timer = setTimeout(() => this.expire(job), this.opts.timeoutMs);
    job.timer.unref();
    this.pending++;
    this.perClient.set(client, mine + 1);
    const q = this.queues.get(client);
    if (q) q.push(job);
    else { this.queues.set(client, [job]); this.turns.push(client); }
    this.dispatch();
    return { result, cancel: () => this.cancel(job) };
  }

  /** Checks waiting for a worker (not yet running). */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** The next waiting check, taking the client addresses in turn. */
  private next(): Job | undefined {
    const client = this.turns.shift();
    if (client === undefined) return undefined;
    const q = this.queues.get(client)!;
    const job = q.shift()!;
    if (q.length > 0) this.turns.push(client);
    else this.queues.delete(client);
    return job;
  }

  /** Take a waiting check out of its queue. */
  private unqueue(job: Job): void {
    const q = this.queues.get(job.client);
    const i = q ? q.indexOf(job) : -1;
    if (i < 0) return;
    q!.splice(i, 1);
    if (q!.length === 0) {
      this.queues.delete(job.client);
      this.turns.splice(this.turns.indexOf(job.client), 1);
    }
  }

  /** Refuse what waits and stop the workers (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (let job = this.next(); job; job = this.next()) this.settle(job, new AuthBusyError('the server is stopping'));
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.job) this.settle(s.job, new AuthBusyError('the server is stopping'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.turns.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= this.opts.size) return;
        slot = this.spawn();
      }
      const job = this.next()!;
      slot.job = job;
      job.slot = slot;
      slot.worker.postMessage({ id: job.id, password: job.password, hash: job.hash });
    }
  }

  private spawn(): Slot {
    const src = workerSource();
    const worker = src instanceof URL ? new Worker(src) : new Worker(src.code, { eval: true });
    worker.unref();
    const slot: Slot = { worker, job: null };
    this.slots.push(slot);
    worker.on('message', (m: { id: number; ok: boolean }) => {
      const job = slot.job;
      if (job === null || job.id !== m.id) return;
      slot.job = null;
      this.settle(job, m.ok === true);
      this.dispatch();
    });
    const lost = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // replaced on purpose (timeout) or closed
      this.slots.splice(i, 1);
      this.workerFailures++;
      if (slot.job) this.settle(slot.job, new Error(`password check worker failed: ${why}`));
      slot.job = null;
      this.dispatch();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    return slot;
  }

  private expire(job: Job): void {
    if (job.done) return;
    job.timer = null;
    this.timedOut++;
    const slot = job.slot;
    if (slot) {
      // Still computing: the worker cannot be interrupted, so it is replaced.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.job = null;
      void slot.worker.terminate();
    } else this.unqueue(job);
    this.settle(job, new AuthBusyError(`a password check took more than ${this.opts.timeoutMs} ms`));
    this.dispatch();
  }

  private cancel(job: Job): void {
    if (job.done) return;
    this.release(job);
    if (job.slot === null) this.unqueue(job);
    // A running job: its worker finishes it and the answer is dropped (the worker is busy until then).
  }

  /** The job no longer counts: done, its timer stopped, its places freed. */
  private release(job: Job): void {
    job.done = true;
    this.pending--;
    const n = (this.perClient.get(job.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(job.client, n);
    else this.perClient.delete(job.client);
    if (job.timer) clearTimeout(job.timer);
  }

  private settle(job: Job, outcome: boolean | Error): void {
    if (job.done) return;
    this.release(job);
    if (typeof outcome === 'boolean') job.resolve(outcome);
    else job.reject(outcome);
  }
}

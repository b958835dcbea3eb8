// The bounded FIFO a backend keeps for requests that found every connection busy (lighttpd 1.5's
// backlog; checklist E12): full → 503 at once, waited longer than timeoutMs → 504. One timer per
// queue, armed for the oldest entry only (every entry waits the same time, so deadlines are in order).
// Taking entries out never moves the timer: it fires at a deadline no later than the new oldest
// entry's and is then armed again for what is left. A busy queue (a pool whose every connection is
// in use, each answer taking the next entry) so sets about one timer per timeoutMs, not one per entry.

export interface QueueEntry {
  /** When it was queued (Date.now()). */
  queuedAtMs: number;
  /** It waited too long: answer 504. */
  queueTimedOut(): void;
}

export class WaitQueue<T extends QueueEntry> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer = (): void => this.expire();
  capacity: number;
  timeoutMs: number;

  constructor(capacity: number, timeoutMs: number) {
    this.capacity = capacity;
    this.timeoutMs = timeoutMs;
  }

  get length(): number { return this.items.length; }

  /** Queue `entry`; false when the queue is full. */
  push(entry: T, nowMs: number): boolean {
    if (this.items.length >= this.capacity) return false;
    entry.queuedAtMs = nowMs;
    this.items.push(entry);
    // A timer still armed fires no later than this entry's deadline (it was set for an older one).
    if (this.timer === null) this.arm();
    return true;
  }

  /** The oldest entry, still queued. */
  peek(): T | undefined { return this.items[0]; }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Take `entry` out (its client went away). */
  remove(entry: T): boolean {
    const i = this.items.indexOf(entry);
    if (i < 0) return false;
    if (i === 0) this.shift();
    else this.items.splice(i, 1);
    return true;
  }

  /** Stop the timer and hand back everything still queued. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    this.disarm();
    return all;
  }

  private arm(): void {
    const head = this.items[0];
    if (head === undefined || this.timeoutMs <= 0) return;
    this.timer = setTimeout(this.onTimer, Math.max(0, head.queuedAtMs + this.timeoutMs - Date.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    while (this.items.length > 0 && this.items[0]!.queuedAtMs + this.timeoutMs <= now) {
      this.items.shift()!.queueTimedOut();
    }
    // (An answer to a timed-out entry may have queued another one, and armed the timer.)
    if (this.items.length > 0 && this.timer === null) this.arm();
  }
}

// Counters, latency histograms and the once-a-second samples of lantern's process, for the soak
// report. Memory stays bounded however long the run: latencies go into a log-scale histogram,
// answered request ids into a bitmap, example failures are capped.

/** --verbose: chaos events and unexpected outcomes on stderr, with the wall-clock time. */
export const verbose = {
  on: false,
  log(text: string): void {
    if (this.on) process.stderr.write(`soak ${new Date().toISOString().slice(11, 23)} ${text}\n`);
  },
};

/** Latencies in a histogram with 1 % wide buckets from 10 µs to ~20 min; percentiles within 1 %. */
export class Histogram {
  private static readonly BASE = Math.log(1.01);
  private readonly counts = new Float64Array(2400);
  count = 0;
  max = 0;

  add(ms: number): void {
    const us = Math.max(10, ms * 1000);
    const i = Math.min(this.counts.length - 1, Math.ceil(Math.log(us / 10) / Histogram.BASE));
    this.counts[i]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The latency (ms) at or below which `p` percent of the values are; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const want = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return Math.min(this.max, (10 * Math.exp(i * Histogram.BASE)) / 1000);
    }
    return this.max;
  }
}

/** One bit per request sequence number: was it answered already? */
export class SeenBits {
  private bits = new Uint8Array(1 << 16);

  /** Marks `seq`; returns true if it was marked before. */
  mark(seq: number): boolean {
    const byte = seq >>> 3;
    if (byte >= this.bits.length) {
      let size = this.bits.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bits);
      this.bits = grown;
    }
    const bit = 1 << (seq & 7);
    const before = (this.bits[byte]! & bit) !== 0;
    this.bits[byte]! |= bit;
    return before;
  }
}

/** What happened to the requests of one kind. */
export class KindStats {
  sent = 0;
  /** Answers by status code. */
  status = new Map<number, number>();
  /** Connection ended before a whole answer. */
  closed = 0;
  /** ...of which before any byte of an answer. */
  closedSilent = 0;
  /** Could not connect. */
  connectErrors = 0;
  /** Hung past the hard per-request timeout. */
  timeouts = 0;
  /** Answers that fail verification (another request's id, a wrong body) or malformed bytes. */
  wrong = 0;
  /** Closed on purpose by the client (chaos clients that abort). */
  aborted = 0;

  get answered(): number {
    let n = 0;
    for (const c of this.status.values()) n += c;
    return n;
  }
}

/** A sample of lantern, once a second. */
export interface Sample {
  /** Seconds since the load started (negative: before it). */
  t: number;
  fds: number;
  rssKb: number;
  /** From the status page; null when it did not answer within its timeout. */
  up: { connections: number; active: number; idle: number; queued: number; clients: number; membersUp: number; backends: number } | null;
}

export class Stats {
  readonly kinds = new Map<string, KindStats>();
  readonly latency = new Histogram();
  /** Latency of requests that asked for no delay and no drip. */
  readonly latencyUndelayed = new Histogram();
  readonly members = new Map<string, number>();
  readonly seen = new SeenBits();
  duplicates = 0;
  unsolicited = 0;
  unsolicitedExamples: string[] = [];
  unexpectedStatus = 0;
  readonly examples: string[] = [];
  readonly samples: Sample[] = [];
  statusFailures = 0;

  kind(name: string): KindStats {
    let k = this.kinds.get(name);
    if (!k) this.kinds.set(name, (k = new KindStats()));
    return k;
  }

  /** Connections closed without an answer byte, for plain requests (a few shown in the report). */
  readonly closedExamples: string[] = [];
  closedExample(text: string): void {
    if (this.closedExamples.length < 10) this.closedExamples.push(text);
  }

  example(text: string): void {
    verbose.log(text);
    if (this.examples.length < 20) this.examples.push(text);
  }

  total(pick: (k: KindStats) => number, filter: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const [name, k] of this.kinds) if (filter(name)) n += pick(k);
    return n;
  }

  statusTotals(filter: (name: string) => boolean = () => true): Map<number, number> {
    const out = new Map<number, number>();
    for (const [name, k] of this.kinds) {
      if (!filter(name)) continue;
      for (const [s, c] of k.status) out.set(s, (out.get(s) ?? 0) + c);
    }
    return new Map([...out].sort((a, b) => a[0] - b[0]));
  }
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Reads lantern's open file descriptors and resident memory from /proc; null once it is gone. */
export function readProc(pid: number, readdir: (p: string) => string[], readFile: (p: string) => string): { fds: number; rssKb: number } | null {
  try {
    const fds = readdir(`/proc/${pid}/fd`).length;
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFile(`/proc/${pid}/status`));
    return { fds, rssKb: m ? Number(m[1]) : NaN };
  } catch {
    return null;
  }
}

/** A left-aligned text table. */
export function table(rows: Array<Array<string | number>>, rightFrom = 1): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

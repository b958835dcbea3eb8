// Interleaved wrk rounds over a set of targets: every round visits every target once, in an
// order rotated each round, so drift on the machine (heat, other load) spreads over all targets.
import { median, runWrk, type WrkResult } from '../wrk.js';
import { usable, type Target } from './targets.js';

export interface LoadOptions {
  rounds: number;
  durationSec: number;
  connections: number;
  warmupSec: number;
}

/** Per target, one entry per round: the wrk summary, or undefined when it was not measured. */
export type RoundResults = Map<string, Array<WrkResult | undefined>>;

/** Round r's visiting order: the list rotated by r - 1 (for two targets: forward, reverse, ...). */
export function roundOrder<T>(xs: readonly T[], round: number): T[] {
  const k = (round - 1) % Math.max(xs.length, 1);
  return [...xs.slice(k), ...xs.slice(0, k)];
}

async function measure(t: Target, url: string, durationSec: number, connections: number): Promise<WrkResult | undefined> {
  try {
    return await runWrk(url, { threads: 1, connections, durationSec });
  } catch (err) {
    t.failure = `wrk failed: ${(err as Error).message.split('\n')[0]}`;
    return undefined;
  }
}

/** Warm up then measure `urlPath` on each usable target for `rounds` interleaved rounds. */
export async function wrkRounds(caseName: string, targets: Target[], urlPath: string, opts: LoadOptions): Promise<RoundResults> {
  const results: RoundResults = new Map(targets.map((t) => [t.name, []]));
  const url = (t: Target) => `http://127.0.0.1:${t.port}${urlPath}`;
  const width = Math.max(10, ...targets.map((t) => t.name.length));
  // Warm up each target (JIT, pools) before measuring.
  for (const t of targets) if (usable(t)) await measure(t, url(t), opts.warmupSec, opts.connections);
  for (let round = 1; round <= opts.rounds; round++) {
    for (const t of roundOrder(targets, round)) {
      if (!usable(t)) { results.get(t.name)!.push(undefined); continue; }
      const r = await measure(t, url(t), opts.durationSec, opts.connections);
      results.get(t.name)!.push(r);
      if (r) process.stdout.write(`${caseName} round ${round} ${t.name.padEnd(width)} ${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}\n`);
      else process.stdout.write(`${caseName} round ${round} ${t.name.padEnd(width)} ${t.failure}\n`);
    }
  }
  return results;
}

function measured(rs: Array<WrkResult | undefined>): WrkResult[] {
  return rs.filter((r): r is WrkResult => r !== undefined);
}

/** Median of one wrk field over the measured rounds, or NaN. */
export function medianOf(rs: Array<WrkResult | undefined>, field: 'rps' | 'p99Ms'): number {
  const xs = measured(rs).map((r) => r[field]);
  return xs.length ? median(xs) : NaN;
}

/** Total errors (non-2xx and socket errors) over the measured rounds. */
export function errorsOf(rs: Array<WrkResult | undefined>): number {
  return measured(rs).reduce((sum, r) => sum + r.errors, 0);
}

/**
 * Median over rounds of a/b for one field, taking a and b from the same round (the ratio the
 * issue's targets are stated in), or NaN when no round measured both.
 */
export function sameRoundRatio(a: Array<WrkResult | undefined>, b: Array<WrkResult | undefined>, field: 'rps' | 'p99Ms'): number {
  const xs: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x && y && y[field] > 0) xs.push(x[field] / y[field]);
  }
  return xs.length ? median(xs) : NaN;
}

/** Per round, the best of several targets' results for a field (e.g. the best Node peer). */
export function bestPerRound(series: Array<Array<WrkResult | undefined>>, field: 'rps'): Array<WrkResult | undefined> {
  const rounds = Math.max(0, ...series.map((s) => s.length));
  const best: Array<WrkResult | undefined> = [];
  for (let i = 0; i < rounds; i++) {
    let b: WrkResult | undefined;
    for (const s of series) if (s[i] && (!b || s[i]![field] > b[field])) b = s[i];
    best.push(b);
  }
  return best;
}

/** One measurement of a gateway case (fastcgi, cgi): its result, or why it failed, and notes. */
export interface GatewayMeasurement<R> { result?: R; failure?: string; notes: string[] }

/** Per `<front end> -c<N>`, one entry per round; the last failure of each; every note once. */
export interface GatewayRounds<R> {
  results: Map<string, Array<R | undefined>>;
  failures: Map<string, string>;
  notes: string[];
}

/** The key of a front end at a connection count in GatewayRounds. */
export const gatewayKey = (fe: string, connections: number): string => `${fe} -c${connections}`;

/**
 * The gateway cases' rounds: each front end at each connection count once a round, front ends in
 * an order rotated each round, progress printed as `<case> round N ...` (`line` formats one
 * result), notes kept once each. `afterRound` runs at the end of every round (it may note too).
 */
export async function gatewayRounds<F extends string, R>(
  caseName: string,
  frontEnds: readonly F[],
  connections: readonly number[],
  rounds: number,
  measure: (fe: F, connections: number) => Promise<GatewayMeasurement<R>>,
  line: (r: R) => string,
  afterRound?: (round: number, note: (n: string) => void) => Promise<void>,
): Promise<GatewayRounds<R>> {
  const out: GatewayRounds<R> = { results: new Map(), failures: new Map(), notes: [] };
  for (const c of connections) for (const fe of frontEnds) out.results.set(gatewayKey(fe, c), []);
  const width = Math.max(...frontEnds.map((f) => f.length));
  for (let round = 1; round <= rounds; round++) {
    const note = (n: string): void => {
      process.stdout.write(`${caseName} round ${round} ${n}\n`);
      if (!out.notes.includes(n)) out.notes.push(n);
    };
    for (const c of connections) {
      for (const fe of roundOrder(frontEnds, round)) {
        const m = await measure(fe, c);
        out.results.get(gatewayKey(fe, c))!.push(m.result);
        if (m.failure) {
          out.failures.set(gatewayKey(fe, c), m.failure);
          out.notes.push(`round ${round}: ${fe} -c${c} not measured: ${m.failure}`);
        }
        for (const n of m.notes) note(n);
        const label = `${caseName} round ${round} -c${String(c).padEnd(2)} ${fe.padEnd(width)}`;
        process.stdout.write(`${label} ${m.result !== undefined ? line(m.result) : m.failure}\n`);
      }
    }
    if (afterRound) await afterRound(round, note);
  }
  return out;
}

// Cases hello and 1m (issue 4): wrk through each proxy to the nginx origin, as ratios to nginx
// as a proxy in the same round. Goals: hello, lantern >= 0.6x nginx and >= 2x the best Node peer;
// 1 MiB, lantern >= 0.9x nginx with a p99 latency <= 1.5x nginx's. hello also measures raw-relay, a
// Node process relaying raw bytes with no parsing (the ceiling for one Node process): reported
// against nginx, lantern and 2x the best Node peer, with no goal of its own.
import type { WrkResult } from '../wrk.js';
import { fmt, fmtRatio, verdict, type CaseReport } from './report.js';
import { NODE_PEERS, REFERENCE, type Target } from './targets.js';
import { bestPerRound, errorsOf, medianOf, sameRoundRatio, wrkRounds, type LoadOptions, type RoundResults } from './wrk-rounds.js';

type Series = Array<WrkResult | undefined>;

const HELLO_GOAL_VS_NGINX = 0.6;
const HELLO_GOAL_VS_NODE = 2;
const ONE_MIB_GOAL_VS_NGINX = 0.9;
const ONE_MIB_GOAL_P99 = 1.5;

function failedRow(t: Target, rs: Series, width: number): string[] | undefined {
  if (rs.some(Boolean)) return undefined;
  return [t.name, t.failure ?? 'not measured', ...Array<string>(width - 2).fill('')];
}

function goalCheck(x: number, ok: (x: number) => boolean): boolean | undefined {
  return Number.isFinite(x) ? ok(x) : undefined;
}

function lanternNotes(results: RoundResults, rows: Array<[string, number, (x: number) => boolean, string]>): string[] {
  if (!results.has('lantern')) return [];
  return rows.map(([label, x, ok, goal]) => `${label}: ${fmtRatio(x)} (goal ${goal}: ${verdict(goalCheck(x, ok))})`);
}

function title(name: string, what: string, opts: LoadOptions): string {
  return `case ${name}: ${what}, keep-alive, wrk -t1 -c${opts.connections} -d${opts.durationSec}s, ${opts.rounds} interleaved rounds, medians, ratios to ${REFERENCE} in the same round`;
}

/** Whether some round measured both series (a note is printed only then). */
function bothMeasured(a: Series, b: Series): boolean {
  return a.some((x, i) => Boolean(x && b[i]));
}

/** hello's notes on raw-relay, each only when both of its sides were measured in a same round. */
function relayNotes(relay: Series, ref: Series, lantern: Series, bestNode: Series): string[] {
  const notes: string[] = [];
  if (bothMeasured(relay, ref)) notes.push(`raw-relay / ${REFERENCE}: ${fmtRatio(sameRoundRatio(relay, ref, 'rps'))} (the ceiling for one Node process; reported, no goal)`);
  if (bothMeasured(lantern, relay)) notes.push(`lantern / raw-relay: ${fmtRatio(sameRoundRatio(lantern, relay, 'rps'))} (reported, no goal)`);
  // The median over rounds of 2 * best / relay: doubling every round's ratio doubles the median.
  if (bothMeasured(bestNode, relay)) {
    notes.push(`${HELLO_GOAL_VS_NODE} x best Node peer / raw-relay: ${fmtRatio(HELLO_GOAL_VS_NODE * sameRoundRatio(bestNode, relay, 'rps'))} (above 1.00x means the ${HELLO_GOAL_VS_NODE}x goal asks for more than a Node relay with no HTTP work reaches)`);
  }
  return notes;
}

/** Case hello: the 6-byte `return 200 "hello\n"` of the origin through each proxy. */
export async function runHello(targets: Target[], opts: LoadOptions): Promise<CaseReport> {
  const results = await wrkRounds('hello', targets, '/hello', opts);
  const ref = results.get(REFERENCE) ?? [];
  const header = ['target', 'req/s', 'p99 ms', 'errors', `ratio to ${REFERENCE}`];
  const rows = targets.map((t) => {
    const rs = results.get(t.name)!;
    return failedRow(t, rs, header.length)
      ?? [t.name, fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(errorsOf(rs)), fmtRatio(sameRoundRatio(rs, ref, 'rps'))];
  });
  const lantern = results.get('lantern') ?? [];
  const bestNode = bestPerRound(NODE_PEERS.filter((n) => results.has(n)).map((n) => results.get(n)!), 'rps');
  return {
    title: title('hello', 'origin `return 200 "hello\\n"` through each proxy', opts),
    header,
    rows,
    notes: lanternNotes(results, [
      ['lantern / nginx-proxy', sameRoundRatio(lantern, ref, 'rps'), (x) => x >= HELLO_GOAL_VS_NGINX, `>= ${HELLO_GOAL_VS_NGINX}x`],
      ['lantern / best Node peer', sameRoundRatio(lantern, bestNode, 'rps'), (x) => x >= HELLO_GOAL_VS_NODE, `>= ${HELLO_GOAL_VS_NODE}x`],
    ]).concat(results.has('lantern-2w')
      ? [`lantern with server.max-worker = 2 / nginx-proxy (1 worker): ${fmtRatio(sameRoundRatio(results.get('lantern-2w')!, ref, 'rps'))} (reported, no goal)`]
      : []).concat(relayNotes(results.get('raw-relay') ?? [], ref, lantern, bestNode)),
  };
}

/** Case 1m: the origin's 1 MiB static file through each proxy. */
export async function runOneMib(targets: Target[], opts: LoadOptions): Promise<CaseReport> {
  const results = await wrkRounds('1m', targets, '/1m.bin', opts);
  const ref = results.get(REFERENCE) ?? [];
  const header = ['target', 'req/s', 'p99 ms', 'errors', `ratio to ${REFERENCE}`, `p99 ratio to ${REFERENCE}`];
  const rows = targets.map((t) => {
    const rs = results.get(t.name)!;
    return failedRow(t, rs, header.length)
      ?? [t.name, fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(errorsOf(rs)),
        fmtRatio(sameRoundRatio(rs, ref, 'rps')), fmtRatio(sameRoundRatio(rs, ref, 'p99Ms'))];
  });
  const lantern = results.get('lantern') ?? [];
  return {
    title: title('1m', '1 MiB static file (random bytes, sendfile at the origin) through each proxy', opts),
    header,
    rows,
    notes: lanternNotes(results, [
      ['lantern / nginx-proxy req/s', sameRoundRatio(lantern, ref, 'rps'), (x) => x >= ONE_MIB_GOAL_VS_NGINX, `>= ${ONE_MIB_GOAL_VS_NGINX}x`],
      ['lantern p99 / nginx-proxy p99', sameRoundRatio(lantern, ref, 'p99Ms'), (x) => x <= ONE_MIB_GOAL_P99, `<= ${ONE_MIB_GOAL_P99}x`],
    ]),
  };
}

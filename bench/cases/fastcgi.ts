// Case fastcgi: a one-line PHP hello from php-cgi (PHP_FCGI_CHILDREN=4) through three FastCGI
// front ends: lantern (mod_fastcgi, lighttpd 1.4 syntax), nginx (fastcgi_pass to an upstream
// with keepalive 4, fastcgi_keep_conn on) and lighttpd 1.4 (mod_fastcgi). Every measurement
// (front end x wrk -c4 / -c50 x round) gets a fresh php-cgi, started the same way for all three
// (bench/cases/php-fcgi.ts), and a fresh front end: started, checked, warmed up, measured with
// `wrk -t1 -cN --latency --timeout 2s`, then both stopped and the php-cgi process group checked
// empty. Front ends are interleaved within a round (order rotated each round); req/s and p99 are
// medians over rounds, timeouts and errors sums, ratios to nginx taken in the same round.
// Goals (the issue): lantern >= 1.0x nginx at -c4 and at -c50; at -c50 a p99 <= 6 ms and no wrk
// timeouts. lighttpd's ratios are reported, and so are raw-fastcgi's (bench/peers/raw-fastcgi.mjs:
// not a gateway but the least a Node process does to pass these requests through, so the report
// shows how much of a goal any Node process can reach on the machine).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../processes.js';
import { median, runWrkCounted, type WrkCounts } from '../wrk.js';
import { ROOT, writeFastcgiConf, writeNginxConf } from './fixtures.js';
import { launch, stop, type Launch } from './launch.js';
import { findLighttpd, findPhpCgi, PHP_FCGI_CHILDREN, startPhpPool, stopPhpPool } from './php-fcgi.js';
import { fmt, fmtRatio, verdict, type CaseReport } from './report.js';
import { checkAnswer } from './targets.js';
import { gatewayKey, gatewayRounds, type LoadOptions } from './wrk-rounds.js';

export const FASTCGI_FRONT_ENDS = ['lantern', 'nginx', 'lighttpd', 'raw-fastcgi'] as const;
type FrontEnd = (typeof FASTCGI_FRONT_ENDS)[number];
/** wrk's connections: as many as php-cgi has children, and many more. */
export const FASTCGI_CONNECTIONS = [4, 50] as const;
const REFERENCE: FrontEnd = 'nginx';
/** wrk --timeout: a response slower than this counts as a timeout, not as a latency. */
const WRK_TIMEOUT_SEC = 2;
const GOAL_VS_NGINX = 1.0;
const GOAL_P99_MS = 6;
const GOAL_P99_CONNECTIONS = 50;

const SCRIPT = 'hello.php';
const SCRIPT_SOURCE = '<?php echo "hello\\n";\n';
const SCRIPT_OUTPUT = 'hello\n';

/** wrk's summary with the timeouts apart: `errors` here is non-2xx + connect, read and write errors. */
export type FcgiResult = WrkCounts;
type Series = Array<FcgiResult | undefined>;

interface Tools { php: string; nginx?: string; lighttpd?: string }

/** One measurement's outcome; `notes` say what went wrong around it (stderr, php-cgi processes that outlived SIGTERM). */
interface Measurement { result?: FcgiResult; failure?: string; notes: string[] }

function runWrkFcgi(port: number, connections: number, durationSec: number): Promise<FcgiResult> {
  return runWrkCounted(`http://127.0.0.1:${port}/${SCRIPT}`, { connections, durationSec, timeoutSec: WRK_TIMEOUT_SEC });
}

function versionOf(cmd: string | undefined, args: string[]): string {
  if (!cmd) return 'missing';
  const out = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n')[0].replace(/\s*(\(built:|Copyright|- a light).*$/, '').trim();
}

async function startFrontEnd(fe: FrontEnd, dir: string, port: number, socket: string, tools: Tools): Promise<Launch> {
  if (fe === 'lantern') {
    const conf = writeFastcgiConf(dir, 'lantern-fastcgi', port, socket);
    return launch(process.execPath, [path.join(ROOT, 'bin/lantern'), '-D', '-f', conf], port);
  }
  if (fe === 'nginx') {
    if (!tools.nginx) return { ok: false, reason: 'skipped: nginx is missing (apt-get install nginx)' };
    const conf = writeNginxConf(dir, 'nginx-fastcgi', { port, socket });
    return launch(tools.nginx, ['-p', dir, '-c', conf, '-e', 'stderr'], port);
  }
  if (fe === 'raw-fastcgi') {
    const args = [path.join(ROOT, 'bench/peers/raw-fastcgi.mjs'), String(port), socket, path.join(dir, SCRIPT), String(PHP_FCGI_CHILDREN)];
    return launch(process.execPath, args, port);
  }
  if (!tools.lighttpd) return { ok: false, reason: 'skipped: lighttpd is missing (apt-get install lighttpd)' };
  const conf = writeFastcgiConf(dir, 'lighttpd-fastcgi', port, socket);
  return launch(tools.lighttpd, ['-D', '-f', conf], port);
}

/** Fresh php-cgi, fresh front end, check, warm up, measure, stop both, check php-cgi is gone. */
async function measureOnce(fe: FrontEnd, connections: number, dir: string, tools: Tools, opts: LoadOptions): Promise<Measurement> {
  const socket = path.join(dir, 'php-fcgi.sock');
  const notes: string[] = [];
  const pool = await startPhpPool(tools.php, socket);
  if ('failure' in pool) return { failure: pool.failure, notes };
  let m: Measurement = { notes };
  try {
    const port = await freePort();
    const front = await startFrontEnd(fe, dir, port, socket, tools);
    if (!front.ok) return { failure: front.reason, notes };
    try {
      const failed = await checkAnswer(port, `/${SCRIPT}`, SCRIPT_OUTPUT);
      if (failed !== null) {
        m = { failure: failed, notes };
      } else {
        await runWrkFcgi(port, connections, opts.warmupSec);
        m = { result: await runWrkFcgi(port, connections, opts.durationSec), notes };
      }
    } catch (err) {
      m = { failure: (err as Error).message, notes };
    } finally {
      const tail = front.stderrTail().trim();
      if (tail && (m.failure || m.result?.errors || m.result?.timeouts)) notes.push(`${fe} stderr: ${tail.split('\n').slice(-3).join(' / ')}`);
      await stop(front.child);
    }
    return m;
  } finally {
    const stopped = await stopPhpPool(pool);
    if (stopped.killed) notes.push(`php-cgi: ${stopped.killed} process(es) needed SIGKILL after ${fe} -c${connections}`);
    if (stopped.left.length) notes.push(`php-cgi: process(es) ${stopped.left.join(', ')} still alive after SIGKILL (${fe} -c${connections})`);
  }
}

const key = (fe: FrontEnd, c: number): string => gatewayKey(fe, c);

function medianOf(rs: Series, field: 'rps' | 'p99Ms'): number {
  const xs = rs.filter((r): r is FcgiResult => r !== undefined).map((r) => r[field]);
  return xs.length ? median(xs) : NaN;
}

function sumOf(rs: Series, field: 'errors' | 'timeouts'): number {
  return rs.reduce((s, r) => s + (r ? r[field] : 0), 0);
}

function sameRoundRatio(a: Series, b: Series, field: 'rps' | 'p99Ms'): number {
  const xs: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] && b[i] && b[i]![field] > 0) xs.push(a[i]![field] / b[i]![field]);
  return xs.length ? median(xs) : NaN;
}

const measuredAny = (rs: Series) => rs.some(Boolean);

export async function runFastcgi(dir: string, nginx: string | undefined, opts: LoadOptions): Promise<CaseReport> {
  const php = findPhpCgi();
  const tools: Tools = { php: php ?? '', nginx, lighttpd: findLighttpd() };
  const title = `case fastcgi: php-cgi (PHP_FCGI_CHILDREN=${PHP_FCGI_CHILDREN}) \`${SCRIPT_SOURCE.trim()}\` through each FastCGI front end over a unix socket, a fresh php-cgi and front end per measurement, keep-alive, wrk -t1 -c${FASTCGI_CONNECTIONS.join('/-c')} -d${opts.durationSec}s --timeout ${WRK_TIMEOUT_SEC}s, ${opts.rounds} interleaved rounds, medians, ratios to ${REFERENCE} in the same round`;
  const header = ['front end', 'wrk -c', 'req/s', 'p99 ms', 'timeouts', 'errors', `ratio to ${REFERENCE}`];
  if (!php) {
    return { title, header, rows: [['all', '', 'skipped: php-cgi is missing (apt-get install php-cgi)', '', '', '', '']], notes: [] };
  }
  fs.writeFileSync(path.join(dir, SCRIPT), SCRIPT_SOURCE);
  const { results, failures, notes } = await gatewayRounds(
    'fastcgi', FASTCGI_FRONT_ENDS, FASTCGI_CONNECTIONS, opts.rounds,
    (fe, c) => measureOnce(fe, c, dir, tools, opts),
    (r) => `${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  timeouts ${r.timeouts}  errors ${r.errors}`,
  );
  const rows: string[][] = [];
  for (const c of FASTCGI_CONNECTIONS) {
    const ref = results.get(key(REFERENCE, c))!;
    for (const fe of FASTCGI_FRONT_ENDS) {
      const rs = results.get(key(fe, c))!;
      if (!measuredAny(rs)) { rows.push([fe, String(c), failures.get(key(fe, c)) ?? 'not measured', '', '', '', '']); continue; }
      rows.push([fe, String(c), fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(sumOf(rs, 'timeouts')), String(sumOf(rs, 'errors')), fmtRatio(sameRoundRatio(rs, ref, 'rps'))]);
    }
  }
  return { title, header, rows, notes: [...goalNotes(results, opts), ...notes, ...aboutNotes(tools, opts)] };
}

function goalNotes(results: Map<string, Series>, opts: LoadOptions): string[] {
  const out: string[] = [];
  const check = (x: number, ok: (x: number) => boolean) => verdict(Number.isFinite(x) ? ok(x) : undefined);
  for (const c of FASTCGI_CONNECTIONS) {
    const x = sameRoundRatio(results.get(key('lantern', c))!, results.get(key(REFERENCE, c))!, 'rps');
    out.push(`lantern / ${REFERENCE} at -c${c}: ${fmtRatio(x)} (goal >= ${GOAL_VS_NGINX.toFixed(1)}x: ${check(x, (v) => v >= GOAL_VS_NGINX)})`);
  }
  const hi = results.get(key('lantern', GOAL_P99_CONNECTIONS))!;
  const p99 = medianOf(hi, 'p99Ms');
  out.push(`lantern p99 at -c${GOAL_P99_CONNECTIONS}: ${fmt(p99, 2)} ms (goal <= ${GOAL_P99_MS} ms: ${check(p99, (v) => v <= GOAL_P99_MS)}; per round ${hi.map((r) => (r ? fmt(r.p99Ms, 2) : 'n/a')).join(', ')})`);
  const timeouts = sumOf(hi, 'timeouts');
  out.push(`lantern wrk timeouts at -c${GOAL_P99_CONNECTIONS}: ${measuredAny(hi) ? timeouts : 'n/a'} over ${opts.rounds} round(s) (goal 0: ${verdict(measuredAny(hi) ? timeouts === 0 : undefined)})`);
  const lighttpd = FASTCGI_CONNECTIONS.map((c) => `${fmtRatio(sameRoundRatio(results.get(key('lighttpd', c))!, results.get(key(REFERENCE, c))!, 'rps'))} at -c${c}`);
  out.push(`lighttpd 1.4 / ${REFERENCE}: ${lighttpd.join(', ')} (reported, no goal)`);
  const ratios = (a: FrontEnd, b: FrontEnd) => FASTCGI_CONNECTIONS.map((c) => `${fmtRatio(sameRoundRatio(results.get(key(a, c))!, results.get(key(b, c))!, 'rps'))} at -c${c}`).join(', ');
  const rawP99 = medianOf(results.get(key('raw-fastcgi', GOAL_P99_CONNECTIONS))!, 'p99Ms');
  out.push(`raw-fastcgi / ${REFERENCE}: ${ratios('raw-fastcgi', REFERENCE)}, p99 ${fmt(rawP99, 2)} ms at -c${GOAL_P99_CONNECTIONS} (the ceiling for one Node process; reported, no goal)`);
  out.push(`lantern / raw-fastcgi: ${ratios('lantern', 'raw-fastcgi')} (reported, no goal)`);
  return out;
}

function aboutNotes(tools: Tools, opts: LoadOptions): string[] {
  return [
    `each measurement: a fresh \`php-cgi -b <unix socket>\` (PHP_FCGI_CHILDREN=${PHP_FCGI_CHILDREN}, PHP_FCGI_MAX_REQUESTS=0), a fresh front end, one GET checked for "hello\\n", a ${opts.warmupSec} s wrk warm-up at the same -c, the ${opts.durationSec} s wrk run; then both stopped and php-cgi's process group checked empty`,
    'timeouts: wrk responses slower than 2 s (not in the latency figures); errors: non-2xx responses and connect, read and write errors; both summed over the rounds',
    `versions: ${versionOf(tools.php, ['-v'])}; ${versionOf(tools.lighttpd, ['-v'])}`,
  ];
}

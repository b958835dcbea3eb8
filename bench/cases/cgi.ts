// Case cgi: a perl hello script (`print "Content-Type: text/plain\r\n\r\nhello\n"`) run as a CGI
// process per request by two front ends given the same lighttpd 1.4 config
// (server.modules = ( "mod_cgi" ), cgi.assign = ( ".pl" => "/usr/bin/perl" )): lantern (mod_cgi on
// proxy-core's exec: transport) and lighttpd 1.4 (mod_cgi). nginx has no CGI. Every measurement
// (front end x wrk -c4 / -c16 x round) gets a fresh front end: started, checked, warmed up,
// measured with `wrk -t1 -cN --latency --timeout 2s`, with the CPU time of the front end and of
// its reaped children (the scripts) read from /proc around the measured run; then the front end's
// scripts waited for, the front end stopped, and no script process left checked. Front ends are
// interleaved within a round (order rotated each round); req/s and p99 are medians over rounds,
// ratios lantern / lighttpd taken in the same round. lantern runs with bench/peers/spawn-timer.mjs
// preloaded, which adds up the time its event loop spends inside child_process.spawn(). Each
// round also times the process start on its own (bench/peers/spawn-cost.mjs): the script run by
// sh, and by Node's child_process.spawn as lantern runs it, one at a time.
// Goal (the issue): lantern >= 1.0x lighttpd req/s at -c4 and at -c16.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../processes.js';
import { median, runWrkCounted, type WrkCounts } from '../wrk.js';
import { childrenOf, frontEndCpuTimes, processesRunning, waitUntilNone, type CpuTimes } from './cgi-processes.js';
import { BENCH_DIR, ROOT, writeCgiConf } from './fixtures.js';
import { launch, stop, type Launch } from './launch.js';
import { findLighttpd } from './php-fcgi.js';
import { readRssBytes } from './process-watch.js';
import { fmt, fmtRatio, verdict, type CaseReport } from './report.js';
import { checkAnswer } from './targets.js';
import { gatewayKey, gatewayRounds, medianOf, sameRoundRatio, type LoadOptions } from './wrk-rounds.js';

export const CGI_FRONT_ENDS = ['lantern', 'lighttpd'] as const;
type FrontEnd = (typeof CGI_FRONT_ENDS)[number];
/** wrk's connections: about one script per core, and many more scripts than cores. */
export const CGI_CONNECTIONS = [4, 16] as const;
const REFERENCE: FrontEnd = 'lighttpd';
/** wrk --timeout: a response slower than this counts as a timeout, not as a latency. */
const WRK_TIMEOUT_SEC = 2;
const GOAL_VS_LIGHTTPD = 1.0;

/** The interpreter the issue names; the script's #! line says the same. */
const PERL = '/usr/bin/perl';
const SCRIPT = 'hello.pl';
const SCRIPT_SOURCE = `#!${PERL}\nprint "Content-Type: text/plain\\r\\n\\r\\nhello\\n";\n`;
const SCRIPT_OUTPUT = 'hello\n';
/** Scripts still running when wrk stops finish on their own; how long to wait for them. */
const SCRIPTS_DONE_WAIT_MS = 5000;
/** Per round, the spawn-cost probe's runs (of each kind) and its time limit. */
const SPAWN_RUNS = 200;
const SPAWN_MAX_MS = 20_000;

/** A wrk run with the CPU the front end and its scripts used per request during it. */
interface CgiResult extends WrkCounts {
  frontCpuMsPerRequest: number;
  scriptCpuMsPerRequest: number;
  rssBytes: number;
  /** lantern only (NaN for lighttpd): mean time inside spawn() per call, and its share of the run's wall time. */
  spawnMsPerCall: number;
  spawnShareOfWall: number;
}
type Series = Array<CgiResult | undefined>;

interface Measurement { result?: CgiResult; failure?: string; notes: string[] }

/** bench/peers/spawn-cost.mjs's answer. */
interface SpawnCost {
  node: { runs: number; syncUs: number; wallUs: number };
  sh: { runs: number; perRunUs: number } | { failure: string };
  rssBytes: number;
}

function versionOf(cmd: string, args: string[]): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n').find((l) => l.trim())?.replace(/\s*- a light.*$/, '').trim() ?? 'unknown';
}

/** What bench/peers/spawn-timer.mjs wrote on one SIGUSR2: totals since lantern started. */
interface SpawnTotals { spawns: number; insideUs: number; atUs: number }

const spawnStatsFile = (dir: string, port: number) => path.join(dir, `lantern-spawn-stats-${port}.jsonl`);

async function startFrontEnd(fe: FrontEnd, dir: string, port: number, lighttpd: string | undefined): Promise<Launch> {
  const conf = writeCgiConf(dir, `${fe}-cgi`, port, PERL);
  if (fe === 'lantern') {
    const timer = pathToFileURL(path.join(BENCH_DIR, 'peers/spawn-timer.mjs')).href;
    const env = { ...process.env, LANTERN_BENCH_SPAWN_STATS: spawnStatsFile(dir, port) };
    return launch(process.execPath, ['--import', timer, path.join(ROOT, 'bin/lantern'), '-D', '-f', conf], port, { env });
  }
  if (!lighttpd) return { ok: false, reason: 'skipped: lighttpd is missing (apt-get install lighttpd)' };
  return launch(lighttpd, ['-D', '-f', conf], port);
}

/** Ask lantern's spawn timer for its totals (SIGUSR2) and wait, 2 s at most, for its line number `line`. */
async function spawnTotals(pid: number, file: string, line: number): Promise<SpawnTotals | undefined> {
  try { process.kill(pid, 'SIGUSR2'); } catch { return undefined; }
  const deadline = Date.now() + 2000;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= line) return JSON.parse(lines[line - 1]) as SpawnTotals;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Wait until the front end has no script left (running or unreaped), bounded; the pids left.
 * A child that is not a script (lantern's CGI launcher) is not waited for.
 */
function scriptsDone(pid: number, script: string): Promise<number[]> {
  const isScript = (p: number) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0').includes(script); } catch { return false; } };
  return waitUntilNone(() => [...childrenOf(pid).filter(isScript), ...processesRunning(script)], SCRIPTS_DONE_WAIT_MS);
}

function perRequestMs(before: CpuTimes, after: CpuTimes, requests: number): { front: number; script: number } {
  if (requests <= 0) return { front: NaN, script: NaN };
  return { front: (after.ownSec - before.ownSec) * 1000 / requests, script: (after.childrenSec - before.childrenSec) * 1000 / requests };
}

/** Fresh front end: check, warm up, measure with CPU times, wait for its scripts, stop it, check none is left. */
async function measureOnce(fe: FrontEnd, connections: number, dir: string, lighttpd: string | undefined, opts: LoadOptions): Promise<Measurement> {
  const notes: string[] = [];
  const script = path.join(dir, SCRIPT);
  const port = await freePort();
  const front = await startFrontEnd(fe, dir, port, lighttpd);
  if (!front.ok) return { failure: front.reason, notes };
  const url = `http://127.0.0.1:${port}/${SCRIPT}`;
  let m: Measurement = { notes };
  try {
    const failed = await checkAnswer(port, `/${SCRIPT}`, SCRIPT_OUTPUT);
    if (failed !== null) {
      m = { failure: failed, notes };
    } else {
      await runWrkCounted(url, { connections, durationSec: opts.warmupSec, timeoutSec: WRK_TIMEOUT_SEC });
      await scriptsDone(front.pid, script);
      const before = frontEndCpuTimes(front.pid, script);
      const statsFile = spawnStatsFile(dir, port);
      const spawnsBefore = fe === 'lantern' ? await spawnTotals(front.pid, statsFile, 1) : undefined;
      const r = await runWrkCounted(url, { connections, durationSec: opts.durationSec, timeoutSec: WRK_TIMEOUT_SEC });
      const spawnsAfter = fe === 'lantern' ? await spawnTotals(front.pid, statsFile, 2) : undefined;
      const spawn = spawnsBefore && spawnsAfter && spawnsAfter.spawns > spawnsBefore.spawns
        ? { perCall: (spawnsAfter.insideUs - spawnsBefore.insideUs) / 1000 / (spawnsAfter.spawns - spawnsBefore.spawns), share: (spawnsAfter.insideUs - spawnsBefore.insideUs) / (spawnsAfter.atUs - spawnsBefore.atUs) }
        : { perCall: NaN, share: NaN };
      if (fe === 'lantern' && !Number.isFinite(spawn.perCall)) {
        notes.push(spawnsBefore && spawnsAfter
          ? `lantern -c${connections}: no child_process.spawn() call during the run (its CGI launcher starts the scripts)`
          : `lantern -c${connections}: no spawn-timer totals (bench/peers/spawn-timer.mjs)`);
      }
      const unreaped = await scriptsDone(front.pid, script);
      if (unreaped.length) notes.push(`${fe} -c${connections}: ${unreaped.length} script process(es) still running or unreaped ${SCRIPTS_DONE_WAIT_MS / 1000} s after wrk stopped`);
      const after = frontEndCpuTimes(front.pid, script);
      const cpu = before && after ? perRequestMs(before, after, r.requests) : { front: NaN, script: NaN };
      m = { result: { ...r, frontCpuMsPerRequest: cpu.front, scriptCpuMsPerRequest: cpu.script, rssBytes: readRssBytes(front.pid), spawnMsPerCall: spawn.perCall, spawnShareOfWall: spawn.share }, notes };
    }
  } catch (err) {
    m = { failure: (err as Error).message, notes };
  } finally {
    const tail = front.stderrTail().trim();
    if (tail && (m.failure || m.result?.errors || m.result?.timeouts)) notes.push(`${fe} stderr: ${tail.split('\n').slice(-3).join(' / ')}`);
    await stop(front.child);
    notes.push(...await noScriptLeft(script, `${fe} -c${connections} stopped`));
  }
  return m;
}

/** Check that no process runs the script any more; SIGKILL and report any that does. */
async function noScriptLeft(script: string, after: string): Promise<string[]> {
  const left = await waitUntilNone(() => processesRunning(script), 2000);
  if (!left.length) return [];
  for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ } }
  const still = await waitUntilNone(() => processesRunning(script), 2000);
  return [`${left.length} script process(es) (${left.join(', ')}) still running after ${after}: SIGKILL${still.length ? `; ${still.join(', ')} survived it` : ''}`];
}

/** One run of bench/peers/spawn-cost.mjs (bounded by its own limits and a timeout here). */
function spawnCost(script: string): Promise<SpawnCost | { failure: string }> {
  const probeScript = path.join(BENCH_DIR, 'peers/spawn-cost.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [probeScript, PERL, script, String(SPAWN_RUNS), String(SPAWN_MAX_MS)], { timeout: SPAWN_MAX_MS + 10_000 }, (err, stdout, stderr) => {
      if (err) { resolve({ failure: `spawn-cost: ${(stderr || err.message).trim().split('\n')[0]}` }); return; }
      try { resolve(JSON.parse(stdout) as SpawnCost); } catch { resolve({ failure: `spawn-cost: unreadable answer ${JSON.stringify(stdout.slice(0, 80))}` }); }
    });
  });
}

const key = (fe: FrontEnd, c: number): string => gatewayKey(fe, c);
const measured = (rs: Series): CgiResult[] => rs.filter((r): r is CgiResult => r !== undefined);
const medianField = (rs: Series, f: 'frontCpuMsPerRequest' | 'scriptCpuMsPerRequest' | 'rssBytes' | 'spawnMsPerCall' | 'spawnShareOfWall') => {
  const xs = measured(rs).map((r) => r[f]).filter(Number.isFinite);
  return xs.length ? median(xs) : NaN;
};
const sumOf = (rs: Series, f: 'errors' | 'timeouts') => measured(rs).reduce((s, r) => s + r[f], 0);

export async function runCgi(dir: string, opts: LoadOptions): Promise<CaseReport> {
  const lighttpd = findLighttpd();
  const title = `case cgi: perl \`print "Content-Type: text/plain\\r\\n\\r\\nhello\\n"\` as a CGI process per request (cgi.assign = ( ".pl" => "${PERL}" )), a fresh front end per measurement, keep-alive, wrk -t1 -c${CGI_CONNECTIONS.join('/-c')} -d${opts.durationSec}s --timeout ${WRK_TIMEOUT_SEC}s, ${opts.rounds} interleaved rounds, medians, ratios to ${REFERENCE} in the same round`;
  const header = ['front end', 'wrk -c', 'req/s', 'p99 ms', 'front end CPU ms/req', 'script CPU ms/req', 'timeouts', 'errors', `ratio to ${REFERENCE}`];
  if (!fs.existsSync(PERL)) {
    return { title, header, rows: [['all', '', `skipped: ${PERL} is missing (apt-get install perl)`, '', '', '', '', '', '']], notes: [] };
  }
  const script = path.join(dir, SCRIPT);
  fs.writeFileSync(script, SCRIPT_SOURCE, { mode: 0o755 });
  const spawns: SpawnCost[] = [];
  const { results, failures, notes } = await gatewayRounds(
    'cgi', CGI_FRONT_ENDS, CGI_CONNECTIONS, opts.rounds,
    (fe, c) => measureOnce(fe, c, dir, lighttpd, opts),
    (r) => {
      const inSpawn = Number.isFinite(r.spawnMsPerCall) ? `  in spawn() ${fmt(r.spawnMsPerCall, 2)} ms per call, ${fmt(r.spawnShareOfWall * 100, 0)} % of wall` : '';
      return `${r.rps.toFixed(0).padStart(6)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  CPU/req front ${fmt(r.frontCpuMsPerRequest, 2)} ms script ${fmt(r.scriptCpuMsPerRequest, 2)} ms  timeouts ${r.timeouts}  errors ${r.errors}${inSpawn}`;
    },
    async (round, note) => {
      const cost = await spawnCost(script);
      if ('failure' in cost) note(cost.failure);
      else {
        spawns.push(cost);
        const sh = 'failure' in cost.sh ? cost.sh.failure : `${(cost.sh.perRunUs / 1000).toFixed(2)} ms per run`;
        process.stdout.write(`cgi round ${round} spawn cost: node spawn() ${(cost.node.syncUs / 1000).toFixed(2)} ms, spawn to close ${(cost.node.wallUs / 1000).toFixed(2)} ms (${cost.node.runs} runs); sh: ${sh}\n`);
      }
      for (const n of await noScriptLeft(script, 'the spawn-cost probe')) note(n);
    },
  );
  const rows: string[][] = [];
  for (const c of CGI_CONNECTIONS) {
    const ref = results.get(key(REFERENCE, c))!;
    for (const fe of CGI_FRONT_ENDS) {
      const rs = results.get(key(fe, c))!;
      if (!rs.some(Boolean)) { rows.push([fe, String(c), failures.get(key(fe, c)) ?? 'not measured', '', '', '', '', '', '']); continue; }
      rows.push([fe, String(c), fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), fmt(medianField(rs, 'frontCpuMsPerRequest'), 2),
        fmt(medianField(rs, 'scriptCpuMsPerRequest'), 2), String(sumOf(rs, 'timeouts')), String(sumOf(rs, 'errors')), fmtRatio(sameRoundRatio(rs, ref, 'rps'))]);
    }
  }
  return { title, header, rows, notes: [...goalNotes(results), ...spawnNotes(spawns, results), ...notes, ...aboutNotes(lighttpd, opts)] };
}

function goalNotes(results: Map<string, Series>): string[] {
  return CGI_CONNECTIONS.map((c) => {
    const x = sameRoundRatio(results.get(key('lantern', c))!, results.get(key(REFERENCE, c))!, 'rps');
    return `lantern / ${REFERENCE} at -c${c}: ${fmtRatio(x)} (goal >= ${GOAL_VS_LIGHTTPD.toFixed(1)}x: ${verdict(Number.isFinite(x) ? x >= GOAL_VS_LIGHTTPD : undefined)}; per round ${sameRoundList(results, c)})`;
  });
}

function sameRoundList(results: Map<string, Series>, c: number): string {
  const a = results.get(key('lantern', c))!;
  const b = results.get(key(REFERENCE, c))!;
  return a.map((r, i) => (r && b[i] && b[i]!.rps > 0 ? fmtRatio(r.rps / b[i]!.rps) : 'n/a')).join(', ');
}

/** What a process start costs, one at a time, beside what a request costs under load. */
function spawnNotes(spawns: SpawnCost[], results: Map<string, Series>): string[] {
  if (!spawns.length) return ['spawn cost: not measured'];
  const ms = (us: number) => (us / 1000).toFixed(2);
  const shRuns = spawns.map((s) => s.sh).filter((s): s is { runs: number; perRunUs: number } => !('failure' in s));
  const sh = shRuns.length ? `${ms(median(shRuns.map((s) => s.perRunUs)))} ms per run` : 'not measured';
  const lanternRss = medianField(results.get(key('lantern', CGI_CONNECTIONS[CGI_CONNECTIONS.length - 1]))!, 'rssBytes');
  const out = [
    `spawn cost, one script at a time with no wrk running (bench/peers/spawn-cost.mjs, up to ${SPAWN_RUNS} runs per round, medians over ${spawns.length} round(s)): `
      + `\`${PERL} hello.pl\` run by sh (fork and exec from a small process, as lighttpd does): ${sh}; `
      + `run by Node's child_process.spawn with three pipes (as lantern's exec: transport): ${ms(median(spawns.map((s) => s.node.wallUs)))} ms from spawn() to 'close', `
      + `of which ${ms(median(spawns.map((s) => s.node.syncUs)))} ms inside spawn(), where the event loop is blocked (libuv ${process.versions.uv} forks the whole Node process and waits for the exec); `
      + `the probe's RSS ${fmt(median(spawns.map((s) => s.rssBytes)) / 2 ** 20, 0)} MB, lantern's after a -c${CGI_CONNECTIONS[CGI_CONNECTIONS.length - 1]} run ${fmt(lanternRss / 2 ** 20, 0)} MB (fork copies the page tables: a bigger parent forks slower)`,
  ];
  const inSpawn = CGI_CONNECTIONS.map((c) => {
    const rs = results.get(key('lantern', c))!;
    return `${fmt(medianField(rs, 'spawnMsPerCall'), 2)} ms per call, ${fmt(medianField(rs, 'spawnShareOfWall') * 100, 0)} % of the run's wall time at -c${c}`;
  });
  out.push(`lantern's event loop inside spawn() during the measured runs (bench/peers/spawn-timer.mjs preloaded into lantern; medians over rounds): ${inSpawn.join('; ')}`);
  for (const c of CGI_CONNECTIONS) {
    const share = (fe: FrontEnd) => {
      const rs = results.get(key(fe, c))!;
      const f = medianField(rs, 'frontCpuMsPerRequest');
      const s = medianField(rs, 'scriptCpuMsPerRequest');
      return `${fe} ${fmt(f + s, 2)} ms, ${Number.isFinite(f + s) && f + s > 0 ? `${Math.round((s / (f + s)) * 100)} %` : 'n/a'} in the script`;
    };
    out.push(`CPU per request at -c${c} (front end + script), and the script's share (its exec, perl's start-up and exit; the fork is the front end's): ${CGI_FRONT_ENDS.map(share).join('; ')}`);
  }
  return out;
}

function aboutNotes(lighttpd: string | undefined, opts: LoadOptions): string[] {
  return [
    `each measurement: a fresh front end given the same config (server.modules = ( "mod_cgi" ), cgi.assign = ( ".pl" => "${PERL}" ), keep-alive up to 100000 requests), one GET checked for "hello\\n", a ${opts.warmupSec} s wrk warm-up at the same -c, the ${opts.durationSec} s wrk run; then its scripts waited for, the front end stopped and /proc checked for any process still running the script`,
    'CPU ms/req: utime + stime of the front end (front end) and of its reaped children (script) from /proc/<pid>/stat, over the measured run, divided by the requests wrk counted; medians over rounds',
    `timeouts: wrk responses slower than ${WRK_TIMEOUT_SEC} s (not in the latency figures); errors: non-2xx responses and connect, read and write errors; both summed over the rounds`,
    `versions: ${lighttpd ? versionOf(lighttpd, ['-v']) : 'lighttpd missing'}; perl ${versionOf(PERL, ['-e', 'print $^V'])}`,
  ];
}

// `npm test`: runs every uvu test file under test/ in its own process and sums uvu 0.5.6's per-file summaries.
//
// Usage: npm test [-- FILTER...]   A FILTER keeps the files whose path (relative to the repo root)
// contains it: a file, a directory (`test/unit/core`) or any substring (`chunked`).
// Environment: LANTERN_TEST_JOBS (files run at once, default 2: the machines have 2 cores),
// LANTERN_TEST_TIMEOUT_MS (hard cap per file, default 120000; then the file's whole process
// group is killed and the file fails).
//
// Counting. uvu 0.5.6 (node_modules/uvu/dist/index.mjs, `exec`) ends each file's output with
//   Total:     N      tests that were meant to run (skipped tests are NOT included)
//   Passed:    N
//   Skipped:   N      test.skip() calls, plus the non-`.only` tests when `.only` is used
// so failed = Total - Passed (not Total - Passed - Skipped). Each failure is printed as a
// ` FAIL ` block with the test name, message and stack, and uvu exits 1.
// A `before` hook that throws is a special case: uvu runs hooks inside try/finally and the
// `finally` returns, so the error is swallowed without any message and the process exits 0;
// the suite prints `(0 / N)` and a summary with Passed 0 of Total N. Counting from the summary
// (never from the exit code) makes that N failures; the runner adds a hint to the output. An
// `after` hook that throws escapes as an unhandled rejection: no summary, exit 1.
// A file also fails once more (+1) when it times out, dies from a signal, prints no summary
// (crash, missing `.run()`, "Exiting early before testing is finished."), or exits non-zero
// without having reported a failure.
//
// Skipping on purpose. A test that needs something the machine may lack (php-cgi, uwsgi, a
// Python CGI) registers itself through `skipUnless(suite, condition, reason)` from
// test/helpers/wait.ts: when the condition is false its tests go to uvu's `test.skip` (counted
// as Skipped, not run) and `# skip: <reason>` is printed, which this runner shows beside the
// file. A run fails when any test failed or when no test passed at all.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  /** Why the file failed beyond its reported test failures, if it did. */
  problem: string | null;
  skipReasons: string[];
  /** The file left processes running after it exited (they were killed). */
  leftovers: boolean;
  output: string;
  durationMs: number;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** Every `*.test.ts` under `dir`, as repo-relative paths with forward slashes, sorted. */
function findTestFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(abs, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** Reads uvu's summary blocks and `# skip:` lines from a file's stdout. */
function parseSummaries(stdout: string): { total: number; passed: number; skipped: number; summaries: number; skipReasons: string[] } {
  let total = 0;
  let passed = 0;
  let skipped = 0;
  let summaries = 0;
  let pending: { total: number; passed?: number } | null = null;
  const skipReasons: string[] = [];
  for (const line of stripAnsi(stdout).split('\n')) {
    const field = /^\s*(Total|Passed|Skipped):\s+(\d+)\s*$/.exec(line);
    if (field) {
      const value = Number(field[2]);
      if (field[1] === 'Total') pending = { total: value };
      else if (field[1] === 'Passed' && pending) pending.passed = value;
      else if (field[1] === 'Skipped' && pending?.passed !== undefined) {
        total += pending.total;
        passed += pending.passed;
        skipped += value;
        summaries++;
        pending = null;
      }
      continue;
    }
    const skip = /^# skip: (.*)$/.exec(line);
    if (skip && !skipReasons.includes(skip[1])) skipReasons.push(skip[1]);
  }
  return { total, passed, skipped, summaries, skipReasons };
}

const running = new Set<number>();

/** Kills a child's whole process group (it was spawned detached, so it leads its own group). */
function killGroup(pid: number): boolean {
  // pid 0 would mean our own group: never.
  if (!(pid > 0)) return false;
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes in group `pgid`, read from /proc; 0 where /proc is missing. */
function liveGroupMembers(pgid: number): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  let live = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') live++;
    } catch {
      // The process ended while we looked.
    }
  }
  return live;
}

function runFile(file: string, timeoutMs: number): Promise<FileResult> {
  const started = Date.now();
  return new Promise<FileResult>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid ?? 0;
    running.add(pid);
    let stdout = '';
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      stdout += text;
      output += text;
    });
    child.stderr.on('data', (text: string) => {
      output += text;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, timeoutMs);
    let exit: { code: number | null; signal: NodeJS.Signals | null; leftovers: boolean } | null = null;
    child.on('error', (err) => {
      output += `\n[run-tests] could not start: ${err.message}\n`;
      exit ??= { code: null, signal: null, leftovers: false };
    });
    child.on('exit', (code, signal) => {
      // Processes the test started and left running keep the pipes open: kill the group so
      // 'close' can come, and say so.
      const leftovers = !timedOut && liveGroupMembers(pid) > 0;
      killGroup(pid);
      exit = { code, signal, leftovers };
    });
    child.on('close', () => {
      clearTimeout(timer);
      running.delete(pid);
      const status = exit ?? { code: null, signal: null, leftovers: false };
      const summary = parseSummaries(stdout);
      const reportedFailed = Math.max(0, summary.total - summary.passed);
      let problem: string | null = null;
      if (timedOut) problem = `timed out after ${timeoutMs} ms, process group killed`;
      else if (status.signal) problem = `killed by ${status.signal}`;
      else if (summary.summaries === 0) problem = `no uvu summary (exit code ${status.code}): crashed, or no suite .run()`;
      else if (status.code !== 0 && reportedFailed === 0) problem = `exit code ${status.code} although every test passed`;
      if (reportedFailed > 0 && status.code === 0 && !timedOut) {
        output += '\n[run-tests] uvu reported failures but exited 0: a `before` hook probably threw (uvu 0.5.6 swallows its error)\n';
      }
      resolve({
        file,
        passed: summary.passed,
        failed: reportedFailed + (problem ? 1 : 0),
        skipped: summary.skipped,
        problem,
        skipReasons: summary.skipReasons,
        leftovers: status.leftovers,
        output,
        durationMs: Date.now() - started,
      });
    });
  });
}

function report(result: FileResult): void {
  const counts = [`${result.passed} passed`];
  if (result.failed > 0) counts.push(`${result.failed} failed`);
  if (result.skipped > 0) counts.push(`${result.skipped} skipped`);
  let line = `${result.failed > 0 ? 'FAIL' : 'ok  '} ${result.file}  ${counts.join(', ')} (${(result.durationMs / 1000).toFixed(1)} s)`;
  if (result.skipReasons.length > 0) line += ` [skip: ${result.skipReasons.join('; ')}]`;
  if (result.problem) line += ` [${result.problem}]`;
  if (result.leftovers) line += ' [left processes running after exit: killed]';
  process.stdout.write(`${line}\n`);
  if (result.failed > 0) {
    const body = result.output.replace(/\s+$/, '');
    process.stdout.write(`${body.split('\n').map((l) => `    ${l}`).join('\n')}\n`);
  }
}

async function main(): Promise<number> {
  const jobs = positiveInt('LANTERN_TEST_JOBS', 2);
  const timeoutMs = positiveInt('LANTERN_TEST_TIMEOUT_MS', 120_000);
  const filters = process.argv.slice(2).map((f) => f.replace(/^\.\//, '').replace(/\/+$/, ''));
  const all = findTestFiles(path.join(root, 'test'));
  const files = filters.length === 0 ? all : all.filter((file) => filters.some((f) => file.includes(f)));
  for (const f of filters) {
    if (!all.some((file) => file.includes(f))) process.stdout.write(`[run-tests] no test file matches ${JSON.stringify(f)}\n`);
  }

  // Results print in file order as soon as every earlier file is done, so output is stable.
  const results: Array<FileResult | undefined> = new Array(files.length);
  let printed = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      results[index] = await runFile(files[index], timeoutMs);
      while (printed < files.length && results[printed]) report(results[printed++] as FileResult);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

  const done = results as FileResult[];
  const passed = done.reduce((sum, r) => sum + r.passed, 0);
  const failed = done.reduce((sum, r) => sum + r.failed, 0);
  const skipped = done.reduce((sum, r) => sum + r.skipped, 0);
  const failedFiles = done.filter((r) => r.failed > 0).map((r) => r.file);
  if (failedFiles.length > 0) process.stdout.write(`\nfailed files:\n${failedFiles.map((f) => `  ${f}`).join('\n')}\n`);
  if (passed === 0) process.stdout.write(`\n[run-tests] no test passed (${files.length} file(s) run): failing the run\n`);
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

// Interrupted: take every running file's process group down with us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const pid of running) killGroup(pid);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stdout.write(`[run-tests] ${err instanceof Error ? err.message : String(err)}\n0 passed, 1 failed, 0 skipped\n`);
    process.exitCode = 1;
  },
);

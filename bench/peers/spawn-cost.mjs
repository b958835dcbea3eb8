// Case cgi's spawn cost (bench/cases/cgi.ts), not a peer: how long Node takes to run a CGI script
// the way lantern's exec: transport runs it (child_process.spawn with three pipes, stdin ended,
// stdout read to its end, then 'close'), one at a time, next to the same script run in a loop by
// sh (fork and exec from a small C process, as lighttpd's mod_cgi does). It runs as a process of
// its own, a plain node: fork() copies the parent's page tables, so the cost depends on the parent.
// Bounded: at most <count> runs of each, and each loop stops at <max-ms> / 2.
// usage: node spawn-cost.mjs <program> <script> <count> <max-ms>; prints one JSON line:
// { node: { runs, syncUs, wallUs }, sh: { runs, perRunUs } | { failure }, rssBytes }
// where syncUs is the median time inside spawn() (the event loop is blocked there: libuv forks
// and waits until the child has exec'd) and wallUs the median time from spawn() to 'close'.
import { spawn } from 'node:child_process';
import path from 'node:path';

const [program, script, countArg, maxArg] = process.argv.slice(2);
const count = Number(countArg);
const maxMs = Number(maxArg);
if (!program || !script || !(count > 0) || !(maxMs > 0)) {
  process.stderr.write('usage: node spawn-cost.mjs <program> <script> <count> <max-ms>\n');
  process.exit(2);
}
const cwd = path.dirname(script);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One run as the exec: transport does it; resolves with the two times, or rejects. */
function nodeRun() {
  return new Promise((resolve, reject) => {
    const t0 = nowUs();
    const child = spawn(program, [script], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const syncUs = nowUs() - t0;
    let out = '';
    child.once('error', reject);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.resume();
    child.stdin.end();
    child.once('close', (code) => {
      if (code !== 0 || !out.endsWith('hello\n')) reject(new Error(`exit ${code}, output ${JSON.stringify(out.slice(0, 60))}`));
      else resolve({ syncUs, wallUs: nowUs() - t0 });
    });
  });
}

/** `runs` runs of the script from one sh loop; the time per run, or why not. */
function shLoop(runs, limitMs) {
  const loop = 'i=0; while [ "$i" -lt "$1" ]; do "$2" "$3" >/dev/null || exit 1; i=$((i+1)); done';
  return new Promise((resolve) => {
    const t0 = nowUs();
    const child = spawn('sh', ['-c', loop, 'sh', String(runs), program, script], { cwd, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (err) => { clearTimeout(timer); resolve({ failure: err.message }); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ runs, perRunUs: (nowUs() - t0) / runs });
      else resolve({ failure: signal === 'SIGKILL' ? `not done after ${limitMs} ms` : `sh exited with ${signal ?? code}` });
    });
  });
}

const sync = [];
const wall = [];
const deadline = Date.now() + maxMs / 2;
while (sync.length < count && Date.now() < deadline) {
  const r = await nodeRun();
  sync.push(r.syncUs);
  wall.push(r.wallUs);
}
const sh = await shLoop(sync.length, maxMs / 2);
process.stdout.write(JSON.stringify({
  node: { runs: sync.length, syncUs: median(sync), wallUs: median(wall) },
  sh,
  rssBytes: process.memoryUsage().rss,
}) + '\n');

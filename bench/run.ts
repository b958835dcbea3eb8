// `npm run bench`: side-by-side load (wrk) against lantern and its peers in one run, in
// interleaved rounds, reported as medians and ratios (DEVELOPERS: speed is only measured here).
// Cases: `static13` — a 13-byte static file over keep-alive, lantern vs a bare node:http server.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, stopProcess } from './processes.js';
import { median, runWrk, type WrkResult } from './wrk.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt('rounds', 3);
const DURATION = opt('duration', 10);
const CONNECTIONS = opt('connections', 50);

function have(bin: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

interface Target { name: string; url: string; start(): Promise<ChildProcess> }

async function main(): Promise<void> {
  if (!have('wrk')) {
    process.stderr.write('bench: wrk is missing. Install it with: apt-get install wrk\n');
    process.exit(2);
  }
  // Measure what the sources say now: rebuild dist/ (bin/lantern runs it).
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-bench-'));
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello world!\n');
  const lanternPort = await freePort();
  const nodePort = await freePort();
  const conf = path.join(dir, 'lantern.conf');
  fs.writeFileSync(conf, [
    `server.document-root = "${dir}"`,
    `server.port = ${lanternPort}`,
    'server.bind = "127.0.0.1"',
    'server.max-keep-alive-requests = 100000',
    'mimetype.assign = ( ".txt" => "text/plain" )',
  ].join('\n') + '\n');
  const targets: Target[] = [
    { name: 'lantern', url: `http://127.0.0.1:${lanternPort}/hello.txt`,
      start: () => startProcess(process.execPath, [path.join(ROOT, 'bin/lantern'), '-D', '-f', conf], lanternPort) },
    { name: 'node:http', url: `http://127.0.0.1:${nodePort}/hello.txt`,
      start: () => startProcess(process.execPath, [path.join(ROOT, 'bench/peers/node-http.mjs'), String(nodePort)], nodePort) },
  ];
  const results = new Map<string, WrkResult[]>(targets.map((t) => [t.name, []]));
  const procs = new Map<string, ChildProcess>();
  for (const t of targets) procs.set(t.name, await t.start());
  try {
    // Warm up each target (JIT) before measuring.
    for (const t of targets) await runWrk(t.url, { threads: 1, connections: CONNECTIONS, durationSec: 2 });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of round % 2 ? targets : [...targets].reverse()) {
        const r = await runWrk(t.url, { threads: 1, connections: CONNECTIONS, durationSec: DURATION });
        results.get(t.name)!.push(r);
        process.stdout.write(`round ${round} ${t.name.padEnd(10)} ${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}\n`);
      }
    }
  } finally {
    for (const p of procs.values()) await stopProcess(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = median(results.get('node:http')!.map((r) => r.rps));
  process.stdout.write(`\ncase static13: 13-byte static file, keep-alive, wrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds, medians\n`);
  process.stdout.write('| target | req/s | p99 ms | ratio to node:http |\n|---|---|---|---|\n');
  for (const [name, rs] of results) {
    const rps = median(rs.map((r) => r.rps));
    process.stdout.write(`| ${name} | ${rps.toFixed(0)} | ${median(rs.map((r) => r.p99Ms)).toFixed(2)} | ${(rps / base).toFixed(2)}x |\n`);
  }
}

main().catch((err) => { process.stderr.write(`bench: ${err.stack ?? err}\n`); process.exit(1); });

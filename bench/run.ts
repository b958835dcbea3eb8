// `npm run bench`: side-by-side load against lantern and its peers in one run, in interleaved
// rounds, reported as medians and ratios (DEVELOPERS: speed is only measured here), and written
// into docs/performance.md. Cases, in this order:
//   static13  a 13-byte static file, lantern vs a bare node:http server
//   tls-static  the 13-byte file over HTTPS (keep-alive), lantern (mod_openssl) vs nginx with TLS
//   hello     issue 4: nginx origin `return 200 "hello\n"` through lantern (1 and 2 workers),
//             nginx as a proxy, http-proxy and undici; ratios to nginx-proxy. Also raw-relay, a
//             Node process relaying raw bytes with no parsing: the ceiling for one Node process
//   1m        the same proxies (one lantern worker, no raw-relay), a 1 MiB file: req/s and p99
//             ratios to nginx-proxy
//   100m      the same as 1m, a 100 MiB file to a fast and a 20 MB/s client: RSS rise, disk writes
//   fastcgi   a one-line PHP hello from php-cgi (4 children) through lantern, nginx and lighttpd
//             1.4, a fresh php-cgi and front end per measurement, wrk -c4 and -c50 (its own
//             connection counts: --connections does not apply); ratios to nginx
//   cgi       a perl hello script as a CGI process per request through lantern and lighttpd 1.4
//             mod_cgi (no nginx: it has no CGI), a fresh front end per measurement, wrk -c4 and
//             -c16 (--connections does not apply), CPU per request of front end and script, and
//             Node's spawn() cost next to sh's; ratios to lighttpd
//   tls-upstream  hello from an nginx origin over HTTPS (verified, pooled TLS connections) through
//             lantern (ssl-upstream) and nginx (proxy_pass https://, proxy_ssl_session_reuse on); ratio to nginx
// Flags: --case <name>[,<name>] (repeatable), --rounds N (3), --duration S (10), --connections N
// (50), --quick (3 s runs), --no-docs (do not write docs/performance.md). Only 127.0.0.1 is used.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCgi } from './cases/cgi.js';
import { runFastcgi } from './cases/fastcgi.js';
import { makeBenchDir, ROOT } from './cases/fixtures.js';
import { runHundredMib } from './cases/large-body.js';
import { runHello, runOneMib } from './cases/proxy-load.js';
import { DOC_FILE, machineLine, markdown, withoutTempDir, writePerformanceDoc, type CaseReport } from './cases/report.js';
import { runStatic13 } from './cases/static13.js';
import { runTlsStatic } from './cases/tls-static.js';
import { runTlsUpstream } from './cases/tls-upstream.js';
import { findNginx, HELLO_ONLY, missingPeerPackages, PEER_INSTALL_COMMAND, PROXY_TARGET_NAMES, startProxyTargets, stopTargets, type ProxyTargetName } from './cases/targets.js';
import type { LoadOptions } from './cases/wrk-rounds.js';

const CASES = ['static13', 'tls-static', 'hello', '1m', '100m', 'fastcgi', 'cgi', 'tls-upstream'] as const;
const PROXY_CASES: readonly CaseName[] = ['hello', '1m', '100m'];
type CaseName = (typeof CASES)[number];

const args = process.argv.slice(2);
const COMMAND = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;

function numberFlag(name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} needs a positive number`);
  return n;
}

function usage(problem: string): never {
  process.stderr.write(`bench: ${problem}\nusage: npm run bench -- [--case ${CASES.join('|')}[,...]] [--rounds N] [--duration S] [--connections N] [--quick] [--no-docs]\n`);
  process.exit(2);
}

function selectedCases(): CaseName[] {
  const asked = args.flatMap((a, i) => (args[i - 1] === '--case' ? a.split(',') : []));
  for (const c of asked) if (!(CASES as readonly string[]).includes(c)) usage(`unknown case "${c}"`);
  return asked.length ? CASES.filter((c) => asked.includes(c)) : [...CASES];
}

const QUICK = args.includes('--quick');
const cases = selectedCases();
const load: LoadOptions = {
  rounds: numberFlag('rounds', 3),
  durationSec: numberFlag('duration', QUICK ? 3 : 10),
  connections: numberFlag('connections', 50),
  warmupSec: QUICK ? 1 : 2,
};

function have(bin: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Measure what the sources say now: rebuild dist/ (bin/lantern runs it). */
function buildDist(): void {
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  } catch {
    // tsc still emits on type errors; say so rather than measure nothing.
    process.stderr.write('bench: tsc reported errors (above); measuring the dist/ it emitted\n');
  }
}

function report(r: CaseReport, reports: CaseReport[]): void {
  reports.push(r);
  process.stdout.write(`\n${markdown(r)}\n`);
}

async function runProxyCases(dir: string, reports: CaseReport[]): Promise<void> {
  const nginx = findNginx();
  if (!nginx) {
    process.stderr.write('bench: nginx is missing, skipping the proxy cases. Install it with: apt-get install nginx\n');
    return;
  }
  const missing = missingPeerPackages();
  if (missing.length) {
    process.stderr.write(`bench: npm package(s) ${missing.join(', ')} missing, skipping those Node peers. Install them with: ${PEER_INSTALL_COMMAND}\n`);
  }
  // lantern with server.max-worker = 2 and the raw relay are reported for hello only (issue 4).
  const wanted = PROXY_TARGET_NAMES.filter((n: ProxyTargetName) => !HELLO_ONLY.includes(n) || cases.includes('hello'));
  const { origin, targets } = await startProxyTargets(dir, nginx, wanted);
  try {
    for (const t of [origin, ...targets]) if (t.failure) process.stdout.write(`target ${t.name}: ${t.failure}\n`);
    const single = targets.filter((t) => !(HELLO_ONLY as string[]).includes(t.name));
    const run = async (rep: Promise<CaseReport>) => report(withoutTempDir(await rep, dir), reports);
    if (cases.includes('hello')) await run(runHello(targets, load));
    if (cases.includes('1m')) await run(runOneMib(single, load));
    if (cases.includes('100m')) await run(runHundredMib(single, { rounds: load.rounds, fastDownloads: 2 }));
  } finally {
    await stopTargets([...targets, origin]);
  }
}

async function main(): Promise<void> {
  if (cases.some((c) => c !== '100m') && !have('wrk')) {
    process.stderr.write('bench: wrk is missing. Install it with: apt-get install wrk\n');
    process.exit(2);
  }
  process.stdout.write(`command: ${COMMAND}\n`);
  buildDist();
  const dir = makeBenchDir();
  const reports: CaseReport[] = [];
  try {
    if (cases.includes('static13')) report(withoutTempDir(await runStatic13(dir, load), dir), reports);
    if (cases.includes('tls-static')) report(withoutTempDir(await runTlsStatic(dir, findNginx(), load), dir), reports);
    if (cases.some((c) => PROXY_CASES.includes(c))) await runProxyCases(dir, reports);
    if (cases.includes('fastcgi')) report(withoutTempDir(await runFastcgi(dir, findNginx(), load), dir), reports);
    if (cases.includes('cgi')) report(withoutTempDir(await runCgi(dir, load), dir), reports);
    if (cases.includes('tls-upstream')) report(withoutTempDir(await runTlsUpstream(dir, findNginx(), load), dir), reports);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`command: ${COMMAND}\n`);
  if (!args.includes('--no-docs') && reports.length) {
    writePerformanceDoc(reports, COMMAND, machineLine(findNginx()));
    process.stdout.write(`tables written to ${path.relative(ROOT, DOC_FILE)}\n`);
  }
}

main().then(() => process.exit(0), (err) => { process.stderr.write(`bench: ${err.stack ?? err}\n`); process.exit(1); });

// `npm run bench:instructions`: the user-space cost of one proxied request, counted rather than
// timed. lantern runs under valgrind's callgrind (instructions, not seconds: repeatable to about
// 1 % whatever else the machine does, where wrk ratios move ±15 % on a shared 2-core box); a
// Node origin in this process answers `hello` with keep-alive; a fixed number of keep-alive
// requests go through lantern per round. Prints lantern's main-thread instructions per request
// (each round and the median) and the functions that cost most (JIT code named through node's
// --perf-basic-prof map). A companion to `npm run bench`, never a replacement: it counts no
// kernel time and no waiting. Flags: --requests N (10000), --rounds R (3), --top K (25),
// --inclusive K (also the top K by inclusive instructions: what each call costs with its callees),
// --keep (leave callgrind's output for callgrind_annotate),
// --case hello|fastcgi (hello: an HTTP origin through mod_proxy_core; fastcgi: a FastCGI
// responder in this process, on a unix socket, through mod_fastcgi as case fastcgi configures it;
// --raw: through bench/peers/raw-fastcgi.mjs instead, the floor any Node process starts from).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeBenchDir, ROOT, writeFastcgiConf, writeLanternProxyConf } from './cases/fixtures.js';
import { freePort } from './processes.js';

const args = process.argv.slice(2);
function numberFlag(name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n <= 0) { process.stderr.write(`bench:instructions: --${name} needs a positive integer\n`); process.exit(2); }
  return n;
}
const REQUESTS = numberFlag('requests', 10000);
const ROUNDS = numberFlag('rounds', 3);
const TOP = numberFlag('top', 25);
/** --inclusive K: also list the K functions that cost most with their callees (0: not listed). */
const INCLUSIVE = args.includes('--inclusive') ? numberFlag('inclusive', 60) : 0;
/** --keep: leave callgrind's output files in place (their directory is printed). */
const KEEP = args.includes('--keep');
const CASE = ((): 'hello' | 'fastcgi' => {
  const i = args.indexOf('--case');
  const v = i < 0 ? 'hello' : args[i + 1];
  if (v !== 'hello' && v !== 'fastcgi') { process.stderr.write('bench:instructions: --case is hello or fastcgi\n'); process.exit(2); }
  return v;
})();
/**
 * --raw (with --case fastcgi): count bench/peers/raw-fastcgi.mjs instead of lantern, the least a
 * Node process does for these requests, for the floor of the count.
 */
const RAW = args.includes('--raw');
if (RAW && CASE !== 'fastcgi') { process.stderr.write('bench:instructions: --raw needs --case fastcgi\n'); process.exit(2); }
const CONNECTIONS = 10;
/** Until the JIT has settled (fewer makes the first round count optimisation work). */
const WARMUP_REQUESTS = 10000;
const START_TIMEOUT_MS = 180_000;
const DRIVE_TIMEOUT_MS = 600_000;

function have(bin: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

for (const bin of ['valgrind', 'callgrind_control', 'callgrind_annotate']) {
  if (!have(bin)) { process.stderr.write(`bench:instructions: ${bin} is missing (apt-get install valgrind)\n`); process.exit(2); }
}

execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

const HELLO = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n');

/** The origin: one `hello` per request head, keep-alive. */
function startOrigin(): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (s) => {
    let pending = '';
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let i: number;
      while ((i = pending.indexOf('\r\n\r\n')) >= 0) { pending = pending.slice(i + 4); s.write(HELLO); }
    });
    s.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A FastCGI record (FastCGI 1.0 §3.3) with `content`, padded to 8 bytes. */
function fcgiRecord(type: number, requestId: number, content: Buffer): Buffer {
  const pad = (8 - (content.length & 7)) & 7;
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(content.length, 4);
  h[6] = pad;
  return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

/**
 * A FastCGI responder as php-cgi answers `<?php echo "hello\n";` (its header block, the body, the
 * empty STDOUT record, END_REQUEST), one request at a time per connection, kept open; it
 * answers FCGI_GET_VALUES with FCGI_MAX_CONNS so that lantern uses every connection.
 */
function startFastcgiOrigin(socketPath: string): Promise<net.Server> {
  const maxConns = Buffer.concat([Buffer.from([14, 2]), Buffer.from('FCGI_MAX_CONNS' + String(CONNECTIONS * 2))]);
  const valuesResult = fcgiRecord(10, 0, maxConns);
  const answer = Buffer.concat([
    fcgiRecord(6, 1, Buffer.from('X-Powered-By: PHP/8.2\r\nContent-type: text/html; charset=UTF-8\r\n\r\nhello\n')),
    fcgiRecord(6, 1, Buffer.alloc(0)),
    fcgiRecord(3, 1, Buffer.alloc(8)),
  ]);
  const server = net.createServer((s) => {
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      let at = 0;
      while (pending.length - at >= 8) {
        const total = 8 + pending.readUInt16BE(at + 4) + pending[at + 6]!;
        if (pending.length - at < total) break;
        const type = pending[at + 1];
        // GET_VALUES: how many connections; the empty STDIN record ends a request.
        if (type === 9) s.write(valuesResult);
        else if (type === 5 && pending.readUInt16BE(at + 4) === 0) s.write(answer);
        at += total;
      }
      pending = pending.subarray(at);
    });
    s.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

/** Send exactly `total` keep-alive GETs over CONNECTIONS connections; resolves when all are answered. */
function drive(port: number, total: number): Promise<void> {
  const req = Buffer.from(`GET ${CASE === 'fastcgi' ? '/hello.php' : '/hello'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: instructions\r\nAccept: */*\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const sockets: net.Socket[] = [];
    const timer = setTimeout(() => { for (const s of sockets) s.destroy(); reject(new Error(`only ${done} of ${total} answered in ${DRIVE_TIMEOUT_MS} ms`)); }, DRIVE_TIMEOUT_MS);
    for (let c = 0; c < CONNECTIONS; c++) {
      const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
      sockets.push(s);
      let buf = '';
      const next = () => { if (sent < total) { sent++; s.write(req); } };
      s.on('connect', next);
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        let i: number;
        while ((i = buf.indexOf('hello\n')) >= 0) {
          buf = buf.slice(i + 6);
          if (++done === total) { clearTimeout(timer); for (const x of sockets) x.destroy(); resolve(); return; }
          next();
        }
      });
      s.on('error', (err) => { clearTimeout(timer); reject(err); });
    }
  });
}

function waitForPort(port: number, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadlineMs) reject(new Error(`lantern under valgrind did not listen within ${START_TIMEOUT_MS} ms`));
        else setTimeout(attempt, 250);
      });
    };
    attempt();
  });
}

/** callgrind_annotate's rows: instructions and the function's description. */
function annotate(file: string, inclusive: boolean): Array<{ ir: number; fn: string }> {
  const out = execFileSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: Array<{ ir: number; fn: string }> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m) rows.push({ ir: Number(m[1]!.replaceAll(',', '')), fn: m[2]! });
  }
  return rows;
}

/** JIT code ranges from node's --perf-basic-prof map (/tmp/perf-<pid>.map). */
function jitNames(pid: number): (addr: number) => string | null {
  const file = `/tmp/perf-${pid}.map`;
  const ranges: Array<[number, number, string]> = [];
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
      if (m) ranges.push([parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[3]!]);
    }
  } catch { /* no map: addresses stay unnamed */ }
  ranges.sort((a, b) => a[0] - b[0]);
  return (addr) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, size, name] = ranges[mid]!;
      if (addr < start) hi = mid - 1;
      else if (addr >= start + size) lo = mid + 1;
      else return name;
    }
    return null;
  };
}

const dir = makeBenchDir();
const port = await freePort();
let origin: net.Server;
let conf: string;
if (CASE === 'fastcgi') {
  const socketPath = path.join(dir, 'fcgi.sock');
  origin = await startFastcgiOrigin(socketPath);
  conf = writeFastcgiConf(dir, 'lantern-fastcgi', port, socketPath);
} else {
  origin = await startOrigin();
  conf = writeLanternProxyConf(dir, 'lantern-instructions', port, (origin.address() as net.AddressInfo).port, 0);
}
const outBase = path.join(dir, 'callgrind.out');
const program = RAW
  ? [path.join(ROOT, 'bench/peers/raw-fastcgi.mjs'), String(port), path.join(dir, 'fcgi.sock'), path.join(dir, 'hello.php'), String(CONNECTIONS)]
  : [path.join(ROOT, 'bin/lantern'), '-D', '-f', conf];
const vg = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${outBase}`, '--smc-check=all-non-file',
  process.execPath, '--perf-basic-prof', ...program], { stdio: ['ignore', 'ignore', 'pipe'] });
let vgErr = '';
vg.stderr!.on('data', (d: Buffer) => { if (vgErr.length < 8192) vgErr += d.toString(); });
const stopAll = () => {
  vg.kill('SIGKILL');
  origin.close();
  const map = `/tmp/perf-${vg.pid}.map`;
  // --keep: the JIT's names go with the output (callgrind shows JIT code as bare addresses).
  if (KEEP && fs.existsSync(map)) fs.copyFileSync(map, path.join(dir, 'perf.map'));
  fs.rmSync(map, { force: true });
};
process.once('SIGINT', () => { stopAll(); process.exit(130); });

try {
  await waitForPort(port, Date.now() + START_TIMEOUT_MS);
  process.stdout.write(`${RAW ? 'raw-fastcgi' : 'lantern'} under callgrind (pid ${vg.pid}); warming up with ${WARMUP_REQUESTS} requests\n`);
  await drive(port, WARMUP_REQUESTS);
  const perRequest: number[] = [];
  let lastDump = '';
  for (let r = 1; r <= ROUNDS; r++) {
    execFileSync('callgrind_control', ['-z', String(vg.pid)], { stdio: 'ignore' });
    await drive(port, REQUESTS);
    execFileSync('callgrind_control', ['-d', String(vg.pid)], { stdio: 'ignore' });
    const dumps = fs.readdirSync(dir).filter((f) => f.startsWith('callgrind.out.')).map((f) => path.join(dir, f));
    lastDump = dumps.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
    const rows = annotate(lastDump, true);
    const total = rows.find((x) => x.fn.includes('PROGRAM TOTALS'))?.ir ?? 0;
    // Background threads (JIT compilation, GC helpers) run when they like: only the main thread counts.
    const threads = rows.find((x) => x.fn.includes('start_thread'))?.ir ?? 0;
    const main = Math.round((total - threads) / REQUESTS);
    perRequest.push(main);
    process.stdout.write(`round ${r}: ${main} instructions per request (main thread), background threads ${Math.round(threads / REQUESTS)}\n`);
  }
  const sorted = [...perRequest].sort((a, b) => a - b);
  process.stdout.write(`\nmedian: ${sorted[Math.floor(sorted.length / 2)]} instructions per ${CASE === 'fastcgi' ? 'FastCGI' : 'proxied'} request (${REQUESTS} requests x ${ROUNDS} rounds, ${CONNECTIONS} keep-alive connections)\n\n`);
  const name = jitNames(vg.pid!);
  // The frames every call passes through (main, the event loop) are not anyone's own cost.
  const frames = /PROGRAM TOTALS|start_thread|clone\.S|below main|libc_start|:main \[|node::Start\(|SpinEventLoop|NodeMainInstance::Run|ld-linux/;
  const list = (rows: Array<{ ir: number; fn: string }>, inclusive: boolean, count: number, title: string): void => {
    const merged = new Map<string, number>();
    for (const { ir, fn } of rows) {
      const m = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(fn);
      const label = m ? `JIT ${name(parseInt(m[1]!, 16)) ?? fn}` : fn;
      // Inclusive rows of one function's several JIT versions are not summed: a recursive or
      // re-optimised function would count its callees twice.
      merged.set(label, inclusive ? Math.max(merged.get(label) ?? 0, ir) : (merged.get(label) ?? 0) + ir);
    }
    process.stdout.write(`${title}:\n`);
    for (const [fn, ir] of [...merged].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      process.stdout.write(`${String(Math.round(ir / REQUESTS)).padStart(8)}  ${fn.slice(0, 150)}\n`);
    }
  };
  list(annotate(lastDump, false).filter((x) => !frames.test(x.fn)), false, TOP, `top ${TOP} by own instructions per request (last round)`);
  if (INCLUSIVE > 0) {
    process.stdout.write('\n');
    list(annotate(lastDump, true).filter((x) => !frames.test(x.fn)), true, INCLUSIVE, `top ${INCLUSIVE} by inclusive instructions per request (last round)`);
  }
} catch (err) {
  process.stderr.write(`bench:instructions: ${(err as Error).message}\n${vgErr.split('\n').slice(-5).join('\n')}\n`);
  process.exitCode = 1;
} finally {
  stopAll();
  if (KEEP) process.stdout.write(`callgrind's output kept in ${dir}, with the JIT's names in perf.map\n`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

// Integration tests of FastCGI against a real php-cgi (interoperability, not framing): mod_fastcgi
// with a bin-path that lantern spawns (lighttpd 1.4 fastcgi.server), and an external `php-cgi -b`
// reached through lighttpd 1.5's proxy-core.* keys with proxy-core.protocol = "fastcgi".
// The CGI environment (RFC 3875 §4.1, C5 httpoxy, B12 underscore names), request bodies with
// Content-Length and chunked, large output, Status/Location from the script, check-local, HEAD on
// keep-alive, 200 concurrent clients, a php worker killed mid-request, SIGTERM cleanup of the
// spawned processes, and server.max-worker spawning php-cgi once.
// Every test reports itself skipped when php-cgi is not installed.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { connectRaw, rawExchange, rawRequest, type RawResponse } from '../helpers/raw-client.js';
import {
  canConnect, childPids, makeTempDir, removeDir, START_TIMEOUT_MS, startLanternProcess, writeProbePlugin,
  type LanternProcess,
} from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which, withTimeout } from '../helpers/wait.js';

const F = suite('fastcgi-php');
const PHP_CGI = which('php-cgi');
const php = skipUnless(F, PHP_CGI !== null, 'php-cgi not installed');

/** The $_SERVER names env.php prints, one `NAME=value` line each (`<unset>` when absent). */
const ENV_NAMES = [
  'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_METHOD', 'HTTP_X_CUSTOM', 'CONTENT_LENGTH',
  'HTTP_X_FORWARDED_FOR', 'HTTP_PROXY', 'HTTP_X_UNDER', 'HTTP_X__UNDER', 'SCRIPT_FILENAME',
];

/** 1 MiB of output: 65536 times these 16 bytes. */
const BIG_UNIT = '0123456789abcdef';
const BIG_BYTES = 1024 * 1024;

const SCRIPTS: Record<string, string> = {
  'www/hello.php': '<?php echo "hello";',
  'www/env.php': `<?php foreach (${JSON.stringify(ENV_NAMES).replace(/^\[/, 'array(').replace(/\]$/, ')')} as $k) {
  echo $k, '=', array_key_exists($k, $_SERVER) ? $_SERVER[$k] : '<unset>', "\\n";
}`,
  // md5 and length of the body PHP read, and the CONTENT_LENGTH it was given.
  'www/md5.php': `<?php $b = file_get_contents('php://input');
echo md5($b), ' ', strlen($b), ' ', isset($_SERVER['CONTENT_LENGTH']) ? $_SERVER['CONTENT_LENGTH'] : '<unset>';`,
  'www/big.php': `<?php echo str_repeat('${BIG_UNIT}', ${BIG_BYTES / BIG_UNIT.length});`,
  'www/status404.php': `<?php header('Status: 404 Not Found'); echo "not here";`,
  'www/redirect.php': `<?php header('Location: /elsewhere'); echo "moved";`,
  // Leaves the serving php process's pid in ../pids/<tag>, then sleeps: the test kills that process.
  'www/sleep.php': `<?php file_put_contents(__DIR__ . '/../pids/' . basename($_GET['tag']), (string) getmypid());
usleep(3000000);
echo "slept";`,
  // Holds a php worker for 20 ms: 200 of them at once keep every worker busy for about a second.
  'www/wait.php': '<?php usleep(20000); echo "waited";',
  'www/slow.php': '<?php usleep(150000); echo "slow";',
  'pids/.keep': '',
};

// ---------------------------------------------------------------------------------------------
// Processes

/** The command line of `pid` as its words, or null when it is gone. */
function cmdline(pid: number): string[] | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

const isPhp = (pid: number) => (cmdline(pid)?.[0] ?? '').endsWith('php-cgi');

/**
 * The process still runs. A zombie does not count: php-cgi's workers are orphaned when their
 * master goes and are reaped by whoever adopts them, which can take a moment after they exited.
 */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every process below `pid` (children, grandchildren...). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const c of childPids(pid)) out.push(c, ...descendants(c));
  return out;
}

/** The php-cgi masters lantern (any process below `root`) spawned: php-cgi whose parent is not php-cgi. */
function phpMasters(root: number): number[] {
  return descendants(root).filter((p) => isPhp(p) && !isPhp(parentOf(p)));
}

function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/**
 * php-cgi masters seen: lantern spawns each in its own process group (pgid = its pid). When a
 * test fails, `proc.kill()` SIGKILLs the tree children first, and a php master still alive for
 * that moment forks new workers that would outlive the test; SIGKILL to the whole group cannot
 * race like that.
 */
const phpGroups = new Set<number>();

function killPhpGroups(): void {
  for (const pgid of phpGroups) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  }
  phpGroups.clear();
}

/** Waits until exactly one php-cgi master runs below `root`, with `workers` php workers; returns their pids. */
async function phpTree(root: number, workers: number): Promise<{ master: number; workers: number[] }> {
  let masters: number[] = [];
  let kids: number[] = [];
  await waitFor(() => {
    masters = phpMasters(root);
    kids = masters.length === 1 ? childPids(masters[0]!).filter(isPhp) : [];
    return masters.length === 1 && kids.length === workers;
  }, 10_000, 20, `one php-cgi master with ${workers} workers below ${root} (masters: ${masters}, workers: ${kids})`);
  phpGroups.add(masters[0]!);
  return { master: masters[0]!, workers: kids };
}

async function waitAllGone(pids: number[], what: string): Promise<void> {
  await waitFor(() => pids.every((p) => !running(p)), 10_000, 20, `${what} to exit (still running: ${pids.filter(running)})`);
}

// ---------------------------------------------------------------------------------------------
// Setups

interface Setup {
  proc: LanternProcess;
  port: number;
  dir: string;
  errorLog: string;
  /** mod_fastcgi splits SCRIPT_NAME / PATH_INFO; proxy-core.* sends the path as SCRIPT_NAME. */
  splitsPathInfo: boolean;
}

/** Writes `<dir>/lighttpd.conf` (docroot `<dir>/www`, error log `<dir>/error.log`) and starts lantern on it. */
async function startWith(dir: string, body: string, args: string[] = []): Promise<{ proc: LanternProcess; port: number; errorLog: string }> {
  // A socket lantern inherits: the port is its own from before it starts (test/helpers/ports.ts).
  const socket = await ListeningSocket.open();
  const port = socket.port;
  const errorLog = path.join(dir, 'error.log');
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, `server.port = ${port}
server.bind = "127.0.0.1"
server.document-root = "${dir}/www"
server.errorlog = "${errorLog}"
${body}
`);
  const proc = await startLanternProcess(['-D', '-f', file, ...args], socket, { cwd: dir });
  return { proc, port, errorLog };
}

/** lighttpd 1.4 mod_fastcgi, php-cgi spawned by lantern on `<dir>/php.sock` (one proc: php.sock-0). */
function spawnedConf(dir: string, extra = ''): string {
  return `server.modules = ( "mod_fastcgi", "mod_status"${extra === '' ? '' : `, ${extra}`} )
status.statistics-url = "/server-statistics"
fastcgi.server = ( ".php" => ( "php" => (
  "socket" => "${dir}/php.sock",
  "bin-path" => "${PHP_CGI}",
  "max-procs" => 1,
  "bin-environment" => ( "PHP_FCGI_CHILDREN" => "4", "PHP_FCGI_MAX_REQUESTS" => "1000" )
) ) )`;
}

let spawned: Setup | null = null;
let external: Setup | null = null;
let externalPhp: ChildProcess | null = null;
let setupError: unknown = null;
const dirs: string[] = [];

function fresh(prefix: string): string {
  const dir = makeTempDir(prefix, SCRIPTS);
  dirs.push(dir);
  return dir;
}

/** `PHP_FCGI_CHILDREN=4 php-cgi -b <sock>`, in its own process group (killed as a group in `after`). */
async function startExternalPhp(sock: string): Promise<ChildProcess> {
  const child = spawn(PHP_CGI!, ['-b', sock], { env: { ...process.env, PHP_FCGI_CHILDREN: '4' }, stdio: 'ignore', detached: true });
  await waitFor(() => canConnect({ path: sock }, 500), 10_000, 20, `php-cgi -b ${sock} to listen`);
  return child;
}

F.before(async () => {
  if (PHP_CGI === null) return;
  // A throwing `before` is swallowed by uvu: keep the error for every test to report.
  try {
    const [a, b] = await Promise.all([
      (async (): Promise<Setup> => {
        const dir = fresh('fcgi-spawned');
        const { proc, port, errorLog } = await startWith(dir, spawnedConf(dir));
        await phpTree(proc.pid, 4).catch((err: unknown) => { proc.kill(); throw err; });
        return { proc, port, dir, errorLog, splitsPathInfo: true };
      })(),
      (async (): Promise<Setup> => {
        const dir = fresh('fcgi-external');
        const sock = path.join(dir, 'ext.sock');
        externalPhp = await startExternalPhp(sock);
        // proxy-core.max-backlog-size (default 64, a full queue answers 503) is raised for the
        // 200-client test: lighttpd 1.5's keys have this limit by design, 1.4's fastcgi.server has none.
        const { proc, port, errorLog } = await startWith(dir, `server.modules = ( "mod_proxy_core", "mod_proxy_backend_fastcgi", "mod_status" )
status.statistics-url = "/server-statistics"
$HTTP["url"] =~ "\\.php$" {
  proxy-core.backends = ( "unix:${sock}" )
  proxy-core.protocol = "fastcgi"
  proxy-core.max-backlog-size = 256
}`);
        return { proc, port, dir, errorLog, splitsPathInfo: false };
      })(),
    ]);
    spawned = a;
    external = b;
  } catch (err) {
    setupError = err;
  }
});

F.after(async () => {
  for (const s of [spawned, external]) {
    if (s) {
      try {
        await s.proc.stop('SIGTERM', 10_000);
      } finally {
        s.proc.kill();
      }
    }
  }
  killPhpGroups();
  if (externalPhp?.pid !== undefined) {
    try { process.kill(-externalPhp.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const d of dirs.splice(0)) removeDir(d);
});

function need(s: Setup | null): Setup {
  if (setupError) throw setupError;
  assert.ok(s, 'the setup started');
  return s!;
}

async function exchange(port: number, send: string | Buffer | Array<string | Buffer>, timeoutMs = 10_000): Promise<RawResponse> {
  const res = await rawRequest(port, send, { halfClose: false, timeoutMs });
  assert.ok(res.complete, 'the whole response arrived');
  return res;
}

const get = (port: number, target: string, headers = '') =>
  exchange(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n${headers}Connection: close\r\n\r\n`);

/** env.php's lines as a record. */
function envOf(res: RawResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.body.toString('latin1').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const md5 = (b: Buffer) => crypto.createHash('md5').update(b).digest('hex');

/** The error log's lines so far (tests compare what a step added). */
function errorLines(s: Setup): string[] {
  const text = fs.existsSync(s.errorLog) ? fs.readFileSync(s.errorLog, 'utf8') : '';
  return text.split('\n').filter((l) => l !== '');
}

/**
 * 200 connections opened first, then one GET each written at once, so the requests are in
 * flight together: every answer must be 200 `body`, with no error-log line and no queue-full,
 * queue timeout, all-down or member failure in the statistics.
 */
async function concurrent(s: Setup, target: string, body: string): Promise<void> {
  const before = errorLines(s).length;
  const conns = await withTimeout(Promise.all(Array.from({ length: 200 }, () => connectRaw(s.port, '127.0.0.1', 10_000))), 15_000, '200 connections');
  try {
    await Promise.all(conns.map((c) => c.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)));
    const results = await withTimeout(Promise.allSettled(conns.map((c) => c.readResponse(20_000))), 25_000, '200 concurrent responses');
    const statuses = new Map<string, number>();
    for (const r of results) {
      const key = r.status === 'fulfilled' ? `${r.value.status} ${r.value.body.toString().slice(0, 20)}` : `no response: ${String(r.reason).slice(0, 80)}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    assert.equal([...statuses], [[`200 ${body}`, 200]], `every client got 200 "${body}": ${JSON.stringify([...statuses])}`);
  } finally {
    for (const c of conns) c.destroy();
  }
  assert.equal(errorLines(s).slice(before), [], 'no error-log lines');
  const stats = (await get(s.port, '/server-statistics')).body.toString();
  const bad = stats.split('\n').filter((l) => /\.(queue-full|queue-timeouts|all-down|failures\.[a-z-]+): /.test(l) && !l.endsWith(': 0'));
  assert.equal(bad, [], 'no queue-full, queue timeout, all-down or member failure counted');
}

// ---------------------------------------------------------------------------------------------
// Items 1-9 for both setups

for (const kind of ['spawned', 'external'] as const) {
  const setup = () => need(kind === 'spawned' ? spawned : external);
  const label = kind === 'spawned' ? 'bin-path' : 'external 1.5';

  php(`${label}: hello.php → 200 "hello" with PHP's Content-Type`, async () => {
    const s = setup();
    const res = await get(s.port, '/hello.php');
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'hello');
    assert.is(res.header('content-type'), 'text/html; charset=UTF-8');
    assert.ok(res.header('content-length') === '5' || res.chunked, `framed: ${JSON.stringify(res.headers)}`);
  });

  php(`${label}: the CGI environment (SCRIPT_NAME, PATH_INFO, QUERY_STRING, HTTP_*; no X-Forwarded-For; C5 Proxy; B12 X_Under)`, async () => {
    const s = setup();
    // Only mod_fastcgi splits the path: the 1.5 block matches paths ending in .php.
    const target = s.splitsPathInfo ? '/env.php/a/b?x=1' : '/env.php?x=1';
    const res = await get(s.port, target, 'X-Custom: custom value\r\nProxy: http://evil.example:8080\r\nX_Under: 1\r\n');
    assert.is(res.status, 200, res.body.toString());
    const env = envOf(res);
    assert.is(env.SCRIPT_NAME, '/env.php');
    assert.is(env.PATH_INFO, s.splitsPathInfo ? '/a/b' : '<unset>');
    assert.is(env.SCRIPT_FILENAME, `${s.dir}/www/env.php`);
    assert.is(env.QUERY_STRING, 'x=1');
    assert.is(env.REQUEST_METHOD, 'GET');
    assert.is(env.HTTP_X_CUSTOM, 'custom value');
    assert.is(env.CONTENT_LENGTH, '0');
    assert.is(env.HTTP_X_FORWARDED_FOR, '<unset>', 'no X-Forwarded-For of lantern\'s own');
    assert.is(env.HTTP_PROXY, '<unset>', 'C5: the Proxy field never becomes HTTP_PROXY');
    assert.is(env.HTTP_X_UNDER, '<unset>', 'B12: X_Under must not pass as HTTP_X_UNDER');
    assert.is(env.HTTP_X__UNDER, '<unset>', 'B12: X_Under produces nothing');
  });

  php(`${label}: a 200 KB POST with Content-Length reaches PHP whole (md5 of php://input)`, async () => {
    const s = setup();
    const body = crypto.randomBytes(200 * 1024);
    const res = await exchange(s.port, [
      `POST /md5.php HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      body,
    ]);
    assert.is(res.status, 200, res.body.toString());
    assert.is(res.body.toString(), `${md5(body)} ${body.length} ${body.length}`);
  });

  php(`${label}: a chunked upload of ~300 KB: PHP sees the de-chunked CONTENT_LENGTH and the right md5`, async () => {
    const s = setup();
    const sizes = [1, 65536, 100_000, 4096, 77_777, 60_000];
    const parts = sizes.map((n) => crypto.randomBytes(n));
    const whole = Buffer.concat(parts);
    const pieces: Array<string | Buffer> = ['POST /md5.php HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'];
    for (const p of parts) pieces.push(Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
    pieces.push('0\r\n\r\n');
    const res = await exchange(s.port, pieces);
    assert.is(res.status, 200, res.body.toString());
    assert.is(res.body.toString(), `${md5(whole)} ${whole.length} ${whole.length}`);
  });

  php(`${label}: 1 MiB of output arrives exact`, async () => {
    const s = setup();
    const res = await get(s.port, '/big.php');
    assert.is(res.status, 200);
    assert.is(res.body.length, BIG_BYTES);
    assert.ok(res.body.equals(Buffer.from(BIG_UNIT.repeat(BIG_BYTES / BIG_UNIT.length))), 'the content is exact');
  });

  php(`${label}: Status: 404 from the script → 404 with its body; Location → 302`, async () => {
    const s = setup();
    const notFound = await get(s.port, '/status404.php');
    assert.is(notFound.status, 404);
    assert.is(notFound.body.toString(), 'not here');
    const moved = await get(s.port, '/redirect.php');
    assert.is(moved.status, 302);
    assert.is(moved.header('location'), '/elsewhere');
    assert.is(moved.body.toString(), 'moved');
  });

  php(`${label}: a missing script /nope.php → 404`, async () => {
    const s = setup();
    const res = await get(s.port, '/nope.php');
    assert.is(res.status, 404);
  });

  php(`${label}: HEAD hello.php → 200 without a body; the keep-alive connection then serves a GET`, async () => {
    const s = setup();
    const conn = await connectRaw(s.port);
    try {
      await conn.write('HEAD /hello.php HTTP/1.1\r\nHost: t\r\n\r\n');
      const head = await conn.readResponse(10_000, { head: true });
      assert.is(head.status, 200);
      assert.is(head.body.length, 0);
      assert.is(head.header('content-type'), 'text/html; charset=UTF-8');
      assert.not.ok(conn.closed, 'the connection stays open after HEAD');
      await conn.write('GET /hello.php HTTP/1.1\r\nHost: t\r\n\r\n');
      const res = await conn.readResponse(10_000);
      assert.is(res.status, 200);
      assert.is(res.body.toString(), 'hello', 'no stray HEAD body bytes before this response');
      assert.is(conn.unread.length, 0, 'nothing after the GET response');
    } finally {
      conn.destroy();
    }
  });

  php(`${label}: 200 concurrent clients of hello.php all get 200 "hello"; nothing in the error log or the status counters`, async () => {
    await concurrent(setup(), '/hello.php', 'hello');
  });

  php(`${label}: 200 concurrent clients of a 20 ms script (every php worker busy, requests queue) all get 200`, async () => {
    await concurrent(setup(), '/wait.php', 'waited');
  });
}

// ---------------------------------------------------------------------------------------------
// Items 10-12: the spawned backend's processes

/**
 * Starts `method /sleep.php?tag=<tag>`, waits for the php worker serving it to name itself, and
 * SIGKILLs that worker; resolves with the answer, the killed pid, the ms from the kill to the
 * answer, and the pid that wrote the pid file last (another worker when the request was retried).
 */
async function killMidRequest(dir: string, port: number, master: number, method: 'GET' | 'POST', tag: string) {
  const body = method === 'POST' ? 'Content-Length: 3\r\n\r\nabc' : '\r\n';
  const pending = rawExchange({ port, send: `${method} /sleep.php?tag=${tag} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${body}`, expectResponses: 1, timeoutMs: 10_000 });
  const pidFile = path.join(dir, 'pids', tag);
  await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 10_000, 10, `sleep.php (${method}) to write its pid`);
  const worker = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.is(parentOf(worker), master, `the php worker ${worker} is a child of the master ${master}`);
  process.kill(worker, 'SIGKILL');
  const killedAt = Date.now();
  const r = await pending;
  const res = r.responses[0];
  assert.ok(res, `${method}: an answer, not a hang (timed out: ${r.timedOut}, closed: ${r.closed}, raw: ${JSON.stringify(r.raw.toString('latin1').slice(0, 200))})`);
  return { res: res!, worker, afterMs: Date.now() - killedAt, servedBy: Number(fs.readFileSync(pidFile, 'utf8')) };
}

php('bin-path: a php worker SIGKILLed mid-request → the request is answered (POST 502; GET 502 or a retry elsewhere), the next 10 are 200', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-kill');
  const { proc, port } = await startWith(dir, spawnedConf(dir));
  try {
    assert.is((await get(port, '/hello.php')).body.toString(), 'hello');
    const { master } = await phpTree(proc.pid, 4);
    // A POST whose body went out is never replayed: the client gets 502 as soon as the worker dies.
    const post = await killMidRequest(dir, port, master, 'POST', 'post');
    assert.is(post.res.status, 502, `POST: ${post.res.status} after ${post.afterMs} ms: ${post.res.body.toString().slice(0, 200)}`);
    assert.ok(post.afterMs < 2000, `POST answered ${post.afterMs} ms after the kill (the script sleeps 3 s)`);
    // A GET with nothing answered yet may be retried on another worker (retry class of a reset
    // backend connection, idempotent method, no byte sent to the client): then it is whole.
    const got = await killMidRequest(dir, port, master, 'GET', 'get');
    if (got.res.status === 200) {
      assert.is(got.res.body.toString(), 'slept');
      assert.is.not(got.servedBy, got.worker, 'the retry ran on another php worker');
    } else {
      assert.is(got.res.status, 502, `GET: ${got.res.status} after ${got.afterMs} ms: ${got.res.body.toString().slice(0, 200)}`);
      assert.ok(got.afterMs < 2000, `GET answered ${got.afterMs} ms after the kill (the script sleeps 3 s)`);
    }
    for (let i = 0; i < 10; i++) {
      const next = await get(port, `/hello.php?after=${i}`);
      assert.is(next.status, 200, `request ${i} after the kill: ${next.status} ${next.body.toString().slice(0, 200)}`);
      assert.is(next.body.toString(), 'hello');
    }
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

php('bin-path, the lighttpd docs\' minimal config (4 procs, 1 child each): php recycling its children every 5 requests never stalls a request (E5)', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-recycle');
  // As the lighttpd docs write it (no max-procs, no PHP_FCGI_CHILDREN), with php's request limit
  // brought down from 500 so the test sees many recycles: each time a child exits right after
  // its answer, and the next request on its kept connection meets a closed socket.
  const { proc, port } = await startWith(dir, `server.modules = ( "mod_fastcgi" )
fastcgi.server = ( ".php" => ( "localhost" => (
  "socket" => "${dir}/php-fastcgi.socket",
  "bin-path" => "${PHP_CGI}",
  "bin-environment" => ( "PHP_FCGI_MAX_REQUESTS" => "5" )
) ) )`);
  try {
    const started = Date.now();
    for (let round = 0; round < 4; round++) {
      // 10 keep-alive clients at once, 6 pipelined requests each: 60 per round, 12 recycles at
      // least; more requests wait than there are php workers, so a freed connection is reused
      // at once, before its FIN is read.
      await Promise.all(Array.from({ length: 10 }, async (_, c) => {
        const send = Array.from({ length: 6 }, (_, i) => `GET /hello.php?r=${round}&c=${c}&i=${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join('');
        const r = await rawExchange({ port, send, expectResponses: 6, timeoutMs: 10_000 });
        assert.equal(r.responses.map((x) => `${x.status} ${x.body.toString()}`), Array(6).fill('200 hello'), `round ${round} client ${c} (timed out: ${r.timedOut})`);
      }));
    }
    assert.ok(Date.now() - started < 20_000, `240 requests took ${Date.now() - started} ms`);
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

php('bin-path with PHP_FCGI_MAX_REQUESTS: POSTs, which are never sent twice, meet no recycled connection: all 200 (E5)', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-recycle-post');
  const { proc, port, errorLog } = await startWith(dir, `server.modules = ( "mod_fastcgi" )
fastcgi.server = ( ".php" => ( "localhost" => (
  "socket" => "${dir}/php-fastcgi.socket",
  "bin-path" => "${PHP_CGI}",
  "max-procs" => 1,
  "bin-environment" => ( "PHP_FCGI_CHILDREN" => "2", "PHP_FCGI_MAX_REQUESTS" => "5" )
) ) )`);
  try {
    // Its php-cgi group is known, so that a failure below (lantern SIGKILLed) leaves none behind.
    await phpTree(proc.pid, 2);
    // A POST cannot be retried on a fresh connection (RFC 9112 §9.3.1): lantern retires each
    // connection after php's 5th request instead of reusing it into the worker's exit.
    const body = 'p'.repeat(20_000);
    const md5 = crypto.createHash('md5').update(body).digest('hex');
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 8 }, async (_, c) => {
        const one = `POST /md5.php?r=${round}&c=${c} HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        const r = await rawExchange({ port, send: one.repeat(5), expectResponses: 5, timeoutMs: 15_000 });
        assert.equal(r.responses.map((x) => `${x.status} ${x.body.toString()}`), Array(5).fill(`200 ${md5} ${body.length} ${body.length}`), `round ${round} client ${c} (timed out: ${r.timedOut})`);
      }));
    }
    const log = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
    assert.not.match(log, /not sent again/, 'no POST met a connection php had closed');
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

php('bin-path: a block that changes only fastcgi.balance reaches the same spawned php-cgi (a backend made at the first such request)', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-variant');
  fs.mkdirSync(path.join(dir, 'www', 'rr'));
  fs.writeFileSync(path.join(dir, 'www', 'rr', 'hello.php'), '<?php echo "hello";');
  // The block sets no fastcgi.server: its backend (the same hosts, another balancer) is made at
  // the first request it matches, after startup spawned php-cgi for the global one.
  const { proc, port } = await startWith(dir, `${spawnedConf(dir)}
$HTTP["url"] =^ "/rr/" { fastcgi.balance = "round-robin" }`);
  try {
    assert.is((await get(port, '/hello.php')).body.toString(), 'hello');
    const res = await get(port, '/rr/hello.php');
    assert.is(res.status, 200, res.body.toString().slice(0, 200));
    assert.is(res.body.toString(), 'hello');
    assert.equal(phpMasters(proc.pid).length, 1, 'php-cgi was spawned once');
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

php('bin-path, min-procs 1 / max-procs 3: a proc is added while every one is loaded, and stopped after idle-timeout (lighttpd\'s adaptive spawning)', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-adaptive');
  const { proc, port } = await startWith(dir, `server.modules = ( "mod_fastcgi" )
fastcgi.server = ( ".php" => ( "php" => (
  "socket" => "${dir}/php.sock",
  "bin-path" => "${PHP_CGI}",
  "min-procs" => 1, "max-procs" => 3, "max-load-per-proc" => 1, "idle-timeout" => 1
) ) )`);
  try {
    // The procs: php-cgi processes lantern started (each may fork its own children).
    const phps = () => childPids(proc.pid).filter(isPhp);
    await waitFor(() => phps().length === 1, START_TIMEOUT_MS, 50, 'one php-cgi at the start');
    // 6 clients in a loop for up to 8 s: every proc is busy and requests queue up.
    let most = 1;
    const until = Date.now() + 8000;
    await Promise.all(Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; Date.now() < until && most < 3; i++) {
        const r = await get(port, `/slow.php?c=${c}&i=${i}`);
        assert.is(r.status, 200);
        most = Math.max(most, phps().length);
      }
    }));
    assert.ok(most >= 2, `procs were added under load (most seen: ${most})`);
    await waitFor(() => phps().length === 1, 10_000, 100, 'the idle procs to be stopped (min-procs 1)');
    assert.is((await get(port, '/hello.php')).body.toString(), 'hello', 'the remaining proc serves');
  } finally {
    await proc.stop('SIGTERM');
  }
});

php('bin-path: SIGTERM → lantern exits 0, every php-cgi it spawned is gone, the socket file is removed', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-term');
  const { proc, port } = await startWith(dir, spawnedConf(dir));
  try {
    assert.is((await get(port, '/hello.php')).body.toString(), 'hello');
    const { master, workers } = await phpTree(proc.pid, 4);
    const sock = path.join(dir, 'php.sock-0');
    assert.ok(fs.existsSync(sock), 'php.sock-0 exists while running');
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
    await waitAllGone([master, ...workers], `php-cgi ${master} and its workers ${workers}`);
    assert.not.ok(fs.existsSync(sock), 'php.sock-0 is removed');
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

php('bin-path with server.max-worker = 2: php-cgi is spawned once, both workers serve, SIGTERM leaves no php-cgi', async () => {
  if (setupError) throw setupError;
  const dir = fresh('fcgi-workers');
  const pluginDir = writeProbePlugin(dir);
  const { proc, port } = await startWith(dir, `server.max-worker = 2\n${spawnedConf(dir, '"mod_probe"')}`, ['-m', pluginDir]);
  try {
    const isNode = (p: number) => (cmdline(p)?.[0] ?? '') === process.execPath;
    let workers: number[] = [];
    await waitFor(() => {
      workers = childPids(proc.pid).filter(isNode);
      return workers.length === 2;
    }, START_TIMEOUT_MS, 50, `2 lantern workers (last seen: ${workers})`);
    const { master, workers: phpWorkers } = await phpTree(proc.pid, 4);
    assert.is(parentOf(master), proc.pid, 'the primary spawned php-cgi');
    for (const w of workers) assert.equal(descendants(w).filter(isPhp), [], `lantern worker ${w} spawned no php-cgi`);
    const seen = new Set<number>();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let i = 0; seen.size < 2 && Date.now() < deadline; i++) {
      // The primary tries each address once before forking (bind, close): a start-up probe can
      // see that moment as "listening" before the workers listen. Until one answered, a refused
      // connection is that gap; after that it would mean the listener went away.
      const res = await get(port, `/hello.php?n=${i}`).catch((err: Error) => {
        if (seen.size === 0 && /ECONNREFUSED/.test(err.message)) return null;
        throw new Error(`${err.message} (request ${i}; lantern workers now: ${childPids(proc.pid).filter(isNode)}; exit: ${JSON.stringify(proc.status)})\n${proc.stderr}`);
      });
      if (res === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      assert.is(res.status, 200, res.body.toString());
      assert.is(res.body.toString(), 'hello');
      seen.add(Number(res.header('x-probe-pid')));
    }
    assert.equal([...seen].sort(), [...workers].sort(), 'both lantern workers answered through php-cgi');
    assert.equal(phpMasters(proc.pid), [master], 'still exactly one php-cgi master');
    const sock = path.join(dir, 'php.sock-0');
    assert.is(await proc.stop('SIGTERM', 15_000), 0, proc.stderr);
    await waitAllGone([master, ...phpWorkers], `php-cgi ${master} and its workers ${phpWorkers}`);
    assert.not.ok(fs.existsSync(sock), 'php.sock-0 is removed');
  } finally {
    proc.kill();
    killPhpGroups();
  }
});

F.run();

// Integration tests of the SCGI and uwsgi protocols (plugins/proxy-backend-scgi) against a real uWSGI
// running test/fixtures/wsgi/app.py, reached through both config forms: lighttpd 1.4 mod_scgi
// (`scgi.server`, per-host "proto") and lighttpd 1.5 mod_proxy_core (`proxy-core.backends` +
// `proxy-core.protocol`). lantern runs as a user runs it (`bin/lantern -D -f <conf>`).
//
// One uWSGI (its own process group) serves all four lanterns: SCGI and uwsgi on TCP for the 1.4
// form, on unix sockets for the 1.5 form. Every test runs once per (protocol, form) pair.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawExchange, rawRequest, type RawResponse } from '../helpers/raw-client.js';
import { ListeningSocket, refusingPort } from '../helpers/ports.js';
import {
  canConnect, makeTempDir, REPO_ROOT, removeDir, startLanternProcess, type LanternProcess, type ListenTarget,
} from '../helpers/spawn-lantern.js';
import { skipUnless, TimeoutError, waitFor, which, withTimeout } from '../helpers/wait.js';

const ScgiUwsgi = suite('scgi-uwsgi');

const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'wsgi', 'app.py');
/** Hard cap on one test (each wait inside has its own, shorter one). */
const TEST_MS = 20_000;
/** How long uWSGI may take to load Python and the app. */
const UWSGI_START_MS = 15_000;

const UWSGI = which('uwsgi') ?? which('uwsgi-core');
/** uWSGI prints this (and goes on) when a --plugin cannot be loaded. */
const hasPython3Plugin = UWSGI !== null
  && !/UNABLE to load uWSGI plugin/.test(spawnSync(UWSGI, ['--plugin', 'python3', '--version'], { encoding: 'utf8', timeout: 10_000 }).stderr ?? 'UNABLE to load uWSGI plugin');
const real = skipUnless(ScgiUwsgi, hasPython3Plugin, 'uwsgi with the python3 plugin not installed');

/** A test with a hard timeout around its whole body. */
function test(name: string, fn: () => Promise<void>): void {
  real(name, () => withTimeout(fn(), TEST_MS, `test "${name}"`));
}

// --- uWSGI -----------------------------------------------------------------------------------

interface Uwsgi {
  child: ChildProcess;
  /** The process group: the master and its workers. */
  pgid: number;
  output: string;
  /** The auto-assigned TCP ports, in the order the TCP sockets were given. */
  tcpPorts: number[];
  exited: Promise<void>;
}

const uwsgis = new Set<Uwsgi>();
process.on('exit', () => {
  for (const u of uwsgis) killGroup(u.pgid);
});

function killGroup(pgid: number): void {
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
}

/** Pids of the group's processes that are still running (zombies waiting for a reaper do not count). */
function liveInGroup(pgid: number): number[] {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && Number(f[1]) === pgid && !f[2]!.startsWith('Z')).map((f) => Number(f[0]));
}

/**
 * Starts uWSGI with the app on `sockets` (`[flag, address]`, e.g. `['--scgi-socket', '127.0.0.1:0']`)
 * in a process group of its own, and waits until the app is loaded and every socket accepts.
 */
async function startUwsgi(sockets: Array<[string, string]>): Promise<Uwsgi> {
  const args = ['--plugin', 'python3', ...sockets.flat(), '--wsgi-file', APP, '--need-app',
    '--master', '--processes', '2', '--die-on-term', '--disable-logging'];
  const child = spawn(UWSGI!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const u: Uwsgi = {
    child, pgid: child.pid!, output: '', tcpPorts: [],
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  uwsgis.add(u);
  let exitedEarly = false;
  void u.exited.then(() => { exitedEarly = true; });
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { u.output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { u.output += s; });
  try {
    const tcpCount = sockets.filter(([, a]) => !a.startsWith('/')).length;
    await waitFor(() => {
      if (exitedEarly) throw new Error(`uwsgi exited during its start:\n${u.output}`);
      return /WSGI app 0 \(mountpoint=''\) ready/.test(u.output)
        && [...u.output.matchAll(/bound to TCP address [^ ]+:\d+/g)].length === tcpCount;
    }, UWSGI_START_MS, 20, 'uwsgi to load the app');
    // "uwsgi socket N bound to TCP address 127.0.0.1:P (port auto-assigned)": N counts every socket in argument order.
    const byIndex = new Map<number, number>();
    for (const m of u.output.matchAll(/uwsgi socket (\d+) bound to TCP address [^ ]+:(\d+)/g)) byIndex.set(Number(m[1]), Number(m[2]));
    sockets.forEach(([, addr], i) => { if (!addr.startsWith('/')) u.tcpPorts.push(byIndex.get(i)!); });
    const targets: ListenTarget[] = sockets.map(([, addr], i) => (addr.startsWith('/') ? { path: addr } : { port: byIndex.get(i)! }));
    for (const t of targets) {
      await waitFor(() => canConnect(t), 5000, 20, `uwsgi to accept on ${JSON.stringify(t)}`);
    }
    return u;
  } catch (err) {
    await stopUwsgi(u);
    throw err;
  }
}

/** SIGKILLs the whole group, waits for the master's exit and until no process of the group runs. */
async function stopUwsgi(u: Uwsgi): Promise<void> {
  killGroup(u.pgid);
  await withTimeout(u.exited, 5000, `uwsgi master ${u.pgid} to exit`);
  await waitFor(() => liveInGroup(u.pgid).length === 0, 5000, 20, `every process of uwsgi group ${u.pgid} to end`);
  uwsgis.delete(u);
}

// --- lantern ---------------------------------------------------------------------------------

/** Where uWSGI listens: SCGI and uwsgi on TCP (the 1.4 form) and on unix sockets (the 1.5 form). */
interface UwsgiSockets { scgiPort: number; uwsgiPort: number; scgiPath: string; uwsgiPath: string }

interface Variant {
  /** Test name prefix: protocol and config form. */
  name: string;
  form: '1.4' | '1.5';
  /** The config lines after server.* (modules and backend keys). */
  conf: (sockets: UwsgiSockets) => string;
}

const scgiServer = (port: number, proto = '') => `server.modules = ( "mod_scgi" )
scgi.server = ( "/app" => ( ( "host" => "127.0.0.1", "port" => ${port}, "check-local" => "disable"${proto} ) ) )
`;
const proxyCore = (member: string, protocol: string) => `server.modules = ( "mod_proxy_core", "mod_proxy_backend_scgi" )
$HTTP["url"] =~ "^/app" {
  proxy-core.backends = ( "${member}" )
  proxy-core.protocol = "${protocol}"
}
`;

const VARIANTS: Variant[] = [
  { name: 'scgi, scgi.server', form: '1.4', conf: (s) => scgiServer(s.scgiPort) },
  { name: 'uwsgi, scgi.server "proto"', form: '1.4', conf: (s) => scgiServer(s.uwsgiPort, ', "proto" => "uwsgi"') },
  { name: 'scgi, proxy-core.protocol', form: '1.5', conf: (s) => proxyCore(`unix:${s.scgiPath}`, 'scgi') },
  { name: 'uwsgi, proxy-core.protocol', form: '1.5', conf: (s) => proxyCore(`unix:${s.uwsgiPath}`, 'uwsgi') },
];

let dir = '';
let uwsgi: Uwsgi | null = null;
let sockets: UwsgiSockets | null = null;
const lanterns = new Map<string, { proc: LanternProcess; port: number }>();

/** A lantern on a socket it inherits: its port is lantern's before it starts (test/helpers/ports.ts). */
async function startLantern(name: string, confLines: string): Promise<{ proc: LanternProcess; port: number }> {
  const socket = await ListeningSocket.open();
  const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.conf`);
  fs.writeFileSync(file, `server.bind = "127.0.0.1"\nserver.port = ${socket.port}\nserver.document-root = "${dir}/www"\n${confLines}`);
  const proc = await startLanternProcess(['-D', '-f', file], socket, { cwd: dir });
  return { proc, port: socket.port };
}

ScgiUwsgi.before(async () => {
  if (!hasPython3Plugin) return;
  dir = makeTempDir('scgi-uwsgi', { 'www/index.html': 'static\n' });
  const scgiPath = path.join(dir, 'scgi.sock');
  const uwsgiPath = path.join(dir, 'uwsgi.sock');
  uwsgi = await startUwsgi([
    ['--scgi-socket', '127.0.0.1:0'], ['--uwsgi-socket', '127.0.0.1:0'],
    ['--scgi-socket', scgiPath], ['--uwsgi-socket', uwsgiPath],
  ]);
  const s: UwsgiSockets = { scgiPort: uwsgi.tcpPorts[0]!, uwsgiPort: uwsgi.tcpPorts[1]!, scgiPath, uwsgiPath };
  sockets = s;
  const started = await Promise.allSettled(VARIANTS.map(async (v) => {
    lanterns.set(v.name, await startLantern(v.name, v.conf(s)));
  }));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

ScgiUwsgi.after(async () => {
  try {
    for (const { proc } of lanterns.values()) proc.kill();
    await withTimeout(Promise.all([...lanterns.values()].map(({ proc }) => proc.exited)), 5000, 'the lanterns to exit');
  } finally {
    lanterns.clear();
    try {
      if (uwsgi) await stopUwsgi(uwsgi);
    } finally {
      uwsgi = null;
      sockets = null;
      removeDir(dir);
    }
  }
});

// --- requests --------------------------------------------------------------------------------

async function request(port: number, head: string, body: Buffer | string = '', timeoutMs = 10_000): Promise<RawResponse> {
  return rawRequest(port, [head, body], { halfClose: false, timeoutMs, headRequests: [head.startsWith('HEAD ')] });
}

const get = (port: number, target: string, extra = '') => request(port, `GET ${target} HTTP/1.1\r\nHost: www.example\r\n${extra}Connection: close\r\n\r\n`);

/** The /env answer as a map: `NAME=value` lines and `has NAME=yes|no` lines. */
function envOf(r: RawResponse): Map<string, string> {
  assert.is(r.status, 200, r.body.toString());
  return new Map(r.body.toString('latin1').split('\n').filter(Boolean).map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)] as [string, string];
  }));
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** What app.py's /big sends: 1 MiB of i % 251. */
const BIG = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i % 251));
/** Deterministic bytes that are not all the same (a lost or repeated piece changes the md5). */
const bodyOf = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed + (i >> 8)) & 0xff));

// --- tests -----------------------------------------------------------------------------------

for (const v of VARIANTS) {
  const lt = () => {
    const x = lanterns.get(v.name);
    if (!x) throw new Error(`lantern for ${v.name} did not start`);
    return x;
  };

  test(`${v.name}: GET /app/hello → 200 "hello"`, async () => {
    const r = await get(lt().port, '/app/hello');
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'hello');
    assert.is(r.header('content-type'), 'text/plain');
  });

  test(`${v.name}: SCRIPT_NAME / PATH_INFO, QUERY_STRING, REQUEST_METHOD, CONTENT_LENGTH`, async () => {
    const env = envOf(await get(lt().port, '/app/sub/env?a=1&b=%20x'));
    if (v.form === '1.4') {
      // gw_backend.c gw_check_extension(), check-local disabled: SCRIPT_NAME runs to the first "/"
      // at or after the end of the "/app" key; the rest is PATH_INFO.
      assert.is(env.get('SCRIPT_NAME'), '/app');
      assert.is(env.get('PATH_INFO'), '/sub/env');
    } else {
      // lighttpd 1.5 mod_proxy_backend_scgi.c: SCRIPT_NAME is the whole uri.path, no path info.
      assert.is(env.get('SCRIPT_NAME'), '/app/sub/env');
      assert.ok(!env.get('PATH_INFO'), `PATH_INFO is empty or absent, got ${JSON.stringify(env.get('PATH_INFO'))}`);
    }
    assert.is(env.get('QUERY_STRING'), 'a=1&b=%20x');
    assert.is(env.get('REQUEST_METHOD'), 'GET');
    assert.is(env.get('CONTENT_LENGTH'), '0');
  });

  if (v.form === '1.4') {
    test(`${v.name}: the split is at the first "/" after the key, even inside a longer segment`, async () => {
      // "/app" also matches "/application/env" (a plain prefix); gw_check_extension() splits there.
      const env = envOf(await get(lt().port, '/application/env'));
      assert.is(env.get('SCRIPT_NAME'), '/application');
      assert.is(env.get('PATH_INFO'), '/env');
    });
  }

  test(`${v.name}: X-Custom reaches HTTP_X_CUSTOM; no HTTP_PROXY (C5), no HTTP_X_FORWARDED_FOR of lantern's own`, async () => {
    const env = envOf(await get(lt().port, '/app/env', 'X-Custom: custom value 1\r\nProxy: http://evil.example:3128\r\n'));
    assert.is(env.get('HTTP_X_CUSTOM'), 'custom value 1');
    assert.is(env.get('has HTTP_PROXY'), 'no', 'httpoxy: a client Proxy field must not become HTTP_PROXY');
    assert.is(env.get('has HTTP_X_FORWARDED_FOR'), 'no');
  });

  test(`${v.name}: a 200 KB POST arrives whole (md5, CONTENT_LENGTH)`, async () => {
    const body = bodyOf(200 * 1024, 7);
    const r = await request(lt().port, `POST /app/echo HTTP/1.1\r\nHost: www.example\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, body);
    assert.is(r.status, 200);
    assert.is(r.body.toString(), `${md5(body)} ${body.length}`);
  });

  test(`${v.name}: a chunked upload is de-chunked; CONTENT_LENGTH is its real length`, async () => {
    const body = bodyOf(100 * 1024 + 17, 3);
    const pieces = [body.subarray(0, 1), body.subarray(1, 40_000), body.subarray(40_000, 40_001), body.subarray(40_001)];
    const chunked = Buffer.concat([...pieces.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
    const head = (target: string) => `POST ${target} HTTP/1.1\r\nHost: www.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const r = await request(lt().port, head('/app/echo'), chunked);
    assert.is(r.status, 200);
    assert.is(r.body.toString(), `${md5(body)} ${body.length}`);
    const env = envOf(await request(lt().port, head('/app/env'), chunked));
    assert.is(env.get('CONTENT_LENGTH'), String(body.length));
    assert.is(env.get('body bytes'), String(body.length));
    assert.is(env.get('REQUEST_METHOD'), 'POST');
    assert.is(env.get('has HTTP_TRANSFER_ENCODING'), 'no', 'the body is de-chunked: Transfer-Encoding is not passed');
  });

  test(`${v.name}: 1 MiB of output arrives exact`, async () => {
    const r = await get(lt().port, '/app/big');
    assert.is(r.status, 200);
    assert.ok(r.complete, 'the body is complete');
    assert.is(r.body.length, BIG.length);
    assert.ok(r.body.equals(BIG), 'the bytes are the ones the app sent');
  });

  test(`${v.name}: the app's 404 and 302 (with Location) are passed through`, async () => {
    const nf = await get(lt().port, '/app/notfound');
    assert.is(nf.status, 404);
    assert.is(nf.body.toString(), 'not found: notfound');
    const moved = await get(lt().port, '/app/redirect');
    assert.is(moved.status, 302);
    assert.is(moved.header('location'), 'http://www.example/elsewhere');
    assert.is(moved.body.toString(), 'moved');
  });

  test(`${v.name}: HEAD gets the head and no body; the connection goes on`, async () => {
    const r = await rawExchange({
      port: lt().port,
      send: 'HEAD /app/hello HTTP/1.1\r\nHost: www.example\r\n\r\nGET /app/hello HTTP/1.1\r\nHost: www.example\r\nConnection: close\r\n\r\n',
      headRequests: [true, false],
      expectResponses: 2,
      timeoutMs: 10_000,
    });
    assert.is(r.responses.length, 2, `two responses; got ${JSON.stringify(r.raw.toString('latin1'))}`);
    const [head, after] = r.responses as [RawResponse, RawResponse];
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    assert.is(after.status, 200);
    assert.is(after.body.toString(), 'hello', `the bytes after the HEAD response: ${JSON.stringify(r.raw.toString('latin1'))}`);
  });

  test(`${v.name}: 50 concurrent requests all get 200`, async () => {
    const port = lt().port;
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => get(port, `/app/hello?i=${i}`)));
    const bad = all.map((r, i) => [i, r.status, r.body.toString()] as const).filter(([, s, b]) => s !== 200 || b !== 'hello');
    assert.equal(bad, [], `requests that did not get 200 "hello": ${JSON.stringify(bad.slice(0, 5))}`);
  });
}

/** Starts one lantern per `[name, config lines]` for this test only, runs `fn`, stops them all. */
async function withOwnLanterns(configs: Array<[string, string]>, fn: (started: Array<readonly [string, number]>) => Promise<void>): Promise<void> {
  const procs: LanternProcess[] = [];
  try {
    // allSettled: every start has ended (and is in procs) before a failed one is reported.
    const settled = await Promise.allSettled(configs.map(async ([name, conf]) => {
      const x = await startLantern(name, conf);
      procs.push(x.proc);
      return [name, x.port] as const;
    }));
    const started = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    await fn(started);
  } finally {
    for (const p of procs) p.kill();
    await withTimeout(Promise.all(procs.map((p) => p.exited)), 5000, 'the lanterns of this test to exit').catch((err: unknown) => {
      if (!(err instanceof TimeoutError)) throw err;
    });
  }
}

test('a backend that is down (refused): 503 at once, for both protocols and both forms', async () => {
  // Held for the whole test: a port that was merely closed could be bound by anyone meanwhile.
  const dead = await refusingPort();
  const deadPort = dead.port;
  const deadSock = path.join(dir, 'nobody.sock');
  try {
    await withOwnLanterns([
      ['down scgi 1.4', scgiServer(deadPort)],
      ['down uwsgi 1.4', scgiServer(deadPort, ', "proto" => "uwsgi"')],
      ['down scgi 1.5', proxyCore(`127.0.0.1:${deadPort}`, 'scgi')],
      ['down uwsgi 1.5', proxyCore(`unix:${deadSock}`, 'uwsgi')],
    ], async (started) => {
      for (const [name, port] of started) {
        const t0 = Date.now();
        const r = await rawExchange({ port, send: 'GET /app/hello HTTP/1.1\r\nHost: www.example\r\nConnection: close\r\n\r\n', expectResponses: 1, timeoutMs: 5000 });
        const ms = Date.now() - t0;
        assert.ok(!r.timedOut, `${name}: an answer within 5 s, not a hang`);
        const status = r.responses[0]?.status;
        assert.is(status, 503, `${name}: 503, got ${status}: ${JSON.stringify(r.raw.toString('latin1', 0, 200))}`);
        assert.ok(ms < 3000, `${name}: answered in ${ms} ms`);
      }
    });
  } finally {
    dead.close();
  }
});

test('an app that answers before reading a 1 MB upload: its answer is passed on, the backend stays in use', async () => {
  // RFC 9112 §9.5: a sender of a body watches for a response meanwhile; the backend's whole
  // 200 is the answer, and a backend refusing to read an upload is not a failing backend.
  // Own lanterns: a failing run here disables the member, which must not leak into other tests.
  const s = sockets!;
  const body = bodyOf(1_000_000, 5);
  const outcomes: string[] = [];
  await withOwnLanterns(VARIANTS.map((v) => [`early ${v.name}`, v.conf(s)]), async (started) => {
    await Promise.all(started.map(async ([name, port]) => {
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await request(port, `POST /app/early HTTP/1.1\r\nHost: www.example\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, body);
        seen.push(`${r.status} ${r.body.toString().slice(0, 5)}`);
      }
      const after = await get(port, '/app/hello');
      seen.push(`then GET: ${after.status}`);
      outcomes.push(`${name}: ${seen.join(', ')}`);
    }));
  });
  const bad = outcomes.filter((o) => !/^[^:]+: (200 early, ){5}then GET: 200$/.test(o));
  assert.equal(bad, [], `each POST gets 200 "early" and the backend still answers:\n${outcomes.join('\n')}`);
});

ScgiUwsgi.run();

// Tests of plugins/proxy-core/spawner.ts with real processes (test/fixtures/spawn/echo-server.mjs): sockets as fd 0,
// per-proc addresses, "already listening", respawn and spin protection, TERM → KILL and group reaping, environment.
import { chmodSync, existsSync, lstatSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildChildEnv, checkBinPath, childArgv, procCapacity, splitBinPath, Spawner, type SpawnSpec, type SpawnedProc,
} from '../../../../plugins/proxy-core/spawner.js';
import { alive, rejects, waitFor, withTimeout } from '../../../helpers/wait.js';

const T = suite('proxy-core/spawner');
const FIXTURE = fileURLToPath(new URL('../../../fixtures/spawn/echo-server.mjs', import.meta.url));
const BIN = `${process.execPath} ${FIXTURE}`;
const WAIT_MS = 5000;
/** init reaps orphaned zombies on its own schedule (about 1-2 s here). */
const REAP_MS = 8000;
const FAST_SPIN = { restartDelayMs: 10, maxRestartDelayMs: 40, maxQuickDeaths: 3, stableRunMs: 10_000 };

let dir = '';
let spawners: Spawner[] = [];
let logs: string[] = [];

T.before.each(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lt-spawn-'));
  spawners = [];
  logs = [];
});
T.after.each(async () => {
  for (const s of spawners) await s.stop(200);
  rmSync(dir, { recursive: true, force: true });
});

function spec(over: Partial<SpawnSpec> = {}): SpawnSpec {
  return {
    binPath: BIN, env: {}, copyEnv: [], socket: { kind: 'unix', path: path.join(dir, 'app.sock') },
    maxProcs: 1, minProcs: 1, maxLoadPerProc: 1, idleTimeoutMs: 60_000, killSignal: 'SIGTERM', listenBacklog: 64, ...over,
  };
}

function make(over: Partial<SpawnSpec> = {}, spin = FAST_SPIN): Spawner {
  const s = new Spawner(spec(over), { log: (m) => logs.push(m), debug: () => {}, spin });
  spawners.push(s);
  return s;
}

interface Answer { pid: number; cwd: string; grandchild: number | null; env: Record<string, string | null> }

/** Connects to a proxy-core member address, sends the variable names, returns the JSON answer. */
function ask(address: string, names: string[] = []): Promise<Answer> {
  const conn = address.startsWith('unix:')
    ? net.connect({ path: address.slice(5) })
    : net.connect({ host: address.slice(0, address.lastIndexOf(':')), port: Number(address.slice(address.lastIndexOf(':') + 1)) });
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => { buf += chunk; });
  conn.write(`${names.join(',')}\n`);
  const done = new Promise<Answer>((resolve, reject) => {
    conn.on('error', reject);
    conn.on('close', () => (buf.includes('\n') ? resolve(JSON.parse(buf) as Answer) : reject(new Error(`no answer from ${address}`))));
  });
  return withTimeout(done, WAIT_MS, `an answer from ${address}`).finally(() => conn.destroy());
}

/** Two free consecutive TCP ports on 127.0.0.1 (port 0, then its neighbour checked). */
async function freePortPair(): Promise<number> {
  const tryListen = (port: number) => new Promise<number | null>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen({ host: '127.0.0.1', port }, () => {
      const got = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(got));
    });
  });
  for (let i = 0; i < 20; i++) {
    const p = await tryListen(0);
    if (p !== null && p < 65535 && (await tryListen(p + 1)) !== null) return p;
  }
  throw new Error('no two free consecutive ports');
}

const pids = (procs: SpawnedProc[]) => procs.map((p) => p.pid).filter((pid): pid is number => pid !== null);
const gone = (pid: number, what: string) => waitFor(() => !alive(pid), REAP_MS, 10, what);

T('splitBinPath and childArgv: words on blanks, no quoting; shellExec runs sh -c exec', () => {
  assert.equal(splitBinPath('/usr/bin/php-cgi  -c\t/etc/php.ini'), ['/usr/bin/php-cgi', '-c', '/etc/php.ini']);
  assert.equal(childArgv({ binPath: '/usr/bin/php-cgi -q' }), ['/usr/bin/php-cgi', '-q']);
  assert.equal(childArgv({ binPath: 'bin/app -x' })[0], path.resolve('bin/app'));
  assert.equal(childArgv({ binPath: 'python3 app.py', shellExec: true }), ['/bin/sh', '-c', 'exec python3 app.py']);
});

T('buildChildEnv: copy list filters, empty list copies all, bin-environment wins, PHP_FCGI_CHILDREN defaults to 1', () => {
  const parent = { A: '1', B: '2', PATH: '/bin' };
  assert.equal(buildChildEnv({ env: { C: '3' }, copyEnv: ['A', 'MISSING'] }, parent), { A: '1', C: '3', PHP_FCGI_CHILDREN: '1' });
  assert.equal(buildChildEnv({ env: { B: 'x', PHP_FCGI_CHILDREN: '4' }, copyEnv: [] }, parent), { A: '1', B: 'x', PATH: '/bin', PHP_FCGI_CHILDREN: '4' });
});

T('procCapacity: PHP_FCGI_CHILDREN workers, else 1', () => {
  assert.is(procCapacity({ PHP_FCGI_CHILDREN: '8' }), 8);
  assert.is(procCapacity({ PHP_FCGI_CHILDREN: '0' }), 1);
  assert.is(procCapacity({ PHP_FCGI_CHILDREN: 'x' }), 1);
  assert.is(procCapacity({}), 1);
});

T('checkBinPath: fine, missing, not executable, a directory', () => {
  assert.is(checkBinPath(`${process.execPath} --version`), null);
  assert.match(checkBinPath(path.join(dir, 'nope -x')) ?? '', /does not exist/);
  const plain = path.join(dir, 'plain.sh');
  writeFileSync(plain, '#!/bin/sh\n');
  chmodSync(plain, 0o644);
  assert.match(checkBinPath(plain) ?? '', /not executable/);
  assert.match(checkBinPath(dir) ?? '', /not a regular file/);
  assert.is(checkBinPath('sh -c true', { shellExec: true }), null);
});

T('unix socket: path-0, child answers, cwd is the program directory; stop removes the file and the pid', async () => {
  const s = make();
  const procs = await withTimeout(s.start(), WAIT_MS, 'start');
  assert.is(procs.length, 1);
  assert.is(procs[0]!.address, `unix:${path.join(dir, 'app.sock')}-0`);
  assert.is(procs[0]!.state, 'running');
  const answer = await ask(procs[0]!.address);
  assert.is(answer.pid, procs[0]!.pid);
  assert.is(answer.cwd, path.dirname(process.execPath));
  assert.is(s.capacity(), 1);
  await withTimeout(s.stop(1000), WAIT_MS, 'stop');
  assert.not.ok(existsSync(`${path.join(dir, 'app.sock')}-0`), 'socket file removed');
  await gone(answer.pid, 'the child to be gone');
  assert.is(s.procs[0]!.state, 'stopped');
});

T('a stale socket file is replaced; a regular file at the path is refused', async () => {
  const base = path.join(dir, 'stale.sock');
  // A socket file nobody listens on: bound at another name and renamed, so close() cannot unlink it.
  const old = net.createServer();
  await new Promise<void>((resolve) => old.listen({ path: `${base}.tmp` }, resolve));
  renameSync(`${base}.tmp`, `${base}-0`);
  await new Promise<void>((resolve) => old.close(() => resolve()));
  assert.ok(lstatSync(`${base}-0`).isSocket());
  const s = make({ socket: { kind: 'unix', path: base } });
  const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
  assert.is((await ask(proc!.address)).pid, proc!.pid);
  await s.stop(1000);

  writeFileSync(`${base}-1`, 'not a socket');
  const two = make({ socket: { kind: 'unix', path: base }, maxProcs: 2, minProcs: 2 });
  await rejects(withTimeout(two.start(), WAIT_MS, 'start'), /refusing to replace .*stale\.sock-1.*not a socket/);
  assert.ok(existsSync(`${base}-1`), 'the regular file is left alone');
  assert.equal(pids(two.procs), [], 'what was started was stopped');
  assert.not.ok(existsSync(`${base}-0`));
});

T('TCP with maxProcs 2: port and port+1, both answer, distinct pids', async () => {
  const port = await freePortPair();
  const s = make({ socket: { kind: 'tcp', host: '127.0.0.1', port }, maxProcs: 2, minProcs: 2 });
  const procs = await withTimeout(s.start(), WAIT_MS, 'start');
  assert.equal(procs.map((p) => p.address), [`127.0.0.1:${port}`, `127.0.0.1:${port + 1}`]);
  const answers = await Promise.all(procs.map((p) => ask(p.address)));
  assert.equal(answers.map((a) => a.pid), pids(procs));
  assert.is(new Set(pids(procs)).size, 2);
  assert.is(s.capacity(), 2);
});

T('unix with maxProcs 2: path-0 and path-1 both answer', async () => {
  const s = make({ maxProcs: 2, minProcs: 2, env: { PHP_FCGI_CHILDREN: '3' } });
  const procs = await withTimeout(s.start(), WAIT_MS, 'start');
  const base = path.join(dir, 'app.sock');
  assert.equal(procs.map((p) => p.address), [`unix:${base}-0`, `unix:${base}-1`]);
  for (const p of procs) assert.is((await ask(p.address)).pid, p.pid);
  assert.is(s.capacity(), 6, 'PHP_FCGI_CHILDREN 3 × 2 procs');
});

T('already listening: nothing spawned, the address is used as it is and left alone on stop', async () => {
  const base = path.join(dir, 'ext.sock');
  const ext = net.createServer((c) => {
    c.on('error', () => {});
    c.end('x');
  });
  await new Promise<void>((resolve) => ext.listen({ path: `${base}-0` }, resolve));
  try {
    const s = make({ socket: { kind: 'unix', path: base } });
    const procs = await withTimeout(s.start(), WAIT_MS, 'start');
    assert.equal(procs, [{ id: 0, address: `unix:${base}-0`, pid: null, state: 'external' }]);
    assert.ok(logs.some((l) => /already listening/.test(l)));
    await s.stop(100);
    assert.ok(existsSync(`${base}-0`), 'not lantern\'s file');
  } finally {
    await new Promise<void>((resolve) => ext.close(() => resolve()));
  }
});

T('a child killed with SIGKILL is respawned on the same address and serves again; the death is logged', async () => {
  const s = make({}, { ...FAST_SPIN, restartDelayMs: 20 });
  const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
  const first = proc!.pid!;
  process.kill(first, 'SIGKILL');
  await waitFor(() => s.procs[0]!.state === 'running' && s.procs[0]!.pid !== first, WAIT_MS, 5, 'a respawned child');
  const answer = await ask(proc!.address);
  assert.is(answer.pid, s.procs[0]!.pid);
  assert.ok(logs.some((l) => l.includes(`pid ${first}`) && /killed by signal SIGKILL.*restarting in 20 ms/.test(l)), logs.join('\n'));
});

T('a child that dies at once: backoff, then failed after maxQuickDeaths, logged with its exit code', async () => {
  const s = make({ env: { ECHO_DIE_AT_START: '3' } });
  await withTimeout(s.start(), WAIT_MS, 'start');
  await waitFor(() => s.procs[0]!.state === 'failed', WAIT_MS, 5, "state 'failed'");
  const deaths = logs.filter((l) => /exited with code 3/.test(l));
  assert.is(deaths.length, 4, logs.join('\n'));
  assert.match(deaths[0]!, /restarting in 10 ms/);
  assert.match(deaths[1]!, /restarting in 20 ms/);
  assert.match(deaths[2]!, /restarting in 40 ms/);
  assert.match(deaths[3]!, /died 3 times in a row .*not restarting/);
  assert.is(s.capacity(), 0);
  assert.not.ok(existsSync(`${path.join(dir, 'app.sock')}-0`), 'socket file removed on give-up');
});

T('a missing program: start rejects with a clear message and no stack', async () => {
  const s = make({ binPath: path.join(dir, 'missing-program --flag') });
  await rejects(s.start(), /^cannot start .*missing-program --flag on unix:.*: program not found \(ENOENT\)$/);
  assert.not.ok(existsSync(`${path.join(dir, 'app.sock')}-0`));
});

T('stop: TERM, then KILL for a child that ignores TERM, with its forked grandchild; socket files removed', async () => {
  const s = make({ maxProcs: 2, minProcs: 2, env: { ECHO_IGNORE_TERM: '1', ECHO_FORK_CHILD: '1' } });
  const procs = await withTimeout(s.start(), WAIT_MS, 'start');
  const answers = await Promise.all(procs.map((p) => ask(p.address)));
  const grandchildren = answers.map((a) => a.grandchild!);
  assert.ok(grandchildren.every((pid) => typeof pid === 'number' && alive(pid)));
  await withTimeout(s.stop(150), WAIT_MS, 'stop');
  assert.ok(logs.some((l) => /still running 150 ms after SIGTERM: SIGKILL/.test(l)), logs.join('\n'));
  for (const pid of [...pids(procs), ...grandchildren]) await gone(pid, `pid ${pid} to be gone`);
  for (const p of procs) assert.not.ok(existsSync(p.address.slice(5)));
});

T('stop: a child that honours TERM takes its grandchild with it, no SIGKILL needed', async () => {
  const s = make({ env: { ECHO_FORK_CHILD: '1' } });
  const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
  const { grandchild } = await ask(proc!.address);
  await withTimeout(s.stop(WAIT_MS), WAIT_MS + 1000, 'stop');
  assert.not.ok(logs.some((l) => /SIGKILL/.test(l)), logs.join('\n'));
  await gone(proc!.pid!, 'the child');
  await gone(grandchild!, 'the grandchild');
});

T('bin-environment reaches the child; bin-copy-environment filters what is copied', async () => {
  process.env.LT_SPAWN_KEEP = 'kept';
  process.env.LT_SPAWN_DROP = 'dropped';
  try {
    const s = make({ env: { LT_SPAWN_SET: 'set' }, copyEnv: ['LT_SPAWN_KEEP'], maxProcs: 1 });
    const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
    const { env } = await ask(proc!.address, ['LT_SPAWN_KEEP', 'LT_SPAWN_DROP', 'LT_SPAWN_SET', 'PATH', 'PHP_FCGI_CHILDREN']);
    assert.equal(env, { LT_SPAWN_KEEP: 'kept', LT_SPAWN_DROP: null, LT_SPAWN_SET: 'set', PATH: null, PHP_FCGI_CHILDREN: '1' });
    const all = make({ socket: { kind: 'unix', path: path.join(dir, 'all.sock') } });
    const [p2] = await withTimeout(all.start(), WAIT_MS, 'start');
    const { env: env2 } = await ask(p2!.address, ['LT_SPAWN_KEEP', 'LT_SPAWN_DROP']);
    assert.equal(env2, { LT_SPAWN_KEEP: 'kept', LT_SPAWN_DROP: 'dropped' });
  } finally {
    delete process.env.LT_SPAWN_KEEP;
    delete process.env.LT_SPAWN_DROP;
  }
});

T('adapt: grows to maxProcs under load, stops an idle proc beyond minProcs', async () => {
  const s = make({ minProcs: 1, maxProcs: 2, maxLoadPerProc: 1, idleTimeoutMs: 1000 });
  await withTimeout(s.start(), WAIT_MS, 'start');
  assert.is(s.procs.length, 1);
  await withTimeout(s.adapt(() => ({ active: 2, lastUsedMs: Date.now() })), WAIT_MS, 'adapt (grow)');
  assert.is(s.procs.length, 2);
  const second = s.procs[1]!;
  assert.is((await ask(second.address)).pid, second.pid);
  const now = Date.now();
  await withTimeout(s.adapt((address) => ({ active: 0, lastUsedMs: address === second.address ? now - 5000 : now }), now), WAIT_MS, 'adapt (retire)');
  assert.equal(s.procs.map((p) => p.id), [0]);
  await gone(second.pid!, 'the retired child');
  assert.not.ok(existsSync(second.address.slice(5)));
});

T('shellExec (scgi.server): /bin/sh -c "exec …" leaves the program itself as the child', async () => {
  const s = make({ shellExec: true, env: { LT_ARG: 'v' } });
  const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
  const answer = await ask(proc!.address, ['LT_ARG']);
  assert.is(answer.pid, proc!.pid, 'exec replaced the shell');
  assert.equal(answer.env, { LT_ARG: 'v' });
});

T('killNow (the process exit hook): SIGKILL to every group at once, socket files removed', async () => {
  const s = make({ env: { ECHO_IGNORE_TERM: '1', ECHO_FORK_CHILD: '1' } });
  const [proc] = await withTimeout(s.start(), WAIT_MS, 'start');
  const { grandchild } = await ask(proc!.address);
  s.killNow();
  assert.not.ok(existsSync(proc!.address.slice(5)));
  await gone(proc!.pid!, 'the child');
  await gone(grandchild!, 'the grandchild');
});

T.run();

// Integration tests of server.max-worker and of the signals (design.md §5): SIGTERM finishes
// in-flight requests up to server.graceful-shutdown-timeout and refuses new connections, SIGINT
// is faster, SIGHUP reopens server.errorlog and the access log; workers are kept running.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import {
  canConnect, childPids, makeTempDir, removeDir, START_TIMEOUT_MS, startLanternProcess, writeProbePlugin,
  type LanternProcess,
} from '../helpers/spawn-lantern.js';
import { rawRequest } from '../helpers/raw-client.js';
import { alive, once, waitFor, withTimeout } from '../helpers/wait.js';

const WorkersSignals = suite('workers-signals');

const BIG_BYTES = 50 * 1024 * 1024;

let dir = '';
WorkersSignals.before.each(() => {
  dir = makeTempDir('signals', { 'www/a.txt': 'hello\n' });
  // A sparse 50 MiB file: big enough that a client that stops reading stalls the response.
  fs.writeFileSync(path.join(dir, 'www', 'big.bin'), '');
  fs.truncateSync(path.join(dir, 'www', 'big.bin'), BIG_BYTES);
});
WorkersSignals.after.each(() => { removeDir(dir); });

/** lantern on a socket it inherits (test/helpers/ports.ts), so the port is its own from the start. */
async function start(extra: string, args: string[] = []): Promise<{ proc: LanternProcess; port: number }> {
  const socket = await ListeningSocket.open();
  const port = socket.port;
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, `server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${dir}/www"
mimetype.assign = ( ".txt" => "text/plain", ".bin" => "application/octet-stream" )
${extra}
`);
  const proc = await startLanternProcess(['-D', '-f', file, ...args], socket, { cwd: dir });
  return { proc, port };
}

async function get(port: number, target: string) {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
}

/** A client that asks for big.bin, reads the head and a little, then stops reading. */
async function stalledDownload(port: number): Promise<{ socket: net.Socket; received: () => number; headBytes: number }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect', 5000);
  let bytes = 0;
  let head = '';
  let headBytes = -1;
  const gotHead = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (headBytes < 0) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          headBytes = end + 4;
          socket.pause();
          resolve();
        }
      }
    });
  });
  socket.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
  await withTimeout(gotHead, 5000, 'the response head of /big.bin');
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, new RegExp(`\\r\\nContent-Length: ${BIG_BYTES}\\r\\n`, 'i'));
  return { socket, received: () => bytes, headBytes };
}

WorkersSignals('SIGTERM: an in-flight slow download completes, new connections are refused, exit 0', async () => {
  const { proc, port } = await start('server.graceful-shutdown-timeout = 30');
  const dl = await stalledDownload(port);
  try {
    proc.child.kill('SIGTERM');
    // The listener closes at once, while the download is still stalled.
    await waitFor(async () => !(await canConnect({ port })), 5000, 25, 'new connections to be refused');
    assert.is(proc.status, null, 'still running while a request is in flight');
    const done = once(dl.socket, 'end', 30_000);
    dl.socket.resume();
    await done;
    assert.is(dl.received(), dl.headBytes + BIG_BYTES, 'the whole file arrived');
    const status = await proc.waitExit(10_000);
    assert.is(status.code, 0, proc.stderr);
  } finally {
    dl.socket.destroy();
    proc.kill();
  }
});

WorkersSignals('SIGTERM: a download stalled past server.graceful-shutdown-timeout is cut, exit 0', async () => {
  const { proc, port } = await start('server.graceful-shutdown-timeout = 1');
  const dl = await stalledDownload(port);
  try {
    const sentAt = Date.now();
    proc.child.kill('SIGTERM');
    const status = await proc.waitExit(10_000);
    assert.is(status.code, 0, proc.stderr);
    assert.ok(Date.now() - sentAt < 6000, `stopped after ${Date.now() - sentAt} ms`);
    dl.socket.resume();
    await once(dl.socket, 'close', 10_000);
    assert.ok(dl.received() < dl.headBytes + BIG_BYTES, 'the stalled response was cut');
  } finally {
    dl.socket.destroy();
    proc.kill();
  }
});

WorkersSignals('SIGTERM: idle keep-alive connections do not hold the stop', async () => {
  const { proc, port } = await start('server.max-keep-alive-idle = 60');
  const client = net.connect({ port, host: '127.0.0.1' });
  try {
    await once(client, 'connect', 5000);
    const answered = once(client, 'data', 5000);
    client.write('GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n');
    await answered;
    const sentAt = Date.now();
    const closed = once(client, 'close', 10_000);
    proc.child.kill('SIGTERM');
    assert.is((await proc.waitExit(10_000)).code, 0, proc.stderr);
    await closed;
    assert.ok(Date.now() - sentAt < 5000, `stopped after ${Date.now() - sentAt} ms`);
  } finally {
    client.destroy();
    proc.kill();
  }
});

WorkersSignals('SIGINT: stops quickly (does not wait the 8 s grace for a stalled client), exit 0', async () => {
  const { proc, port } = await start('');
  const dl = await stalledDownload(port);
  try {
    const sentAt = Date.now();
    proc.child.kill('SIGINT');
    assert.is((await proc.waitExit(10_000)).code, 0, proc.stderr);
    assert.ok(Date.now() - sentAt < 5000, `stopped after ${Date.now() - sentAt} ms`);
  } finally {
    dl.socket.destroy();
    proc.kill();
  }
});

WorkersSignals('SIGHUP: server.errorlog is reopened after rotation', async () => {
  const pluginDir = writeProbePlugin(dir);
  const log = path.join(dir, 'error.log');
  const { proc, port } = await start(`server.modules = ( "mod_probe" )\nprobe.log-requests = "enable"\nserver.errorlog = "${log}"`, ['-m', pluginDir]);
  try {
    assert.is((await get(port, '/a.txt?before')).status, 200);
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('probe: request /a.txt?before'), 5000, 20, 'the first line');
    fs.renameSync(log, `${log}.1`);
    proc.child.kill('SIGHUP');
    // The probe logs from the sighup hook, which runs after the core reopened the error log.
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('probe: sighup'), 5000, 20, 'a new error.log');
    assert.is((await get(port, '/a.txt?after')).status, 200, 'still serving after SIGHUP');
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('probe: request /a.txt?after'), 5000, 20, 'the request in the new log');
    const old = fs.readFileSync(`${log}.1`, 'utf8');
    assert.ok(old.includes('?before') && !old.includes('?after') && !old.includes('sighup'), old);
    assert.match(fs.readFileSync(log, 'utf8'), new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d: \\(probe\\) probe: sighup ${proc.pid}$`, 'm'));
    assert.is(await proc.stop('SIGTERM'), 0);
  } finally {
    proc.kill();
  }
});

/** The worker pids of a primary, once there are `count` of them. */
async function workers(proc: LanternProcess, count: number, not: number[] = []): Promise<number[]> {
  let pids: number[] = [];
  await waitFor(() => {
    pids = childPids(proc.pid).filter((p) => !not.includes(p));
    return pids.length === count;
  }, START_TIMEOUT_MS, 50, `${count} worker processes of ${proc.pid} (last seen: ${pids}; exit: ${JSON.stringify(proc.status)})`);
  return pids;
}

/**
 * Requests on separate connections until every worker in `pids` answered one. A worker counts
 * as a child as soon as it is forked, but serves only once it has started (tsx compiles the
 * sources first, slow on a loaded machine): hence a time bound.
 */
async function hitAll(port: number, pids: number[], ms = START_TIMEOUT_MS): Promise<Set<number>> {
  const seen = new Set<number>();
  const deadline = Date.now() + ms;
  for (let i = 0; seen.size < pids.length && Date.now() < deadline; i++) {
    const res = await get(port, `/a.txt?n=${i}`);
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'hello\n');
    seen.add(Number(res.header('x-probe-pid')));
  }
  return seen;
}

WorkersSignals('server.max-worker = 2: two workers serve; 20 connections all answered', async () => {
  const pluginDir = writeProbePlugin(dir);
  const pidFile = path.join(dir, 'lantern.pid');
  const { proc, port } = await start(`server.max-worker = 2\nserver.modules = ( "mod_probe" )\nserver.pid-file = "${pidFile}"`, ['-m', pluginDir]);
  try {
    const pids = await workers(proc, 2);
    // Forked is not yet listening (tsx compiles first): both answer before the 20 go.
    assert.equal([...(await hitAll(port, pids))].sort(), [...pids].sort(), 'both workers answer');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, `/a.txt?c=${i}`)));
    for (const r of results) assert.is(r.status, 200);
    const answeredBy = new Set(results.map((r) => Number(r.header('x-probe-pid'))));
    for (const pid of answeredBy) assert.ok(pids.includes(pid), `answered by worker ${pid} (workers: ${pids})`);
    assert.is(fs.readFileSync(pidFile, 'utf8'), `${proc.pid}\n`, 'the pid file names the primary');
    assert.is((proc.stderr.match(/Syntax|warning|unknown config key/g) ?? []).length, 0, proc.stderr);
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
    assert.equal(childPids(proc.pid), [], 'no worker left');
    for (const pid of pids) assert.not.ok(alive(pid), `worker ${pid} exited`);
    assert.not.ok(fs.existsSync(pidFile), 'the pid file is removed');
  } finally {
    proc.kill();
  }
});

WorkersSignals('server.max-worker: a worker that dies is replaced; SIGHUP keeps the workers', async () => {
  const pluginDir = writeProbePlugin(dir);
  const { proc, port } = await start('server.max-worker = 2\nserver.modules = ( "mod_probe" )', ['-m', pluginDir]);
  try {
    const [first, second] = await workers(proc, 2);
    // Both serve before one dies: node:cluster closes a shared listener when its last
    // registered worker goes, so killing the only ready one would refuse connections briefly.
    assert.is((await hitAll(port, [first!, second!])).size, 2);
    process.kill(first!, 'SIGKILL');
    const now = await workers(proc, 2, [first!]);
    assert.ok(now.includes(second!), 'the other worker kept running');
    const replacement = now.find((p) => p !== second)!;
    assert.equal([...(await hitAll(port, now))].sort(), [...now].sort(), `the replacement ${replacement} serves`);
    proc.child.kill('SIGHUP');
    assert.is((await get(port, '/a.txt?after-hup')).status, 200);
    assert.equal(childPids(proc.pid).sort(), [...now].sort(), 'SIGHUP does not restart workers');
    assert.is(proc.status, null);
  } finally {
    proc.kill();
  }
});

WorkersSignals('server.max-worker: SIGHUP reopens the access log in every worker', async () => {
  const pluginDir = writeProbePlugin(dir);
  const log = path.join(dir, 'access.log');
  const errorLog = path.join(dir, 'error.log');
  const { proc, port } = await start(`server.max-worker = 2
server.modules = ( "mod_accesslog", "mod_probe" )
accesslog.filename = "${log}"
server.errorlog = "${errorLog}"
probe.log-requests = "enable"`, ['-m', pluginDir]);
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  try {
    const pids = await workers(proc, 2);
    await hitAll(port, pids);
    assert.is((await get(port, '/a.txt?before')).status, 200);
    await waitFor(() => read(log).includes('?before'), 5000, 20, 'the first access line');
    fs.renameSync(log, `${log}.1`);
    proc.child.kill('SIGHUP');
    // Each worker's probe logs "sighup <pid>" from the same synchronous sighup call in which its
    // access log reopens: once both lines are there, both workers write the new file.
    await waitFor(() => pids.every((pid) => read(errorLog).includes(`probe: sighup ${pid}`)), 10_000, 20, 'SIGHUP in both workers');
    const tag = (i: number) => `/a.txt?late-${i}`;
    const servedBy = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await get(port, tag(i));
      assert.is(res.status, 200);
      servedBy.add(res.header('x-probe-pid') ?? '');
    }
    await waitFor(() => {
      const text = read(log);
      return Array.from({ length: 20 }, (_, i) => text.includes(`"GET ${tag(i)} HTTP/1.1"`)).every(Boolean);
    }, 5000, 50, 'all twenty late requests in the new access.log');
    assert.is(servedBy.size, 2, 'both workers served late requests');
    assert.not.match(read(`${log}.1`), /late-/);
    assert.match(read(`${log}.1`), /\?before/);
    assert.equal(childPids(proc.pid).sort(), [...pids].sort(), 'SIGHUP does not restart workers');
  } finally {
    proc.kill();
  }
});

WorkersSignals.run();

// Integration tests of core/listeners.ts through bin/lantern: IPv4, IPv6, unix sockets,
// $SERVER["socket"] listeners, systemd socket activation (sd_listen_fds(3)), bind errors.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket, refusingPort } from '../helpers/ports.js';
import { rawExchange, type RawExchangeOptions } from '../helpers/raw-client.js';
import {
  canConnect, makeTempDir, removeDir, runLantern, spawnLantern, START_TIMEOUT_MS, startLanternBinding, startLanternProcess, STACK_LINE,
  waitAccepting, writeProbePlugin, type LanternProcess,
} from '../helpers/spawn-lantern.js';
import { once, skipUnless, waitFor, which } from '../helpers/wait.js';

const readIfExists = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

const Listeners = suite('listeners');

/** Whether this machine can bind `host` (an IPv6-less container cannot bind ::1). */
async function canBind(host: string): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(0, host);
    await once(server, 'listening', 2000);
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

const ipv6 = skipUnless(Listeners, await canBind('::1'), '::1 is not available (no IPv6 loopback)');
const python = which('python3');
const withPython = skipUnless(Listeners, python !== null, 'python3 not installed (socket activation wrapper)');

let dir = '';
Listeners.before.each(() => {
  dir = makeTempDir('listen', { 'www/a.txt': 'main\n', 'other/a.txt': 'other\n' });
});
Listeners.after.each(() => { removeDir(dir); });

const writeConf = (text: string, name = 'lighttpd.conf') => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const base = () => `server.document-root = "${dir}/www"\nmimetype.assign = ( ".txt" => "text/plain" )\n`;

async function fetchBody(target: Omit<RawExchangeOptions, 'send'>, urlPath = '/a.txt'): Promise<string> {
  const r = await rawExchange({ ...target, send: `GET ${urlPath} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, expectResponses: 1 });
  const res = r.responses[0];
  assert.ok(res, `a response from ${JSON.stringify(target)}: ${JSON.stringify(r.raw.toString('latin1'))}`);
  assert.is(res!.status, 200);
  return res!.body.toString();
}

// The tests of server.bind/server.port and $SERVER["socket"] let lantern bind for itself
// (startLanternBinding: new ports if another process takes one first); the socket activation
// tests hand it sockets that are bound before it starts.

Listeners('IPv4: server.bind = "127.0.0.1" serves there and nowhere else', async () => {
  const { proc, ports: [port] } = await startLanternBinding(1, ([p]) => ['-D', '-f', writeConf(`server.bind = "127.0.0.1"\nserver.port = ${p}\n${base()}`)], { cwd: dir });
  try {
    assert.is(await fetchBody({ port: port! }), 'main\n');
    // 127.0.0.2 is loopback too on Linux: a wildcard bind would accept there.
    assert.not.ok(await canConnect({ port: port!, host: '127.0.0.2' }), 'not bound to every address');
  } finally {
    proc.kill();
  }
});

ipv6('IPv6: server.bind = "::1" serves on [::1]', async () => {
  const { proc, ports: [port] } = await startLanternBinding(1, ([p]) => ['-D', '-f', writeConf(`server.bind = "::1"\nserver.port = ${p}\n${base()}`)], { cwd: dir, host: '::1' });
  try {
    assert.is(await fetchBody({ port: port!, host: '::1' }), 'main\n');
    assert.not.ok(await canConnect({ port: port!, host: '127.0.0.1' }), 'IPv6 only');
  } finally {
    proc.kill();
  }
});

ipv6('IPv6: server.bind = "[::1]" (bracketed) and $SERVER["socket"] == "[::1]:port" are accepted', async () => {
  const { proc, ports: [port, port2] } = await startLanternBinding(2, ([p, p2]) => ['-D', '-f', writeConf(`server.bind = "[::1]"\nserver.port = ${p}\n${base()}
$SERVER["socket"] == "[::1]:${p2}" { server.document-root = "${dir}/other" }\n`)], { cwd: dir, host: '::1' });
  try {
    assert.is(await fetchBody({ port: port!, host: '::1' }), 'main\n');
    assert.is(await fetchBody({ port: port2!, host: '::1' }), 'other\n');
  } finally {
    proc.kill();
  }
});

Listeners('unix socket: server.bind = "/path" serves over it; the file goes on exit', async () => {
  const sock = path.join(dir, 's.sock');
  const file = writeConf(`server.bind = "${sock}"\n${base()}`);
  const proc = await startLanternProcess(['-D', '-f', file], { path: sock }, { cwd: dir });
  try {
    assert.ok(fs.statSync(sock).isSocket());
    assert.is(await fetchBody({ path: sock }), 'main\n');
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
    assert.not.ok(fs.existsSync(sock), 'the socket file is removed');
  } finally {
    proc.kill();
  }
});

Listeners('unix socket: a stale socket file is replaced, a live one is refused', async () => {
  const sock = path.join(dir, 's.sock');
  // A socket file nobody listens on any more: a server killed by SIGKILL leaves it behind.
  const crashed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await once(crashed.stdout!, 'data', 10_000);
  } finally {
    crashed.kill('SIGKILL');
  }
  await once(crashed, 'exit', 5000);
  assert.ok(fs.statSync(sock).isSocket(), 'a stale socket file exists');
  assert.not.ok(await canConnect({ path: sock }), 'and nobody listens on it');

  const file = writeConf(`server.bind = "${sock}"\n${base()}`);
  const first = await startLanternProcess(['-D', '-f', file], { path: sock }, { cwd: dir });
  let second: LanternProcess | undefined;
  try {
    assert.is(await fetchBody({ path: sock }), 'main\n');
    second = spawnLantern(['-D', '-f', file], { cwd: dir });
    const status = await second.waitExit(START_TIMEOUT_MS);
    assert.ok(status.code !== 0 && status.code !== null, `second server exit ${status.code}`);
    assert.match(second.stderr, new RegExp(`cannot listen on ${sock.replace(/[.]/g, '\\.')}.*in use`), second.stderr);
    assert.not.match(second.stderr, STACK_LINE);
    // The running server still owns its socket.
    assert.is(await fetchBody({ path: sock }), 'main\n');
  } finally {
    first.kill();
    second?.kill();
  }
});

Listeners('unix socket with server.max-worker = 2: both workers share it, no worker removes it', async () => {
  const sock = path.join(dir, 'w.sock');
  const pluginDir = writeProbePlugin(dir);
  const file = writeConf(`server.bind = "${sock}"\nserver.max-worker = 2\nserver.modules = ( "mod_probe" )\n${base()}`);
  const proc = await startLanternProcess(['-D', '-f', file, '-m', pluginDir], { path: sock }, { cwd: dir });
  try {
    // Until both workers have answered (X-Probe-Pid), so both have listened on the path.
    const pids = new Set<string>();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (pids.size < 2 && Date.now() < deadline) {
      const r = await rawExchange({ path: sock, send: 'GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', expectResponses: 1 });
      assert.is(r.responses[0]?.status, 200);
      pids.add(r.responses[0]!.header('x-probe-pid') ?? '');
    }
    assert.is(pids.size, 2, 'both workers served');
    assert.ok(fs.statSync(sock).isSocket(), 'the socket file is still there');
    assert.is(await fetchBody({ path: sock }), 'main\n');
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
    assert.not.ok(fs.existsSync(sock), 'the socket file is removed');
  } finally {
    proc.kill();
  }
});

Listeners('$SERVER["socket"] opens a second listener; its block applies only there', async () => {
  const { proc, ports: [port, port2] } = await startLanternBinding(2, ([p, p2]) => ['-D', '-f', writeConf(`server.bind = "127.0.0.1"\nserver.port = ${p}\n${base()}
$SERVER["socket"] == "127.0.0.1:${p2}" {
  server.document-root = "${dir}/other"
}
`)], { cwd: dir });
  try {
    assert.is(await fetchBody({ port: port! }), 'main\n');
    assert.is(await fetchBody({ port: port2! }), 'other\n');
  } finally {
    proc.kill();
  }
});

for (const workers of [0, 2]) {
  Listeners(`a port already in use (max-worker ${workers}): non-zero exit, the message names the address, no stack trace`, async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening', 2000);
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const file = writeConf(`server.bind = "127.0.0.1"\n${base()}server.port = ${port}\nserver.max-worker = ${workers}\n`);
      const r = await runLantern(['-D', '-f', file], { cwd: dir });
      assert.ok(r.code !== 0 && r.code !== null, `exit ${r.code}`);
      const said = new RegExp(`${file.replace(/[.]/g, '\\.')}:4: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`, 'g');
      assert.is(r.stderr.match(said)?.length, 1, `said once: ${r.stderr}`);
      assert.not.match(r.stderr, STACK_LINE, r.stderr);
    } finally {
      blocker.close();
    }
  });
}

Listeners('a unix socket in a missing directory (max-worker 2): said once by the primary, and no worker starts', async () => {
  const sock = path.join(dir, 'no-such-dir', 'w.sock');
  const file = writeConf(`server.bind = "${sock}"\nserver.max-worker = 2\n${base()}`);
  const r = await runLantern(['-D', '-f', file], { cwd: dir });
  assert.ok(r.code !== 0 && r.code !== null, `exit ${r.code}`);
  // libuv calls a missing directory EACCES: the message names the directory instead.
  const said = new RegExp(`cannot listen on ${sock.replace(/[.]/g, '\\.')}: the directory ${path.dirname(sock).replace(/[.]/g, '\\.')} does not exist`, 'g');
  assert.is(r.stderr.match(said)?.length, 1, `said once: ${r.stderr}`);
  assert.not.match(r.stderr, STACK_LINE, r.stderr);
});

/**
 * A socket-activation wrapper in the style of systemd and lighttpd's tests/LightyTest.pm: binds
 * 127.0.0.1:<port> (0 = any), prints the port, puts the socket on fd 3, sets LISTEN_FDS=1 and
 * LISTEN_PID, then runs the rest of its arguments: `exec` keeps its pid (LISTEN_PID = that pid),
 * `parent` runs a child (LISTEN_PID = "parent:<pid>", lighttpd's extension), `wrong` execs with
 * a LISTEN_PID that is not the server's.
 */
const ACTIVATE_PY = `import os, signal, socket, subprocess, sys
port, mode, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
print(s.getsockname()[1], flush=True)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
    s.close()
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
if mode == "parent":
    os.environ["LISTEN_PID"] = "parent:%d" % os.getpid()
    child = subprocess.Popen(cmd, pass_fds=(3,))
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda n, f: child.send_signal(n))
    sys.exit(child.wait())
os.environ["LISTEN_PID"] = str(os.getpid() + (1 if mode == "wrong" else 0))
os.execvp(cmd[0], cmd)
`;

/** The command line that runs lantern under ACTIVATE_PY (SpawnLanternOptions.wrapper). */
function activationWrapper(port: number, mode: 'exec' | 'parent' | 'wrong'): string[] {
  const script = path.join(dir, 'activate.py');
  fs.writeFileSync(script, ACTIVATE_PY);
  return [python!, script, String(port), mode];
}

function activated(args: string[], port: number, mode: 'exec' | 'parent' | 'wrong'): LanternProcess {
  return spawnLantern(args, { cwd: dir, wrapper: activationWrapper(port, mode) });
}

async function inheritedPort(proc: LanternProcess): Promise<number> {
  return Number((await proc.waitOutput('stdout', /^(\d+)$/m))[1]);
}

withPython('socket activation: serves on the inherited fd 3, binds nothing else when server.bind is unset', async () => {
  // Held by this process, so nobody else listens there; a lantern binding it would fail (EADDRINUSE).
  const configPort = await refusingPort();
  const file = writeConf(`server.port = ${configPort.port}\n${base()}`);
  const proc = activated(['-D', '-f', file], 0, 'exec');
  try {
    const port = await inheritedPort(proc);
    await waitAccepting(proc, { port });
    assert.is(await fetchBody({ port }), 'main\n');
    // lighttpd: with socket activation and no server.bind there is no extra "*:port" listener.
    assert.not.ok(await canConnect({ port: configPort.port }), 'the config port is not bound');
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
  } finally {
    proc.kill();
    configPort.close();
  }
});

Listeners('socket activation: a configured address equal to the inherited one uses the fd (no EADDRINUSE)', async () => {
  // The inherited socket is bound before lantern starts, so the config can name its port; `other`
  // is one lantern binds itself (startLanternBinding). LISTEN_PID is "parent:<this pid>".
  let port = 0;
  const { proc, ports: [other] } = await startLanternBinding(1, async ([o]) => {
    const socket = await ListeningSocket.open();
    port = socket.port;
    const file = writeConf(`server.bind = "127.0.0.1"\nserver.port = ${port}\n${base()}
$SERVER["socket"] == "127.0.0.1:${o}" { server.document-root = "${dir}/other" }
$SERVER["socket"] == "127.0.0.1:${port}" { server.document-root = "${dir}/other" }
`);
    return { args: ['-D', '-f', file], sockets: [socket] };
  }, { cwd: dir });
  try {
    await waitAccepting(proc, { port });
    // The inherited socket carries its configured name, so its $SERVER["socket"] block applies.
    assert.is(await fetchBody({ port }), 'other\n');
    assert.is(await fetchBody({ port: other! }), 'other\n');
    assert.not.match(proc.stderr, /EADDRINUSE/);
  } finally {
    proc.kill();
  }
});

withPython('socket activation: LISTEN_PID = "parent:<ppid>" (lighttpd\'s extension) is accepted', async () => {
  // A port nobody may listen on: lantern binds nothing but the inherited socket here.
  const configPort = await refusingPort();
  const file = writeConf(`server.port = ${configPort.port}\n${base()}`);
  const proc = activated(['-D', '-f', file], 0, 'parent');
  try {
    const port = await inheritedPort(proc);
    await waitAccepting(proc, { port });
    assert.is(await fetchBody({ port }), 'main\n');
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
  } finally {
    proc.kill();
    configPort.close();
  }
});

withPython('socket activation: a LISTEN_PID that is not ours is ignored (sd_listen_fds(3))', async () => {
  // lantern binds the config's address itself (startLanternBinding), as the inherited fd is not its.
  const { proc, ports: [configPort] } = await startLanternBinding(1, ([cp]) => {
    return ['-D', '-f', writeConf(`server.bind = "127.0.0.1"\nserver.port = ${cp}\n${base()}`)];
  }, { cwd: dir, wrapper: activationWrapper(0, 'wrong') });
  try {
    const port = await inheritedPort(proc);
    assert.is(await fetchBody({ port: configPort! }), 'main\n');
    // Nobody accepts on the inherited socket: a connect is queued by the kernel but never
    // answered, so the request must time out instead of being served.
    const r = await rawExchange({ port, send: 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n', timeoutMs: 1500 });
    assert.is(r.responses.length, 0, 'the inherited socket is not served');
  } finally {
    proc.kill();
  }
});

withPython('socket activation with server.max-worker = 2: the workers serve the inherited socket', async () => {
  // A port nobody may listen on: lantern binds nothing but the inherited socket here.
  const configPort = await refusingPort();
  const file = writeConf(`server.max-worker = 2\nserver.port = ${configPort.port}\n${base()}`);
  const proc = activated(['-D', '-f', file], 0, 'exec');
  try {
    const port = await inheritedPort(proc);
    await waitAccepting(proc, { port });
    for (let i = 0; i < 6; i++) assert.is(await fetchBody({ port }), 'main\n');
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
  } finally {
    proc.kill();
    configPort.close();
  }
});

Listeners('server.max-connections unset: a third of the open-files limit; past it new connections close at once, said once; the rest keep working', async () => {
  const log = path.join(dir, 'error.log');
  // The child's open-files limit only: 90 descriptors, so at most 30 connections.
  const wrapper = ['sh', '-c', 'ulimit -n 90 && exec "$@"', 'sh'];
  const { proc, ports: [port] } = await startLanternBinding(1, ([p]) => ['-D', '-f', writeConf(`server.bind = "127.0.0.1"\nserver.port = ${p}\nserver.errorlog = "${log}"\n${base()}`)], { cwd: dir, wrapper });
  const clients: net.Socket[] = [];
  try {
    // One kept-alive client that is in before the flood, then 60 idle connections.
    const kept = net.connect({ port: port!, host: '127.0.0.1' });
    kept.on('error', () => {});
    await once(kept, 'connect', 5000);
    for (let i = 0; i < 60; i++) {
      const c = net.connect({ port: port!, host: '127.0.0.1' });
      c.on('error', () => {});
      clients.push(c);
    }
    await Promise.all(clients.map((c) => once(c, 'connect', 5000).catch(() => {})));
    await waitFor(() => /connection limit reached \(30 connections, server\.max-connections unset: a third of the open-files limit\): \d+ new connection\(s\) closed at once/.test(readIfExists(log)), 5000, 20, 'the limit line');
    const closed = await waitFor(() => clients.filter((c) => c.destroyed || c.readableEnded).length >= 30, 5000, 20, 'the connections past the limit closed').then(() => true, () => false);
    assert.ok(closed, `connections past the limit are closed: ${clients.filter((c) => c.destroyed || c.readableEnded).length} of 60`);
    assert.is(readIfExists(log).split('\n').filter((l) => l.includes('connection limit reached')).length, 1, 'said once, not per connection');
    // The client that was in still gets its answer: the process has descriptors left.
    kept.write('GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n');
    const [data] = await once(kept, 'data', 5000) as [Buffer];
    assert.match(data.toString('latin1'), /^HTTP\/1\.1 200 /);
    kept.destroy();
    for (const c of clients) c.destroy();
    await waitFor(async () => (await fetchBody({ port: port! }).then(() => true, () => false)), 5000, 50, 'service after the clients left');
    assert.is(proc.status, null, 'still running');
  } finally {
    for (const c of clients) c.destroy();
    proc.kill();
  }
});

Listeners.run();

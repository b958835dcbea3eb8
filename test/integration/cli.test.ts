// Integration tests of core/cli.ts: lighttpd's flags (-v -V -h -t -tt -p -f -i -1, design.md §5)
// run as `bin/lantern` child processes, config errors as `file:line: message`, the pid file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config/load.js';
import { Server } from '../../core/server.js';
import { VERSION } from '../../core/version.js';
import { ListeningSocket } from '../helpers/ports.js';
import {
  makeTempDir, REPO_ROOT, removeDir, runLantern, spawnLantern, START_TIMEOUT_MS, startLanternBinding, startLanternProcess, STACK_LINE,
  writeProbePlugin,
  type LanternProcess,
} from '../helpers/spawn-lantern.js';
import { rawRequest } from '../helpers/raw-client.js';
import { once, waitFor, withTimeout } from '../helpers/wait.js';

const Cli = suite('cli');

let dir = '';
Cli.before.each(() => { dir = makeTempDir('cli', { 'www/a.txt': 'hello\n' }); });
Cli.after.each(() => { removeDir(dir); });

const write = (name: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true }); fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };
const run = (args: string[], env?: NodeJS.ProcessEnv) => runLantern(args, { cwd: dir, env });
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A config that serves `dir/www` on 127.0.0.1:`port`. */
const serving = (port: number, extra = '') => `server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${dir}/www"
mimetype.assign = ( ".txt" => "text/plain" )
${extra}
`;

async function get(port: number, target: string, host = 'x') {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
}

Cli('-v prints lantern/<version> (package.json\'s) and exits 0', async () => {
  const r = await run(['-v']);
  assert.is(r.code, 0);
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(VERSION, pkg.version);
  assert.match(r.stdout, new RegExp(`^lantern/${escapeRe(pkg.version)} `));
});

Cli('-V lists the features as lighttpd does ("\\t+ name" lines)', async () => {
  const r = await run(['-V']);
  assert.is(r.code, 0);
  assert.match(r.stdout, new RegExp(`^lantern/${escapeRe(VERSION)}`));
  const features = r.stdout.split('\n').filter((l) => /^\t\+ \S/.test(l));
  assert.ok(features.length >= 3, r.stdout);
  assert.ok(features.some((l) => /IPv6/.test(l)), r.stdout);
  assert.ok(features.some((l) => /LISTEN_FDS|socket activation/.test(l)), r.stdout);
});

Cli('-h prints the usage and exits 0', async () => {
  const r = await run(['-h']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /usage: lantern/);
  for (const flag of ['-f', '-m', '-p', '-t', '-tt', '-D', '-i', '-1', '-v', '-V', '-h']) {
    assert.match(r.stdout, new RegExp(`^\\s+${escapeRe(flag)}\\s`, 'm'), `usage shows ${flag}`);
  }
});

Cli('an unknown flag exits 2 with a message naming it', async () => {
  const r = await run(['-Q']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown option: -Q/);
  assert.not.match(r.stderr, STACK_LINE);
  const missing = await run(['-f']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /-f needs a value/);
});

Cli('-t on a good config prints "Syntax OK" and exits 0', async () => {
  const file = write('good.conf', `${serving(80)}$HTTP["url"] =~ "^/x/" { server.document-root = "${dir}" }\n`);
  const r = await run(['-t', '-f', file]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'Syntax OK\n');
});

/** Each broken config: its text, the file and line the error must name, and what the message says. */
/** `start`: also check that a real start (-D) stops with the same message (a few suffice: each spawn costs ~1 s). */
const BROKEN: Array<{ name: string; files: Record<string, string>; at: [string, number]; says: RegExp; start?: boolean }> = [
  { name: 'a syntax error', files: { 'main.conf': 'server.port = 80\nserver.tag = = "x"\n' }, at: ['main.conf', 2], says: /expected|unexpected/i },
  { name: 'an unterminated string', files: { 'main.conf': 'server.port = 80\n\nserver.tag = "abc\n' }, at: ['main.conf', 3], says: /unterminated/i },
  { name: 'a wrong type', files: { 'main.conf': 'server.bind = "127.0.0.1"\nserver.port = "abc"\n' }, at: ['main.conf', 2], says: /server\.port.*integer/, start: true },
  { name: 'an unknown module', files: { 'main.conf': '\n\nserver.modules = ( "mod_staticfile", "mod_nonesuch" )\n' }, at: ['main.conf', 3], says: /mod_nonesuch/ },
  { name: 'a bad regex in a condition', files: { 'main.conf': 'server.port = 80\n$HTTP["url"] =~ "^/(a" {\n  server.document-root = "/"\n}\n' }, at: ['main.conf', 2], says: /regex|regular expression/i },
  { name: 'a missing include file', files: { 'main.conf': 'server.port = 80\ninclude "conf.d/missing.conf"\n' }, at: ['main.conf', 2], says: /missing\.conf/ },
  {
    name: 'an error inside an included file',
    files: { 'main.conf': 'server.port = 80\ninclude "conf.d/*.conf"\n', 'conf.d/x.conf': '# x\nserver.max-worker = "many"\n' },
    at: ['conf.d/x.conf', 2], says: /server\.max-worker/, start: true,
  },
];

for (const b of BROKEN) {
  Cli(`-t on ${b.name}: exits non-zero with file:line: message, no stack trace`, async () => {
    for (const [name, text] of Object.entries(b.files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      write(name, text);
    }
    const r = await run(['-t', '-f', path.join(dir, 'main.conf')]);
    assert.ok(r.code !== 0 && r.code !== null, `exit code ${r.code}`);
    assert.not.match(r.stdout, /Syntax OK/);
    const [file, line] = b.at;
    assert.match(r.stderr, new RegExp(`^${escapeRe(path.join(dir, file))}:${line}: `, 'm'), r.stderr);
    assert.match(r.stderr, b.says, r.stderr);
    assert.not.match(r.stderr, STACK_LINE, r.stderr);
    if (!b.start) return;
    // The same config also stops a real start, with the same message.
    const start = await run(['-D', '-f', path.join(dir, 'main.conf')]);
    assert.ok(start.code !== 0 && start.code !== null, `start exit code ${start.code}`);
    assert.match(start.stderr, new RegExp(`^${escapeRe(path.join(dir, file))}:${line}: `, 'm'), start.stderr);
    assert.not.match(start.stderr, STACK_LINE, start.stderr);
  });
}

Cli('-t checks plugin options without initializing plugins; -tt initializes them', async () => {
  const pluginDir = writeProbePlugin(dir);
  const marker = path.join(dir, 'marker');
  const file = write('p.conf', `server.modules = ( "mod_probe" )\nprobe.marker = "${marker}"\n`);
  const t = await run(['-t', '-m', pluginDir, '-f', file]);
  assert.is(t.code, 0, t.stderr);
  assert.is(t.stdout, 'Syntax OK\n');
  assert.not.ok(fs.existsSync(marker), '-t does not run create()');
  const tt = await run(['-tt', '-m', pluginDir, '-f', file]);
  assert.is(tt.code, 0, tt.stderr);
  assert.is(tt.stdout, 'Syntax OK\n');
  assert.ok(fs.existsSync(marker), '-tt ran create()');

  const bad = write('bad.conf', 'server.modules = ( "mod_probe" )\nprobe.marker = 12\nprobe.fail = "maybe"\n');
  const tBad = await run(['-t', '-m', pluginDir, '-f', bad]);
  assert.ok(tBad.code !== 0, 'a wrong type in a plugin option fails -t');
  assert.match(tBad.stderr, new RegExp(`^${escapeRe(bad)}:3: probe\\.fail`, 'm'), tBad.stderr);

  const failing = write('fail.conf', 'server.modules = ( "mod_probe" )\nprobe.fail = "enable"\n');
  const tFail = await run(['-t', '-m', pluginDir, '-f', failing]);
  assert.is(tFail.code, 0, 'create() is not run by -t');
  const ttFail = await run(['-tt', '-m', pluginDir, '-f', failing]);
  assert.ok(ttFail.code !== 0 && ttFail.code !== null, `-tt exit code ${ttFail.code}`);
  assert.match(ttFail.stderr, /probe refuses to start/);
  assert.not.match(ttFail.stdout, /Syntax OK/);
});

Cli('-p prints the resolved config, which -t accepts again', async () => {
  write('conf.d/extra.conf', 'server.max-keep-alive-idle = 7\n');
  const file = write('main.conf', `var.root = "${dir}/www"
server.bind = "127.0.0.1"
server.port = 8000 + 80
server.document-root = var.root
server.tag = "lantern-" + env.CLI_TEST_TAG
include "conf.d/*.conf"
$HTTP["host"] == "docs.example" {
  server.document-root = var.root + "/docs"
} else $HTTP["url"] =^ "/other/" {
  server.document-root = "${dir}"
}
`);
  const r = await run(['-p', '-f', file], { CLI_TEST_TAG: 'printed' });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^server\.port = 8080$/m, r.stdout);
  assert.match(r.stdout, /^server\.tag = "lantern-printed"$/m, 'env.NAME and + resolved');
  assert.match(r.stdout, /^server\.max-keep-alive-idle = 7$/m, 'the include is resolved');
  assert.match(r.stdout, /^\$HTTP\["host"\] == "docs\.example" \{$/m, r.stdout);
  assert.match(r.stdout, new RegExp(`^\\s+server\\.document-root = "${escapeRe(dir)}/www/docs"$`, 'm'), r.stdout);
  assert.match(r.stdout, /^else \$HTTP\["url"\] =\^ "\/other\/" \{$/m, r.stdout);
  const printed = write('printed.conf', r.stdout);
  const again = await run(['-t', '-f', printed]);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, 'Syntax OK\n');
  const reprinted = await run(['-p', '-f', printed]);
  assert.is(reprinted.stdout.split('\n').slice(1).join('\n'), r.stdout.split('\n').slice(1).join('\n'), '-p is a fixed point');
});

Cli('unknown keys warn (file:line and key) but the server starts and serves', async () => {
  const socket = await ListeningSocket.open();
  const port = socket.port;
  const file = write('u.conf', `${serving(port)}\nfrobnicate.level = 3\n`);
  const proc = await startLanternProcess(['-D', '-f', file], socket, { cwd: dir });
  try {
    assert.match(proc.stderr, new RegExp(`${escapeRe(file)}:7: unknown config key "frobnicate\\.level"`), proc.stderr);
    const res = await get(port, '/a.txt');
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'hello\n');
    assert.is(await proc.stop('SIGTERM'), 0);
  } finally {
    proc.kill();
  }
});

for (const [ext, text] of [
  ['json', (port: number) => JSON.stringify({ server: { bind: '127.0.0.1', port, 'document-root': `${dir}/www` }, 'mimetype.assign': { '.txt': 'text/x-native' } })],
  ['yaml', (port: number) => `server:\n  bind: 127.0.0.1\n  port: ${port}\n  document-root: ${dir}/www\nmimetype.assign:\n  .txt: text/x-native\n`],
] as const) {
  Cli(`-f with a native .${ext} config serves`, async () => {
    // lantern binds the native config's own address (no handed-over socket): that is tested too.
    const file = path.join(dir, `lantern.config.${ext}`);
    const { proc, ports: [port] } = await startLanternBinding(1, ([p]) => {
      write(`lantern.config.${ext}`, text(p!));
      return ['-D', '-f', file];
    }, { cwd: dir });
    try {
      const res = await get(port!, '/a.txt');
      assert.is(res.status, 200);
      assert.is(res.header('content-type'), 'text/x-native');
      assert.is(res.body.toString(), 'hello\n');
    } finally {
      proc.kill();
    }
  });
}

Cli('without -f and without a config file, the embedded default serves the welcome page', async () => {
  const empty = makeTempDir('cli-empty');
  let server: Server | undefined;
  try {
    const model = await loadConfig(undefined, { cwd: empty });
    server = await Server.create({ model, cwd: empty, listen: [{ host: '127.0.0.1', port: 0 }], warn: () => {} });
    await server.start();
    // The embedded default itself binds 127.0.0.1:8080 (the README's first command).
    assert.equal(server.globalValues.get('server.port'), 8080);
    assert.equal(server.globalValues.get('server.bind'), '127.0.0.1');
    const res = await get(server.port, '/');
    assert.is(res.status, 200);
    assert.match(res.header('content-type') ?? '', /^text\/html/);
    assert.match(res.body.toString(), /lantern/i);
  } finally {
    await server?.stop(0);
    removeDir(empty);
  }
});

Cli('without -f: -t and -p use the embedded default in an empty directory', async () => {
  const empty = makeTempDir('cli-empty');
  try {
    const t = await runLantern(['-t'], { cwd: empty });
    assert.is(t.code, 0, t.stderr);
    assert.is(t.stdout, 'Syntax OK\n');
    const p = await runLantern(['-p'], { cwd: empty });
    assert.match(p.stdout, /^# <embedded> /);
    assert.match(p.stdout, /^server\.port = 8080$/m);
    assert.match(p.stdout, /^server\.bind = "127\.0\.0\.1"$/m);
  } finally {
    removeDir(empty);
  }
});

Cli('without -f, a lantern.config.json in the working directory is found and served', async () => {
  // lantern binds the found file's own address (no handed-over socket): that is tested too.
  const { proc, ports: [port] } = await startLanternBinding(1, ([p]) => {
    write('lantern.config.json', JSON.stringify({ server: { bind: '127.0.0.1', port: p, 'document-root': `${dir}/www` } }));
    return ['-D'];
  }, { cwd: dir });
  try {
    const res = await get(port!, '/a.txt');
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'hello\n');
  } finally {
    proc.kill();
  }
});

Cli('-f with a missing file or a bad native config: non-zero exit naming the file, no stack trace', async () => {
  const missing = await run(['-t', '-f', path.join(dir, 'nope.conf')]);
  assert.ok(missing.code !== 0 && missing.code !== null);
  assert.match(missing.stderr, new RegExp(`${escapeRe(path.join(dir, 'nope.conf'))}.*ENOENT`));
  assert.not.match(missing.stderr, STACK_LINE);
  const json = write('bad.json', '{\n  "server": {\n    "port": "abc"\n  }\n}\n');
  const badJson = await run(['-t', '-f', json]);
  assert.ok(badJson.code !== 0 && badJson.code !== null);
  assert.match(badJson.stderr, new RegExp(`^${escapeRe(json)}:\\d+: server\\.port: expected an integer`, 'm'), badJson.stderr);
  assert.not.match(badJson.stderr, STACK_LINE);
  const yaml = write('bad.yaml', 'server:\n  port: [1\n');
  const badYaml = await run(['-t', '-f', yaml]);
  assert.ok(badYaml.code !== 0 && badYaml.code !== null);
  assert.match(badYaml.stderr, new RegExp(`^${escapeRe(yaml)}:\\d+: .*YAML`, 'm'), badYaml.stderr);
  assert.not.match(badYaml.stderr, STACK_LINE);
});

Cli('-i 1 stops by itself after a second without connections, exit 0', async () => {
  const socket = await ListeningSocket.open();
  const file = write('i.conf', serving(socket.port));
  const proc = await startLanternProcess(['-D', '-i', '1', '-f', file], socket, { cwd: dir });
  try {
    const started = Date.now();
    const status = await proc.waitExit(10_000);
    assert.is(status.code, 0, proc.stderr);
    assert.ok(Date.now() - started < 8000, `exited after ${Date.now() - started} ms`);
  } finally {
    proc.kill();
  }
});

Cli('-i counts open connections as activity', async () => {
  const socket = await ListeningSocket.open();
  const port = socket.port;
  const file = write('i2.conf', serving(port));
  const proc = await startLanternProcess(['-D', '-i', '1', '-f', file], socket, { cwd: dir });
  const client = net.connect({ port, host: '127.0.0.1' });
  try {
    await once(client, 'connect', 5000);
    // Still running 2.5 s later, while the (idle, but open) connection exists.
    const early = await Promise.race([proc.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), 2500))]);
    assert.is(early, 'running', proc.stderr);
    client.destroy();
    assert.is((await proc.waitExit(10_000)).code, 0);
  } finally {
    client.destroy();
    proc.kill();
  }
});

Cli('-1 serves one request on the stdin socket ($SERVER["socket"] is its address), then exits 0', async () => {
  // pauseOnConnect: this process must not read the bytes meant for the child.
  const acceptor = net.createServer({ pauseOnConnect: true });
  acceptor.listen(0, '127.0.0.1');
  await once(acceptor, 'listening', 5000);
  write('www-one/a.txt', 'hello from the socket block\n');
  const file = write('one.conf', serving(9, `$SERVER["socket"] == "127.0.0.1:${(acceptor.address() as net.AddressInfo).port}" {
  server.document-root = "${dir}/www-one"
}`));
  const accepted = once(acceptor, 'connection', 5000);
  const client = net.connect({ port: (acceptor.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  let proc: LanternProcess | undefined;
  try {
    const [serverSide] = (await accepted) as [net.Socket];
    proc = spawnLantern(['-D', '-1', '-f', file], { cwd: dir, stdin: serverSide });
    serverSide.destroy(); // the child holds its own copy of the descriptor
    acceptor.close();
    let received = '';
    client.setEncoding('latin1').on('data', (s: string) => { received += s; });
    const ended = once(client, 'end', START_TIMEOUT_MS);
    client.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    await ended;
    client.end();
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/, received + proc.stderr);
    assert.match(received, /\r\nConnection: close\r\n/i);
    assert.ok(received.endsWith('\r\n\r\nhello from the socket block\n'), received);
    const status = await proc.waitExit(10_000);
    assert.is(status.code, 0, proc.stderr);
    assert.not.match(proc.stderr, STACK_LINE);
  } finally {
    client.destroy();
    acceptor.close();
    proc?.kill();
  }
});

Cli('-1 without a socket on stdin: a message, exit 1, no stack trace', async () => {
  const file = write('one-bad.conf', serving(9));
  const r = await run(['-D', '-1', '-f', file]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /-1 needs a connected socket on stdin/);
  assert.not.match(r.stderr, STACK_LINE);
});

Cli('server.pid-file is written at start and removed on SIGTERM', async () => {
  const socket = await ListeningSocket.open();
  const pidFile = path.join(dir, 'run', 'lantern.pid');
  fs.mkdirSync(path.dirname(pidFile));
  const file = write('pid.conf', serving(socket.port, `server.pid-file = "${pidFile}"`));
  const proc = await startLanternProcess(['-D', '-f', file], socket, { cwd: dir });
  try {
    await waitFor(() => fs.existsSync(pidFile), 5000, 10, 'the pid file');
    assert.is(fs.readFileSync(pidFile, 'utf8'), `${proc.pid}\n`);
    assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
    assert.not.ok(fs.existsSync(pidFile), 'the pid file is removed');
  } finally {
    proc.kill();
  }
});

Cli('a config error in a started server names the file and line and writes no pid file', async () => {
  const pidFile = path.join(dir, 'lantern.pid');
  const file = write('bad-start.conf', `server.pid-file = "${pidFile}"\nserver.bind = "127.0.0.1"\nserver.port = 70000\n`);
  const r = await withTimeout(run(['-D', '-f', file]), 20_000, 'lantern to fail');
  assert.ok(r.code !== 0 && r.code !== null);
  assert.match(r.stderr, new RegExp(`^${escapeRe(file)}:3: server\\.port`, 'm'), r.stderr);
  assert.not.match(r.stderr, STACK_LINE);
  assert.not.ok(fs.existsSync(pidFile));
});

Cli.run();

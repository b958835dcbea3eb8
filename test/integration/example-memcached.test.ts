// examples/proxy-backend-memcached, the third-party "memcached" protocol (nginx's memcached
// module), as a user would run it: a project next to a config file has `lantern` (a link to this
// checkout) and `lantern-proxy-backend-memcached` (a copy of the example) in its node_modules;
// lantern runs as a process and the plugin is loaded by package name and by a path relative to
// the config file (copies of the example, as `npm install` of its tarball makes them). A real memcached serves the values (skipped when it is not installed); a
// fake one checks that a malformed reply is a 502.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { linkLantern } from '../helpers/third-party.js';
import { startMemcached, type Memcached } from '../helpers/memcached.js';
import { ListeningSocket } from '../helpers/ports.js';
import { connectRaw, rawExchange } from '../helpers/raw-client.js';
import { makeTempDir, REPO_ROOT, removeDir, startLanternProcess, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, which, withTimeout } from '../helpers/wait.js';

const M = suite('example: lantern-proxy-backend-memcached');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'proxy-backend-memcached');
const MEMCACHED = which('memcached');
const real = skipUnless(M, MEMCACHED !== null, 'memcached not installed');

const dirs: string[] = [];
let memcached: Memcached | null = null;
let mcPort = 0;
/** One raw client connection to memcached, for `set` and `stats`. */
let mc: Awaited<ReturnType<typeof connectRaw>> | null = null;

// Values: text, binary with CR LF (and "\r\nEND\r\n") inside, ~100 KB.
const TEXT = Buffer.from('<p>hello from memcached</p>\n');
const BINARY = Buffer.from([0, 1, 2, 13, 10, 255, 13, 10, 69, 78, 68, 13, 10, 0x80, 0xfe, 13, 10]);
const BIG = Buffer.alloc(100 * 1024 + 7, 0);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 8)) & 0xff;

M.before(async () => {
  if (MEMCACHED === null) return;
  memcached = await startMemcached(MEMCACHED, ['-m', '16']);
  mcPort = memcached.port;
  mc = await connectRaw(mcPort);
  await set('/hello', TEXT);
  await set('/bin/data', BINARY);
  await set('/big', BIG);
  await set('/empty', Buffer.alloc(0));
  await set('site:/prefixed', Buffer.from('with a prefix'));
  await set('/caf\u00e9', Buffer.from('utf-8 key'));
});

M.after(async () => {
  mc?.destroy();
  await memcached?.stop();
  for (const d of dirs) removeDir(d);
});

async function set(key: string, value: Buffer): Promise<void> {
  await mc!.write(Buffer.concat([Buffer.from(`set ${Buffer.from(key, 'utf8').toString('latin1')} 0 0 ${value.length}\r\n`, 'latin1'), value, Buffer.from('\r\n')]));
  const reply = await mc!.readUntil((b) => b.includes('\r\n'), 5000, `memcached to store ${key}`);
  assert.is(reply.toString(), 'STORED\r\n');
}

async function totalConnections(): Promise<number> {
  await mc!.write('stats\r\n');
  const reply = (await mc!.readUntil((b) => b.toString('latin1').endsWith('END\r\n'), 5000, 'memcached stats')).toString('latin1');
  const m = /STAT total_connections (\d+)/.exec(reply);
  assert.ok(m, reply);
  return Number(m![1]);
}

/**
 * A project dir: site/node_modules/{lantern, lantern-proxy-backend-memcached} as links, a
 * config naming `module` and the memcached backend at `port`. Returns the running lantern.
 */
async function startSite(module: string, backendPort: number, extra = '', files: Record<string, string> = {}): Promise<{ proc: LanternProcess; port: number }> {
  const dir = makeTempDir('memcached-site');
  dirs.push(dir);
  const site = path.join(dir, 'site');
  linkLantern(site);
  fs.mkdirSync(path.join(site, 'www'));
  for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(site, 'www', rel), content);
  // The plugin is copied, as installing its packed tarball would: Node resolves a linked
  // package's imports from its real location (examples/), where no `lantern` is installed.
  for (const where of [path.join(site, 'node_modules', 'lantern-proxy-backend-memcached'), path.join(site, 'plugins', 'memcached')]) {
    fs.mkdirSync(where, { recursive: true });
    for (const f of ['package.json', 'index.js', 'README.md']) fs.copyFileSync(path.join(EXAMPLE, f), path.join(where, f));
  }
  // A socket lantern inherits: the port is its own from before it starts (test/helpers/ports.ts).
  const socket = await ListeningSocket.open();
  const port = socket.port;
  const conf = path.join(site, 'lighttpd.conf');
  fs.writeFileSync(conf, [
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${site}/www"`,
    `server.modules = ( "mod_proxy_core", "${module}" )`,
    `proxy-core.backends = ( "127.0.0.1:${backendPort}" )`,
    'proxy-core.protocol = "memcached"',
    'proxy-core.balancer = "round-robin"',
    extra,
    '',
  ].join('\n'));
  // The working directory is elsewhere: the package and the path are found from the config file.
  const proc = await startLanternProcess(['-D', '-f', conf], socket, { cwd: dir });
  return { proc, port };
}

async function get(port: number, target: string, method = 'GET') {
  const r = await rawExchange({ port, send: `${method} ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 5000, headRequests: [method === 'HEAD'] });
  assert.is(r.responses.length, 1, `one response to ${method} ${target}: ${r.raw.toString('latin1').slice(0, 300)}`);
  return r.responses[0]!;
}

real('by package name: a hit is 200 with the exact bytes, a miss 404, bad keys 400, other methods 405', async () => {
  const { proc, port } = await startSite('lantern-proxy-backend-memcached', mcPort);
  try {
    let r = await get(port, '/hello');
    assert.is(r.status, 200);
    assert.is(r.header('content-type'), 'application/octet-stream');
    assert.is(r.header('content-length'), String(TEXT.length));
    assert.ok(r.body.equals(TEXT));
    r = await get(port, '/hello?ignored=query');
    assert.is(r.status, 200);
    assert.ok(r.body.equals(TEXT));
    r = await get(port, '/bin/data');
    assert.is(r.status, 200);
    assert.ok(r.body.equals(BINARY), 'binary value with CR LF and "END" inside');
    r = await get(port, '/big');
    assert.is(r.status, 200);
    assert.is(r.header('content-length'), String(BIG.length));
    assert.ok(r.body.equals(BIG), '100 KB value');
    r = await get(port, '/empty');
    assert.is(r.status, 200);
    assert.is(r.body.length, 0);
    r = await get(port, '/caf%C3%A9');
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'utf-8 key');
    r = await get(port, '/missing');
    assert.is(r.status, 404);
    r = await get(port, '/big', 'HEAD');
    assert.is(r.status, 200);
    assert.is(r.header('content-length'), String(BIG.length));
    assert.is(r.body.length, 0);
    r = await get(port, '/a%20b');
    assert.is(r.status, 400, 'a space in the key');
    r = await get(port, '/a%0Db');
    assert.is(r.status, 400, 'a control character in the key');
    r = await get(port, `/${'k'.repeat(250)}`);
    assert.is(r.status, 400, 'a key over 250 bytes');
    r = await get(port, `/${'k'.repeat(249)}`);
    assert.is(r.status, 404, 'a 250-byte key is a key');
    r = await get(port, '/hello', 'DELETE');
    assert.is(r.status, 405);
    assert.is(r.header('allow'), 'GET, HEAD');
    r = await get(port, '/hello');
    assert.is(r.status, 200, 'the connection used for a local answer still works');
  } finally {
    await proc.stop('SIGTERM');
  }
});

real('keep-alive: several requests on one client connection, over one memcached connection', async () => {
  const { proc, port } = await startSite('lantern-proxy-backend-memcached', mcPort);
  const client = await connectRaw(port);
  try {
    const before = await totalConnections();
    const order: Array<[string, number, Buffer | null]> = [
      ['/hello', 200, TEXT], ['/missing', 404, null], ['/bin/data', 200, BINARY], ['/big', 200, BIG],
      ['/a%20b', 400, null], ['/hello', 200, TEXT], ['/big', 200, BIG], ['/missing', 404, null],
    ];
    for (const [target, status, value] of order) {
      await client.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const r = await client.readResponse(5000);
      assert.is(r.status, status, target);
      if (value !== null) assert.ok(r.body.equals(value), `body of ${target}`);
    }
    assert.not.ok(client.closed, 'the client connection is still open');
    // Requests one after another: one pooled backend connection (the stats query adds one).
    const after = await totalConnections();
    assert.ok(after - before <= 2, `memcached saw ${after - before} new connections for ${order.length} requests`);
  } finally {
    client.destroy();
    await proc.stop('SIGTERM');
  }
});

real('by a path relative to the config file, with protocol options', async () => {
  const { proc, port } = await startSite(
    './plugins/memcached', mcPort,
    'proxy-core.protocol-options = ( "keyPrefix" => "site:", "contentType" => "text/plain" )',
  );
  try {
    let r = await get(port, '/prefixed');
    assert.is(r.status, 200);
    assert.is(r.header('content-type'), 'text/plain');
    assert.is(r.body.toString(), 'with a prefix');
    r = await get(port, '/hello');
    assert.is(r.status, 404, 'the prefix is part of the key');
  } finally {
    await proc.stop('SIGTERM');
  }
});

real('fallThrough: a miss goes on to the next handler (the static file), a hit is memcached\'s, over one memcached connection', async () => {
  const { proc, port } = await startSite(
    'lantern-proxy-backend-memcached', mcPort,
    'proxy-core.protocol-options = ( "fallThrough" => "enable", "contentType" => "text/html" )',
    { 'hello': 'the file, not memcached\n', 'only-on-disk.html': 'from the disk\n' },
  );
  try {
    const before = await totalConnections();
    let r = await get(port, '/hello');
    assert.is(r.status, 200);
    assert.ok(r.body.equals(TEXT), 'a hit is served from memcached, not from the file of the same name');
    r = await get(port, '/only-on-disk.html');
    assert.is(r.status, 200, 'a miss falls through to the static file');
    assert.is(r.body.toString(), 'from the disk\n');
    r = await get(port, '/neither');
    assert.is(r.status, 404, 'a miss with no file behind it: the static file module answers 404');
    r = await get(port, '/only-on-disk.html', 'HEAD');
    assert.is(r.status, 200);
    r = await get(port, '/hello');
    assert.ok(r.body.equals(TEXT), 'the pooled connection still serves hits');
    const after = await totalConnections();
    assert.ok(after - before <= 2, `memcached saw ${after - before} new connections (a miss keeps the connection pooled)`);
  } finally {
    await proc.stop('SIGTERM');
  }
});

M('a malformed reply is a 502 (a fake memcached)', async () => {
  const replies = ['SERVER_ERROR out of memory\r\n', 'VALUE /x 0 3\r\nabcXYZ\r\n', 'VALUE /other 0 1\r\na\r\nEND\r\n', 'VALUE /x 0 nope\r\n'];
  let next = 0;
  const sockets = new Set<net.Socket>();
  const fake = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => { s.write(replies[next++ % replies.length]!); });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => { fake.once('error', reject); fake.listen(0, '127.0.0.1', () => resolve()); });
  const fakePort = (fake.address() as net.AddressInfo).port;
  let proc: LanternProcess | null = null;
  try {
    const site = await startSite('lantern-proxy-backend-memcached', fakePort);
    proc = site.proc;
    for (let i = 0; i < replies.length; i++) {
      const r = await get(site.port, '/x');
      assert.is(r.status, 502, JSON.stringify(replies[i]));
    }
  } finally {
    await proc?.stop('SIGTERM');
    for (const s of sockets) s.destroy();
    await withTimeout(new Promise((resolve) => fake.close(resolve)), 5000, 'the fake memcached to close');
  }
});

M.run();

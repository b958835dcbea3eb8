// docs/writing-a-backend-plugin.md runs as written. Its package.json, tsconfig.json, plugin and two
// tests are taken from the page into a fresh project (lantern, typescript, tsx and @types/node
// linked into its node_modules, as an install would put them), type-checked, built with the
// page's tsconfig and tested with the page's own tests (node --test). Then lantern, from its
// sources, loads the plugin by a path to its TypeScript source and by package name with each of
// the page's three configs (lighttpd, YAML, JSON), in front of a fake Redis made here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { connectRaw, rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, REPO_ROOT, removeDir, spawnLantern, startLanternProcess, type LanternProcess } from '../helpers/spawn-lantern.js';
import { linkLantern, typeCheck } from '../helpers/third-party.js';
import { withTimeout } from '../helpers/wait.js';

const D = suite('docs: writing a backend plugin');
const DOC = path.join(REPO_ROOT, 'docs', 'writing-a-backend-plugin.md');

interface Fence { lang: string; info: string; code: string }

/** Every fenced block of the page, with its language and the rest of its info string. */
function fences(): Fence[] {
  const lines = fs.readFileSync(DOC, 'utf8').split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    out.push({ lang: open[1]!, info: open[2]!, code: `${lines.slice(i + 1, end).join('\n')}\n` });
    i = end;
  }
  return out;
}

/** The one block of the page that `match` picks. */
function block(what: string, match: (f: Fence) => boolean): string {
  const found = fences().filter(match);
  assert.is(found.length, 1, `${what}: ${found.length} blocks in ${path.relative(REPO_ROOT, DOC)}`);
  return found[0]!.code;
}

const page = {
  packageJson: () => block('package.json', (f) => f.lang === 'json' && f.code.includes('"name": "lantern-proxy-backend-redis"')),
  tsconfig: () => block('tsconfig.json', (f) => f.lang === 'json' && f.code.includes('"compilerOptions"')),
  plugin: () => block('src/index.ts', (f) => f.lang === 'ts' && f.code.startsWith('// src/index.ts')),
  exchangeTest: () => block('test/exchange.test.ts', (f) => f.lang === 'ts' && f.code.startsWith('// test/exchange.test.ts')),
  serverTest: () => block('test/server.test.ts', (f) => f.lang === 'ts' && f.code.startsWith('// test/server.test.ts')),
  lighttpdConf: () => block('the lighttpd config', (f) => f.lang === '' && f.code.includes('proxy-core.protocol = "redis"')),
  yamlConf: () => block('the YAML config', (f) => f.lang === 'yaml' && f.code.includes('proxy-core.protocol: redis')),
  jsonConf: () => block('the JSON config', (f) => f.lang === 'json' && f.code.includes('"proxy-core.protocol": "redis"')),
};

const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let dir = '';
/** The plugin's project, as the page lays it out. */
let project = '';

D.before(() => {
  dir = makeTempDir('docs-backend-plugin');
  project = path.join(dir, 'lantern-proxy-backend-redis');
  const files: Record<string, string> = {
    'package.json': page.packageJson(),
    'tsconfig.json': page.tsconfig(),
    'src/index.ts': page.plugin(),
    'test/exchange.test.ts': page.exchangeTest(),
    'test/server.test.ts': page.serverTest(),
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    fs.writeFileSync(path.join(project, rel), text);
  }
  // The dev dependencies, as `npm install` would put them: lantern itself, the compiler, tsx, types.
  linkLantern(project);
  for (const dep of ['typescript', 'tsx', '@types']) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', dep), path.join(project, 'node_modules', dep), 'dir');
});

D.after(() => removeDir(dir));

D('the plugin and both tests type-check; the plugin builds with the page\'s tsconfig', () => {
  // typeCheck writes its own tsconfig, so it checks a copy.
  const copy = path.join(dir, 'typecheck');
  fs.cpSync(path.join(project, 'src'), path.join(copy, 'src'), { recursive: true });
  fs.cpSync(path.join(project, 'test'), path.join(copy, 'test'), { recursive: true });
  fs.writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ name: 'typecheck', type: 'module' }));
  linkLantern(copy);
  assert.is(typeCheck(copy, ['src/index.ts', 'test/exchange.test.ts', 'test/server.test.ts']).trim(), '');
  execFileSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', timeout: 60_000 });
  for (const f of ['dist/index.js', 'dist/index.d.ts']) assert.ok(fs.existsSync(path.join(project, f)), `${f} built`);
});

D('the page\'s own tests pass (node --test), lantern from its build', () => {
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'core', 'cli.js')), 'dist/ is missing: run npm run build');
  const env = { ...process.env, LANTERN_FROM_SOURCE: '', DEBUG: '' };
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--import', 'tsx', '--test', 'test/exchange.test.ts', 'test/server.test.ts'], { cwd: project, env, encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node --test failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  assert.match(out, /^# pass 4$/m);
  assert.match(out, /^# fail 0$/m);
});

// ---------------------------------------------------------------------------------------------
// A fake Redis: RESP commands in, literal replies out, a selected database per connection.

/** What a key holds: a value (a bulk string reply), raw reply bytes, or a reply written by hand. */
type Stored = { value: Buffer } | { raw: string } | { custom: (socket: net.Socket) => void };

interface FakeRedis {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** One RESP array of bulk strings at the front of `buf`; null while it is incomplete. */
function parseCommand(buf: Buffer): { args: Buffer[]; consumed: number } | null {
  let at = 0;
  const line = (): string | null => {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const s = buf.toString('latin1', at, eol);
    at = eol + 2;
    return s;
  };
  const count = line();
  if (count === null) return null;
  assert.match(count, /^\*[0-9]+$/, 'a RESP array');
  const args: Buffer[] = [];
  for (let i = 0; i < Number(count.slice(1)); i++) {
    const len = line();
    if (len === null) return null;
    assert.match(len, /^\$[0-9]+$/, 'a RESP bulk string');
    const n = Number(len.slice(1));
    if (buf.length < at + n + 2) return null;
    args.push(buf.subarray(at, at + n));
    at += n + 2;
  }
  return { args, consumed: at };
}

async function startFakeRedis(databases: Record<number, Record<string, Stored>>): Promise<FakeRedis> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let db = 0;
    let buf = Buffer.alloc(0);
    socket.on('data', (data) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        const c = parseCommand(buf);
        if (c === null) return;
        buf = buf.subarray(c.consumed);
        const [name, arg] = [c.args[0]!.toString('latin1'), c.args[1]];
        if (name === 'SELECT') {
          db = Number(arg!.toString('latin1'));
          socket.write('+OK\r\n');
          continue;
        }
        assert.is(name, 'GET');
        const stored = databases[db]?.[arg!.toString('utf8')];
        if (stored === undefined) socket.write('$-1\r\n');
        else if ('value' in stored) socket.write(Buffer.concat([Buffer.from(`$${stored.value.length}\r\n`), stored.value, Buffer.from('\r\n')]));
        else if ('raw' in stored) socket.write(stored.raw);
        else stored.custom(socket);
      }
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return connections; },
    close: () => {
      for (const s of sockets) s.destroy();
      return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'the fake Redis to close');
    },
  };
}

const v = (s: string | Buffer) => ({ value: Buffer.isBuffer(s) ? s : Buffer.from(s) });
const BINARY = Buffer.from([0, 13, 10, 36, 45, 49, 13, 10, 255, 13, 10]); // NUL, CRLF, "$-1\r\n", 0xff
const BIG = Buffer.alloc(200 * 1024 + 3);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 9)) & 0xff;

async function get(port: number, target: string, method = 'GET'): Promise<RawResponse> {
  const r = await rawExchange({ port, send: `${method} ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 10_000, headRequests: [method === 'HEAD'] });
  assert.is(r.responses.length, 1, `one response to ${method} ${target}: ${r.raw.toString('latin1').slice(0, 300)}`);
  return r.responses[0]!;
}

/**
 * lantern (from its sources) with `config` written to `file` in `site`, on a socket it inherits
 * (test/helpers/ports.ts): the port is lantern's from before it starts.
 */
async function startSite(site: string, file: string, config: (port: number) => string): Promise<{ proc: LanternProcess; port: number }> {
  const socket = await ListeningSocket.open();
  fs.writeFileSync(path.join(site, file), config(socket.port));
  // The working directory is elsewhere: paths and packages are found from the config file.
  const proc = await startLanternProcess(['-D', '-f', path.join(site, file)], socket, { cwd: dir });
  return { proc, port: socket.port };
}

D('by path to its TypeScript source: values, misses, HEAD, local answers, errors, keep-alive', async () => {
  const redis = await startFakeRedis({
    0: {
      '/hello': v('hello from redis'),
      '/bin': v(BINARY),
      '/big': v(BIG),
      '/empty': v(''),
      '/caf\u00e9 au lait': v('a UTF-8 key with a space'),
      '/list': { raw: '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' },
      '/loading': { raw: '-LOADING Redis is loading the dataset in memory\r\n' },
      '/cut': { custom: (s) => { s.write('$10\r\nabc'); s.destroy(); } },
    },
  });
  const site = path.join(dir, 'by-path');
  fs.mkdirSync(path.join(site, 'www'), { recursive: true });
  // Another plugin rewrites one target into a path a client could not send (not UTF-8 decoded).
  fs.writeFileSync(path.join(site, 'rewrite.mjs'), `export default {
  id: 'rewrite', requires: ['proxy-core'],
  create(ctx) {
    ctx.server.host.api('proxy-core').hooks.upstreamRequest.tap('rewrite', (up) => { if (up.target === '/rewrite-me') up.target = '/%FF'; });
  },
};
`);
  const rel = path.relative(site, path.join(project, 'src', 'index.ts'));
  const { proc, port } = await startSite(site, 'lighttpd.conf', (p) => [
    `server.port = ${p}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${site}/www"`,
    `server.modules = ( "mod_proxy_core", "${rel}", "./rewrite.mjs" )`,
    `proxy-core.backends = ( "127.0.0.1:${redis.port}" )`,
    'proxy-core.protocol = "redis"',
    '',
  ].join('\n'));
  try {
    let r = await get(port, '/hello?query=ignored');
    assert.is(r.status, 200);
    assert.is(r.header('content-type'), 'application/octet-stream', 'the contentType default');
    assert.is(r.body.toString(), 'hello from redis');
    r = await get(port, '/bin');
    assert.ok(r.body.equals(BINARY), 'a value holding CR LF and a RESP reply, byte for byte');
    r = await get(port, '/big');
    assert.is(r.header('content-length'), String(BIG.length));
    assert.ok(r.body.equals(BIG), '200 KB streamed');
    r = await get(port, '/empty');
    assert.is(r.status, 200);
    assert.is(r.body.length, 0);
    r = await get(port, '/caf%C3%A9%20au%20lait');
    assert.is(r.body.toString(), 'a UTF-8 key with a space');
    r = await get(port, '/missing');
    assert.is(r.status, 404);
    assert.is(r.body.toString(), 'Not Found\n');
    r = await get(port, '/big', 'HEAD');
    assert.is(r.status, 200);
    assert.is(r.header('content-length'), String(BIG.length), 'HEAD is told the length a GET gets');
    assert.is(r.body.length, 0);

    const before = redis.connections;
    r = await get(port, '/hello', 'DELETE');
    assert.is(r.status, 405, 'a method Redis GET cannot serve: answered by lantern');
    assert.is(r.header('allow'), 'GET, HEAD', 'with the Allow field its LanternError carries');
    r = await get(port, '/rewrite-me');
    assert.is(r.status, 400, 'a target rewritten to one that is not UTF-8: not for this backend');
    assert.is(redis.connections, before, 'local answers open no connection to Redis');

    r = await get(port, '/list');
    assert.is(r.status, 502, 'an error reply');
    await proc.waitOutput('stderr', /\(proxy-core\) backend "lighttpd\.conf:5" 127\.0\.0\.1:\d+: invalid response from backend \(redis: WRONGTYPE Operation against a key holding the wrong kind of value\) for GET \/list/, 5000);
    r = await get(port, '/loading');
    assert.is(r.status, 503, 'Redis did not run the command: overloaded');
    // Closed in the middle of the value: the head already went out, so the response is cut short.
    r = await get(port, '/cut');
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'abc');
    assert.not.ok(r.complete, 'fewer bytes than its Content-Length, then the close');
    await proc.waitOutput('stderr', /backend closed the connection \(redis closed the connection before the end of its reply\) for GET \/cut/, 5000);

    // One client connection, requests one after another: one Redis connection carries them all.
    const client = await connectRaw(port);
    try {
      const opened = redis.connections;
      for (const [target, status] of [['/hello', 200], ['/missing', 404], ['/big', 200], ['/hello', 405], ['/rewrite-me', 400], ['/bin', 200]] as const) {
        await client.write(`${status === 405 ? 'DELETE' : 'GET'} ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const res = await client.readResponse(10_000);
        assert.is(res.status, status, target);
      }
      assert.not.ok(client.closed);
      assert.ok(redis.connections - opened <= 1, `${redis.connections - opened} new Redis connections for 6 requests`);
    } finally {
      client.destroy();
    }
  } finally {
    await proc.stop('SIGTERM');
    await redis.close();
  }
});

let installedSite = '';

/** A site folder with lantern and the built plugin in its node_modules, as `npm install` puts them. */
function siteWithPackage(): string {
  if (installedSite !== '') return installedSite;
  assert.ok(fs.existsSync(path.join(project, 'dist', 'index.js')), 'the plugin was built by the first test');
  const site = path.join(dir, 'by-name');
  fs.mkdirSync(path.join(site, 'www', 'cache'), { recursive: true });
  fs.writeFileSync(path.join(site, 'www', 'cache', 'on-disk.txt'), 'from the document root\n');
  linkLantern(site);
  // The package as an install of its tarball puts it: package.json and the built files.
  const installed = path.join(site, 'node_modules', 'lantern-proxy-backend-redis');
  fs.mkdirSync(installed);
  fs.copyFileSync(path.join(project, 'package.json'), path.join(installed, 'package.json'));
  fs.cpSync(path.join(project, 'dist'), path.join(installed, 'dist'), { recursive: true });
  installedSite = site;
  return site;
}

D('by package name, with each of the page\'s configs: key prefix, database, content type, fall-through', async () => {
  const redis = await startFakeRedis({
    0: { 'page:/cache/home': v('database 0') },
    2: { 'page:/cache/home': v('<h1>home</h1>') },
  });
  const site = siteWithPackage();
  const backend = (text: string) => text.replaceAll('127.0.0.1:6379', `127.0.0.1:${redis.port}`);
  const configs: Array<[string, (port: number) => string]> = [
    ['lighttpd.conf', (p) => `server.port = ${p}\nserver.bind = "127.0.0.1"\nserver.document-root = "${site}/www"\n${backend(page.lighttpdConf())}`],
    ['lantern.config.yaml', (p) => `server.port: ${p}\nserver.bind: 127.0.0.1\nserver.document-root: ${site}/www\n${backend(page.yamlConf())}`],
    ['lantern.config.json', (p) => JSON.stringify({ 'server.port': p, 'server.bind': '127.0.0.1', 'server.document-root': `${site}/www`, ...JSON.parse(backend(page.jsonConf())) })],
  ];
  try {
    for (const [file, config] of configs) {
      const { proc, port } = await startSite(site, file, config);
      try {
        let r = await get(port, '/cache/home');
        assert.is(r.status, 200, file);
        assert.is(r.header('content-type'), 'text/html; charset=utf-8', file);
        assert.is(r.body.toString(), '<h1>home</h1>', `${file}: the value of database 2, under the prefixed key`);
        r = await get(port, '/cache/on-disk.txt');
        assert.is(r.status, 200, `${file}: a missing key falls through to the static file`);
        assert.is(r.body.toString(), 'from the document root\n');
        r = await get(port, '/cache/nowhere');
        assert.is(r.status, 404, `${file}: missing in Redis and on disk`);
      } finally {
        await proc.stop('SIGTERM');
      }
    }
  } finally {
    await redis.close();
  }
});

D('lantern -tt refuses a protocol option of the wrong type, naming the line', async () => {
  const conf = path.join(siteWithPackage(), 'bad.conf');
  fs.writeFileSync(conf, page.lighttpdConf().replace('"database" => 2', '"database" => "two"'));
  const proc = spawnLantern(['-tt', '-f', conf], { cwd: dir });
  const exit = await proc.waitExit(30_000);
  assert.is.not(exit.code, 0);
  assert.match(proc.stderr, /bad\.conf:5: protocol "redis" option "database": expected an integer >= 0, got "two"/);
});

D.run();

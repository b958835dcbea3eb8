// What a third party does (issue 12): `npm pack` lantern and the example protocol plugin, install
// both tarballs into a fresh project, start the installed `lantern` on a config that loads the
// plugin by package name and by path, get requests through it to a real memcached, and type-check
// the installed plugin against the installed package's .d.ts. Skipped without memcached.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startMemcached, type Memcached } from '../helpers/memcached.js';
import { ListeningSocket } from '../helpers/ports.js';
import { rawExchange } from '../helpers/raw-client.js';
import { makeTempDir, REPO_ROOT, removeDir, startLanternProcess } from '../helpers/spawn-lantern.js';
import { typeCheck } from '../helpers/third-party.js';
import { skipUnless, which } from '../helpers/wait.js';

const N = suite('npm pack: lantern and a plugin installed from tarballs');
const MEMCACHED = which('memcached');
const test = skipUnless(N, MEMCACHED !== null, 'memcached not installed');

let dir = '';
let memcached: Memcached | null = null;
N.after(async () => {
  await memcached?.stop();
  removeDir(dir);
});

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

async function memcachedSet(port: number, key: string, value: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`set ${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`));
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('memcached set timed out')); });
    s.on('data', (d) => { s.end(); if (String(d).startsWith('STORED')) resolve(); else reject(new Error(String(d))); });
    s.on('error', reject);
  });
}

test('installed from tarballs: the plugin loads by package name and by path, serves from memcached, and type-checks', async () => {
  // dist/ is what `npm install` of this checkout built (prepare); packing does not build it again,
  // so other tests reading dist/ at the same time are not disturbed.
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'core', 'cli.js')), 'dist/ is missing: run npm run build');
  dir = makeTempDir('npm-pack');
  const packs = path.join(dir, 'packs');
  fs.mkdirSync(packs);
  const lanternTgz = npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', packs], REPO_ROOT).trim().split('\n').at(-1)!;
  const pluginTgz = npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', packs], path.join(REPO_ROOT, 'examples', 'proxy-backend-memcached')).trim().split('\n').at(-1)!;
  const site = path.join(dir, 'site');
  fs.mkdirSync(path.join(site, 'www'), { recursive: true });
  fs.writeFileSync(path.join(site, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--no-save', path.join(packs, lanternTgz), path.join(packs, pluginTgz)], site);
  assert.ok(fs.existsSync(path.join(site, 'node_modules', 'lantern', 'dist', 'core', 'plugin-api.d.ts')), 'the tarball carries dist/ with its .d.ts');

  memcached = await startMemcached(MEMCACHED!);
  const mport = memcached.port;
  await memcachedSet(mport, '/hello', 'from memcached');
  // The same plugin copied next to the config, to load it by path.
  fs.cpSync(path.join(site, 'node_modules', 'lantern-proxy-backend-memcached'), path.join(site, 'plugins', 'memcached'), { recursive: true });
  const bin = path.join(site, 'node_modules', '.bin', 'lantern');
  for (const module of ['lantern-proxy-backend-memcached', './plugins/memcached']) {
    // A socket the installed lantern inherits: its port is lantern's from before it starts.
    const socket = await ListeningSocket.open();
    const port = socket.port;
    const conf = path.join(site, 'lighttpd.conf');
    fs.writeFileSync(conf, `server.port = ${port}
server.bind = "127.0.0.1"
server.document-root = "${site}/www"
server.modules = ( "mod_proxy_core", "${module}" )
proxy-core.backends = ( "127.0.0.1:${mport}" )
proxy-core.protocol = "memcached"
proxy-core.balancer = "round-robin"
`);
    // The installed command, from the project: without LANTERN_FROM_SOURCE it runs the tarball's dist/.
    const proc = await startLanternProcess(['-D', '-f', conf], socket, { cwd: site, bin });
    try {
      const get = async (t: string) => (await rawExchange({ port, send: `GET ${t} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 5000 })).responses[0]!;
      const hit = await get('/hello');
      assert.is(hit.status, 200, `${module}: a hit`);
      assert.is(hit.body.toString(), 'from memcached');
      assert.is((await get('/missing')).status, 404, `${module}: a miss`);
      assert.not.match(proc.stderr, /tsx|Cannot find/, 'it ran from dist/ with what the tarball carries');
    } finally {
      await proc.stop('SIGTERM').catch(() => proc.kill());
    }
  }

  assert.is(typeCheck(site, ['node_modules/lantern-proxy-backend-memcached/index.js'], { js: true }), '', 'the installed plugin type-checks');
});

N.run();

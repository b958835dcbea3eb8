// The plugin API as a package (package.json "exports": lantern/plugin, lantern/proxy-core, with
// emitted .d.ts): what a third party does. A project next to a config file has `lantern` in its
// node_modules (a link to this checkout, as `npm install` of a tarball would put it), a plugin
// loaded by a path relative to that config file and one loaded by package name, both importing
// only `lantern/plugin` and `lantern/proxy-core`; a TypeScript plugin type-checks against the
// emitted declarations; a plugin written for another API version is refused with both versions.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawExchange } from '../helpers/raw-client.js';
import { linkLantern, typeCheck } from '../helpers/third-party.js';
import { freePort, ListeningSocket } from '../helpers/ports.js';
import { makeTempDir, REPO_ROOT, removeDir, spawnLantern, startLanternProcess } from '../helpers/spawn-lantern.js';
import { waitFor } from '../helpers/wait.js';

const P = suite('plugin API as a package');
const dirs: string[] = [];
P.after(() => { for (const d of dirs) removeDir(d); });

/** The emitted entry points the exports name: built by `npm install` (prepare) or `npm run build`. */
const BUILT = ['dist/core/plugin-api.js', 'dist/core/plugin-api.d.ts', 'dist/plugins/proxy-core/public-api.js', 'dist/plugins/proxy-core/public-api.d.ts'];

/** A plugin that answers every request with its name and a head made by lantern/proxy-core. */
const pluginSource = (id: string, apiVersion: number) => `import { definePlugin, PLUGIN_API_VERSION } from 'lantern/plugin';
import { makeResponseHead } from 'lantern/proxy-core';
export default definePlugin({
  id: '${id}',
  apiVersion: ${apiVersion},
  create(ctx) {
    const head = makeResponseHead(200, ['X-Made-By', 'lantern/proxy-core']);
    ctx.hooks.subrequestStart.tap('${id}', (req) => {
      req.writeHead(head.status, ['Content-Type', 'text/plain', ...head.headers]);
      req.end('${id} api ' + PLUGIN_API_VERSION + '\\n');
      return true;
    });
  },
});
`;

function project(): { dir: string; conf: string } {
  const dir = makeTempDir('plugin-pkg');
  dirs.push(dir);
  const site = path.join(dir, 'site');
  linkLantern(site);
  const byPath = path.join(site, 'plugins', 'by-path');
  fs.mkdirSync(byPath, { recursive: true });
  fs.writeFileSync(path.join(byPath, 'index.mjs'), pluginSource('by-path', 1));
  const pkg = path.join(site, 'node_modules', 'lantern-plugin-by-name');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'lantern-plugin-by-name', type: 'module', exports: { '.': './main.js' } }));
  fs.writeFileSync(path.join(pkg, 'main.js'), pluginSource('lantern-plugin-by-name', 1));
  fs.mkdirSync(path.join(site, 'www'));
  return { dir, conf: path.join(site, 'lighttpd.conf') };
}

async function body(port: number, target: string): Promise<string> {
  const r = await rawExchange({ port, send: `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 5000 });
  assert.is(r.responses[0]!.status, 200);
  assert.is(r.responses[0]!.header('x-made-by'), 'lantern/proxy-core');
  return r.responses[0]!.body.toString();
}

P('the build emits the entry points package.json exports', () => {
  for (const f of BUILT) assert.ok(fs.existsSync(path.join(REPO_ROOT, f)), `${f} is missing: run npm run build`);
});

P('a plugin by a path relative to its config file, and one by package name, importing only lantern/plugin and lantern/proxy-core', async () => {
  const { dir, conf } = project();
  for (const [module, answer] of [['./plugins/by-path', 'by-path api 1\n'], ['lantern-plugin-by-name', 'lantern-plugin-by-name api 1\n']] as const) {
    const socket = await ListeningSocket.open();
    const port = socket.port;
    fs.writeFileSync(conf, `server.port = ${port}\nserver.bind = "127.0.0.1"\nserver.document-root = "${path.dirname(conf)}/www"\nserver.modules = ( "${module}" )\n`);
    // The working directory is elsewhere: the path and the package are found from the config file.
    const proc = await startLanternProcess(['-D', '-f', conf], socket, { cwd: dir });
    try {
      assert.is(await body(port, '/x'), answer);
    } finally {
      await proc.stop('SIGTERM');
    }
  }
});

P('a plugin written for another plugin API version is refused, naming both versions and the line', async () => {
  const { dir, conf } = project();
  fs.writeFileSync(path.join(path.dirname(conf), 'plugins', 'by-path', 'index.mjs'), pluginSource('by-path', 99));
  // Any port: lantern must refuse the plugin before it listens.
  fs.writeFileSync(conf, `server.port = ${await freePort()}\nserver.document-root = "${path.dirname(conf)}/www"\nserver.modules = ( "./plugins/by-path" )\n`);
  const proc = spawnLantern(['-D', '-f', conf], { cwd: dir });
  const exit = await proc.waitExit(30_000);
  assert.is.not(exit.code, 0);
  assert.match(proc.stderr, /lighttpd\.conf:3: server\.modules: "\.\/plugins\/by-path" \(plugin "by-path"\) was written for lantern's plugin API 99; this lantern \S+ offers API 1/);
});

P('a TypeScript plugin type-checks against the emitted declarations; a wrong field does not', () => {
  const { dir } = project();
  const site = path.join(dir, 'site');
  fs.writeFileSync(path.join(site, 'package.json'), JSON.stringify({ name: 'site', type: 'module' }));
  const good = `import { definePlugin, PLUGIN_API_VERSION, type Request } from 'lantern/plugin';
import { makeResponseHead, type ProtocolDefinition, type Exchange } from 'lantern/proxy-core';
const protocol: Pick<ProtocolDefinition, 'name' | 'keepAlive'> = { name: 'echo', keepAlive: true };
export default definePlugin({
  id: 'typed', apiVersion: PLUGIN_API_VERSION,
  create(ctx) {
    ctx.hooks.subrequestStart.tap('typed', (req: Request) => {
      const h = makeResponseHead(200, []);
      req.writeHead(h.status, h.headers);
      req.end(protocol.name);
      return true;
    });
  },
});
export type E = Exchange;
`;
  fs.writeFileSync(path.join(site, 'plugin.ts'), good);
  assert.is(typeCheck(site, ['plugin.ts']), '');
  fs.writeFileSync(path.join(site, 'plugin.ts'), good.replace("id: 'typed',", "id: 42,"));
  assert.match(typeCheck(site, ['plugin.ts']), /plugin\.ts\(\d+,\d+\): error TS2322/, 'a number for the id is a type error');
});

P('a protocol that answers a request itself (LanternError from head(), with fields; from receive()), or throws: its status, nothing sent, the connection kept, the preamble still first', async () => {
  const { dir, conf } = project();
  const site = path.dirname(conf);
  fs.mkdirSync(path.join(site, 'plugins', 'proto'), { recursive: true });
  // A line protocol: "HELLO\n" once per connection, then "GET <target>\n" up; each line back is a 200 body.
  fs.writeFileSync(path.join(site, 'plugins', 'proto', 'index.mjs'), `import { definePlugin, LanternError } from 'lantern/plugin';
import { makeResponseHead } from 'lantern/proxy-core';
export default definePlugin({
  id: 'proto', apiVersion: 1, requires: ['proxy-core'],
  create(ctx) {
    ctx.server.host.api('proxy-core').registerProtocol({
      name: 'line', keepAlive: true, streamsUnknownLength: true, usesEnv: false,
      preamble: () => Buffer.from('HELLO\\n'),
      createExchange: (up) => ({
        head() {
          if (up.target.startsWith('/refused')) throw new LanternError('LT_ERR_NOT_FOR_BACKEND', 'not for this protocol');
          if (up.target.startsWith('/method')) throw new LanternError('LT_ERR_METHOD_NOT_ALLOWED', 'GET only', { headers: ['Allow', 'GET'] });
          return up.method + ' ' + up.target + '\\n';
        },
        body: (c) => c, end: () => null,
        receive(data, sink) {
          if (up.target.startsWith('/throw')) throw new TypeError('a bug in the protocol');
          if (up.target.startsWith('/gone')) throw new LanternError('LT_ERR_NOT_FOUND', 'the backend says gone');
          sink.head(makeResponseHead(200, ['Content-Length', String(data.length)])); sink.data(data); sink.end();
        },
        receiveEnd(sink) { sink.error('LT_ERR_BACKEND_RESET', 'closed'); },
        reusable: () => true,
      }),
    });
  },
});
`);
  let received = '';
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    let pending = '';
    s.on('data', (d) => {
      received += d.toString();
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line !== 'HELLO') s.write('ok:' + line);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const bport = (server.address() as net.AddressInfo).port;
  const socket = await ListeningSocket.open();
  const port = socket.port;
  fs.writeFileSync(conf, `server.port = ${port}\nserver.bind = "127.0.0.1"\nserver.document-root = "${site}/www"
server.modules = ( "mod_proxy_core", "./plugins/proto" )
proxy-core.backends = ( "127.0.0.1:${bport}" )
proxy-core.protocol = "line"
proxy-core.balancer = "round-robin"
`);
  const proc = await startLanternProcess(['-D', '-f', conf], socket, { cwd: dir });
  try {
    const send = async (t: string) => (await rawExchange({ port, send: `GET ${t} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 5000 })).responses[0]!;
    // The first request on the new connection is answered locally: the connection stays fresh.
    assert.is((await send('/refused/x')).status, 400);
    assert.is((await send('/a')).body.toString(), 'ok:GET /a');
    const m = await send('/method');
    assert.is(m.status, 405);
    assert.is(m.header('allow'), 'GET', 'the fields the LanternError carries');
    assert.is((await send('/b')).body.toString(), 'ok:GET /b');
    assert.is(received, 'HELLO\nGET /a\nGET /b\n', 'the preamble first, nothing for the requests answered locally');
    assert.is(connections, 1, 'the connection stayed pooled');
    assert.not.match(proc.stderr, /refused the request/, 'not logged as a protocol failure');
    // A protocol that throws while decoding: a LanternError is its answer, anything else a 502 with the stack logged.
    assert.is((await send('/gone')).status, 404);
    assert.is((await send('/throw')).status, 502);
    await waitFor(() => /failed on the response to GET \/throw: TypeError: a bug in the protocol/.test(proc.stderr), 5000, 20, 'the protocol failure in the error log');
    assert.is((await send('/c')).body.toString(), 'ok:GET /c', 'still serving after a protocol failure');
  } finally {
    await proc.stop('SIGTERM');
    server.close();
  }
});

P.run();

// The plugin host: plugins by id, by lighttpd module name, by npm package name and by path;
// `requires`; option schemas checked at boot with file:line errors; unknown keys warn.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseLighttpdConfig } from '../../config/lighttpd/parser.js';
import { ConfigError } from '../../config/model.js';
import { Server } from '../../core/server.js';
import { rawExchange } from '../helpers/raw-client.js';

const ECHO = new URL('../helpers/plugins/echo/index.ts', import.meta.url).pathname;
const P = suite('plugin host');
let dir: string;

P.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-plugins-'));
  // A third-party plugin installed as an npm package (plain JavaScript, no lantern import).
  const pkg = path.join(dir, 'node_modules', 'lantern-plugin-hello');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'lantern-plugin-hello', type: 'module', main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), `
export default {
  id: 'hello',
  requires: ['dirlisting'],
  options: { 'hello.text': { type: 'string', default: 'hi', doc: 'What to say.' } },
  create(ctx) {
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: -5 }, (req) => {
      if (req.path !== '/hello') return undefined;
      req.respond(200, ['Content-Type', 'text/plain'], ctx.options(req)['hello.text'] + '\\n');
      return true;
    });
  },
};
`);
  const bad = path.join(dir, 'node_modules', 'lantern-plugin-needs-missing');
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'package.json'), JSON.stringify({ name: 'lantern-plugin-needs-missing', type: 'module', main: 'index.js' }));
  fs.writeFileSync(path.join(bad, 'index.js'), `export default { id: 'needs-missing', requires: ['no-such-plugin'], create() {} };`);
});
P.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

async function boot(conf: string) {
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, conf);
  const model = parseLighttpdConfig(conf, file, { cwd: dir });
  const warnings: string[] = [];
  const server = await Server.create({ model, cwd: dir, listen: [{ host: '127.0.0.1', port: 0 }], warn: (w) => warnings.push(w) });
  return { server, warnings, file };
}

async function bootError(conf: string): Promise<string> {
  try {
    const { server } = await boot(conf);
    await server.stop(0);
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

P('an npm package plugin, its options and its requires', async () => {
  const { server } = await boot(`server.modules = ( "lantern-plugin-hello" )\nhello.text = "hello from a package"\nserver.document-root = "${dir}"\n`);
  try {
    assert.ok(server.host.plugins.has('hello'));
    assert.ok(server.host.plugins.has('dirlisting'), 'required plugin loaded');
    await server.start();
    const r = await rawExchange({ port: server.port, send: 'GET /hello HTTP/1.1\r\nHost: a\r\n\r\n', expectResponses: 1 });
    assert.is(r.responses[0].body.toString(), 'hello from a package\n');
  } finally { await server.stop(0); }
});

P('lighttpd module names and plugin ids both load built-in plugins', async () => {
  const { server } = await boot(`server.modules = ( "mod_accesslog", "indexfile" )\nserver.document-root = "${dir}"\n`);
  assert.ok(server.host.plugins.has('accesslog'));
  assert.ok(server.host.plugins.has('staticfile'), 'staticfile is always loaded, as in lighttpd');
  await server.stop(0);
});

P('a plugin by path', async () => {
  const { server } = await boot(`server.modules = ( "${ECHO}" )\n`);
  assert.ok(server.host.plugins.has('echo'));
  await server.stop(0);
});

P('an unknown module stops the start with file:line', async () => {
  const msg = await bootError('server.document-root = "/tmp"\nserver.modules = ( "mod_nonexistent" )\n');
  assert.match(msg, /lighttpd\.conf:2: server\.modules: unknown module "mod_nonexistent"/);
});

P('a missing required plugin stops the start', async () => {
  const msg = await bootError('server.modules = ( "lantern-plugin-needs-missing" )\n');
  assert.match(msg, /lighttpd\.conf:1: .*no-such-plugin/);
});

P('a wrong option type stops the start with file:line and key', async () => {
  let msg = await bootError(`server.modules = ( "${ECHO}" )\n\n$HTTP["url"] =^ "/x" {\n  echo.throw = "perhaps"\n}\n`);
  assert.match(msg, /lighttpd\.conf:4: echo\.throw: expected "enable" or "disable"/);
  msg = await bootError('server.port = "eighty"\n');
  assert.match(msg, /lighttpd\.conf:1: server\.port: expected an integer/);
  msg = await bootError('server.max-worker = 1000\n');
  assert.match(msg, /lighttpd\.conf:1: server\.max-worker: must be at most 64/);
});

P('unknown keys warn with file:line and the server still starts', async () => {
  const { server, warnings } = await boot('server.document-root = "/tmp"\nfoo.bar = "x"\n');
  assert.ok(warnings.some((w) => /lighttpd\.conf:2: unknown config key "foo\.bar"/.test(w)), warnings.join('\n'));
  await server.stop(0);
});

P.run();

// Tests for config/load.ts: syntax by file extension, the native search without -f, and the
// embedded default (config/default-config.ts) when nothing is found.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EMBEDDED_DEFAULT_CONFIG, EMBEDDED_DOCUMENT_ROOT, findPackageRoot } from '../../../config/default-config.js';
import { loadConfig, syntaxForFile } from '../../../config/load.js';
import { ConfigHash, type ConfigValue, type ConfigModel } from '../../../config/model.js';

const Load = suite('load');

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-load-'));
  tmpDirs.push(dir);
  return dir;
}

Load.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function values(m: ConfigModel): Record<string, ConfigValue> {
  return Object.fromEntries(m.root.entries.map((e) => [e.key, e.value]));
}

Load('syntaxForFile: native extensions, everything else lighttpd', () => {
  for (const f of ['a.json', 'a.yaml', 'a.yml', 'a.js', 'a.mjs', 'a.cjs', 'A.JSON']) assert.is(syntaxForFile(f), 'native', f);
  for (const f of ['lighttpd.conf', 'x.cfg', 'noext', '.lanternrc']) assert.is(syntaxForFile(f), 'lighttpd', f);
});

Load('dispatch by extension, relative to cwd', async () => {
  const dir = tmpDir();
  const files: Record<string, string> = {
    'a.conf': 'server.port = 1\n',
    'a.cfg': 'server.port = 2\n',
    'a.json': '{ "server.port": 3 }',
    'a.yaml': 'server.port: 4\n',
    'a.yml': 'server: { port: 5 }\n',
    'a.js': 'module.exports = { "server.port": 6 };\n',
    'a.mjs': 'export default { "server.port": 7 };\n',
    'a.cjs': 'module.exports = { server: { port: 8 } };\n',
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const got: Array<[string, string, ConfigValue]> = [];
  for (const name of Object.keys(files)) {
    const m = await loadConfig(name, { cwd: dir, env: {} });
    got.push([name, m.syntax, values(m)['server.port']]);
  }
  assert.equal(got, [
    ['a.conf', 'lighttpd', 1], ['a.cfg', 'lighttpd', 2], ['a.json', 'native', 3], ['a.yaml', 'native', 4],
    ['a.yml', 'native', 5], ['a.js', 'native', 6], ['a.mjs', 'native', 7], ['a.cjs', 'native', 8],
  ]);
});

Load('lighttpd files get cwd and env', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'l.conf'), 'server.tag = env.LT_TAG\nserver.document-root = var.CWD\n');
  const m = await loadConfig('l.conf', { cwd: dir, env: { LT_TAG: 'hi' } });
  assert.equal(values(m), { 'server.tag': 'hi', 'server.document-root': dir });
  assert.is(m.file, 'l.conf');
});

Load('no file: a native config found in cwd wins', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'lantern.config.yml'), 'server.port: 9\n');
  const m = await loadConfig(undefined, { cwd: dir });
  assert.equal([m.syntax, m.file, values(m)['server.port']], ['native', path.join(dir, 'lantern.config.yml'), 9]);
});

Load('no file and nothing found: the embedded default', async () => {
  const dir = tmpDir();
  const m = await loadConfig(undefined, { cwd: dir, env: {} });
  // The root and the demo's `$HTTP["url"] =^ "/demo/"` block.
  assert.equal([m.syntax, m.file, m.blockCount], ['lighttpd', '<embedded>', 2]);
  const v = values(m);
  assert.is(v['server.port'], 8080);
  assert.is(v['server.bind'], '127.0.0.1');
  assert.equal(v['server.modules'], ['indexfile', 'staticfile', 'mod_proxy_core', 'mod_proxy_backend_http', 'mod_balancer_rr', 'mod_status', 'demo-app']);
  assert.equal(v['index-file.names'], ['index.html']);
  assert.is(v['server.document-root'], EMBEDDED_DOCUMENT_ROOT);
  assert.ok(fs.existsSync(path.join(EMBEDDED_DOCUMENT_ROOT, 'index.html')), 'www/index.html ships with the package');
  const mime = v['mimetype.assign'] as ConfigHash;
  assert.instance(mime, ConfigHash);
  assert.is(mime.get('.html'), 'text/html; charset=utf-8');
  assert.ok(EMBEDDED_DEFAULT_CONFIG.includes('server.port = 8080'));
});

Load('findPackageRoot walks up to the package.json named "lantern"', () => {
  const root = findPackageRoot();
  assert.is(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name, 'lantern');
  assert.is(EMBEDDED_DOCUMENT_ROOT, path.join(root, 'www'));
  assert.is(findPackageRoot(path.join(root, 'config', 'lighttpd')), root);
});

Load.run();

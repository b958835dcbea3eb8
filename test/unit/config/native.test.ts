// Tests for config/native.ts: JSON, YAML and JS configs → ConfigModel (flattening, hashes,
// conditions, else chains), positioned errors, and the cosmiconfig search.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, ConfigHash, type ConfigBlock, type ConfigValue } from '../../../config/model.js';
import { loadNativeConfig, nativeConfigFromObject, parseNativeConfig, searchNativeConfig } from '../../../config/native.js';

const Native = suite('native');

function values(b: ConfigBlock): Record<string, ConfigValue> {
  return Object.fromEntries(b.entries.map((e) => [e.key, e.value]));
}

async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-native-'));
  tmpDirs.push(dir);
  return dir;
}

Native.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const JSON_CONF = `{
  "server.port": 8080,
  "server": { "document-root": "/srv/www", "modules": ["indexfile", "staticfile"] },
  "mimetype.assign": { "404": "x/y", ".html": "text/html" },
  "dir-listing.activate": true,
  "proxy.server": { "/api": [ { "host": "127.0.0.1", "port": 9000 } ] }
}`;

Native('JSON: full keys, namespaces flatten one level, objects in values are hashes', () => {
  const m = parseNativeConfig(JSON_CONF, 'l.json', 'json');
  assert.is(m.syntax, 'native');
  assert.is(m.blockCount, 1);
  const v = values(m.root);
  assert.equal(Object.keys(v), ['server.port', 'server.document-root', 'server.modules', 'mimetype.assign', 'dir-listing.activate', 'proxy.server']);
  assert.is(v['server.port'], 8080);
  assert.equal(v['server.modules'], ['indexfile', 'staticfile']);
  assert.is(v['dir-listing.activate'], true);
  const mime = v['mimetype.assign'] as ConfigHash;
  assert.instance(mime, ConfigHash);
  assert.equal(mime.keys(), ['404', '.html'], 'source order kept');
  const proxy = v['proxy.server'] as ConfigHash;
  const backend = (proxy.get('/api') as ConfigValue[])[0] as ConfigHash;
  assert.instance(backend, ConfigHash);
  assert.is(backend.get('port'), 9000);
  assert.equal(m.root.entries.map((e) => e.loc.line), [2, 3, 3, 4, 5, 6]);
});

const YAML_CONF = `server:
  port: 8080
  document-root: /srv/www
mimetype.assign:
  .html: text/html
  .css: text/css
'$HTTP["host"] == "example.org"':
  server.document-root: /srv/example
  '$HTTP["url"] =^ "/static/"':
    expire.url: { "": "access plus 1 days" }
conditions:
  - if: '$HTTP["url"] =~ "^/api/(v\\d)"'
    then:
      proxy.server: { "": [ { host: 127.0.0.1, port: 9000 } ] }
    else:
      if: '$HTTP["url"] =^ "/old/"'
      then: { url.redirect: { "^/old/(.*)": "/new/$1" } }
      else:
        server.document-root: /srv/fallback
`;

Native('YAML: same rules, $ keys nest, a conditions list makes else chains', () => {
  const m = parseNativeConfig(YAML_CONF, 'l.yaml', 'yaml');
  assert.equal(values(m.root)['server.port'], 8080);
  assert.equal((values(m.root)['mimetype.assign'] as ConfigHash).entries, [['.html', 'text/html'], ['.css', 'text/css']]);
  assert.is(m.blockCount, 6);
  const [host, api] = m.root.children;
  assert.equal([host.id, host.children[0].id, api.id, api.else!.id, api.else!.else!.id], [1, 2, 3, 4, 5]);
  assert.is(host.condition!.text, '$HTTP["host"] == "example.org"');
  assert.is(host.loc.line, 7);
  assert.equal(values(host), { 'server.document-root': '/srv/example' });
  assert.is(host.children[0].condition!.op, '=^');
  assert.is(api.condition!.op, '=~');
  assert.is(api.condition!.loc.line, 12);
  assert.is(api.else!.condition!.value, '/old/');
  assert.is(api.else!.else!.condition, null);
  assert.equal(values(api.else!.else!), { 'server.document-root': '/srv/fallback' });
});

Native('errors with line numbers: YAML and JSON', async () => {
  assert.is(await errorOf(() => parseNativeConfig('a.b: 1\nc.d: 2\na.b: 3\n', 'x.yaml', 'yaml')), 'x.yaml:3: invalid YAML: duplicate key');
  assert.is(await errorOf(() => parseNativeConfig('a.b: [1, 2\n', 'x.yaml', 'yaml')), 'x.yaml:2: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]');
  assert.is(await errorOf(() => parseNativeConfig('{\n  "a.b": 1,\n}\n', 'x.json', 'json')), 'x.json:3: invalid JSON: unexpected "}"');
  assert.is(await errorOf(() => parseNativeConfig('{\n "a.b": 1,\n "a.b": 2\n}', 'x.json', 'json')), 'x.json:3: invalid JSON: duplicate key');
  assert.is(await errorOf(() => parseNativeConfig('{\n "a.b": 1,\n "server": { "port": 1 },\n "server.port": 2\n}', 'x.json', 'json')), 'x.json:4: duplicate key "server.port" (first set on line 3)');
  assert.is(await errorOf(() => parseNativeConfig('a.b: 1\nport: 80\n', 'x.yaml', 'yaml')), 'x.yaml:2: "port" is not a config key: write the full key (like "server.port") or make "port" an object of keys');
  assert.is(await errorOf(() => parseNativeConfig('a.b:\n  c: null\nd.e: null\n', 'x.yaml', 'yaml')), 'x.yaml:2: "a.b": null is not a config value (remove the key to use the default)');
  assert.is(await errorOf(() => parseNativeConfig('\'$HTTP["nope"] == "x"\':\n  a.b: 1\n', 'x.yaml', 'yaml')), 'x.yaml:1: unknown condition field $HTTP["nope"] (known: host, url, querystring, query-string, remoteip, remote-ip, scheme, request-method, referer, useragent, user-agent, cookie, language)');
  assert.match(await errorOf(() => parseNativeConfig('x.y: 1\nconditions:\n  - if: \'$HTTP["url"] =~ "("\'\n', 'x.yaml', 'yaml')), /^x\.yaml:3: invalid regex in/);
  assert.is(await errorOf(() => parseNativeConfig('conditions:\n  - iff: x\n', 'x.yaml', 'yaml')), 'x.yaml:2: unknown key "iff" in a condition (use "if", "then" and "else")');
  assert.is(await errorOf(() => parseNativeConfig('\'$HTTP["url"] =^ "/"\': 5\n', 'x.yaml', 'yaml')), 'x.yaml:1: the block of $HTTP["url"] =^ "/" must be an object');
  assert.is(await errorOf(() => parseNativeConfig('d.e: null\n', 'x.yaml', 'yaml')), 'x.yaml:1: "d.e": null is not a config value (remove the key to use the default)');
  assert.is(await errorOf(() => parseNativeConfig('[1, 2]', 'x.json', 'json')), 'x.json:1: the config must be an object');
  assert.is(await errorOf(() => parseNativeConfig('{\n "a": [1,\n', 'x.json', 'json')), 'x.json:3: invalid JSON: unexpected end of input');
  assert.is(await errorOf(() => parseNativeConfig('{\n "a": "x",\n "b": tru\n}', 'x.json', 'json')), 'x.json:3: invalid JSON: unexpected "t"');
  assert.is(await errorOf(() => parseNativeConfig('{\n "a": "x\u0001"\n}', 'x.json', 'json')), 'x.json:2: invalid JSON: unexpected "\\u0001"');
});

Native('an empty document is an empty config', () => {
  const m = parseNativeConfig('# nothing\n', 'e.yaml', 'yaml');
  assert.equal([m.root.entries.length, m.root.children.length, m.blockCount], [0, 0, 1]);
});

Native('objects (JS configs): line 0, unsupported values rejected, ConfigHash keeps order', async () => {
  const m = nativeConfigFromObject({ server: { port: 1 }, 'a.h': new ConfigHash([['b', 1], ['2', 2]]) }, 'c.js');
  assert.equal(values(m.root)['server.port'], 1);
  assert.equal((values(m.root)['a.h'] as ConfigHash).keys(), ['b', '2']);
  assert.is(m.root.entries[0].loc.line, 0);
  assert.is(await errorOf(() => nativeConfigFromObject({ 'a.f': () => 1 }, 'c.js')), 'c.js:0: "a.f": unsupported value of type function');
  assert.is(await errorOf(() => nativeConfigFromObject({ 'a.d': new Date(0) }, 'c.js')), 'c.js:0: "a.d": unsupported value of type Date');
});

Native('loadNativeConfig: .mjs, .cjs, .yml, .json, .lanternrc and package.json#lantern', async () => {
  const dir = tmpDir();
  const write = (name: string, text: string): string => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const mjs = await loadNativeConfig(write('a.mjs', 'export default { "server.port": 1, server: { tag: "m" } };\n'));
  assert.equal(values(mjs.root), { 'server.port': 1, 'server.tag': 'm' });
  const cjs = await loadNativeConfig(write('b.cjs', 'module.exports = { "$HTTP[\\"url\\"] =^ \\"/x\\"": { "a.b": 2 } };\n'));
  assert.equal(values(cjs.root.children[0]), { 'a.b': 2 });
  assert.is((await loadNativeConfig(write('c.yml', 'server.port: 3\n'))).root.entries[0].value, 3);
  assert.is((await loadNativeConfig('d.json', { cwd: dir }).catch(() => null)), null);
  write('d.json', '{ "server.port": 4 }');
  const json = await loadNativeConfig('d.json', { cwd: dir });
  assert.equal([json.file, json.root.entries[0].value], ['d.json', 4]);
  assert.is((await loadNativeConfig(write('.lanternrc', 'server.port: 5\n'))).root.entries[0].value, 5);
  const pkg = await loadNativeConfig(write('package.json', '{\n  "name": "x",\n  "lantern": {\n    "server.port": 6\n  }\n}\n'));
  assert.equal([pkg.root.entries[0].value, pkg.root.entries[0].loc.line], [6, 4]);
  assert.is(await errorOf(() => loadNativeConfig(path.join(dir, 'missing.yaml'))), `${path.join(dir, 'missing.yaml')}:0: cannot read config file: ENOENT`);
  assert.match(await errorOf(() => loadNativeConfig(write('broken.mjs', 'export default {'))), /broken\.mjs:0: cannot load config module: /);
});

Native('searchNativeConfig: nothing → null; order of places; package.json#lantern last', async () => {
  const dir = tmpDir();
  assert.is(await searchNativeConfig(dir), null);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "x" }');
  assert.is(await searchNativeConfig(dir), null, 'package.json without "lantern"');
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "x", "lantern": { "server.port": 1 } }');
  assert.equal((await searchNativeConfig(dir))!.file, path.join(dir, 'package.json'));
  fs.writeFileSync(path.join(dir, '.lanternrc'), 'server.port: 2\n');
  assert.equal((await searchNativeConfig(dir))!.file, path.join(dir, '.lanternrc'));
  fs.writeFileSync(path.join(dir, 'lantern.config.yaml'), '');
  assert.equal((await searchNativeConfig(dir))!.file, path.join(dir, '.lanternrc'), 'empty files are skipped');
  fs.writeFileSync(path.join(dir, 'lantern.config.yaml'), 'server.port: 3\n');
  const m = (await searchNativeConfig(dir))!;
  assert.equal([m.file, m.root.entries[0].value], [path.join(dir, 'lantern.config.yaml'), 3]);
  fs.writeFileSync(path.join(dir, 'lantern.config.json'), '{\n "server.port": }');
  assert.is(await errorOf(() => searchNativeConfig(dir)), `${path.join(dir, 'lantern.config.json')}:2: invalid JSON: unexpected "}"`);
});

Native.run();

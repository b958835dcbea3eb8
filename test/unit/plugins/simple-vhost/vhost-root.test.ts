// plugins/simple-vhost: how the document root is put together, the host checks, the directory
// check through the server's stat cache, the options' checks at boot, and that every option is documented in docs/modules.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import { PATH_KIND_TTL_MS, StatCache } from '../../../../core/stat-cache.js';
import { hostWithoutPort } from '../../../../core/http1/authority.js';
import { isSafeHostComponent } from '../../../../plugins/simple-vhost/host-name.js';
import { buildVhostRoot } from '../../../../plugins/simple-vhost/index.js';

const T = suite('simple-vhost');

T('server-root + host + document-root, one slash between each, a trailing slash', () => {
  assert.is(buildVhostRoot('/srv/www', 'example.org', 'htdocs'), '/srv/www/example.org/htdocs/');
  assert.is(buildVhostRoot('/srv/www/', 'example.org', '/htdocs/'), '/srv/www/example.org/htdocs/');
  assert.is(buildVhostRoot('/srv/www', 'example.org', ''), '/srv/www/example.org/');
  assert.is(buildVhostRoot('/srv/www', '', 'htdocs'), '/srv/www/htdocs/', 'no host (no default-host): server-root + document-root');
  assert.is(buildVhostRoot('/srv/www', '', ''), '/srv/www/');
  assert.is(buildVhostRoot('/srv/www', 'a', 'pub/html'), '/srv/www/a/pub/html/');
});

T('the port is stripped, IPv6 literals keep their brackets', () => {
  assert.is(hostWithoutPort('example.org:8080'), 'example.org');
  assert.is(hostWithoutPort('example.org'), 'example.org');
  assert.is(hostWithoutPort('[::1]:8080'), '[::1]');
  assert.is(hostWithoutPort('[::1]'), '[::1]');
  assert.is(hostWithoutPort(''), '');
});

T('a host that could leave server-root is not used', () => {
  for (const h of ['', '.', '..', '.hidden', 'a/b', '../../etc', 'a\\b', 'a\0b']) assert.is(isSafeHostComponent(h), false, JSON.stringify(h));
  for (const h of ['example.org', 'localhost', '[::1]', '127.0.0.1', 'a-b.c_d']) assert.ok(isSafeHostComponent(h), h);
});

T('the directory check (kept failures) answers from the disk, and a folder that appears is seen after a second at most', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-svh-'));
  let now = 1000;
  try {
    const cache = new StatCache({ enabled: true, nowMs: () => now });
    const check = (p: string) => cache.kindSync(p, { keepFailures: true });
    assert.is(check(dir + '/'), 'dir');
    assert.equal(check(path.join(dir, 'nope') + '/'), { code: 'ENOENT', reason: 'No such file or directory' });
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    assert.equal(check(path.join(dir, 'file') + '/'), { code: 'ENOTDIR', reason: 'Not a directory' });
    assert.equal(check(path.join(dir, 'file', 'x') + '/'), { code: 'ENOTDIR', reason: 'Not a directory' });
    fs.mkdirSync(path.join(dir, 'nope'));
    assert.equal(check(path.join(dir, 'nope') + '/'), { code: 'ENOENT', reason: 'No such file or directory' }, 'a made-up host costs one stat a second');
    now += PATH_KIND_TTL_MS;
    assert.is(check(path.join(dir, 'nope') + '/'), 'dir');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('bad values stop the start with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['simple-vhost.server-root = ( "a" )', /test\.conf:2: simple-vhost\.server-root: expected a string/],
    ['simple-vhost.debug = "yes"', /test\.conf:2: simple-vhost\.debug: expected an integer/],
    ['$HTTP["host"] == "x" {\n  simple-vhost.debug = 70000\n}', /test\.conf:3: simple-vhost\.debug: must be at most 65535/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_simple_vhost" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
  await validate('server.modules = ( "mod_simple_vhost" )\nsimple-vhost.server-root = "/srv"\nsimple-vhost.debug = 1\n');
});

T.run();

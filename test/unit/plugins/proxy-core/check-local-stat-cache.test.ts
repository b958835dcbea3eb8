// The check-local stat cache (plugins/proxy-core/path-kind-cache.ts): what exists is trusted for
// one second, what is missing is asked again at once, and the split is the same with it as without.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveCgiPath, type GatewayRoute } from '../../../../plugins/proxy-core/cgi-path.js';
import { PATH_KIND_TTL_MS, PathKindCache, statKind } from '../../../../plugins/proxy-core/path-kind-cache.js';
import { fakeRequest } from './fake-request.js';

const T = suite('proxy-core/path-kind-cache');

let root = '';
T.before(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lantern-path-kind-'));
  await fs.promises.mkdir(path.join(root, 'app'));
  await fs.promises.writeFile(path.join(root, 'app', 'index.php'), '<?php');
});
T.after(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

T('a file and a directory are remembered for PATH_KIND_TTL_MS, then asked again', async () => {
  const cache = new PathKindCache();
  const file = path.join(root, 'app', 'index.php');
  assert.is(await statKind(file, cache, 1000), 'file');
  assert.is(await statKind(path.join(root, 'app'), cache, 1000), 'dir');
  assert.is(cache.size, 2);
  // Replaced by a directory: the cache still says "file" within the second, the truth after it.
  await fs.promises.rm(file);
  await fs.promises.mkdir(file);
  assert.is(await statKind(file, cache, 1000 + PATH_KIND_TTL_MS - 1), 'file');
  assert.is(await statKind(file, cache, 1000 + PATH_KIND_TTL_MS), 'dir');
  await fs.promises.rmdir(file);
  await fs.promises.writeFile(file, '<?php');
  cache.sweep(5000 + PATH_KIND_TTL_MS);
  assert.is(cache.size, 0, 'the sweep drops what is older than the TTL');
});

T('a missing path is never remembered: a script created now is found by the next request', async () => {
  const cache = new PathKindCache();
  const late = path.join(root, 'late.php');
  await statKind(late, cache, 1000).then(() => assert.unreachable('missing'), (err: NodeJS.ErrnoException) => assert.is(err.code, 'ENOENT'));
  assert.is(cache.size, 0);
  await fs.promises.writeFile(late, '<?php');
  assert.is(await statKind(late, cache, 1001), 'file');
  await fs.promises.rm(late);
});

T('resolveCgiPath gives the same split from the cache as from the file system', async () => {
  const route: GatewayRoute = { key: '.php', checkLocal: true, fixRootScriptname: false, stripRequestUri: '', docroot: '', brokenScriptFilename: false };
  const req = () => fakeRequest({ path: '/app/index.php/extra/info', docRoot: root });
  const plain = await resolveCgiPath(req(), route);
  const cache = new PathKindCache();
  const first = await resolveCgiPath(req(), route, cache);
  assert.ok(cache.size > 0, 'the walk filled the cache');
  const second = await resolveCgiPath(req(), route, cache);
  assert.equal(first, plain);
  assert.equal(second, plain);
  assert.is((plain as { pathInfo: string }).pathInfo, '/extra/info');
});

T.run();

// check-local through the server's stat cache (core/stat-cache.ts): the split is the same with
// the cache as without, a script found is trusted for a second, and a missing script is looked
// up again by the next request (a file created now is run at once).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StatCache } from '../../../../core/stat-cache.js';
import { resolveCgiPath, type GatewayRoute } from '../../../../plugins/proxy-core/cgi-path.js';
import { fakeRequest } from './fake-request.js';

const T = suite('proxy-core/check-local-stat-cache');

const route: GatewayRoute = { key: '.php', checkLocal: true, fixRootScriptname: false, stripRequestUri: '', docroot: '', brokenScriptFilename: false };
let root = '';
T.before(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lantern-check-local-'));
  await fs.promises.mkdir(path.join(root, 'app'));
  await fs.promises.writeFile(path.join(root, 'app', 'index.php'), '<?php');
});
T.after(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

T('resolveCgiPath gives the same split from the cache as from the file system', async () => {
  const req = () => fakeRequest({ path: '/app/index.php/extra/info', docRoot: root });
  const plain = await resolveCgiPath(req(), route, new StatCache({ enabled: false }));
  const cache = new StatCache({ enabled: true });
  const first = await resolveCgiPath(req(), route, cache);
  assert.ok(cache.size > 0, 'the walk filled the cache');
  const second = await resolveCgiPath(req(), route, cache);
  assert.equal(first, plain);
  assert.equal(second, plain);
  assert.is((plain as { pathInfo: string }).pathInfo, '/extra/info');
});

T('a script removed within the second is still found; a missing one is looked up again at once', async () => {
  let now = 1000;
  const cache = new StatCache({ enabled: true, nowMs: () => now });
  const script = path.join(root, 'app', 'late.php');
  const req = () => fakeRequest({ path: '/app/late.php', docRoot: root });
  assert.equal(await resolveCgiPath(req(), route, cache), { status: 404 });
  await fs.promises.writeFile(script, '<?php');
  assert.is((await resolveCgiPath(req(), route, cache) as { scriptFilename: string }).scriptFilename, script, 'created now: found by the next request');
  await fs.promises.rm(script);
  assert.is((await resolveCgiPath(req(), route, cache) as { scriptFilename: string }).scriptFilename, script, 'trusted for the second');
  now += 1000;
  assert.equal(await resolveCgiPath(req(), route, cache), { status: 404 }, 'then asked again');
});

T.run();

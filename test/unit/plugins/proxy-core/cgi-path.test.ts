// Unit tests of the SCRIPT_NAME / PATH_INFO split (plugins/proxy-core/cgi-path.ts), lighttpd 1.4
// gw_backend.c gw_check_extension() and response.c http_response_physical_pathinfo(), on a
// document root made for the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveCgiPath, type CgiPath, type GatewayRoute } from '../../../../plugins/proxy-core/cgi-path.js';
import { fakeRequest, type FakeRequestInit } from './fake-request.js';
import { StatCache } from '../../../../core/stat-cache.js';

const T = suite('proxy-core/cgi-path');
/** Every look-up stats the file system (the server's cache is tested in check-local-stat-cache). */
const UNCACHED = new StatCache({ enabled: false });

let root = '';

T.before(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lantern-cgi-path-'));
  await fs.promises.mkdir(path.join(root, 'app', 'sub'), { recursive: true });
  await fs.promises.mkdir(path.join(root, 'img'));
  await fs.promises.mkdir(path.join(root, 'dir.php'));
  await fs.promises.writeFile(path.join(root, 'app', 'index.php'), '<?php');
  await fs.promises.writeFile(path.join(root, 'img', 'a.png'), 'png');
  await fs.promises.writeFile(path.join(root, 'index.php'), '<?php');
  await fs.promises.writeFile(path.join(root, 'app', 'caf\u00e9.php'), '<?php');
  await fs.promises.symlink('loop.php', path.join(root, 'loop.php'));
});

T.after(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

function route(o: Partial<GatewayRoute> = {}): GatewayRoute {
  return { key: '.php', checkLocal: true, fixRootScriptname: false, stripRequestUri: '', docroot: '', brokenScriptFilename: false, ...o };
}

function resolve(p: string, r: Partial<GatewayRoute> = {}, init: FakeRequestInit = {}): Promise<CgiPath | { status: number }> {
  return resolveCgiPath(fakeRequest({ target: p, path: p, docRoot: root, ...init }), route(r), UNCACHED);
}

async function split(p: string, r: Partial<GatewayRoute> = {}, init: FakeRequestInit = {}): Promise<CgiPath> {
  const out = await resolve(p, r, init);
  if ('status' in out) throw new Error(`expected a split for ${p}, got ${out.status}`);
  return out;
}

/** The paths fs.promises.stat is asked for while `fn` runs. */
async function statCalls(fn: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  const real = fs.promises.stat;
  fs.promises.stat = ((p: fs.PathLike, ...rest: unknown[]) => {
    calls.push(String(p));
    return (real as (...a: unknown[]) => Promise<fs.Stats>)(p, ...rest);
  }) as typeof fs.promises.stat;
  try {
    await fn();
  } finally {
    fs.promises.stat = real;
  }
  return calls;
}

T('check-local: an existing script has no PATH_INFO', async () => {
  assert.equal(await split('/app/index.php'), {
    scriptName: '/app/index.php', pathInfo: '', pathTranslated: '', stripRequestUri: '',
    scriptFilename: root + '/app/index.php', documentRoot: root,
  });
});

T('check-local: the longest existing file is the script, the rest PATH_INFO (and PATH_TRANSLATED)', async () => {
  assert.equal(await split('/app/index.php/x/y'), {
    scriptName: '/app/index.php', pathInfo: '/x/y', pathTranslated: root + '/x/y', stripRequestUri: '',
    scriptFilename: root + '/app/index.php', documentRoot: root,
  });
  const slash = await split('/app/index.php/');
  assert.is(slash.scriptName, '/app/index.php');
  assert.is(slash.pathInfo, '/');
  const top = await split('/index.php/a');
  assert.is(top.scriptName, '/index.php');
  assert.is(top.pathInfo, '/a');
});

T('check-local: no script gives 404; a directory 403', async () => {
  assert.equal(await resolve('/app/missing.php'), { status: 404 });
  assert.equal(await resolve('/app/missing.php/x'), { status: 404 });
  assert.equal(await resolve('/nowhere/x.php'), { status: 404 });
  assert.equal(await resolve('/app/sub'), { status: 403 }, 'a directory is never a script');
  assert.equal(await resolve('/dir.php', { key: '' }), { status: 403 });
  assert.equal(await resolve('/dir.php/x'), { status: 404 }, 'no path info after a directory');
  assert.equal(await resolve('/app/a\u0000b.php'), { status: 404 }, 'a NUL names no file');
  // lighttpd http_response_physical_path_check: any errno but ENOENT, ENAMETOOLONG, EACCES is 500.
  assert.equal(await resolve('/loop.php'), { status: 500 }, 'a symlink loop (ELOOP)');
});

T('check-local: the key must match the script, not the path', async () => {
  assert.equal(await resolve('/img/a.png/x.php'), { status: 404 }, '.php never runs a.png');
  const any = await split('/img/a.png/x.php', { key: '' });
  assert.is(any.scriptName, '/img/a.png');
  assert.is(any.pathInfo, '/x.php');
  const prefix = await split('/app/index.php/q', { key: '/app' });
  assert.is(prefix.scriptName, '/app/index.php');
  assert.is(prefix.pathInfo, '/q');
  assert.equal(await resolve('/img/a.png', { key: '/app' }), { status: 404 });
});

T('check-local: one stat per segment at most, never above the document root', async () => {
  const deep = await statCalls(() => resolve('/app/index.php/a/b/c/d/e'));
  assert.equal(deep, [root + '/app/index.php/a/b/c/d/e', root + '/app', root + '/app/index.php']);
  const missing = await statCalls(() => resolve('/a/b/c/d/e/f.php'));
  assert.equal(missing, [root + '/a/b/c/d/e/f.php'], 'ENOENT: 404 at once, no walk');
  for (const p of deep) assert.ok(p.startsWith(root + '/'), p);
});

T('check-local: non-ASCII file names (the decoded path)', async () => {
  const s = await split('/app/caf\u00e9.php/\u00fc');
  assert.is(s.scriptName, '/app/caf\u00e9.php');
  assert.is(s.pathInfo, '/\u00fc');
  assert.is(s.scriptFilename, root + '/app/caf\u00e9.php');
});

T('check-local: a physical path mapped elsewhere (alias) is walked on its common tail', async () => {
  const s = await split('/static/index.php/x', {}, { path: '/static/index.php/x', physicalPath: root + '/app/index.php/x' });
  assert.is(s.scriptName, '/static/index.php');
  assert.is(s.pathInfo, '/x');
  assert.is(s.scriptFilename, root + '/app/index.php');
});

T('check-local without a document root: 500', async () => {
  assert.equal(await resolve('/x.php', {}, { docRoot: '', physicalPath: '' }), { status: 500 });
});

T('prefix key, check-local disabled: SCRIPT_NAME runs to the first "/" after the key (gw_check_extension)', async () => {
  const gw = await split('/admin.gw/foo/bar', { key: '/admin.gw', checkLocal: false });
  assert.equal(gw, {
    scriptName: '/admin.gw', pathInfo: '/foo/bar', pathTranslated: root + '/foo/bar', stripRequestUri: '',
    scriptFilename: root + '/admin.gw', documentRoot: root,
  });
  const cgiBin = await split('/cgi-bin/foo/bar', { key: '/cgi-bin/', checkLocal: false });
  assert.is(cgiBin.scriptName, '/cgi-bin/foo');
  assert.is(cgiBin.pathInfo, '/bar');
  const exact = await split('/admin.gw', { key: '/admin.gw', checkLocal: false });
  assert.is(exact.scriptName, '/admin.gw');
  assert.is(exact.pathInfo, '');
  const noStat = await statCalls(() => resolve('/admin.gw/nothing/here', { key: '/admin.gw', checkLocal: false }));
  assert.equal(noStat, [], 'nothing is looked up');
});

T('fix-root-scriptname: for the prefix "/", SCRIPT_NAME is "" and PATH_INFO the whole path', async () => {
  const fixed = await split('/a/b', { key: '/', checkLocal: false, fixRootScriptname: true });
  assert.is(fixed.scriptName, '');
  assert.is(fixed.pathInfo, '/a/b');
  assert.is(fixed.pathTranslated, root + '/a/b');
  const plain = await split('/a/b', { key: '/', checkLocal: false });
  assert.is(plain.scriptName, '/a');
  assert.is(plain.pathInfo, '/b');
});

T('extension or "" key, check-local disabled: the whole path is the script', async () => {
  for (const key of ['.php', '']) {
    const s = await split('/virtual/x.php/y', { key, checkLocal: false });
    assert.is(s.scriptName, '/virtual/x.php/y');
    assert.is(s.pathInfo, '');
    assert.is(s.scriptFilename, root + '/virtual/x.php/y');
  }
});

T('strip-request-uri loses its trailing "/"', async () => {
  assert.is((await split('/app/index.php', { stripRequestUri: '/app1/' })).stripRequestUri, '/app1');
  assert.is((await split('/app/index.php', { stripRequestUri: '/app1' })).stripRequestUri, '/app1');
});

T('docroot: checked locally, sent with the backend\'s root', async () => {
  const s = await split('/app/index.php/x/y', { docroot: '/remote/www/', brokenScriptFilename: true });
  assert.equal(s, {
    scriptName: '/app/index.php', pathInfo: '/x/y', pathTranslated: '/remote/www/x/y', stripRequestUri: '',
    scriptFilename: '/remote/www/app/index.php', documentRoot: '/remote/www/',
  });
  assert.equal(await resolve('/app/missing.php', { docroot: '/remote/www' }), { status: 404 });
});

T('broken-scriptfilename: SCRIPT_FILENAME carries PATH_INFO (PHP cgi.fix_pathinfo=1)', async () => {
  const s = await split('/app/index.php/x/y', { brokenScriptFilename: true });
  assert.is(s.scriptFilename, root + '/app/index.php/x/y');
  assert.is(s.pathInfo, '/x/y');
});

T.run();

// core/stat-cache.ts: what a path is, trusted for PATH_KIND_TTL_MS; bounded (oldest first);
// failures kept only for look-ups that ask (keepFailures); nothing kept when the engine is off;
// the sweep drops what is stale. The clock is the test's, so no test waits for a second.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PATH_KIND_TTL_MS, StatCache, type StatFailure } from '../../../core/stat-cache.js';

const T = suite('stat-cache');

let root = '';
let now = 1000;
const clock = () => now;
const cache = (o: { enabled?: boolean; maxEntries?: number } = {}) => new StatCache({ enabled: o.enabled ?? true, maxEntries: o.maxEntries, nowMs: clock });
const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (err: NodeJS.ErrnoException) => err.code ?? 'no code');

T.before(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lantern-stat-cache-'));
  await fs.promises.mkdir(path.join(root, 'dir'));
  await fs.promises.writeFile(path.join(root, 'file'), 'x');
});
T.after(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});
T.before.each(() => { now = 1000; });

T('a kind is trusted for PATH_KIND_TTL_MS, then the file system is asked again (async and sync)', async () => {
  const c = cache();
  const p = path.join(root, 'changing');
  await fs.promises.writeFile(p, 'x');
  try {
    assert.is(await c.kind(p), 'file');
    assert.is(c.kindSync(path.join(root, 'dir')), 'dir');
    assert.is(c.size, 2);
    await fs.promises.rm(p);
    await fs.promises.mkdir(p);
    now += PATH_KIND_TTL_MS - 1;
    assert.is(await c.kind(p), 'file', 'within the second: what was found');
    assert.is(c.kindSync(p), 'file', 'the sync look-up shares the entry');
    now += 1;
    assert.is(c.kindSync(p), 'dir', 'after it: the truth');
    assert.is(await c.kind(p), 'dir');
  } finally {
    await fs.promises.rm(p, { recursive: true, force: true });
  }
});

T('something that is neither a file nor a directory is "other"', async () => {
  assert.is(await cache().kind('/dev/null'), 'other');
  assert.is(cache().kindSync('/dev/null'), 'other');
});

T('without keepFailures a missing path is never kept: a file created now is seen by the next look-up', async () => {
  const c = cache();
  const late = path.join(root, 'late');
  try {
    assert.is(await code(c.kind(late)), 'ENOENT');
    assert.equal(c.kindSync(late), { code: 'ENOENT', reason: 'No such file or directory' });
    assert.is(c.size, 0);
    await fs.promises.writeFile(late, 'x');
    assert.is(await c.kind(late), 'file', 'same instant, found at once');
  } finally {
    await fs.promises.rm(late, { force: true });
  }
});

T('with keepFailures a failure and its reason are kept for the TTL; look-ups without it ignore them', async () => {
  const c = cache();
  const late = path.join(root, 'late-kept');
  try {
    const missing = c.kindSync(late, { keepFailures: true }) as StatFailure;
    assert.equal(missing, { code: 'ENOENT', reason: 'No such file or directory' });
    assert.equal(c.kindSync(path.join(root, 'file', 'x'), { keepFailures: true }), { code: 'ENOTDIR', reason: 'Not a directory' });
    assert.is(c.size, 2);
    await fs.promises.mkdir(late);
    assert.equal(c.kindSync(late, { keepFailures: true }), missing, 'the kept answer, no stat');
    assert.is(await code(c.kind(late, { keepFailures: true })), 'ENOENT', 'the async look-up rejects with the kept failure');
    assert.is(await c.kind(late), 'dir', 'a look-up without keepFailures stats again');
    assert.is(c.kindSync(late, { keepFailures: true }), 'dir', 'and what it found replaced the failure');
    await fs.promises.rmdir(late);
    assert.is(await code(c.kind(path.join(root, 'gone'), { keepFailures: true })), 'ENOENT');
    await fs.promises.mkdir(path.join(root, 'gone'));
    assert.is(await code(c.kind(path.join(root, 'gone'), { keepFailures: true })), 'ENOENT', 'an async failure is kept too');
    now += PATH_KIND_TTL_MS;
    assert.is(await c.kind(path.join(root, 'gone'), { keepFailures: true }), 'dir', 'until the TTL');
  } finally {
    await fs.promises.rm(late, { recursive: true, force: true });
    await fs.promises.rm(path.join(root, 'gone'), { recursive: true, force: true });
  }
});

T('the cache holds maxEntries paths at most, dropping the oldest stat first', () => {
  const c = cache({ maxEntries: 3 });
  const [a, b, cc, d] = ['a', 'b', 'c', 'd'].map((n) => path.join(root, 'bound-' + n)) as [string, string, string, string];
  for (const p of [a, b, cc]) { c.kindSync(p, { keepFailures: true }); now += 1; }
  assert.is(c.size, 3);
  for (const p of [a, b, cc, d]) fs.mkdirSync(p);
  try {
    c.kindSync(d, { keepFailures: true });
    assert.is(c.size, 3);
    const missing = { code: 'ENOENT', reason: 'No such file or directory' };
    assert.equal(c.kindSync(b, { keepFailures: true }), missing, 'b is still kept');
    assert.equal(c.kindSync(cc, { keepFailures: true }), missing, 'c is still kept');
    assert.is(c.kindSync(a, { keepFailures: true }), 'dir', 'a, the oldest, was dropped and is stat\'ed again');
  } finally {
    for (const p of [a, b, cc, d]) fs.rmdirSync(p);
  }
});

T('server.stat-cache-engine "disable"/"none": nothing is kept, every look-up stats', async () => {
  for (const engine of ['disable', 'none']) {
    const c = StatCache.forEngine(engine);
    assert.is(c.enabled, false, engine);
    const p = path.join(root, 'uncached-' + engine);
    assert.equal(c.kindSync(p, { keepFailures: true }), { code: 'ENOENT', reason: 'No such file or directory' });
    await fs.promises.writeFile(p, 'x');
    assert.is(c.kindSync(p, { keepFailures: true }), 'file', 'the failure was not kept');
    await fs.promises.rm(p);
    await fs.promises.mkdir(p);
    assert.is(await c.kind(p), 'dir', 'nor the kind');
    assert.is(c.size, 0);
    await fs.promises.rmdir(p);
  }
  for (const engine of ['simple', 'fam', 'inotify', undefined]) assert.is(StatCache.forEngine(engine).enabled, true, String(engine));
});

T('the sweep drops what is older than the TTL and keeps the rest', async () => {
  const c = cache();
  await c.kind(path.join(root, 'file'));
  c.kindSync(path.join(root, 'nope'), { keepFailures: true });
  now += 500;
  c.kindSync(path.join(root, 'dir'));
  assert.is(c.size, 3);
  now += PATH_KIND_TTL_MS - 500;
  c.sweep();
  assert.is(c.size, 1, 'the two older entries went');
  now += 500;
  c.sweep();
  assert.is(c.size, 0);
});

T.run();

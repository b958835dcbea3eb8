// Tests for config/lighttpd/glob.ts: include pattern expansion (glob(3) with GLOB_BRACE).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expandBraces, expandGlob, isGlobPattern } from '../../../../config/lighttpd/glob.js';

const Glob = suite('glob');

Glob('isGlobPattern: any of *?[]{}', () => {
  for (const p of ['a/*.conf', 'a?.conf', 'a[12].conf', 'a{b,c}', 'x]']) assert.ok(isGlobPattern(p), p);
  assert.not.ok(isGlobPattern('conf.d/a.conf'));
});

Glob('expandBraces: alternatives, nesting, unbalanced braces literal', () => {
  assert.equal(expandBraces('a{b,c}d'), ['abd', 'acd']);
  assert.equal(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
  assert.equal(expandBraces('{x,y}/{1,2}'), ['x/1', 'x/2', 'y/1', 'y/2']);
  assert.equal(expandBraces('a{b'), ['a{b']);
  assert.equal(expandBraces('a{}b'), ['ab']);
});

Glob('expandGlob: *, ?, [..], [!..], directories in the middle, sorted, dotfiles need a dot', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-glob-'));
  for (const d of ['one', 'two', '.dot']) {
    fs.mkdirSync(path.join(dir, d));
    for (const f of ['b.conf', 'a.conf', 'c1.conf', 'c2.conf', '.h.conf']) fs.writeFileSync(path.join(dir, d, f), '');
  }
  const rel = (list: string[]): string[] => list.map((f) => path.relative(dir, f));
  assert.equal(rel(expandGlob(path.join(dir, 'one', '*.conf'))), ['one/a.conf', 'one/b.conf', 'one/c1.conf', 'one/c2.conf']);
  assert.equal(rel(expandGlob(path.join(dir, '*', 'c?.conf'))), ['one/c1.conf', 'one/c2.conf', 'two/c1.conf', 'two/c2.conf']);
  assert.equal(rel(expandGlob(path.join(dir, 'two', 'c[!1].conf'))), ['two/c2.conf']);
  assert.equal(rel(expandGlob(path.join(dir, 'two', '[ab].conf'))), ['two/a.conf', 'two/b.conf']);
  assert.equal(rel(expandGlob(path.join(dir, 'one', '.*.conf'))), ['one/.h.conf']);
  assert.equal(rel(expandGlob(path.join(dir, '.dot', 'a.conf'))), ['.dot/a.conf']);
  assert.equal(expandGlob(path.join(dir, 'none', '*.conf')), []);
  fs.rmSync(dir, { recursive: true, force: true });
});

Glob.run();

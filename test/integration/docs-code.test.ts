// The docs cannot drift from the API: every ```ts block in docs/ and the README is either a whole
// module, type-checked here as a third party's plugin would be (in a project that has `lantern`
// in its node_modules and imports only lantern/plugin and lantern/proxy-core, against the emitted
// .d.ts), or is fenced ```ts excerpt (a fragment of a larger program, shown for reading).
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir, REPO_ROOT, removeDir } from '../helpers/spawn-lantern.js';
import { linkLantern, typeCheck } from '../helpers/third-party.js';

const D = suite('docs code blocks');

interface Block { doc: string; line: number; code: string }

/** The ```ts blocks of `file` that are not excerpts. */
function blocks(file: string): { modules: Block[]; other: Block[] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const modules: Block[] = [];
  const other: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!fence || !/^(ts|typescript)$/.test(fence[1]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    if (fence[2] !== 'excerpt') {
      const b = { doc: path.relative(REPO_ROOT, file), line: start + 1, code: lines.slice(start, end).join('\n') };
      (/^\s*(import|export)\s/m.test(b.code) ? modules : other).push(b);
    }
    i = end;
  }
  return { modules, other };
}

const DOCS = [...fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(REPO_ROOT, 'docs', f)), path.join(REPO_ROOT, 'README.md')];

D('every ts block is a module or is fenced as an excerpt', () => {
  const loose = DOCS.flatMap((f) => blocks(f).other);
  assert.equal(loose.map((b) => `${b.doc}:${b.line}`), [], 'blocks that are neither a module nor ```ts excerpt');
});

D('every module block type-checks against lantern/plugin and lantern/proxy-core', () => {
  const all = DOCS.flatMap((f) => blocks(f).modules);
  assert.ok(all.length >= 5, `found ${all.length} module blocks`);
  for (const b of all) assert.not.match(b.code, /from '(\.|lantern\/(core|plugins)\/)/, `${b.doc}:${b.line} imports lantern's internals, not its package entry points`);
  const dir = makeTempDir('docs-code');
  try {
    linkLantern(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'docs-code', type: 'module' }));
    const names = all.map((b, i) => {
      const name = `block${i}.ts`;
      fs.writeFileSync(path.join(dir, name), `${b.code}\n`);
      return name;
    });
    const out = typeCheck(dir, names);
    // Name the doc and line of each error, not the temp file's.
    const located = out.replace(/\S*block(\d+)\.ts\((\d+),(\d+)\)/g, (_m, n: string, line: string) => {
      const b = all[Number(n)]!;
      return `${b.doc}:${b.line + Number(line) - 1}`;
    });
    assert.is(located.trim(), '', 'tsc errors in the docs');
  } finally {
    removeDir(dir);
  }
});

D.run();

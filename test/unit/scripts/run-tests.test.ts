// Tests of the `npm test` runner (scripts/run-tests.ts) on generated uvu fixture files in a scratch copy of the repo layout.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const RunTests = suite('run-tests');
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const waitHelper = pathToFileURL(path.join(repo, 'test/helpers/wait.ts')).href;

const fixtures: Record<string, string> = {
  'test/a/pass.test.ts': `import { suite } from 'uvu';
const s = suite('pass');
s('one', () => {});
s('two', () => {});
s.skip('later', () => {});
s.run();`,
  'test/a/fail.test.ts': `import { suite } from 'uvu';
import * as assert from 'uvu/assert';
const s = suite('fail');
s('good', () => {});
s('bad', () => assert.is(1, 2, 'one is not two'));
s.run();`,
  'test/b/before.test.ts': `import { suite } from 'uvu';
const s = suite('before');
s.before(() => { throw new Error('setup broke'); });
s('x', () => {});
s('y', () => {});
s.run();`,
  'test/b/crash.test.ts': `throw new Error('boom at import');`,
  'test/b/norun.test.ts': `import { suite } from 'uvu';
const s = suite('norun');
s('x', () => {});`,
  'test/c/skip.test.ts': `import { suite } from 'uvu';
import { skipUnless } from ${JSON.stringify(waitHelper)};
const s = suite('skip');
const real = skipUnless(s, false, 'frobnicator missing');
real('a', () => {});
real('b', () => {});
s('plain', () => {});
s.run();`,
  'test/d/hang.test.ts': `import { suite } from 'uvu';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const s = suite('hang');
s('hangs', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  writeFileSync(process.env.GRANDCHILD_PID_FILE ?? '', String(child.pid));
  await new Promise(() => setInterval(() => {}, 1000));
});
s.run();`,
};

function makeScratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lantern-run-tests-'));
  mkdirSync(path.join(dir, 'scripts'));
  copyFileSync(path.join(repo, 'scripts/run-tests.ts'), path.join(dir, 'scripts/run-tests.ts'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const [file, text] of Object.entries(fixtures)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), `${text}\n`);
  }
  return dir;
}

function runRunner(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/run-tests.ts', ...args],
      { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

const lastLine = (stdout: string) => stdout.trimEnd().split('\n').pop();

let scratch = '';
RunTests.before(() => {
  scratch = makeScratch();
});
RunTests.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

RunTests('sums passes, failures (incl. a throwing before hook, a crash, a missing run) and skips', async () => {
  const { code, stdout } = await runRunner(scratch, ['test/a', 'test/b', 'test/c'], { LANTERN_TEST_JOBS: '2' });
  assert.is(code, 1);
  // pass 2+1skip; fail 1/1; before 0/2; crash +1; norun +1; skip 1 + 2 skipped.
  assert.is(lastLine(stdout), '4 passed, 5 failed, 3 skipped');
  assert.match(stdout, /^ok {3}test\/a\/pass\.test\.ts {2}2 passed, 1 skipped/m);
  assert.match(stdout, /^FAIL test\/a\/fail\.test\.ts {2}1 passed, 1 failed/m);
  assert.match(stdout, /^ {4}.*one is not two/m);
  assert.match(stdout, /^FAIL test\/b\/before\.test\.ts {2}0 passed, 2 failed/m);
  assert.match(stdout, 'a `before` hook probably threw');
  assert.match(stdout, /^FAIL test\/b\/crash\.test\.ts {2}0 passed, 1 failed .*no uvu summary/m);
  assert.match(stdout, /^ {4}.*boom at import/m);
  assert.match(stdout, /^FAIL test\/b\/norun\.test\.ts {2}0 passed, 1 failed/m);
  assert.match(stdout, /^ok {3}test\/c\/skip\.test\.ts {2}1 passed, 2 skipped .*\[skip: frobnicator missing\]/m);
  // Files are reported in sorted order whatever order they finish in.
  const order = [...stdout.matchAll(/^(?:ok {2}|FAIL) (\S+)/gm)].map((m) => m[1]);
  assert.equal(order, [...order].sort());
});

RunTests('filters select files by substring; an all-passing run exits 0', async () => {
  const { code, stdout } = await runRunner(scratch, ['pass.test']);
  assert.is(code, 0);
  assert.is(lastLine(stdout), '2 passed, 0 failed, 1 skipped');
  assert.not.match(stdout, 'fail.test');
});

RunTests('a run where no test passed fails', async () => {
  const { code, stdout } = await runRunner(scratch, ['no-such-file']);
  assert.is(code, 1);
  assert.match(stdout, 'no test file matches');
  assert.is(lastLine(stdout), '0 passed, 0 failed, 0 skipped');
});

RunTests('a file over its time limit fails and its whole process group is killed', async () => {
  const pidFile = path.join(scratch, 'grandchild.pid');
  // The limit leaves the file time to start and spawn its grandchild on a busy machine (tsx
  // compiles it first): a limit that ends it before that has nothing to show.
  const { code, stdout } = await runRunner(scratch, ['test/d'], { LANTERN_TEST_TIMEOUT_MS: '5000', GRANDCHILD_PID_FILE: pidFile });
  assert.is(code, 1);
  assert.match(stdout, /^FAIL test\/d\/hang\.test\.ts {2}0 passed, 1 failed .*timed out after 5000 ms/m);
  assert.is(lastLine(stdout), '0 passed, 1 failed, 0 skipped');
  const pid = readFileSync(pidFile, 'utf8');
  // Killed means gone or a zombie waiting for a reaper; never still running.
  let state = 'gone';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    state = 'gone';
  }
  assert.ok(state === 'gone' || state === 'Z' || state === 'X', `grandchild ${pid} is in state ${state}`);
});

RunTests('a bad LANTERN_TEST_JOBS fails the run with a message', async () => {
  const { code, stdout } = await runRunner(scratch, ['pass.test'], { LANTERN_TEST_JOBS: 'two' });
  assert.is(code, 1);
  assert.match(stdout, 'LANTERN_TEST_JOBS must be a positive integer');
  assert.is(lastLine(stdout), '0 passed, 1 failed, 0 skipped');
});

RunTests.run();

// Unit tests of plugins/ssi/exec-command.ts: /bin/sh -c, output kept, stderr apart, output
// limit and cancellation end the command.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runShellCommand } from '../../../../plugins/ssi/exec-command.js';
import { withTimeout } from '../../../helpers/wait.js';

const T = suite('ssi/exec-command');
const never = () => {};

T('stdout, stderr and the exit code, in the given directory and environment', async () => {
  const r = await withTimeout(runShellCommand('pwd; echo "$SSI_T"; echo oops >&2; exit 3', '/tmp', { PATH: process.env.PATH, SSI_T: 'v' }, 1 << 20, never), 10_000, 'the command');
  assert.is(r.stdout.toString(), '/tmp\nv\n');
  assert.is(r.stderr, 'oops\n');
  assert.is(r.code, 3);
});

T('output past the limit ends the command; only the limit is kept', async () => {
  const r = await withTimeout(runShellCommand('yes', '/', { PATH: process.env.PATH }, 1000, never), 10_000, 'yes to be killed');
  assert.is(r.stdout.length, 1000);
  assert.is(r.code, null);
});

T('cancelled: the command gets SIGTERM', async () => {
  let cancel = () => {};
  const p = runShellCommand('sleep 30', '/', { PATH: process.env.PATH }, 1000, (cb) => { cancel = cb; });
  cancel();
  const r = await withTimeout(p, 10_000, 'sleep to end');
  assert.is(r.code, null);
});

T('a directory that does not exist: a spawn error, no throw', async () => {
  const r = await withTimeout(runShellCommand('true', '/nonexistent-ssi-dir', {}, 1000, never), 10_000, 'the spawn error');
  assert.ok(r.spawnError);
});

T.run();

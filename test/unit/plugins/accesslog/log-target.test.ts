// Unit tests of plugins/accesslog/log-target.ts: buffering, flush threshold, reopen after rotation, piped loggers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLUSH_BYTES, LogTarget } from '../../../../plugins/accesslog/log-target.js';
import { waitFor } from '../../../helpers/wait.js';

const T = suite('accesslog/log-target');
let dir = '';
const errors: string[] = [];
const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'latin1') : '');

T.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-lt-')); });
T.after(() => fs.rmSync(dir, { recursive: true, force: true }));

T('file lines are buffered until flush, bytes kept exactly', async () => {
  const file = path.join(dir, 'a.log');
  const t = new LogTarget(file, (m) => errors.push(m));
  t.open();
  t.write('one \xe9\n');
  assert.is(read(file), '');
  t.flush();
  assert.is(read(file), 'one \xe9\n');
  await t.close();
  t.write('after close\n');
  assert.is(read(file), 'one \xe9\n');
});

T('a full buffer is flushed without waiting for the tick', async () => {
  const file = path.join(dir, 'big.log');
  const t = new LogTarget(file, (m) => errors.push(m));
  t.open();
  const lineText = `${'x'.repeat(1023)}\n`;
  for (let i = 0; i < FLUSH_BYTES / 1024; i++) t.write(lineText);
  assert.is(read(file).length, FLUSH_BYTES);
  await t.close();
});

T('reopen after a rename: old lines in the old file, new lines in a new one', async () => {
  const file = path.join(dir, 'rot.log');
  const t = new LogTarget(file, (m) => errors.push(m));
  t.open();
  t.write('before\n');
  fs.renameSync(file, `${file}.1`);
  t.reopen();
  t.write('after\n');
  await t.close();
  assert.is(read(`${file}.1`), 'before\n');
  assert.is(read(file), 'after\n');
});

T('an unopenable file throws at open', () => {
  const t = new LogTarget(path.join(dir, 'no/such/dir/x.log'), (m) => errors.push(m));
  assert.throws(() => t.open(), /ENOENT/);
});

T('a piped logger gets every line on stdin; close waits for it to finish', async () => {
  const out = path.join(dir, 'pipe.log');
  const t = new LogTarget(`|cat >> '${out}'`, (m) => errors.push(m));
  t.open();
  t.write('p1\n');
  t.write('p2\n');
  await waitFor(() => read(out) === 'p1\np2\n', 3000, 5, 'cat to write both lines');
  t.write('p3\n');
  await t.close();
  assert.is(read(out), 'p1\np2\np3\n');
});

T('a piped logger that exits is reported', async () => {
  const t = new LogTarget('|exit 3', (m) => errors.push(m));
  const before = errors.length;
  t.open();
  await waitFor(() => errors.length > before, 3000, 5, 'the exit report');
  assert.match(errors[errors.length - 1]!, /exited \(3\)/);
  t.write('lost\n');
  assert.is(t.dropped, 1);
  await t.close();
});

T.run();

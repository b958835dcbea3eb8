// plugins/userdir: the passwd file read for home directories, re-read when it changed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PasswdFile } from '../../../../plugins/userdir/passwd.js';

const T = suite('userdir passwd');

let dir = '';
T.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-passwd-')); });
T.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

T('homes come from the file; a change is seen once the minute is over and the mtime moved', () => {
  const file = path.join(dir, 'passwd');
  fs.writeFileSync(file, 'jan:x:1000:1000::/home/jan:/bin/sh\n');
  const p = new PasswdFile(file);
  assert.is(p.home('jan', 0), '/home/jan');
  assert.is(p.home('eva', 0), undefined);
  fs.writeFileSync(file, 'jan:x:1000:1000::/home/jan2:/bin/sh\neva:x:1001:1001::/home/eva:/bin/sh\n');
  fs.utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
  assert.is(p.home('eva', 59_000), undefined, 'trusted for a minute');
  assert.is(p.home('eva', 60_000), '/home/eva');
  assert.is(p.home('jan', 60_000), '/home/jan2');
});

T('a missing file knows nobody', () => {
  const p = new PasswdFile(path.join(dir, 'missing'));
  assert.is(p.home('root', 0), undefined);
});

T('NSS_WRAPPER_PASSWD names the file when set, else /etc/passwd', () => {
  const saved = process.env.NSS_WRAPPER_PASSWD;
  try {
    process.env.NSS_WRAPPER_PASSWD = '/tmp/some-passwd';
    assert.is(new PasswdFile().file, '/tmp/some-passwd');
    delete process.env.NSS_WRAPPER_PASSWD;
    assert.is(new PasswdFile().file, '/etc/passwd');
  } finally {
    if (saved === undefined) delete process.env.NSS_WRAPPER_PASSWD; else process.env.NSS_WRAPPER_PASSWD = saved;
  }
});

T.run();

// Unit tests of plugins/staticfile/file-check.ts: path classification, PATH_INFO and the symlink rule, on a temp dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPhysicalPath, statusForErrno, statusForOpenErrno, symlinkBelow } from '../../../../plugins/staticfile/file-check.js';

const T = suite('staticfile/file-check');
let root = '';

T.before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-fc-'));
  fs.mkdirSync(path.join(root, 'dir'));
  fs.writeFileSync(path.join(root, 'dir', 'a.txt'), 'a');
  fs.symlinkSync(path.join(root, 'dir'), path.join(root, 'link'));
});
T.after(() => fs.rmSync(root, { recursive: true, force: true }));

const follow = { followSymlinks: true };

T('files, directories and missing paths', async () => {
  const f = await checkPhysicalPath(path.join(root, 'dir/a.txt'), root, follow);
  assert.is(f.kind, 'file');
  assert.is((await checkPhysicalPath(path.join(root, 'dir') + '/', root, follow)).kind, 'dir');
  const missing = await checkPhysicalPath(path.join(root, 'nope'), root, follow);
  assert.equal(missing.kind === 'error' && missing.status, 404);
});

T('PATH_INFO after a regular file; none after a directory', async () => {
  const f = await checkPhysicalPath(path.join(root, 'dir/a.txt/x/y'), root, follow);
  assert.is(f.kind, 'file');
  if (f.kind === 'file') {
    assert.is(f.path, path.join(root, 'dir/a.txt'));
    assert.is(f.pathInfo, '/x/y');
  }
  const d = await checkPhysicalPath(path.join(root, 'dir/nope/x'), root, follow);
  assert.equal(d.kind === 'error' && d.status, 404);
});

T('symlinks below the docroot: followed, or 403 when follow-symlink is off', async () => {
  assert.is((await checkPhysicalPath(path.join(root, 'link/a.txt'), root, follow)).kind, 'file');
  const r = await checkPhysicalPath(path.join(root, 'link/a.txt'), root, { followSymlinks: false });
  assert.equal(r.kind === 'error' && r.status, 403);
  assert.is(await symlinkBelow(path.join(root, 'dir/a.txt'), root), null);
  assert.is(await symlinkBelow(path.join(root, 'link/a.txt'), root), path.join(root, 'link'));
});

T('errno → status', () => {
  assert.is(statusForErrno('ENOENT'), 404);
  assert.is(statusForErrno('EACCES'), 403);
  assert.is(statusForErrno('ENAMETOOLONG'), 404);
  assert.is(statusForErrno('ELOOP'), 500, 'lighttpd: anything but ENOENT, ENAMETOOLONG and EACCES is 500');
  assert.is(statusForErrno('EPERM'), 500);
  assert.is(statusForErrno('EIO'), 500);
  assert.is(statusForOpenErrno('ENOENT'), 404);
  assert.is(statusForOpenErrno('EACCES'), 403);
  assert.is(statusForOpenErrno('ELOOP'), 403, 'lighttpd http_response_send_file: 404 or 403');
});

T.run();

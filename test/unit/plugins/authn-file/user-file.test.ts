// Unit tests of plugins/authn-file/user-file.ts: lines as lighttpd's mod_authn_file reads them,
// reading again after a change, and errors that name the key and the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthBackendError } from '../../../../plugins/auth/types.js';
import { UserFiles } from '../../../../plugins/authn-file/user-file.js';

const T = suite('authn-file/user-file');
let dir = '';
const logged: string[] = [];
T.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-file-')); });
T.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

T('htpasswd lines: comments, blank lines, CRLF, over-long lines, no colon, first entry wins, bytes kept', () => {
  const file = path.join(dir, 'htpasswd');
  fs.writeFileSync(file, Buffer.from(`# comment\n\nalice:hash1\r\nbob:pw:with:colons\nbad line\nalice:hash2\n${'x'.repeat(1030)}:long\nz\xc3\xb6e:utf8\nlast:no-newline`, 'latin1'));
  const files = new UserFiles((m) => logged.push(m));
  const m = files.entries(file, 'htpasswd', 'auth.backend.htpasswd.userfile');
  assert.equal(m.get('alice'), ['hash1']);
  assert.equal(m.get('bob'), ['pw:with:colons']);
  assert.equal(m.get('z\xc3\xb6e'), ['utf8'], 'names are byte strings');
  assert.equal(m.get('last'), ['no-newline']);
  assert.is(m.size, 4);
  assert.match(logged.join('\n'), /parse error in .*htpasswd: 1 line\(s\)/);
});

T('htdigest lines: user:realm → every HA1, a 4th field (userhash) ignored', () => {
  const file = path.join(dir, 'htdigest');
  fs.writeFileSync(file, 'dan:R:aaaa\ndan:R:bbbb:cccc\ndan:Other:dddd\nbroken:line\n');
  const m = new UserFiles(() => {}).entries(file, 'htdigest', 'auth.backend.htdigest.userfile');
  assert.equal(m.get('dan:R'), ['aaaa', 'bbbb']);
  assert.equal(m.get('dan:Other'), ['dddd']);
  assert.is(m.size, 2);
});

T('a file changed within the same clock tick is still read again (same size, same inode)', () => {
  const file = path.join(dir, 'changing');
  fs.writeFileSync(file, 'a:1\n');
  const files = new UserFiles(() => {});
  assert.equal(files.entries(file, 'htpasswd', 'k').get('a'), ['1']);
  fs.writeFileSync(file, 'a:2\n');
  assert.equal(files.entries(file, 'htpasswd', 'k').get('a'), ['2']);
  fs.rmSync(file);
  fs.writeFileSync(file, 'a:3\n');
  assert.equal(files.entries(file, 'htpasswd', 'k').get('a'), ['3'], 'replaced by another file');
});

T('an old, unchanged file is parsed once', () => {
  const file = path.join(dir, 'old');
  fs.writeFileSync(file, 'a:1\n');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(file, past, past);
  const files = new UserFiles(() => {});
  const first = files.entries(file, 'htpasswd', 'k');
  assert.is(files.entries(file, 'htpasswd', 'k'), first);
  fs.writeFileSync(file, 'a:22\n');
  assert.equal(files.entries(file, 'htpasswd', 'k').get('a'), ['22']);
});

T('missing, unreadable or not a file: AuthBackendError naming the key and the file', () => {
  const files = new UserFiles(() => {});
  const missing = path.join(dir, 'nope');
  try {
    files.entries(missing, 'htpasswd', 'auth.backend.htpasswd.userfile');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, AuthBackendError);
    assert.is((err as Error).message, `auth.backend.htpasswd.userfile "${missing}": cannot read it (ENOENT)`);
  }
  assert.throws(() => files.entries(dir, 'htpasswd', 'k'), /not a regular file/);
});

T.run();

// plugins/userdir: /~user/x → the user's directory, from the passwd file or userdir.basepath,
// with lighttpd's exclude/include lists, letterhomes, the redirect of /~user and the name checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mapUserdir, type UserdirLookups, type UserdirSettings } from '../../../../plugins/userdir/user-path.js';
import { parsePasswd } from '../../../../plugins/userdir/passwd.js';

const T = suite('userdir');

const PASSWD = parsePasswd([
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'jan:x:1000:1000:Jan,,,:/home/jan:/bin/bash',
  'jan:x:1001:1001:second entry:/elsewhere:/bin/sh',
  'nodir:x:1002:1002::/home/nodir:/bin/sh',
  'broken line',
  '',
].join('\n'));
const DIRS = new Set(['/home/jan/public_html', '/root/public_html', '/home/jan/']);

const lookups: UserdirLookups = { home: (u) => PASSWD.get(u), isDirectory: (d) => DIRS.has(d) };
const settings = (s: Partial<UserdirSettings> = {}): UserdirSettings => ({
  path: 'public_html', basepath: undefined, letterhomes: false, excludeUsers: [], includeUsers: undefined, ...s,
});

T('parsePasswd: name → home; the first entry of a name wins; comments and broken lines are skipped', () => {
  assert.equal([...PASSWD], [['root', '/root'], ['jan', '/home/jan'], ['nodir', '/home/nodir']]);
});

T('from the passwd file: /~jan/x → /home/jan/public_html/x, the user directory as document root', () => {
  assert.equal(mapUserdir('/~jan/a/b.html', settings(), lookups),
    { kind: 'mapped', user: 'jan', docRoot: '/home/jan/public_html', physicalPath: '/home/jan/public_html/a/b.html' });
  assert.equal(mapUserdir('/~jan/', settings(), lookups),
    { kind: 'mapped', user: 'jan', docRoot: '/home/jan/public_html', physicalPath: '/home/jan/public_html/' });
});

T('userdir.path "" serves the home directory itself', () => {
  assert.equal(mapUserdir('/~jan/x', settings({ path: '' }), lookups),
    { kind: 'mapped', user: 'jan', docRoot: '/home/jan/', physicalPath: '/home/jan/x' });
});

T('unknown users and users without the directory are left alone', () => {
  assert.equal(mapUserdir('/~nobody/x', settings(), lookups), { kind: 'none' });
  assert.equal(mapUserdir('/~nodir/x', settings(), lookups), { kind: 'none' });
});

T('not a userdir path, or userdir.path not set: left alone', () => {
  for (const p of ['/', '/x/~jan/', '/~', '/~/', '/~/x']) assert.equal(mapUserdir(p, settings(), lookups), { kind: 'none' }, p);
  assert.equal(mapUserdir('/~jan/x', settings({ path: undefined }), lookups), { kind: 'none' });
  assert.equal(mapUserdir('/~jan', settings({ path: undefined }), lookups), { kind: 'none' });
});

T('/~user without a slash is redirected, before the user is looked at (as lighttpd)', () => {
  assert.equal(mapUserdir('/~jan', settings(), lookups), { kind: 'redirect' });
  assert.equal(mapUserdir('/~nobody', settings(), lookups), { kind: 'redirect' });
  assert.equal(mapUserdir('/~root', settings({ excludeUsers: ['root'] }), lookups), { kind: 'redirect' });
});

T('exclude-user and include-user: case-sensitive; an empty include list maps nobody', () => {
  assert.equal(mapUserdir('/~root/x', settings({ excludeUsers: ['root'] }), lookups), { kind: 'none' });
  assert.is(mapUserdir('/~root/x', settings({ excludeUsers: ['ROOT'] }), lookups).kind, 'mapped');
  assert.is(mapUserdir('/~jan/x', settings({ includeUsers: ['jan'] }), lookups).kind, 'mapped');
  assert.equal(mapUserdir('/~root/x', settings({ includeUsers: ['jan'] }), lookups), { kind: 'none' });
  assert.equal(mapUserdir('/~jan/x', settings({ includeUsers: [] }), lookups), { kind: 'none' });
  assert.equal(mapUserdir('/~jan/x', settings({ includeUsers: ['jan'], excludeUsers: ['jan'] }), lookups), { kind: 'none' });
});

T('basepath: basepath/user/path, no passwd lookup and no directory check', () => {
  const s = settings({ basepath: '/srv/homes/' });
  assert.equal(mapUserdir('/~alice/i.html', s, lookups),
    { kind: 'mapped', user: 'alice', docRoot: '/srv/homes/alice/public_html', physicalPath: '/srv/homes/alice/public_html/i.html' });
  assert.equal(mapUserdir('/~alice/', settings({ basepath: '/srv/homes', path: '' }), lookups),
    { kind: 'mapped', user: 'alice', docRoot: '/srv/homes/alice/', physicalPath: '/srv/homes/alice/' });
});

T('basepath: only [-_.A-Za-z0-9] names, never "." or ".."', () => {
  const s = settings({ basepath: '/srv/homes' });
  for (const user of ['..', '.', 'a b', 'a%2f', 'ü', 'a:b']) assert.equal(mapUserdir(`/~${user}/x`, s, lookups), { kind: 'none' }, user);
  for (const user of ['a.b', 'A-b_9', '...']) assert.is(mapUserdir(`/~${user}/x`, s, lookups).kind, 'mapped', user);
});

T('letterhomes: basepath/first letter/user; a name starting with "." is refused', () => {
  const s = settings({ basepath: '/srv/homes', letterhomes: true });
  assert.equal(mapUserdir('/~jan/x', s, lookups),
    { kind: 'mapped', user: 'jan', docRoot: '/srv/homes/j/jan/public_html', physicalPath: '/srv/homes/j/jan/public_html/x' });
  assert.equal(mapUserdir('/~.jan/x', s, lookups), { kind: 'none' });
  // Without basepath letterhomes has no effect (lighttpd reads it only with basepath).
  assert.is((mapUserdir('/~jan/x', settings({ letterhomes: true }), lookups) as { docRoot: string }).docRoot, '/home/jan/public_html');
});

T('names of 256 bytes or more are left alone (lighttpd\'s buffer)', () => {
  const s = settings({ basepath: '/srv' });
  assert.is(mapUserdir(`/~${'a'.repeat(255)}/x`, s, lookups).kind, 'mapped');
  assert.equal(mapUserdir(`/~${'a'.repeat(256)}/x`, s, lookups), { kind: 'none' });
});

T.run();

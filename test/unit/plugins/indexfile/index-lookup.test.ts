// Unit tests of plugins/indexfile/index-lookup.ts: order of names, relative and docroot-absolute names, errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findIndexFile } from '../../../../plugins/indexfile/index-lookup.js';

const T = suite('indexfile/index-lookup');
const fsOf = (files: Record<string, boolean | string>) => (p: string) => files[p] ?? false;

T('the first existing name wins; relative names are appended', () => {
  const exists = fsOf({ '/srv/d/index.htm': true, '/srv/d/index.php': true });
  assert.equal(findIndexFile('/d/', '/srv/d/', '/srv', ['index.html', 'index.htm', 'index.php'], exists),
    { kind: 'found', path: '/d/index.htm', physicalPath: '/srv/d/index.htm' });
});

T('a name starting with "/" is looked up from the docroot and replaces the path', () => {
  const exists = fsOf({ '/srv/front.php': true });
  assert.equal(findIndexFile('/a/b/', '/srv/a/b/', '/srv', ['index.html', '/front.php'], exists),
    { kind: 'found', path: '/front.php', physicalPath: '/srv/front.php' });
});

T('nothing found → none; EACCES → 403; other errors → 500', () => {
  assert.equal(findIndexFile('/', '/srv/', '/srv', ['index.html'], fsOf({})), { kind: 'none' });
  const denied = findIndexFile('/', '/srv/', '/srv', ['index.html'], fsOf({ '/srv/index.html': 'EACCES' }));
  assert.is(denied.kind === 'error' && denied.status, 403);
  const broken = findIndexFile('/', '/srv/', '/srv', ['index.html'], fsOf({ '/srv/index.html': 'EIO' }));
  assert.is(broken.kind === 'error' && broken.status, 500);
});

T('empty names are skipped', () => {
  assert.equal(findIndexFile('/', '/srv/', '/srv', [''], fsOf({ '/srv/': true })), { kind: 'none' });
});

T.run();

// server.max-connections when unset: a third of the open-files limit (core/server.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionLimit, openFilesLimit } from '../../../core/server.js';

const T = suite('connection limit');

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

T('openFilesLimit reads the soft limit; unlimited or absent is null', () => {
  assert.is(openFilesLimit(LIMITS), 1024);
  assert.is(openFilesLimit(LIMITS.replace('1024                ', 'unlimited           ')), null);
  assert.is(openFilesLimit('nothing here'), null);
});

T('connectionLimit: a configured value wins; unset, a third of the open files; unknown, no limit', () => {
  assert.equal(connectionLimit(500, 1024), { maxConnections: 500, maxConnectionsDerived: false });
  assert.equal(connectionLimit(0, 1024), { maxConnections: 341, maxConnectionsDerived: true });
  assert.equal(connectionLimit(0, 2), { maxConnections: 1, maxConnectionsDerived: true });
  assert.equal(connectionLimit(0, null), { maxConnections: 0, maxConnectionsDerived: false });
});

T.run();

// webdav.opts accepts lighttpd's four keys and nothing else (the doc rows of every webdav option
// are checked by test/unit/plugins/options-doc.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import webdav from '../../../../plugins/webdav/index.js';

const T = suite('webdav.opts');

T('webdav.opts: lighttpd\'s four keys with boolean values, nothing else', () => {
  const check = webdav.options!['webdav.opts']!.check!;
  assert.is(check(new ConfigHash([['propfind-depth-infinity', 'enable'], ['deprecated-unsafe-partial-put', 'disable'], ['partial-put-copy-modify', '1'], ['unsafe-propfind-follow-symlink', 'false']])), undefined);
  assert.match(check(new ConfigHash([['nonsense', 'enable']]))!, /unrecognized webdav.opts: nonsense/);
  assert.match(check(new ConfigHash([['propfind-depth-infinity', 'perhaps']]))!, /"enable" or "disable"/);
});

T.run();

// plugins/webdav's options each have a row in docs/modules.md with their doc text verbatim (the
// check test/unit/plugins/options-doc.test.ts makes for the other built-in plugins).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import webdav from '../../../../plugins/webdav/index.js';

const T = suite('webdav options documented');

T('every option has a row in docs/modules.md with its doc text', () => {
  const lines = fs.readFileSync(new URL('../../../../docs/modules.md', import.meta.url), 'utf8').split('\n');
  const options = Object.entries(webdav.options ?? {});
  assert.ok(options.length > 0);
  for (const [key, spec] of options) {
    const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `no row for ${key} in docs/modules.md`);
    assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
  }
});

T('webdav.opts: lighttpd\'s four keys with boolean values, nothing else', () => {
  const check = webdav.options!['webdav.opts']!.check!;
  assert.is(check(new ConfigHash([['propfind-depth-infinity', 'enable'], ['deprecated-unsafe-partial-put', 'disable'], ['partial-put-copy-modify', '1'], ['unsafe-propfind-follow-symlink', 'false']])), undefined);
  assert.match(check(new ConfigHash([['nonsense', 'enable']]))!, /unrecognized webdav.opts: nonsense/);
  assert.match(check(new ConfigHash([['propfind-depth-infinity', 'perhaps']]))!, /"enable" or "disable"/);
});

T.run();

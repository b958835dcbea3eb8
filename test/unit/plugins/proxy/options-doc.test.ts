// Checks that docs/modules.md lists every option of plugins/proxy with the same text as its declaration.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import plugin from '../../../../plugins/proxy/index.js';

const T = suite('proxy/options-doc');
const doc = fs.readFileSync(new URL('../../../../docs/modules.md', import.meta.url), 'utf8');

T('every option has a row in docs/modules.md with its doc text', () => {
  const options = Object.entries(plugin.options ?? {});
  assert.ok(options.length > 0);
  for (const [key, spec] of options) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `no row for ${key}`);
    assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
  }
});

T.run();

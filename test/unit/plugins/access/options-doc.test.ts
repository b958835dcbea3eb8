// The options of access, alias and userdir have rows in docs/modules.md with their doc text
// (as test/unit/plugins/options-doc.test.ts checks for the older plugins).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

const T = suite('access, alias, userdir options documented');

for (const id of ['access', 'alias', 'userdir']) {
  T(`${id}: every option has a row in docs/modules.md with its doc text`, async () => {
    const plugin = (await import(`../../../../plugins/${id}/index.js`)).default as PluginDefinition;
    const lines = fs.readFileSync(new URL('../../../../docs/modules.md', import.meta.url), 'utf8').split('\n');
    const options = Object.entries(plugin.options ?? {});
    assert.ok(options.length > 0, `${id} declares options`);
    for (const [key, spec] of options) {
      const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key} in docs/modules.md`);
      assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
    }
  });
}

T.run();

// setenv, expire and extforward: every option has a row in docs/modules.md with its doc text
// (the declarations are the published reference, style.md; the same check as
// test/unit/plugins/options-doc.test.ts, for these three plugins).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

const T = suite('setenv/expire/extforward options documented');

for (const id of ['setenv', 'expire', 'extforward']) {
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

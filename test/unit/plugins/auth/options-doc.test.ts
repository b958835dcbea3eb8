// Every option of the auth and authn-file plugins has a row in docs/modules.md with the same
// text as its declaration (the doc strings are the published reference, style.md).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

const T = suite('auth options documented');

for (const id of ['auth', 'authn-file']) {
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

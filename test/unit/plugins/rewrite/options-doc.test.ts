// rewrite and redirect: every option has a row in docs/modules.md with its doc text (the
// declarations are the published reference, style.md), and docs/rewrite.md exists for the
// details the rows point to.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

const T = suite('rewrite/options-doc');
const doc = (name: string) => fs.readFileSync(new URL(`../../../../docs/${name}`, import.meta.url), 'utf8');

for (const id of ['rewrite', 'redirect']) {
  T(`${id}: every option has a row in docs/modules.md with its doc text`, async () => {
    const plugin = (await import(`../../../../plugins/${id}/index.js`)).default as PluginDefinition;
    const lines = doc('modules.md').split('\n');
    const options = Object.entries(plugin.options ?? {});
    assert.ok(options.length > 0);
    for (const [key, spec] of options) {
      const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key} in docs/modules.md`);
      assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
    }
  });
}

T('docs/rewrite.md names every key of both plugins', async () => {
  const text = doc('rewrite.md');
  for (const id of ['rewrite', 'redirect']) {
    const plugin = (await import(`../../../../plugins/${id}/index.js`)).default as PluginDefinition;
    for (const key of Object.keys(plugin.options ?? {})) assert.ok(text.includes(key), `${key} in docs/rewrite.md`);
  }
});

T.run();

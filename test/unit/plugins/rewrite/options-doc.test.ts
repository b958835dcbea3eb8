// docs/rewrite.md, the reference the rows of docs/modules.md point to, names every key of rewrite
// and redirect (the rows themselves are checked by test/unit/plugins/options-doc.test.ts).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

const T = suite('rewrite/options-doc');
const doc = (name: string) => fs.readFileSync(new URL(`../../../../docs/${name}`, import.meta.url), 'utf8');

T('docs/rewrite.md names every key of both plugins', async () => {
  const text = doc('rewrite.md');
  for (const id of ['rewrite', 'redirect']) {
    const plugin = (await import(`../../../../plugins/${id}/index.js`)).default as PluginDefinition;
    for (const key of Object.keys(plugin.options ?? {})) assert.ok(text.includes(key), `${key} in docs/rewrite.md`);
  }
});

T.run();

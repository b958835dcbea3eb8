// For the unit tests of simple-vhost, evhost and secdownload: each option's doc text is in its
// row of docs/modules.md (as test/unit/plugins/options-doc.test.ts checks for the older plugins).
import fs from 'node:fs';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../../core/plugin.js';

/** Fails unless every option of plugin `id` has a row in docs/modules.md holding its doc text. */
export async function assertOptionsDocumented(id: string): Promise<void> {
  const plugin = (await import(`../../../../plugins/${id}/index.js`)).default as PluginDefinition;
  const lines = fs.readFileSync(new URL('../../../../docs/modules.md', import.meta.url), 'utf8').split('\n');
  const options = Object.entries(plugin.options ?? {});
  assert.ok(options.length > 0);
  for (const [key, spec] of options) {
    const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `no row for ${key} in docs/modules.md`);
    assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
  }
}

// Every option of every built-in plugin has a row in its reference page with the same text as
// its declaration (the doc comments *are* the published reference, style.md).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../core/plugin.js';

const T = suite('plugin options documented');

/** Plugin id → the page that documents its options. */
const PAGES: Record<string, string> = {
  accesslog: 'modules.md', 'demo-app': 'modules.md', dirlisting: 'modules.md', indexfile: 'modules.md',
  proxy: 'modules.md', staticfile: 'modules.md', status: 'modules.md', 'proxy-core': 'proxy-core.md',
  fastcgi: 'cgi-family.md', scgi: 'cgi-family.md', cgi: 'cgi.md',
  deflate: 'modules.md',
  setenv: 'modules.md', expire: 'modules.md', extforward: 'modules.md',
};

for (const [id, page] of Object.entries(PAGES)) {
  T(`${id}: every option has a row in docs/${page} with its doc text`, async () => {
    const plugin = (await import(`../../../plugins/${id}/index.js`)).default as PluginDefinition;
    const lines = fs.readFileSync(new URL(`../../../docs/${page}`, import.meta.url), 'utf8').split('\n');
    const options = Object.entries(plugin.options ?? {});
    assert.ok(options.length > 0, `${id} declares options`);
    for (const [key, spec] of options) {
      const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key} in docs/${page}`);
      assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
    }
  });
}

T.run();

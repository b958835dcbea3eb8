// Every option of every built-in plugin has a row in its reference page with the same text as
// its declaration (the doc comments *are* the published reference, style.md). Every plugin folder
// is checked: a new plugin is covered without being listed here.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginDefinition } from '../../../core/plugin.js';

const T = suite('plugin options documented');

const PLUGINS_DIR = new URL('../../../plugins/', import.meta.url);

/** Plugins documented somewhere other than docs/modules.md: plugin id → page. */
const PAGES: Record<string, string> = {
  'proxy-core': 'proxy-core.md', fastcgi: 'cgi-family.md', scgi: 'cgi-family.md', cgi: 'cgi.md', openssl: 'tls.md',
};

const ids = fs.readdirSync(PLUGINS_DIR).filter((id) => fs.existsSync(new URL(`${id}/index.ts`, PLUGINS_DIR))).sort();

for (const id of ids) {
  const page = PAGES[id] ?? 'modules.md';
  T(`${id}: every option has a row in docs/${page} with its doc text`, async () => {
    const plugin = (await import(new URL(`${id}/index.ts`, PLUGINS_DIR).href)).default as PluginDefinition;
    const lines = fs.readFileSync(new URL(`../../../docs/${page}`, import.meta.url), 'utf8').split('\n');
    for (const [key, spec] of Object.entries(plugin.options ?? {})) {
      const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key} in docs/${page}`);
      assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
    }
  });
}

T.run();

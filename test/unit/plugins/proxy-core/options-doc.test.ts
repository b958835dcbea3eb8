// Checks that docs/proxy-core.md lists every option of plugins/proxy-core with the same text as its declaration.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import plugin from '../../../../plugins/proxy-core/index.js';
import { DEFAULT_BACKEND_OPTIONS } from '../../../../plugins/proxy-core/api.js';

const T = suite('proxy-core/options-doc');
const doc = fs.readFileSync(new URL('../../../../docs/proxy-core.md', import.meta.url), 'utf8');
const lines = doc.split('\n');

T('every config key has a row in docs/proxy-core.md with its doc text', () => {
  const options = Object.entries(plugin.options ?? {});
  assert.ok(options.length > 20);
  for (const [key, spec] of options) {
    const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `no row for ${key}`);
    assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
  }
});

T('every BackendOptions field has a row with its default', () => {
  for (const [field, value] of Object.entries(DEFAULT_BACKEND_OPTIONS)) {
    const row = lines.find((l) => l.startsWith(`| \`${field}\` |`));
    assert.ok(row, `no row for ${field}`);
    const shown = Array.isArray(value) ? (value.length ? `[${value.map((v) => `'${v}'`).join(', ')}]` : '[]') : String(value);
    assert.ok(row!.includes(shown), `default of ${field} (${shown})`);
  }
});

T.run();

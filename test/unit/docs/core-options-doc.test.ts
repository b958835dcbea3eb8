// The core's keys have a row in docs/configuration.md with their declaration's doc text, word
// for word (style.md: the doc comments are the published reference).
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CORE_OPTIONS } from '../../../core/core-options.js';

const T = suite('core options documented');

T('every core key has a row in docs/configuration.md with its doc text', () => {
  const lines = fs.readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8').split('\n');
  for (const [key, spec] of Object.entries(CORE_OPTIONS)) {
    const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `no row for ${key} in docs/configuration.md`);
    assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs`);
  }
});

T.run();

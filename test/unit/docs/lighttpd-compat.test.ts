// docs/lighttpd-compat.md stays true: every lighttpd 1.4.69 module and config key
// (test/fixtures/lighttpd-1.4.69-keys.json, read from lighttpd's source) has a row, and a row's
// status agrees with what lantern declares: a key said to be supported, partial or accepted is
// declared by the core or by a plugin (so lantern reads it), a key said to be unsupported is
// declared by nobody (so lantern warns about it); a module said to be supported loads.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CORE_OPTIONS } from '../../../core/core-options.js';
import { moduleToId } from '../../../core/plugin-host.js';
import type { PluginDefinition } from '../../../core/plugin.js';

const T = suite('docs/lighttpd-compat.md');

const PLUGINS_DIR = new URL('../../../plugins/', import.meta.url);
const DOC = fs.readFileSync(new URL('../../../docs/lighttpd-compat.md', import.meta.url), 'utf8');
const FIXTURE = JSON.parse(fs.readFileSync(new URL('../../fixtures/lighttpd-1.4.69-keys.json', import.meta.url), 'utf8')) as { modules: Record<string, string[]> };

const STATUSES = ['supported', 'partial', 'accepted', 'not supported'] as const;
type Status = (typeof STATUSES)[number];

/** The rows of the table that follows `heading`: first column (without backticks) → status (second column). */
function tableAfter(heading: string): Map<string, Status> {
  const start = DOC.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/lighttpd-compat.md has a "${heading}" section`);
  const rows = new Map<string, Status>();
  for (const line of DOC.slice(start + heading.length + 2).split('\n')) {
    if (line.startsWith('## ')) break;
    const m = /^\| `([^`]+)` \| ([a-z ]+) \|/.exec(line);
    if (m === null) continue;
    const status = m[2]!.trim() as Status;
    assert.ok(STATUSES.includes(status), `${m[1]}: status "${m[2]}" is one of ${STATUSES.join(', ')}`);
    assert.not.ok(rows.has(m[1]!), `${m[1]} has one row`);
    rows.set(m[1]!, status);
  }
  return rows;
}

/** Every key lantern reads: the core's and every built-in plugin's. */
async function declaredKeys(): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const k of Object.keys(CORE_OPTIONS)) keys.set(k, 'core');
  for (const id of fs.readdirSync(PLUGINS_DIR)) {
    if (!fs.existsSync(new URL(`${id}/index.ts`, PLUGINS_DIR))) continue;
    const plugin = (await import(new URL(`${id}/index.ts`, PLUGINS_DIR).href)).default as PluginDefinition;
    for (const k of Object.keys(plugin.options ?? {})) if (!keys.has(k)) keys.set(k, id);
  }
  return keys;
}

T('every lighttpd 1.4.69 config key has a row whose status matches what lantern declares', async () => {
  const rows = tableAfter('## Config keys');
  const declared = await declaredKeys();
  const all = new Set(Object.values(FIXTURE.modules).flat());
  for (const key of all) assert.ok(rows.has(key), `a row for ${key}`);
  for (const [key, status] of rows) {
    assert.ok(all.has(key), `${key} is a lighttpd 1.4.69 key`);
    if (status === 'not supported') assert.not.ok(declared.has(key), `${key} is said not to be supported, but ${declared.get(key)} declares it`);
    else assert.ok(declared.has(key), `${key} is said to be ${status}, but nothing declares it`);
  }
});

T('every lighttpd 1.4.69 module has a row; a supported one loads as a lantern plugin', () => {
  const rows = tableAfter('## Modules');
  for (const mod of Object.keys(FIXTURE.modules)) {
    if (mod === 'core') continue;
    assert.ok(rows.has(mod), `a row for ${mod}`);
  }
  for (const [mod, status] of rows) {
    const id = moduleToId(mod);
    const exists = fs.existsSync(new URL(`${id}/index.ts`, PLUGINS_DIR));
    if (status === 'not supported') assert.not.ok(exists, `${mod} is said not to be supported, but plugins/${id} exists`);
    else assert.ok(exists, `${mod} is said to be ${status}, but there is no plugins/${id}`);
  }
});

T.run();

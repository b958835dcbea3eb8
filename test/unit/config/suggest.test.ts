// Tests for config/suggest.ts ("did you mean") and the per-element positions of list values that
// the lighttpd parser keeps for messages about one element (ConfigEntry.itemLocs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../config/lighttpd/parser.js';
import { closestName, editDistance } from '../../../config/suggest.js';

const Suggest = suite('config-suggest');

Suggest('editDistance: insert, delete, substitute, and a swapped pair as one edit', () => {
  assert.is(editDistance('mod_access', 'mod_access'), 0);
  assert.is(editDistance('mod_acess', 'mod_access'), 1);
  assert.is(editDistance('mod_accesss', 'mod_access'), 1);
  assert.is(editDistance('mod_axcess', 'mod_access'), 1);
  assert.is(editDistance('mod_acecss', 'mod_access'), 1, 'transposition');
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('kitten', 'sitting'), 3);
});

Suggest('closestName: the nearest within a typo\'s reach, else null; case-insensitive', () => {
  const mods = ['mod_access', 'mod_accesslog', 'mod_alias', 'mod_setenv', 'mod_ssi'];
  assert.is(closestName('mod_acess', mods), 'mod_access');
  assert.is(closestName('mod_acceslog', mods), 'mod_accesslog');
  assert.is(closestName('mod_setenvv', mods), 'mod_setenv');
  assert.is(closestName('MOD_ALIAS', mods), 'mod_alias', 'the same name in another case');
  assert.is(closestName('mod_rewrite', mods), null, 'nothing near');
  assert.is(closestName('ssi', ['ssl', 'ssi2']), 'ssl', 'the first of equals wins');
  assert.is(closestName('abc', ['xyz']), null);
  assert.is(closestName('server.documnet-root', ['server.document-root', 'server.port']), 'server.document-root');
  assert.is(closestName('connection.kbytes-per-second', ['server.kbytes-per-second']), null, 'another key, not a typo');
});

Suggest('lighttpd parser: each list element keeps the line it was written on, through +=, + and variables', () => {
  const m = parseLighttpdConfig([
    'var.extra = ( "mod_c" )',           // 1
    'server.modules = (',                 // 2
    '  "mod_a",',                         // 3
    '',                                   // 4
    '  "mod_b",',                         // 5
    ')',                                  // 6
    'server.modules += var.extra',        // 7
    'server.modules += ( "mod_d" ) + ( "mod_e",', // 8
    '  "mod_f" )',                        // 9
    'server.tag = "x"',                   // 10
  ].join('\n'), 'm.conf', { cwd: '/nonexistent', env: {} });
  const e = m.root.entries.find((x) => x.key === 'server.modules')!;
  assert.equal(e.value, ['mod_a', 'mod_b', 'mod_c', 'mod_d', 'mod_e', 'mod_f']);
  assert.equal(e.itemLocs?.map((l) => `${l.file}:${l.line}`), ['m.conf:3', 'm.conf:5', 'm.conf:1', 'm.conf:8', 'm.conf:8', 'm.conf:9']);
  assert.is(m.root.entries.find((x) => x.key === 'server.tag')!.itemLocs, undefined, 'only lists have them');
});

Suggest.run();

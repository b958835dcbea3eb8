// Unit tests of plugins/setenv/field-rules.ts (lighttpd 1.4.69 mod_setenv): the config checks
// (through the real config parser and plugin host: file:line and key), value normalisation, and
// what add and set do to header lists and environments.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash } from '../../../../config/model.js';
import { Server } from '../../../../core/server.js';
import { applyEnv, applyFields, checkEnvList, checkHeaderList, headerPairs, normaliseValue } from '../../../../plugins/setenv/field-rules.js';

const T = suite('setenv/field-rules');

/** Load `line` (line 2 of a config that loads mod_setenv); the ConfigError, or null when it starts. */
async function load(line: string): Promise<ConfigError | null> {
  const text = `server.modules = ( "mod_setenv" )\n${line}\n`;
  const model = parseLighttpdConfig(text, '/etc/test.conf', { cwd: '/tmp' });
  try {
    await Server.create({ model, cwd: '/tmp', listen: [], warn: () => {} });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

T('refused at load with file:line and the key: CR, LF, NUL, control bytes, bad names, framing fields, non-strings', async () => {
  const cases: Array<[string, RegExp]> = [
    ['setenv.add-response-header = ( "X-A" => "a\rb" )', /^\/etc\/test\.conf:2: setenv\.add-response-header: .*CR/],
    ['setenv.set-request-header = ( "X-A" => "a\nb" )', /^\/etc\/test\.conf:2: setenv\.set-request-header: .*LF/],
    ['setenv.add-request-header = ( "X-A" => "a\u0000b" )', /^\/etc\/test\.conf:2: setenv\.add-request-header: .*NUL/],
    ['setenv.add-request-header = ( "X-A" => "a\u0007b" )', /setenv\.add-request-header: .*control character/],
    ['setenv.add-environment = ( "A" => "x\ny" )', /^\/etc\/test\.conf:2: setenv\.add-environment: .*LF/],
    ['setenv.set-environment = ( "A=B" => "x" )', /setenv\.set-environment: .*not a valid environment variable name/],
    ['setenv.add-request-header = ( "Bad Name" => "x" )', /setenv\.add-request-header: .*not a valid header field name/],
    ['setenv.set-response-header = ( "Content-Length" => "5" )', /setenv\.set-response-header: .*frames the message/],
    ['setenv.add-request-header = ( "transfer-encoding" => "chunked" )', /frames the message/],
    ['setenv.add-response-header = "X-A: b"', /setenv\.add-response-header: expected/],
    ['setenv.set-environment = ( "A" => 5 )', /setenv\.set-environment: .*must be a string/],
  ];
  for (const [line, re] of cases) {
    const err = await load(line);
    assert.ok(err, `${JSON.stringify(line)} is refused`);
    assert.match(err!.message, re);
  }
});

T('good lists load, inside conditions too; an empty list is fine', async () => {
  assert.is(await load('setenv.add-response-header = ( "X-A" => "a\tb", "X-B" => "" )'), null);
  assert.is(await load('$HTTP["url"] =^ "/a" { setenv.set-environment = ( "A" => "é" ) }'), null);
  assert.is(await load('setenv.add-request-header = ( )'), null);
});

T('checks on their own', () => {
  assert.is(checkHeaderList(new ConfigHash([['X-Ok', 'v']])), undefined);
  assert.match(checkHeaderList(['a']) ?? '', /expected/);
  assert.is(checkEnvList(new ConfigHash([['PATH_X', 'a=b; c']])), undefined);
});

T('values: a tab becomes a space, leading and trailing spaces go; non-ASCII goes out as UTF-8 bytes', () => {
  assert.is(normaliseValue('  a\tb \t'), 'a b');
  assert.is(normaliseValue(''), '');
  const pairs = headerPairs(new ConfigHash([['X-Name', ' é ']]));
  assert.equal(pairs, [['X-Name', '\u00c3\u00a9']]);
});

T('header lists: add appends a line (empty adds nothing), set replaces every line case-insensitively, empty set removes', () => {
  const h = ['Host', 'a', 'x-one', '1', 'X-One', '2', 'Keep', 'k'];
  applyFields(h, [['X-Add', 'v'], ['X-Empty', '']], [['X-ONE', 'only'], ['Keep', ''], ['X-New', 'n']]);
  assert.equal(h, ['Host', 'a', 'X-Add', 'v', 'X-ONE', 'only', 'X-New', 'n']);
});

T('environments: add appends ", value" to a variable already set, set replaces; an empty add keeps a new variable', () => {
  const env: Array<[string, string]> = [['A', 'x'], ['E', '']];
  applyEnv(env, [['A', 'y'], ['B', ''], ['E', 'z']], [['C', '1'], ['A', 'final']]);
  assert.equal(env, [['A', 'final'], ['E', 'z'], ['B', ''], ['C', '1']]);
});

T.run();

// plugins/alias: lighttpd's matching rule (first prefix in config order), the traversal guard,
// the physical path and document root it gives, and the checks at boot.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import { checkAliasOrder, mapAlias, readAliases, type AliasEntry } from '../../../../plugins/alias/alias-map.js';

const T = suite('alias');

const entries = (pairs: Array<[string, string]>): AliasEntry[] => pairs.map(([prefix, target]) => ({ prefix, target }));

T('the first matching prefix wins; the rest of the path is appended to its target', () => {
  const a = entries([['/files/sub/', '/srv/sub/'], ['/files/', '/srv/files/'], ['/f', '/srv/f']]);
  assert.equal(mapAlias(a, '/files/sub/x.txt'), { kind: 'mapped', physicalPath: '/srv/sub/x.txt', docRoot: '/srv/sub/' });
  assert.equal(mapAlias(a, '/files/x.txt'), { kind: 'mapped', physicalPath: '/srv/files/x.txt', docRoot: '/srv/files/' });
  assert.equal(mapAlias(a, '/fun'), { kind: 'mapped', physicalPath: '/srv/fun', docRoot: '/srv/f' }, 'a prefix need not end at a slash');
  assert.equal(mapAlias(a, '/other'), { kind: 'none' });
  assert.equal(mapAlias(a, '/FILES/x.txt'), { kind: 'none' }, 'compared case-sensitively');
});

T('a prefix without a slash onto a target with one: one slash between them', () => {
  const a = entries([['/files', '/srv/files/']]);
  assert.equal(mapAlias(a, '/files/a.txt'), { kind: 'mapped', physicalPath: '/srv/files/a.txt', docRoot: '/srv/files/' });
  assert.equal(mapAlias(a, '/files/'), { kind: 'mapped', physicalPath: '/srv/files/', docRoot: '/srv/files/' });
  assert.equal(mapAlias(a, '/files'), { kind: 'mapped', physicalPath: '/srv/files/', docRoot: '/srv/files/' });
});

T('a single file can be aliased', () => {
  const a = entries([['/favicon.ico', '/srv/icons/site.ico']]);
  assert.equal(mapAlias(a, '/favicon.ico'), { kind: 'mapped', physicalPath: '/srv/icons/site.ico', docRoot: '/srv/icons/site.ico' });
});

T('/prefix.., /prefix../x and /prefix. are refused when the target ends in "/" and the prefix does not', () => {
  const a = entries([['/files', '/srv/files/']]);
  for (const p of ['/files..', '/files../etc/passwd', '/files.', '/files./x']) assert.equal(mapAlias(a, p), { kind: 'forbidden' }, p);
  // Not a climb: more dots, or a name going on.
  assert.equal(mapAlias(a, '/files.../x'), { kind: 'mapped', physicalPath: '/srv/files/.../x', docRoot: '/srv/files/' });
  assert.equal(mapAlias(a, '/files..x'), { kind: 'mapped', physicalPath: '/srv/files/..x', docRoot: '/srv/files/' });
  // A target without the slash only names a sibling (`/srv/files..`): served as lighttpd does.
  assert.equal(mapAlias(entries([['/files', '/srv/files']]), '/files../x'), { kind: 'mapped', physicalPath: '/srv/files../x', docRoot: '/srv/files' });
  // A prefix ending in "/" cannot be followed by "..": the normaliser removed such segments.
  assert.equal(mapAlias(entries([['/files/', '/srv/files/']]), '/files/..x'), { kind: 'mapped', physicalPath: '/srv/files/..x', docRoot: '/srv/files/' });
});

T('readAliases keeps config order and refuses a value that is not a string', () => {
  const h = new ConfigHash([['/b', '/srv/b'], ['/a', '/srv/a']]);
  assert.equal(readAliases(h), entries([['/b', '/srv/b'], ['/a', '/srv/a']]));
  assert.is(readAliases(new ConfigHash([['/a', ['x']]])), 'the value of "/a" must be a string (a file system path)');
});

T('checkAliasOrder: a prefix after a shorter prefix of itself is an error, the other order is fine', () => {
  assert.is(checkAliasOrder(entries([['/a/b', '1'], ['/a', '2'], ['/c', '3']])), undefined);
  assert.match(checkAliasOrder(entries([['/a', '1'], ['/c', '3'], ['/a/b', '2']])) ?? '', /"\/a\/b" will never match as "\/a" matched first/);
  assert.match(checkAliasOrder(entries([['', '1'], ['/x', '2']])) ?? '', /will never match/);
});

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('bad alias.url values stop the start with file:line and the key, in conditions too', async () => {
  const cases: Array<[string, RegExp]> = [
    ['alias.url = "/srv"', /test\.conf:2: alias\.url: expected \( "key" => value, \.\.\. \)/],
    ['alias.url = ( "/a" => 5 )', /test\.conf:2: alias\.url: the value of "\/a" must be a string/],
    ['$HTTP["host"] == "x" {\n  alias.url = ( "/a/" => "/x/", "/a/b/" => "/y/" )\n}', /test\.conf:3: alias\.url: "\/a\/b\/" will never match as "\/a\/" matched first/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_alias" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
  await validate('server.modules = ( "mod_alias" )\nalias.url = ( "/a/b" => "/x", "/a" => "/y" )\nalias.url += ( "/c" => "/z" )\n');
});

T.run();

// plugins/access: the allow/deny decision on the URL path, and the option checks at boot.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import { accessAllowed } from '../../../../plugins/access/access-rule.js';

const T = suite('access');

T('no lists: everything is allowed', () => {
  assert.ok(accessAllowed([], [], '/a.php'));
});

T('deny: a path ending in a listed suffix is refused; others pass', () => {
  assert.not.ok(accessAllowed([], ['~', '.inc'], '/backup.txt~'));
  assert.not.ok(accessAllowed([], ['~', '.inc'], '/lib/config.inc'));
  assert.ok(accessAllowed([], ['~', '.inc'], '/lib/config.inc.txt'));
  assert.ok(accessAllowed([], ['.inc'], '/lib/config.INC'), 'case-sensitive');
});

T('deny "" refuses every path, "/" included', () => {
  assert.not.ok(accessAllowed([], [''], '/'));
  assert.not.ok(accessAllowed([], [''], '/x'));
});

T('allow: only listed suffixes pass, and the deny list is not read', () => {
  assert.ok(accessAllowed(['.txt', '.html'], [''], '/a.txt'));
  assert.not.ok(accessAllowed(['.txt'], [], '/a.php'));
  assert.not.ok(accessAllowed(['.txt'], [], '/dir/'));
  assert.ok(accessAllowed(['.txt'], ['.txt'], '/a.txt'), 'allow wins over deny (lighttpd)');
});

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('a wrong type stops the start with file:line and the key', async () => {
  for (const line of ['url.access-deny = 5', 'url.access-allow = ( "a" => "b" )']) {
    try {
      await validate(`server.modules = ( "mod_access" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, new RegExp(`^/etc/lantern/test\\.conf:2: url\\.access-(deny|allow): expected a list of strings`), line);
    }
  }
});

T('a single string is taken as a one-item list; lists inside conditions are accepted', async () => {
  await validate('server.modules = ( "mod_access" )\nurl.access-deny = "~"\n$HTTP["url"] =~ "^/p/" { url.access-deny = ( "" ) }\n');
});

T.run();

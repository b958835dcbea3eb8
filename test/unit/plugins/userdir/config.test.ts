// plugins/userdir: wrong option values stop the start with file:line and the key.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';

const T = suite('userdir config');

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('wrong types are refused with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['userdir.path = ( "public_html" )', /test\.conf:2: userdir\.path: expected a string/],
    ['userdir.basepath = ( "/home" )', /test\.conf:2: userdir\.basepath: expected a string/],
    ['userdir.letterhomes = "maybe"', /test\.conf:2: userdir\.letterhomes: expected "enable" or "disable"/],
    ['userdir.active = "yes please"', /test\.conf:2: userdir\.active: expected "enable" or "disable"/],
    ['userdir.exclude-user = ( "a" => "b" )', /test\.conf:2: userdir\.exclude-user: expected a list of strings/],
    ['$HTTP["host"] == "x" { userdir.include-user = 5 }', /test\.conf:2: userdir\.include-user: expected a list of strings/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_userdir" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
});

T('the usual lighttpd config is accepted', async () => {
  await validate([
    'server.modules = ( "mod_userdir" )',
    'userdir.path = "public_html"',
    'userdir.exclude-user = ( "root", "postmaster" )',
    'userdir.basepath = "/home/"',
    'userdir.letterhomes = "enable"',
    '$HTTP["host"] == "x" { userdir.active = "disable" }',
    '',
  ].join('\n'));
});

T.run();

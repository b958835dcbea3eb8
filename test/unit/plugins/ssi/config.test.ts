// plugins/ssi: its keys as lighttpd writes them are accepted, wrong values stop the start with
// file:line and the key (their doc rows: test/unit/plugins/options-doc.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import ssi from '../../../../plugins/ssi/index.js';

const T = suite('ssi config');

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('wrong values are refused with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['ssi.recursion-max = "deep"', /test\.conf:2: ssi\.recursion-max: expected an integer/],
    ['ssi.recursion-max = "-1"', /test\.conf:2: ssi\.recursion-max: must be at least 0/],
    ['ssi.recursion-max = 40000', /test\.conf:2: ssi\.recursion-max: must be at most 32767/],
    ['ssi.exec = "perhaps"', /test\.conf:2: ssi\.exec: expected "enable" or "disable"/],
    ['ssi.conditional-requests = ( "a" )', /test\.conf:2: ssi\.conditional-requests: expected "enable" or "disable"/],
    ['ssi.extension = ( "a" => ".shtml" )', /test\.conf:2: ssi\.extension: expected a list of strings/],
    ['$HTTP["url"] =^ "/x" { ssi.content-type = ( "text/html" ) }', /test\.conf:2: ssi\.content-type: expected a string/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_ssi" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
});

T('the usual lighttpd config is accepted', async () => {
  await validate([
    'server.modules = ( "mod_ssi" )',
    'ssi.extension = ( ".shtml", ".shtm" )',
    'ssi.content-type = "text/html; charset=utf-8"',
    'ssi.conditional-requests = "enable"',
    'ssi.recursion-max = 10',
    '$HTTP["url"] =^ "/cgi/" { ssi.exec = "enable" }',
    '',
  ].join('\n'));
});

T.run();

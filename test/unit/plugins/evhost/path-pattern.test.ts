// plugins/evhost: the pattern parser (what lighttpd 1.4.69 refuses at boot), the host parts
// (%0 domain + TLD, %1.. labels from the right), %_, %% and the %{n.m} character picks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import { fillPathPattern, hostParts, parsePathPattern, type PatternPiece } from '../../../../plugins/evhost/path-pattern.js';

const T = suite('evhost');

function fill(pattern: string, host: string): string {
  const pieces = parsePathPattern(pattern);
  assert.type(pieces, 'object', `pattern ${pattern}: ${String(pieces)}`);
  return fillPathPattern(pieces as PatternPiece[], host);
}

T('host parts: %0 is the last two labels, %1.. count from the right, the port is not a part', () => {
  assert.equal(hostParts('sub2.sub1.example.org'), ['example.org', 'org', 'example', 'sub1', 'sub2']);
  assert.equal(hostParts('www.example.org:8080'), ['example.org', 'org', 'example', 'www']);
  assert.equal(hostParts('example.org'), ['example.org', 'org', 'example']);
  assert.equal(hostParts('localhost'), ['localhost', 'localhost']);
  assert.equal(hostParts('127.0.0.1:80'), ['0.1', '1', '0', '0', '127']);
  assert.equal(hostParts('[::1]:8080'), ['[::1]'], 'an IPv6 literal has only %0');
});

T('the documented examples', () => {
  assert.is(fill('/home/www/servers/%3/pages/', 'www.example.org'), '/home/www/servers/www/pages/');
  assert.is(fill('/home/%4/public_html/', 'johndoe.users.example.org'), '/home/johndoe/public_html/');
  assert.is(fill('/home/%{4.1}/%4/public_html/', 'johndoe.users.example.org'), '/home/j/johndoe/public_html/');
  assert.is(fill('/home/user/sites/%0/site/', 'example.org:81'), '/home/user/sites/example.org/site/');
});

T('%_ is the whole host without its port; %% is a percent sign; a trailing slash is added', () => {
  assert.is(fill('/srv/%_', 'www.example.org:8080'), '/srv/www.example.org/');
  assert.is(fill('/srv/%_/x', '[::1]:8080'), '/srv/[::1]/x/');
  assert.is(fill('/srv/100%%/%2', 'a.b.c'), '/srv/100%/b/');
});

T('%{n} is %n; %{n.0} the whole part; %{n.m} one character; past the end nothing', () => {
  assert.is(fill('/s/%{2}/', 'www.example.org'), '/s/example/');
  assert.is(fill('/s/%{2.0}/', 'www.example.org'), '/s/example/');
  assert.is(fill('/s/%{2.1}%{2.2}/%2/', 'www.example.org'), '/s/ex/example/');
  assert.is(fill('/s/%{1.9}x/', 'www.example.org'), '/s/x/');
  assert.is(fill('/s/%{0.4}/', 'www.example.org'), '/s/m/', '%0 is a part too');
});

T('a part the host does not have is empty (as in lighttpd)', () => {
  assert.is(fill('/s/%3/d', 'example.org'), '/s//d/');
  assert.is(fill('/s/%9', 'a.b'), '/s/');
  assert.is(fill('/s/%{5.1}/', 'a.b'), '/s//');
});

T('the parser refuses what lighttpd refuses and keeps digits single', () => {
  for (const bad of ['/s/%', '/s/%a', '/s/%{', '/s/%{x}', '/s/%{1', '/s/%{1.}', '/s/%{1.a}', '/s/%{12}', '/s/%{1.2']) {
    assert.type(parsePathPattern(bad), 'string', bad);
  }
  assert.equal(parsePathPattern('/s/%10'), [{ kind: 'text', text: '/s/' }, { kind: 'part', index: 1, char: 0 }, { kind: 'text', text: '0' }]);
  assert.equal(parsePathPattern('%_%%'), [{ kind: 'host' }, { kind: 'percent' }]);
});

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('a bad pattern stops the start with file:line and the key, in conditions too', async () => {
  const cases: Array<[string, RegExp]> = [
    ['evhost.path-pattern = "/srv/%x/"', /test\.conf:2: evhost\.path-pattern: invalid evhost\.path-pattern: "%" at offset 5/],
    ['$HTTP["host"] =~ "x" {\n  evhost.path-pattern = "/srv/%{3.x}/"\n}', /test\.conf:3: evhost\.path-pattern: invalid evhost\.path-pattern/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_evhost" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
  await validate('server.modules = ( "mod_evhost" )\nevhost.path-pattern = "/srv/%0/%{3.1}/%3/%_/%%/"\n');
});

T.run();

// Unit tests of plugins/proxy/server-config.ts: lighttpd 1.4 proxy.server forms, per-host keys, errors and warnings.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import type { ConfigHash, ConfigValue } from '../../../../config/model.js';
import { checkProxyServer, memberAddress, parseProxyServer, ProxyServerError } from '../../../../plugins/proxy/server-config.js';

const T = suite('proxy/server-config');

/** The proxy.server value of a one-line lighttpd config. */
function value(text: string): ConfigValue {
  const model = parseLighttpdConfig(`proxy.server = ${text}\n`, '/t/lighttpd.conf', { cwd: '/t' });
  return model.root.entries[0].value;
}

T('labelled hosts: members in order, labels kept, per-host timeouts read', () => {
  const { extensions, warnings } = parseProxyServer(value(`( "/app/" => (
    "a.example" => ( "host" => "127.0.0.1", "port" => 8080, "connect-timeout" => 3, "read-timeout" => 20, "write-timeout" => 7, "disable-time" => 9 ),
    "b.example" => ( "host" => "::1", "port" => "8081" ) ) )`));
  assert.equal(warnings, []);
  assert.is(extensions.length, 1);
  const [a, b] = extensions[0].hosts;
  assert.is(extensions[0].key, '/app/');
  assert.equal([a.label, a.member, a.connectTimeoutSecs, a.readTimeoutSecs, a.writeTimeoutSecs, a.disableTimeSecs], ['a.example', '127.0.0.1:8080', 3, 20, 7, 9]);
  assert.equal([b.label, b.member], ['b.example', '[::1]:8081']);
});

T('unlabelled list, unix sockets ("socket" and a "host" starting with "/"), hostnames', () => {
  const { extensions } = parseProxyServer(value(`( ".php" => ( ( "socket" => "/run/a.sock" ), ( "host" => "/run/b.sock" ), ( "host" => "app.internal", "port" => 9000 ) ) )`));
  assert.equal(extensions[0].hosts.map((h) => [h.label, h.member]), [['', 'unix:/run/a.sock'], ['', 'unix:/run/b.sock'], ['', 'app.internal:9000']]);
});

T('one host written without its own brackets is taken as one host', () => {
  const { extensions } = parseProxyServer(value(`( "" => ( "host" => "10.0.0.1", "port" => 80 ) )`));
  assert.equal(extensions.map((e) => [e.key, e.hosts.map((h) => h.member)]), [['', ['10.0.0.1:80']]]);
});

T('keys keep their order; a repeated key adds its hosts to the first', () => {
  const v = value(`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 1 ) ), ".x" => ( ( "host" => "127.0.0.1", "port" => 2 ) ) )`);
  // What `proxy.server += ( "/a/" => ... )` leaves: the key twice in one hash.
  const hash = v as ConfigHash;
  hash.entries.push(['/a/', hash.entries[1][1]]);
  const { extensions } = parseProxyServer(hash);
  assert.equal(extensions.map((e) => e.key), ['/a/', '.x']);
  assert.equal(extensions[0].hosts.map((h) => h.member), ['127.0.0.1:1', '127.0.0.1:2']);
});

T('upgrade, x-sendfile and x-sendfile-docroot (a trailing slash is added)', () => {
  const { extensions } = parseProxyServer(value(`( "" => ( ( "host" => "127.0.0.1", "port" => 1, "upgrade" => "enable", "x-sendfile" => "enable", "x-sendfile-docroot" => ( "/srv/files" ) ) ) )`));
  const h = extensions[0].hosts[0];
  assert.equal([h.upgrade, h.xSendfile, h.xSendfileDocroots], [true, true, ['/srv/files/']]);
});

T('errors name the extension, the host and the key', () => {
  const cases: Array<[string, RegExp]> = [
    [`( "/a/" => ( "one" => ( "host" => "127.0.0.1" ) ) )`, /"\/a\/" => "one": "port" is missing for host "127\.0\.0\.1"/],
    [`( "/a/" => ( ( "port" => 80 ) ) )`, /"\/a\/" => host #1: "host" \(or "socket"\) has to be set/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 70000 ) ) )`, /"port": expected an integer from 1 to 65535, got 70000/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => "http" ) ) )`, /"port": expected an integer/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 1, "socket" => "/s" ) ) )`, /either "host"\/"port" or "socket"/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 1, "mode" => "authorizer" ) ) )`, /authorizer/],
    [`( "/a/" => ( ( "bin-path" => "/usr/bin/app" ) ) )`, /"bin-path": mod_proxy does not start backends/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 1, "upgrade" => "maybe" ) ) )`, /"upgrade": expected "enable" or "disable"/],
    [`( "/a/" => ( ( "host" => "127.0.0.1", "port" => 1, "x-sendfile-docroot" => ( "rel" ) ) ) )`, /must begin with "\/"/],
    [`( "/a/" => "127.0.0.1:80" )`, /"\/a\/": expected/],
    [`( "127.0.0.1", "8080" )`, /expected \( "<prefix or extension>"/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseProxyServer(value(text)), (err: Error) => err instanceof ProxyServerError && re.test(err.message), text);
    assert.match(checkProxyServer(value(text)) ?? '', re);
  }
});

T('keys of other gateway modules warn; unknown keys and underscores stop the start (lighttpd\'s hint)', () => {
  const { warnings, extensions } = parseProxyServer(value(`( "" => ( ( "host" => "127.0.0.1", "port" => 1, "max-procs" => 4, "check-local" => "disable" ) ) )`));
  assert.is(extensions[0].hosts[0].member, '127.0.0.1:1');
  assert.is(warnings.length, 2);
  assert.match(warnings[0], /"max-procs": not used by mod_proxy/);
  assert.match(warnings[1], /"check-local": not used by mod_proxy/);
  assert.throws(() => parseProxyServer(value(`( "" => ( ( "host" => "127.0.0.1", "port" => 1, "check_local" => "disable" ) ) )`)), /underscore/);
  assert.throws(() => parseProxyServer(value(`( "" => ( ( "host" => "127.0.0.1", "port" => 1, "colour" => "blue" ) ) )`)), /"colour": unknown per-host option of mod_proxy/);
});

T('memberAddress brackets IPv6 literals once', () => {
  assert.is(memberAddress('10.1.2.3', 80), '10.1.2.3:80');
  assert.is(memberAddress('fe80::1', 80), '[fe80::1]:80');
  assert.is(memberAddress('[::1]', 81), '[::1]:81');
  assert.is(memberAddress('backend.example', 8080), 'backend.example:8080');
});

T.run();

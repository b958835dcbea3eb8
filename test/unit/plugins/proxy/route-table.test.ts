// Unit tests of plugins/proxy/route-table.ts: one backend per (proxy.server block, key), lighttpd's matching order, per-merge plans.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigMerger } from '../../../../config/merge.js';
import type { ConditionContext, ConfigModel } from '../../../../config/model.js';
import type { BackendHandle, BackendSpec } from '../../../../plugins/proxy-core/index.js';
import { configWarnings, matchRoute, RouteTable } from '../../../../plugins/proxy/route-table.js';

const T = suite('proxy/route-table');

function model(text: string): ConfigModel {
  return parseLighttpdConfig(text, '/etc/lantern/lighttpd.conf', { cwd: '/etc/lantern' });
}

function table(text: string) {
  const specs: BackendSpec[] = [];
  const m = model(text);
  const t = new RouteTable(m, (spec) => {
    specs.push(spec);
    return { name: spec.name } as BackendHandle;
  });
  return { m, t, specs };
}

const ctx = (url: string, host = 'www.example'): ConditionContext => ({
  host, url, querystring: '', remoteip: '127.0.0.1', scheme: 'http', method: 'GET', header: () => undefined, serverSocket: '127.0.0.1:80',
});

const CONF = `
proxy.server = ( "/app/" => ( ( "host" => "127.0.0.1", "port" => 8001 ), ( "host" => "127.0.0.1", "port" => 8002, "connect-timeout" => 2 ) ),
                 ".php" => ( "php.local" => ( "host" => "127.0.0.1", "port" => 9000, "connect-timeout" => 3, "read-timeout" => 30, "disable-time" => 5 ) ) )
proxy.balance = "round-robin"
$HTTP["host"] == "api.example" {
  proxy.server = ( "" => ( ( "socket" => "/run/api.sock" ) ) )
  proxy.balance = "sticky"
  proxy.forwarded = ( "for" => 1, "proto" => 1, "remote_user" => 1 )
  proxy.header = ( "force-http10" => "enable", "upgrade" => "enable" )
}
$HTTP["url"] =^ "/h/" { proxy.balance = "hash" }
`;

T('at boot: one backend per (block, key), named after file, line and key, with mapped options', () => {
  const { t, specs } = table(CONF);
  t.createAtBoot();
  assert.equal(specs.map((s) => s.name), ['proxy:lighttpd.conf:2:/app/', 'proxy:lighttpd.conf:2:.php', 'proxy:lighttpd.conf:6:']);
  const [app, php, api] = specs;
  assert.equal([app.protocol, app.balancer, app.members], ['http', 'round-robin', ['127.0.0.1:8001', '127.0.0.1:8002']]);
  assert.equal(app.options, { forwardedFor: true, preserveHost: true, upgrade: false });
  assert.equal(php.options, { forwardedFor: true, preserveHost: true, upgrade: false, connectTimeoutMs: 3000, readTimeoutMs: 30000, disableTimeMs: 5000 });
  assert.equal([api.balancer, api.hashKey, api.members, api.protocolOptions], ['sticky', 'client-ip', ['unix:/run/api.sock'], { httpVersion: '1.0' }]);
  assert.equal(api.options, { forwardedFor: true, preserveHost: true, upgrade: true, forwarded: true, forwardedParams: ['for', 'proto'] });
  assert.equal(api.loc, { file: '/etc/lantern/lighttpd.conf', line: 6 });
  assert.ok(t.entries.size === 2);
  const appEntry = [...t.entries.values()][0];
  assert.match(appEntry.warnings.join('\n'), /"\/app\/": hosts differ in connectTimeoutSecs/);
});

T('per request: lighttpd matching order, plans cached per merge, variants created once', () => {
  const { m, t, specs } = table(CONF);
  t.createAtBoot();
  const merger = new ConfigMerger(m);
  const plain = t.planFor(merger.merge(ctx('/app/x')).values)!;
  assert.is(matchRoute(plain, '/app/x')?.backend?.name, 'proxy:lighttpd.conf:2:/app/');
  assert.is(matchRoute(plain, '/index.php')?.backend?.name, 'proxy:lighttpd.conf:2:.php');
  assert.is(matchRoute(plain, '/app/index.php')?.key, '/app/', 'first key in config order wins');
  assert.is(matchRoute(plain, '/static/a.css'), null);
  assert.is(t.planFor(merger.merge(ctx('/app/y')).values), plain, 'same merge outcome, same plan');
  const api = t.planFor(merger.merge(ctx('/anything', 'api.example')).values)!;
  assert.is(matchRoute(api, '/anything')?.backend?.name, 'proxy:lighttpd.conf:6:', '"" matches every path');
  assert.is(specs.length, 3, 'no new backend for settings seen at boot');
  // /h/ switches the balance for the global proxy.server: a variant backend, created once.
  const hashed = t.planFor(merger.merge(ctx('/h/a.php')).values)!;
  assert.is(matchRoute(hashed, '/h/a.php')?.backend?.name, 'proxy:lighttpd.conf:2:.php#2');
  assert.equal([specs[specs.length - 1].balancer, specs[specs.length - 1].hashKey], ['hash', 'path']);
  const count = specs.length;
  t.planFor(merger.merge(ctx('/h/b.php')).values);
  assert.is(specs.length, count);
});

T('proxy.map-extensions maps a suffix onto an existing key', () => {
  const { m, t } = table(`proxy.server = ( ".php" => ( ( "host" => "127.0.0.1", "port" => 9000 ) ) )\nproxy.map-extensions = ( ".php3" => ".php" )\n`);
  const plan = t.planFor(new ConfigMerger(m).merge(ctx('/a.php3')).values)!;
  assert.is(matchRoute(plan, '/a.php3')?.key, '.php');
  assert.is(matchRoute(plan, '/a.php4'), null);
});

T('no proxy.server in the merged config: no plan', () => {
  const { m, t } = table(`$HTTP["url"] =^ "/p/" { proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => 1 ) ) ) }\n`);
  const merger = new ConfigMerger(m);
  assert.is(t.planFor(merger.merge(ctx('/other')).values), null);
  assert.ok(t.planFor(merger.merge(ctx('/p/x')).values));
});

T('a backend proxy-core refuses becomes a ConfigError naming the line', () => {
  const m = model(`server.port = 80\nproxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => 1 ) ) )\n`);
  const t = new RouteTable(m, () => { throw new Error('unknown balancer "fair"'); });
  assert.throws(() => t.createAtBoot(), /lighttpd\.conf:2: proxy\.server: "": unknown balancer "fair"/);
});

T('configWarnings: ignored keys, differing labels with replace-http-host, remote_user, connect', () => {
  const { m, t } = table(`proxy.replace-http-host = "enable"
proxy.server = ( "/" => ( "a" => ( "host" => "127.0.0.1", "port" => 1, "max-procs" => 2 ), "b" => ( "host" => "127.0.0.1", "port" => 2 ) ) )
proxy.forwarded = ( "remote_user" => 1 )
proxy.header = ( "connect" => "enable" )
`);
  m.root.entries[0].value = true; // as the option schema coerces "enable" at boot
  assert.equal(configWarnings(m, t), [
    '/etc/lantern/lighttpd.conf:2: proxy.server: "/" => "a": "max-procs": not used by mod_proxy; ignored',
    '/etc/lantern/lighttpd.conf:2: proxy.server: "/": proxy.replace-http-host needs one label for all hosts of a key; the client\'s Host is sent instead',
    '/etc/lantern/lighttpd.conf:3: proxy.forwarded: "remote_user" is not supported; left out of Forwarded',
    '/etc/lantern/lighttpd.conf:4: proxy.header: "connect" is not supported; CONNECT requests are answered 405',
  ]);
});

T.run();

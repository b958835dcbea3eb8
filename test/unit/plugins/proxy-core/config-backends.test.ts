// Unit tests of backends built from lighttpd 1.5 proxy-core.* keys (plugins/proxy-core/config-backends.ts, config-keys.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import type { ConfigBlock, ConfigModel } from '../../../../config/model.js';
import { coerceOption } from '../../../../core/options.js';
import type { Request } from '../../../../core/request.js';
import type { BackendSpec } from '../../../../plugins/proxy-core/api.js';
import { ConfigBackends, specFromConfig } from '../../../../plugins/proxy-core/config-backends.js';
import { PROXY_CORE_OPTIONS, secondsValue, type ProxyCoreKey } from '../../../../plugins/proxy-core/config-keys.js';
import type { ProxyCore } from '../../../../plugins/proxy-core/proxy-core.js';

const T = suite('proxy-core/config-backends');

/** Parse and coerce as the plugin host does at boot. */
function model(text: string): ConfigModel {
  const m = parseLighttpdConfig(text, '/etc/lantern/lighttpd.conf', { cwd: '/' });
  const visit = (b: ConfigBlock): void => {
    for (const e of b.entries) {
      const spec = PROXY_CORE_OPTIONS[e.key as ProxyCoreKey];
      if (!spec) continue;
      const r = coerceOption(spec, e.value);
      if ('error' in r) throw new Error(`${e.key}: ${r.error}`);
      e.value = r.value as typeof e.value;
    }
    for (const c of b.children) for (let l: ConfigBlock | null = c; l; l = l.else) visit(l);
  };
  visit(m.root);
  return m;
}

function stubCore(): { core: ProxyCore; specs: BackendSpec[] } {
  const specs: BackendSpec[] = [];
  const core = {
    addBackend(spec: BackendSpec) { specs.push(spec); return { name: spec.name }; },
    getBackend(name: string) { return specs.find((s) => s.name === name); },
  } as unknown as ProxyCore;
  return { core, specs };
}

T('seconds: integers, fractions, numeric strings', () => {
  assert.is(secondsValue(5), 5);
  assert.is(secondsValue('0.25'), 0.25);
  assert.is(secondsValue('x'), null);
  assert.is(secondsValue(-1), null);
  assert.ok(PROXY_CORE_OPTIONS['proxy-core.read-timeout'].check('soon'));
});

T('defaults and conversions', () => {
  const s = specFromConfig((k) => (k === 'proxy-core.backends' ? ['127.0.0.1:1'] : k === 'proxy-core.read-timeout' ? '0.5' : undefined), 'n', undefined);
  assert.is(s.protocol, 'http');
  assert.is(s.balancer, 'round-robin');
  assert.is(s.hashKey, 'url');
  assert.is(s.options!.readTimeoutMs, 500);
  assert.is(s.options!.disableTimeMs, 1000);
  assert.is(s.options!.maxPoolSize, 16);
  assert.is(s.options!.forwarded, false);
  assert.equal(s.protocolOptions, { httpVersion: '1.1' });
});

T('blocks inherit from their parents; equal settings share one backend; names point at the config', () => {
  const m = model(`
proxy-core.max-pool-size = 8
proxy-core.forwarded = ( "for" => "enable", "by" => 1 )
$HTTP["host"] == "a" { proxy-core.backends = ( "127.0.0.1:1" ) }
$HTTP["host"] == "b" { proxy-core.backends = ( "127.0.0.1:1" ) }
$HTTP["host"] == "c" {
  proxy-core.backends = ( "127.0.0.1:1" )
  proxy-core.disable-time = 3
} else $HTTP["host"] == "d" {
  proxy-core.backends = ( "127.0.0.1:2" )
}
`);
  const { core, specs } = stubCore();
  const cb = new ConfigBackends(core, m);
  assert.ok(cb.used);
  cb.build();
  assert.is(specs.length, 3);
  assert.equal(specs.map((s) => s.name), ['lighttpd.conf:4', 'lighttpd.conf:7', 'lighttpd.conf:10']);
  assert.is(specs[0]!.options!.maxPoolSize, 8, 'inherited');
  assert.equal(specs[0]!.options!.forwardedParams, ['for', 'by']);
  assert.is(specs[1]!.options!.disableTimeMs, 3000);
  assert.equal(specs[2]!.members, ['127.0.0.1:2']);
  assert.is(specs[0]!.loc!.line, 4);
});

T('per request: the merged values find their backend, cached per merge result; no backends → null', () => {
  const m = model('proxy-core.backends = ( "127.0.0.1:1" )\n');
  const { core, specs } = stubCore();
  const cb = new ConfigBackends(core, m);
  cb.build();
  const values = new Map(m.root.entries.map((e) => [e.key, e.value]));
  const req = { config: { values } } as unknown as Request;
  const b = cb.forRequest(req);
  assert.is(b?.name, specs[0]!.name);
  assert.is(cb.forRequest(req), b);
  assert.is(specs.length, 1, 'no second backend');
  const none = { config: { values: new Map() } } as unknown as Request;
  assert.is(cb.forRequest(none), null);
  assert.not.ok(new ConfigBackends(core, model('server.port = 80\n')).used);
});

T.run();

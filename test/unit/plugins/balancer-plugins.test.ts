// Unit tests of the balancer plugins' entry points (plugins/balancer-rr/index.ts,
// plugins/balancer-hash/index.ts): each declares its lighttpd module alias and its dependency on
// proxy-core, and registers its balancers with proxy-core's registry, or logs an error without it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginContext, PluginDefinition } from '../../../core/plugin.js';
import hashPlugin, { HASH, STICKY } from '../../../plugins/balancer-hash/index.js';
import rrPlugin, { FAIR, ROUND_ROBIN } from '../../../plugins/balancer-rr/index.js';
import type { BalancerDefinition } from '../../../plugins/proxy-core/types.js';

const T = suite('balancer plugins');

const CASES: Array<{ plugin: PluginDefinition; id: string; alias: string; balancers: BalancerDefinition[] }> = [
  { plugin: rrPlugin, id: 'balancer-rr', alias: 'mod_balancer_rr', balancers: [ROUND_ROBIN, FAIR] },
  { plugin: hashPlugin, id: 'balancer-hash', alias: 'mod_balancer_hash', balancers: [HASH, STICKY] },
];

/** A context whose server hands out `api` for proxy-core, recording error-log lines. */
function context(plugin: PluginDefinition, api: unknown, errors: string[]): PluginContext {
  const server = { host: { api: (id: string) => (id === 'proxy-core' ? api : undefined) } };
  return { id: plugin.id, server, logError: (m: string) => errors.push(m) } as unknown as PluginContext;
}

for (const c of CASES) {
  T(`${c.id}: declares its id, lighttpd module alias and dependency on proxy-core`, () => {
    assert.is(c.plugin.id, c.id);
    assert.equal(c.plugin.aliases, [c.alias]);
    assert.equal(c.plugin.requires, ['proxy-core']);
  });

  T(`${c.id}: create() registers ${c.balancers.map((b) => b.name).join(' and ')} with proxy-core`, async () => {
    const registered: BalancerDefinition[] = [];
    const errors: string[] = [];
    await c.plugin.create(context(c.plugin, { registerBalancer: (d: BalancerDefinition) => registered.push(d) }, errors));
    assert.is(registered.length, c.balancers.length);
    c.balancers.forEach((b, i) => assert.is(registered[i], b));
    assert.equal(errors, []);
  });

  T(`${c.id}: without proxy-core's registry it logs an error instead of throwing`, async () => {
    const errors: string[] = [];
    await c.plugin.create(context(c.plugin, undefined, errors));
    assert.is(errors.length, 1);
    assert.match(errors[0], /proxy-core/);
  });
}

T.run();

// Unit tests of plugins/balancer-rr/index.ts: the plugin registers round-robin and fair with proxy-core's registry.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginContext } from '../../../../core/plugin.js';
import plugin, { FAIR, ROUND_ROBIN } from '../../../../plugins/balancer-rr/index.js';
import type { BalancerDefinition } from '../../../../plugins/proxy-core/types.js';

const T = suite('balancer-rr/index');

/** A context whose server hands out `api` for proxy-core, recording error-log lines. */
function context(api: unknown, errors: string[]): PluginContext {
  const server = { host: { api: (id: string) => (id === 'proxy-core' ? api : undefined) } };
  return { id: plugin.id, server, logError: (m: string) => errors.push(m) } as unknown as PluginContext;
}

T('declares its id, lighttpd module alias and dependency on proxy-core', () => {
  assert.is(plugin.id, 'balancer-rr');
  assert.equal(plugin.aliases, ['mod_balancer_rr']);
  assert.equal(plugin.requires, ['proxy-core']);
});

T('create() registers round-robin and fair with proxy-core', async () => {
  const registered: BalancerDefinition[] = [];
  const errors: string[] = [];
  await plugin.create(context({ registerBalancer: (d: BalancerDefinition) => registered.push(d) }, errors));
  assert.is(registered.length, 2);
  assert.is(registered[0], ROUND_ROBIN);
  assert.is(registered[1], FAIR);
  assert.equal(errors, []);
});

T('without proxy-core\'s registry it logs an error instead of throwing', async () => {
  const errors: string[] = [];
  await plugin.create(context(undefined, errors));
  assert.is(errors.length, 1);
  assert.match(errors[0], /proxy-core/);
});

T.run();

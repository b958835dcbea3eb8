// balancer-hash: registers the `hash` (rendezvous, alias `carp`) and `sticky` (by client address)
// balancers with proxy-core's registry (design.md §3; lighttpd 1.4 proxy.balance, 1.5 carp).
import { definePlugin } from '../../core/plugin.js';
import type { BalancerDefinition } from '../proxy-core/types.js';
import { HASH, STICKY } from './rendezvous.js';

export { HASH, STICKY };

/** The part of proxy-core's shared API a balancer plugin uses. */
interface BalancerRegistry {
  registerBalancer(def: BalancerDefinition): void;
}

export default definePlugin({
  id: 'balancer-hash',
  aliases: ['mod_balancer_hash'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<BalancerRegistry>('proxy-core');
    if (!core) {
      ctx.logError('proxy-core exposes no balancer registry: hash and sticky are not registered');
      return;
    }
    core.registerBalancer(HASH);
    core.registerBalancer(STICKY);
  },
});

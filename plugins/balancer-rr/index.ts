// balancer-rr: registers the `round-robin` (smooth weighted) and `fair` (least active) balancers
// with proxy-core's registry (design.md §3; lighttpd 1.4 proxy.balance, h2o lib/common/balancer).
import { definePlugin } from '../../core/plugin.js';
import type { BalancerDefinition } from '../proxy-core/types.js';
import { FAIR } from './fair.js';
import { ROUND_ROBIN } from './round-robin.js';

export { FAIR, ROUND_ROBIN };

/** The part of proxy-core's shared API a balancer plugin uses. */
interface BalancerRegistry {
  registerBalancer(def: BalancerDefinition): void;
}

export default definePlugin({
  id: 'balancer-rr',
  aliases: ['mod_balancer_rr'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<BalancerRegistry>('proxy-core');
    if (!core) {
      ctx.logError('proxy-core exposes no balancer registry: round-robin and fair are not registered');
      return;
    }
    core.registerBalancer(ROUND_ROBIN);
    core.registerBalancer(FAIR);
  },
});

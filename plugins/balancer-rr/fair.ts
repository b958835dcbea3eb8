// Least-active selection, lighttpd 1.4's `proxy.balance = "fair"` and lighttpd 1.5's `sqf`
// (shortest queue first) (design.md §3, balancer-rr): the member with the fewest requests in
// flight per unit of weight wins; ties go round robin so idle members share the load.
import type { Request } from '../../core/request.js';
import type { Balancer, BalancerDefinition, MemberView } from '../proxy-core/types.js';
import { effectiveWeight } from './round-robin.js';

/** One backend's state: where the next tie-breaking scan starts. */
class LeastActive implements Balancer {
  private start = 0;

  select(members: readonly MemberView[], _req: Request, tried: ReadonlySet<MemberView>, nowMs: number): MemberView | null {
    const n = members.length;
    // The list may have shrunk since the last call (members removed at runtime).
    const first = this.start < n ? this.start : 0;
    let best: MemberView | null = null;
    let bestIndex = 0;
    let bestWeight = 1;
    for (let k = 0; k < n; k++) {
      let i = first + k;
      if (i >= n) i -= n;
      const m = members[i];
      if (tried.has(m) || !m.available(nowMs)) continue;
      const w = effectiveWeight(m);
      // active/w < best.active/bestWeight, cross-multiplied (both weights are positive). With
      // equal weights this is plain "fewest active"; strict `<` leaves ties to scan order.
      if (best === null || m.active * bestWeight < best.active * w) {
        best = m;
        bestIndex = i;
        bestWeight = w;
      }
    }
    if (best !== null) this.start = bestIndex + 1;
    return best;
  }
}

/** `fair` (lighttpd 1.4), alias `sqf` (lighttpd 1.5). */
export const FAIR: BalancerDefinition = {
  name: 'fair',
  aliases: ['sqf'],
  create: () => new LeastActive(),
};

// Smooth weighted round robin, as nginx's ngx_http_upstream_get_peer does it (design.md §3,
// balancer-rr): every eligible member adds its weight to a running score, the highest score
// wins and gives the round's total back, so 5:1:1 interleaves as a a b a c a a, never as five
// a's in a row.
import type { Request } from '../../core/request.js';
import type { Balancer, BalancerDefinition, MemberView } from '../proxy-core/types.js';

/**
 * The weight a balancer counts for a member. proxy-core validates configured weights; a weight
 * that is not a positive finite number still must neither starve the others nor stop the
 * scores from summing to zero, so it counts as the default, 1.
 */
export function effectiveWeight(member: MemberView): number {
  const w = member.weight;
  return w > 0 && w < Infinity ? w : 1;
}

/** One backend's round-robin state: a score per member, by position in the member list. */
class SmoothWeightedRoundRobin implements Balancer {
  /** The members' keys as last seen, to notice members added or removed at runtime. */
  private keys: string[] = [];
  private scores = new Float64Array(0);

  select(members: readonly MemberView[], _req: Request, tried: ReadonlySet<MemberView>, nowMs: number): MemberView | null {
    if (!this.sameMembers(members)) this.follow(members);
    const scores = this.scores;
    let total = 0;
    let best = -1;
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      // A member that may not take this request sits the round out, as in nginx: its score is
      // frozen, so the others' interleaving is unchanged and it resumes where it was.
      if (tried.has(m) || !m.available(nowMs)) continue;
      const w = effectiveWeight(m);
      scores[i] += w;
      total += w;
      // Strict `>`: on a tie the earlier member wins, which makes the cycle deterministic.
      if (best < 0 || scores[i] > scores[best]) best = i;
    }
    if (best < 0) return null;
    scores[best] -= total;
    return members[best];
  }

  /** Whether the list holds the same members, in the same order, as last time. */
  private sameMembers(members: readonly MemberView[]): boolean {
    const keys = this.keys;
    if (keys.length !== members.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== members[i].key) return false;
    return true;
  }

  /**
   * The list changed (a member added, removed or moved): re-learn positions, and keep each
   * remaining member's score by key so the change does not restart everyone's cycle. Compared
   * by key, not by object, so that a list rebuilt from fresh views keeps its state.
   */
  private follow(members: readonly MemberView[]): void {
    const old = new Map<string, number>();
    for (let i = 0; i < this.keys.length; i++) old.set(this.keys[i], this.scores[i]);
    this.keys = members.map((m) => m.key);
    this.scores = new Float64Array(members.length);
    for (let i = 0; i < members.length; i++) this.scores[i] = old.get(this.keys[i]) ?? 0;
  }
}

/** `round-robin` (lighttpd `proxy.balance = "round-robin"`), alias `rr`: weighted, interleaved. */
export const ROUND_ROBIN: BalancerDefinition = {
  name: 'round-robin',
  aliases: ['rr'],
  create: () => new SmoothWeightedRoundRobin(),
};

// Rendezvous (highest random weight) hashing, Thaler & Ravishankar 1998, in the weighted form
// score = -weight / ln(u) (Schindelhauer & Schomaker 2005; design.md §3, checklist E11): each
// member scores the request's key and the highest score wins, so a member that leaves moves
// only the keys it won, and they return when it comes back.
import type { Request } from '../../core/request.js';
import type { Balancer, BalancerDefinition, BalancerOptions, MemberView } from '../proxy-core/types.js';
import { compileHashKey, type HashKeyReader } from './hash-key.js';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** 2^-32: turns a 32-bit hash into a fraction. */
const TWO_POW_MINUS_32 = 1 / 4294967296;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, continuing from `state`: hashing the key
 * and then a member's key this way is hash(key + member.key) without building the string.
 */
export function fnv1a(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * MurmurHash3's 32-bit finaliser. FNV-1a's multiply carries a character's bits only upwards, so
 * keys that differ in their last characters would score members alike; this mixes every input
 * bit into every output bit.
 */
function fmix32(state: number): number {
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** See round-robin's effectiveWeight: a weight that is not positive and finite counts as 1. */
function effectiveWeight(member: MemberView): number {
  const w = member.weight;
  return w > 0 && w < Infinity ? w : 1;
}

/**
 * A member's score for a key whose FNV-1a state is `keyState`. u is the hash as a fraction in
 * (0, 1), never 0 or 1, so ln(u) is finite and negative; with every weight equal the order is
 * that of u, and a member of weight w wins a w/(sum of weights) share of the keys.
 */
export function rendezvousScore(keyState: number, member: MemberView): number {
  const u = (fmix32(fnv1a(keyState, member.key)) + 0.5) * TWO_POW_MINUS_32;
  return -effectiveWeight(member) / Math.log(u);
}

/** One backend's hashing balancer. */
class RendezvousBalancer implements Balancer {
  /** Counts requests without a key, to spread them (see select). */
  private keylessCount = 0;

  constructor(private readonly readKey: HashKeyReader) {}

  select(members: readonly MemberView[], req: Request, tried: ReadonlySet<MemberView>, nowMs: number): MemberView | null {
    const key = this.readKey(req);
    // A request without a key (no such header or cookie) has nothing to stick to: as nginx's
    // upstream hash does, spread those over the members instead of sending them all to one.
    const keyState = key.length > 0
      ? fnv1a(FNV_OFFSET_BASIS, key)
      : fmix32(this.keylessCount = (this.keylessCount + 1) >>> 0);
    let best: MemberView | null = null;
    let bestScore = 0;
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      // Skipping the key's own member leaves the next in rendezvous order as the highest (E11).
      if (tried.has(m) || !m.available(nowMs)) continue;
      const score = rendezvousScore(keyState, m);
      if (best === null || score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * `hash`, alias `carp` (lighttpd 1.5): consistent selection on BalancerOptions.hashKey (default
 * `url`). Throws at create() when hashKey is not a valid form.
 */
export const HASH: BalancerDefinition = {
  name: 'hash',
  aliases: ['carp'],
  create: (options: BalancerOptions) => new RendezvousBalancer(compileHashKey(options.hashKey || 'url')),
};

/**
 * `sticky` (lighttpd 1.4): `hash` keyed by the client's address. hashKey left at its default
 * (`url`, or empty) becomes `client-ip`; any other hashKey is used as given.
 */
export const STICKY: BalancerDefinition = {
  name: 'sticky',
  create: (options: BalancerOptions) => {
    const hashKey = !options.hashKey || options.hashKey === 'url' ? 'client-ip' : options.hashKey;
    return new RendezvousBalancer(compileHashKey(hashKey));
  },
};

// Unit tests of plugins/balancer-rr/round-robin.ts: smooth weighted round robin sequences, skipping tried and unavailable members, member list changes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '../../../../core/request.js';
import { ROUND_ROBIN } from '../../../../plugins/balancer-rr/round-robin.js';
import type { MemberView } from '../../../../plugins/proxy-core/types.js';
import { member } from '../../../helpers/fake-members.js';

const T = suite('balancer-rr/round-robin');



const req = {} as Request;
const NONE: ReadonlySet<MemberView> = new Set();

/** Keys of `count` successive selections. */
function picks(members: readonly MemberView[], count: number, balancer = ROUND_ROBIN.create({ hashKey: 'url' }), tried = NONE): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(balancer.select(members, req, tried, 0)?.key ?? 'null');
  return out;
}

T('names: round-robin, alias rr', () => {
  assert.is(ROUND_ROBIN.name, 'round-robin');
  assert.equal(ROUND_ROBIN.aliases, ['rr']);
});

T('weights 1/1/1: a b c, twice', () => {
  assert.equal(picks([member('a'), member('b'), member('c')], 6), ['a', 'b', 'c', 'a', 'b', 'c']);
});

T('weights 5/1/1: the smooth cycle a a b a c a a, then again', () => {
  const ms = [member('a', 5), member('b', 1), member('c', 1)];
  const cycle = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
  assert.equal(picks(ms, 14), [...cycle, ...cycle]);
});

T('weights 2/1: a b a, no burst', () => {
  assert.equal(picks([member('a', 2), member('b', 1)], 6), ['a', 'b', 'a', 'a', 'b', 'a']);
});

T('weights that are not positive finite numbers count as 1', () => {
  assert.equal(picks([member('a', 0), member('b', Number.NaN), member('c', -3)], 6), ['a', 'b', 'c', 'a', 'b', 'c']);
});

T('members in tried are skipped, and the others keep alternating', () => {
  const ms = [member('a'), member('b'), member('c')];
  assert.equal(picks(ms, 4, undefined, new Set([ms[0]])), ['b', 'c', 'b', 'c']);
});

T('unavailable members are skipped; once available they get their turn again', () => {
  const ms = [member('a'), member('b'), member('c')];
  const rr = ROUND_ROBIN.create({ hashKey: 'url' });
  ms[1].up = false;
  assert.equal(picks(ms, 4, rr), ['a', 'c', 'a', 'c']);
  ms[1].up = true;
  assert.equal(picks(ms, 3, rr).sort(), ['a', 'b', 'c']);
});

T('null when no member is left: all tried, all down, or an empty list', () => {
  const ms = [member('a'), member('b')];
  const rr = ROUND_ROBIN.create({ hashKey: 'url' });
  assert.is(rr.select(ms, req, new Set(ms), 0), null);
  ms[0].up = false;
  ms[1].up = false;
  assert.is(rr.select(ms, req, NONE, 0), null);
  assert.is(rr.select([], req, NONE, 0), null);
});

T('available() is asked with the nowMs given', () => {
  const seen: number[] = [];
  const m = { ...member('a'), available(nowMs: number) { seen.push(nowMs); return true; } };
  ROUND_ROBIN.create({ hashKey: 'url' }).select([m], req, NONE, 1234);
  assert.equal(seen, [1234]);
});

T('a member added at runtime joins the rotation; a removed one is never returned', () => {
  const rr = ROUND_ROBIN.create({ hashKey: 'url' });
  const [a, b, c] = [member('a'), member('b'), member('c')];
  assert.equal(picks([a, b], 2, rr), ['a', 'b']);
  assert.equal(picks([a, b, c], 3, rr).sort(), ['a', 'b', 'c']);
  assert.equal(picks([a, c], 4, rr).sort(), ['a', 'a', 'c', 'c']);
  assert.equal(picks([c], 2, rr), ['c', 'c']);
});

T('a list rebuilt from fresh views with the same keys continues the cycle', () => {
  const rr = ROUND_ROBIN.create({ hashKey: 'url' });
  const first = picks([member('a', 5), member('b', 1), member('c', 1)], 3, rr);
  const rest = picks([member('a', 5), member('b', 1), member('c', 1)], 4, rr);
  assert.equal([...first, ...rest], ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
});

T('a list whose order changes on every call (re-resolved addresses) keeps each member\'s share', () => {
  const rr = ROUND_ROBIN.create({ hashKey: 'url' });
  const [a, b, c] = [member('a', 2), member('b'), member('c')];
  const count: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 40; i++) count[rr.select(i % 2 ? [c, b, a] : [a, b, c], req, NONE, 0)!.key]++;
  assert.equal(count, { a: 20, b: 10, c: 10 });
});

T('each create() has its own state', () => {
  const ms = [member('a'), member('b')];
  const one = ROUND_ROBIN.create({ hashKey: 'url' });
  one.select(ms, req, NONE, 0);
  assert.is(ROUND_ROBIN.create({ hashKey: 'url' }).select(ms, req, NONE, 0)?.key, 'a');
});

T.run();

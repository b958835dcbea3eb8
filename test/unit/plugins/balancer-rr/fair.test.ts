// Unit tests of plugins/balancer-rr/fair.ts: fewest active requests per weight wins, ties round robin, tried and unavailable skipped.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '../../../../core/request.js';
import { FAIR } from '../../../../plugins/balancer-rr/fair.js';
import type { MemberView } from '../../../../plugins/proxy-core/types.js';

const T = suite('balancer-rr/fair');

interface FakeMember extends MemberView { up: boolean; active: number }

function member(key: string, active = 0, weight = 1): FakeMember {
  return {
    key, weight, up: true, active, state: 'up',
    address: { kind: 'tcp', host: '127.0.0.1', port: 1 },
    available() { return this.up; },
  };
}

const req = {} as Request;
const NONE: ReadonlySet<MemberView> = new Set();
const pick = (b: ReturnType<typeof FAIR.create>, ms: MemberView[], tried = NONE) => b.select(ms, req, tried, 0)?.key ?? null;

T('names: fair, alias sqf', () => {
  assert.is(FAIR.name, 'fair');
  assert.equal(FAIR.aliases, ['sqf']);
});

T('the member with the fewest active requests wins, wherever it is in the list', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  assert.is(pick(fair, [member('a', 3), member('b', 1), member('c', 2)]), 'b');
  assert.is(pick(fair, [member('a', 3), member('b', 4), member('c', 2)]), 'c');
  assert.is(pick(fair, [member('a', 0), member('b', 4), member('c', 2)]), 'a');
});

T('it follows active as requests start and finish', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  const ms = [member('a'), member('b')];
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    const m = fair.select(ms, req, NONE, 0) as FakeMember;
    m.active++;
    got.push(m.key);
  }
  assert.equal(got, ['a', 'b', 'a', 'b']);
  ms[0].active = 0;
  assert.is(pick(fair, ms), 'a');
});

T('ties are broken round robin', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  const ms = [member('a', 1), member('b', 1), member('c', 1), member('d', 5)];
  assert.equal([0, 1, 2, 3, 4, 5].map(() => pick(fair, ms)), ['a', 'b', 'c', 'a', 'b', 'c']);
});

T('active is compared per unit of weight', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  // a: 4/4 = 1 per weight, b: 2/1 = 2.
  assert.is(pick(fair, [member('a', 4, 4), member('b', 2, 1)]), 'a');
  // a: 9/4 > b: 2/1.
  assert.is(pick(fair, [member('a', 9, 4), member('b', 2, 1)]), 'b');
});

T('tried and unavailable members are skipped even when least active', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  const ms = [member('a', 0), member('b', 0), member('c', 7)];
  ms[1].up = false;
  assert.is(pick(fair, ms, new Set([ms[0]])), 'c');
});

T('null when none is available', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  const ms = [member('a'), member('b')];
  ms[0].up = false;
  assert.is(pick(fair, ms, new Set([ms[1]])), null);
  assert.is(pick(fair, []), null);
});

T('a list that shrank since the last call is handled', () => {
  const fair = FAIR.create({ hashKey: 'url' });
  const ms = [member('a'), member('b'), member('c'), member('d')];
  assert.equal([0, 1, 2, 3].map(() => pick(fair, ms)), ['a', 'b', 'c', 'd']);
  assert.equal([0, 1, 2].map(() => pick(fair, [ms[1], ms[2]])), ['b', 'c', 'b']);
});

T.run();

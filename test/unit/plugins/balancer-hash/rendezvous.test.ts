// Unit tests of plugins/balancer-hash/rendezvous.ts: stable keys, minimal movement when a member leaves and returns (E11), weights, tried/unavailable, sticky, determinism.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '../../../../core/request.js';
import { HASH, STICKY, fnv1a } from '../../../../plugins/balancer-hash/rendezvous.js';
import type { Balancer, MemberView } from '../../../../plugins/proxy-core/types.js';
import { member } from '../../../helpers/fake-members.js';

const T = suite('balancer-hash/rendezvous');



/** A Request with only what the hash keys read. */
function request(target: string, fields: Record<string, string> = {}, remoteAddress = '192.0.2.1'): Request {
  return {
    target, path: target.split('?')[0], host: 'example.com', conn: { remoteAddress },
    header: (name: string) => fields[name.toLowerCase()],
  } as unknown as Request;
}

const NONE: ReadonlySet<MemberView> = new Set();
const FIVE = ['10.0.0.1:8080', '10.0.0.2:8080', '[::1]:8080', 'unix:/run/app.sock', 'backend.example:80'];
const KEYS = Array.from({ length: 1000 }, (_, i) => `/item/${i}?page=${i % 13}`);

function pick(b: Balancer, members: readonly MemberView[], target: string, tried = NONE): string | null {
  return b.select(members, request(target), tried, 0)?.key ?? null;
}

/** Which member each of KEYS goes to. */
function assignment(b: Balancer, members: readonly MemberView[]): Array<string | null> {
  return KEYS.map((k) => pick(b, members, k));
}

T('names: hash with alias carp; sticky', () => {
  assert.is(HASH.name, 'hash');
  assert.equal(HASH.aliases, ['carp']);
  assert.is(STICKY.name, 'sticky');
});

T('fnv1a is 32-bit FNV-1a (the reference test vectors)', () => {
  assert.is(fnv1a(0x811c9dc5, ''), 0x811c9dc5);
  assert.is(fnv1a(0x811c9dc5, 'a'), 0xe40c292c);
  assert.is(fnv1a(0x811c9dc5, 'foobar'), 0xbf9cf968);
});

T('the same key goes to the same member, for 1000 keys, from any balancer instance', () => {
  const ms = FIVE.map((k) => member(k));
  const first = assignment(HASH.create({ hashKey: 'url' }), ms);
  const b = HASH.create({ hashKey: 'url' });
  assert.equal(assignment(b, ms), first);
  assert.equal(assignment(b, ms), first);
  // Every member gets a share: the key actually picks.
  for (const k of FIVE) assert.ok(first.filter((x) => x === k).length > 120, `${k} got too few keys`);
});

T('the order of the member list does not matter', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  assert.equal(assignment(b, [...ms].reverse()), assignment(b, ms));
});

T('deterministic across runs: fixed picks for fixed keys', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  const got = ['/', '/index.php', '/a?b=c', '/img/logo.png', '/api/v1/users/42', '/x', '/y', '/z'].map((k) => pick(b, ms, k));
  assert.equal(got, [
    'backend.example:80', 'backend.example:80', 'backend.example:80', '10.0.0.2:8080',
    '10.0.0.1:8080', 'unix:/run/app.sock', '[::1]:8080', 'unix:/run/app.sock',
  ]);
});

T('E11: removing one member of 5 moves only its keys, spread over the others; they come back when it returns', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  const before = assignment(b, ms);
  const gone = ms[2];
  const after = assignment(b, ms.filter((m) => m !== gone));
  const movedTo = new Set<string | null>();
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] === gone.key) movedTo.add(after[i]);
    else assert.is(after[i], before[i], `key ${KEYS[i]} moved though its member stayed`);
  }
  assert.is(movedTo.has(gone.key), false);
  assert.ok(movedTo.size >= 3, 'the leaving member\'s keys should spread over the others');
  assert.equal(assignment(b, ms), before);
});

T('E11: an unavailable member behaves as removed, and gets its keys back once available', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  const before = assignment(b, ms);
  const without = assignment(b, ms.filter((_, i) => i !== 1));
  ms[1].up = false;
  assert.equal(assignment(b, ms), without);
  ms[1].up = true;
  assert.equal(assignment(b, ms), before);
});

T('tried members → the next by rendezvous order', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  for (const key of KEYS.slice(0, 200)) {
    const first = ms.find((m) => m.key === pick(b, ms, key))!;
    const second = pick(b, ms, key, new Set([first]));
    assert.is(second, pick(b, ms.filter((m) => m !== first), key));
    const secondMember = ms.find((m) => m.key === second)!;
    const third = pick(b, ms, key, new Set([first, secondMember]));
    assert.is(third, pick(b, ms.filter((m) => m !== first && m !== secondMember), key));
    assert.ok(third !== first.key && third !== second);
  }
});

T('null when every member is tried or unavailable', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'url' });
  ms[0].up = false;
  assert.is(pick(b, ms, '/', new Set(ms.slice(1))), null);
  assert.is(pick(b, [], '/'), null);
});

T('weights skew the share of keys proportionally', () => {
  const ms = [member('a:1', 3), member('b:1', 1), member('c:1', 1), member('d:1', 1)];
  const b = HASH.create({ hashKey: 'url' });
  const n = 20000;
  const count = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = pick(b, ms, `/w/${i}`)!;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const share = (k: string) => (count.get(k) ?? 0) / n;
  assert.ok(Math.abs(share('a:1') - 0.5) < 0.02, `a: ${share('a:1')}`);
  for (const k of ['b:1', 'c:1', 'd:1']) assert.ok(Math.abs(share(k) - 1 / 6) < 0.02, `${k}: ${share(k)}`);
});

T('requests without a key are spread over the members instead of all going to one', () => {
  const ms = FIVE.map((k) => member(k));
  const b = HASH.create({ hashKey: 'cookie:session' });
  const count = new Map<string, number>();
  for (let i = 0; i < 500; i++) {
    const k = b.select(ms, request('/same'), NONE, 0)!.key;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  assert.is(count.size, 5);
  for (const c of count.values()) assert.ok(c > 50, `uneven spread: ${[...count.values()]}`);
  // With the cookie, the same member every time.
  const withCookie = (i: number) => b.select(ms, request(`/p${i}`, { cookie: 'session=abc' }), NONE, 0)!.key;
  assert.equal([1, 2, 3, 4].map(withCookie), [0, 0, 0, 0].map(() => withCookie(0)));
});

T('hashKey selects what is hashed: host ignores the URL', () => {
  const ms = FIVE.map((k) => member(k));
  const byHost = HASH.create({ hashKey: 'host' });
  const byUrl = HASH.create({ hashKey: 'url' });
  assert.is(new Set(KEYS.map((k) => pick(byHost, ms, k))).size, 1);
  assert.is(new Set(KEYS.map((k) => pick(byUrl, ms, k))).size, 5);
});

T('sticky hashes the client address when hashKey is left at its default', () => {
  const ms = FIVE.map((k) => member(k));
  for (const hashKey of ['url', '']) {
    const b = STICKY.create({ hashKey });
    const one = new Set(KEYS.map((k) => b.select(ms, request(k, {}, '198.51.100.7'), NONE, 0)!.key));
    assert.is(one.size, 1);
    const clients = new Set(Array.from({ length: 200 }, (_, i) => b.select(ms, request('/', {}, `10.1.${i >> 8}.${i & 255}`), NONE, 0)!.key));
    assert.is(clients.size, 5);
  }
});

T('sticky with another hashKey uses it', () => {
  const ms = FIVE.map((k) => member(k));
  const b = STICKY.create({ hashKey: 'header:X-Tenant' });
  const tenant = (t: string, ip: string) => b.select(ms, request('/', { 'x-tenant': t }, ip), NONE, 0)!.key;
  assert.is(tenant('acme', '10.0.0.1'), tenant('acme', '10.9.9.9'));
});

T('an invalid hashKey is rejected at create() with a message naming it', () => {
  for (const def of [HASH, STICKY]) {
    assert.throws(() => def.create({ hashKey: 'ip' }), /invalid hash key "ip"/);
    assert.throws(() => def.create({ hashKey: 'header:' }), /invalid hash key "header:"/);
  }
});

T.run();

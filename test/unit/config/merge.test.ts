// Tests for config/merge.ts: merge order (global, then matching blocks in document order),
// nesting, else chains, the outcome cache and per-request captures; globalValues, socketBlocks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../config/lighttpd/parser.js';
import { ConfigMerger, globalValues, socketBlocks } from '../../../config/merge.js';
import type { ConditionContext, ConfigModel } from '../../../config/model.js';

const Merge = suite('merge');

function model(text: string): ConfigModel {
  return parseLighttpdConfig(text, 'm.conf', { env: {}, cwd: '/' });
}

function ctx(over: Partial<ConditionContext> = {}): ConditionContext {
  return {
    host: 'example.org',
    url: '/',
    querystring: '',
    remoteip: '127.0.0.1',
    scheme: 'http',
    method: 'GET',
    serverSocket: '127.0.0.1:8080',
    header: () => undefined,
    ...over,
  };
}

const CONF = [
  'a.v = "global"',
  'a.keep = 1',
  '$HTTP["host"] == "a.example" {',
  '  a.v = "host-a"',
  '  $HTTP["url"] =~ "^/(api)/(v\\d)" {',
  '    a.v = "host-a-api"',
  '  }',
  '} else $HTTP["host"] == "b.example" {',
  '  a.v = "host-b"',
  '} else {',
  '  a.v = "other-host"',
  '}',
  '$HTTP["url"] =^ "/static/" {',
  '  a.static = "yes"',
  '}',
  '$HTTP["scheme"] == "https" {',
  '  a.v := "https"',
  '}',
].join('\n');

Merge('global values, then matching blocks in document order; later wins', () => {
  const m = new ConfigMerger(model(CONF));
  const r = m.merge(ctx({ host: 'a.example', url: '/static/x', scheme: 'https' }));
  assert.equal(Object.fromEntries(r.values), { 'a.v': 'https', 'a.keep': 1, 'a.static': 'yes' });
  assert.equal(r.matched, [0, 1, 5, 6]);
  assert.equal(r.locs.get('a.v'), { file: 'm.conf', line: 17 });
  assert.equal(r.locs.get('a.keep'), { file: 'm.conf', line: 2 });
});

Merge('nested blocks only when the parent matched; captures from the last regex', () => {
  const m = new ConfigMerger(model(CONF));
  const r = m.merge(ctx({ host: 'a.example', url: '/api/v2/users' }));
  assert.is(r.values.get('a.v'), 'host-a-api');
  assert.equal(r.matched, [0, 1, 2]);
  assert.equal(r.captures, ['/api/v2', 'api', 'v2']);
  const other = m.merge(ctx({ host: 'z.example', url: '/api/v2/users' }));
  assert.is(other.values.get('a.v'), 'other-host');
  assert.equal(other.captures, []);
});

Merge('else chains: first matching link only', () => {
  const m = new ConfigMerger(model(CONF));
  assert.is(m.merge(ctx({ host: 'b.example' })).values.get('a.v'), 'host-b');
  assert.equal(m.merge(ctx({ host: 'b.example' })).matched, [0, 3]);
  assert.equal(m.merge(ctx({ host: 'c.example' })).matched, [0, 4]);
  assert.equal(m.merge(ctx({ host: 'a.example' })).matched, [0, 1]);
});

Merge('cache: different outcomes give different maps; the same outcome reuses the map', () => {
  const m = new ConfigMerger(model(CONF));
  const a1 = m.merge(ctx({ host: 'a.example', url: '/x' }));
  const b = m.merge(ctx({ host: 'b.example', url: '/x' }));
  const a2 = m.merge(ctx({ host: 'a.example', url: '/y' }));
  assert.is.not(a1.values, b.values);
  assert.is(a1.values, a2.values);
  assert.is(a1.locs, a2.locs);
  assert.is(m.cacheSize, 2);
  assert.is(a1.values.get('a.v'), 'host-a');
  assert.is(b.values.get('a.v'), 'host-b');
});

Merge('captures are per request even when the outcome (and the map) is shared', () => {
  const m = new ConfigMerger(model('$HTTP["url"] =~ "^/u/(\\w+)" {\n  a.x = 1\n}'));
  const r1 = m.merge(ctx({ url: '/u/alice' }));
  const r2 = m.merge(ctx({ url: '/u/bob' }));
  assert.is(r1.values, r2.values);
  assert.equal(r1.captures, ['/u/alice', 'alice']);
  assert.equal(r2.captures, ['/u/bob', 'bob']);
});

Merge('the cache is bounded (1024 outcome vectors) and keeps the recently used', () => {
  const blocks = Array.from({ length: 11 }, (_, i) => `$REQUEST_HEADER["X-${i}"] == "1" {\n a.x${i} = 1\n}`).join('\n');
  const m = new ConfigMerger(model(blocks));
  const withBits = (n: number): ConditionContext => ctx({ header: (name) => ((n >> Number(name.slice(2))) & 1 ? '1' : undefined) });
  const first = m.merge(withBits(0));
  for (let n = 1; n < 1100; n++) {
    m.merge(withBits(n));
    if (n % 100 === 0) m.merge(withBits(0)); // keep outcome 0 recent
  }
  assert.is(m.cacheSize, 1024);
  assert.is(m.merge(withBits(0)).values, first.values, 'recently used entry survived');
  const r = m.merge(withBits(5));
  assert.equal([...r.values.keys()].sort(), ['a.x0', 'a.x2']);
});

Merge('globalValues: root entries only, last wins', () => {
  const g = globalValues(model('server.port = 80\nserver.port := 81\n$HTTP["host"] == "a" {\n server.tag = "x"\n}'));
  assert.equal(Object.fromEntries(g), { 'server.port': 81 });
});

Merge('socketBlocks: every $SERVER["socket"] == block, nested and in else chains', () => {
  const m = model([
    '$SERVER["socket"] == ":8443" {',
    '  ssl.engine = "enable"',
    '}',
    '$SERVER["socket"] != ":9000" {',
    '}',
    '$HTTP["host"] == "a" {',
    '  $SERVER["socket"] == "127.0.0.1:81" {',
    '  }',
    '} else $SERVER["socket"] == "[::1]:82" {',
    '}',
  ].join('\n'));
  const s = socketBlocks(m);
  assert.equal(s.map((b) => [b.value, b.loc.line]), [[':8443', 1], ['127.0.0.1:81', 7], ['[::1]:82', 9]]);
  assert.is(s[0].block.entries[0].key, 'ssl.engine');
});

Merge.run();

// Tests for core/http1/authority.ts: host[:port] validation (RFC 9110 §4.2.3, RFC 3986 §3.2.2; checklist B3).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeAuthority } from '../../../../core/http1/authority.js';

const Authority = suite('authority');

Authority('reg-names and IPv4 are lowercased, a trailing dot dropped', () => {
  assert.is(normalizeAuthority('Example.COM', false), 'example.com');
  assert.is(normalizeAuthority('example.com.', false), 'example.com');
  assert.is(normalizeAuthority('example.com.:443', false), 'example.com:443');
  assert.is(normalizeAuthority('10.0.0.1:8080', false), '10.0.0.1:8080');
  assert.is(normalizeAuthority('my_host-1', false), 'my_host-1');
  const same = 'localhost:80';
  assert.is(normalizeAuthority(same, false), same);
});

Authority('IPv6 literals', () => {
  assert.is(normalizeAuthority('[::1]', false), '[::1]');
  assert.is(normalizeAuthority('[2001:DB8::1]:443', false), '[2001:db8::1]:443');
  assert.is(normalizeAuthority('[::ffff:10.0.0.1]', false), '[::ffff:10.0.0.1]');
  for (const bad of ['[::1', '[]', '[::1]x', '[zz]', '[fe80::1%eth0]', '[fe80::1%25eth0]', '[v1.fe]', '[::1]:', '[1.2.3.4]']) {
    assert.is(normalizeAuthority(bad, false), null, bad);
  }
});

Authority('ports: 1 to 5 digits, at most 65535', () => {
  assert.is(normalizeAuthority('a:0', false), 'a:0');
  assert.is(normalizeAuthority('a:65535', false), 'a:65535');
  for (const bad of ['a:', 'a:65536', 'a:99999', 'a:123456', 'a:8a', 'a:-1', 'a: 80', 'a:80:80']) {
    assert.is(normalizeAuthority(bad, false), null, bad);
  }
});

Authority('B3 bad hosts', () => {
  for (const bad of ['', 'bad host', '..a', 'a..b', '.a', '.', ':80', 'u@a', 'a/b', 'a%41', 'caf\xe9', 'a\tb', 'a,b', '*']) {
    assert.is(normalizeAuthority(bad, false), null, JSON.stringify(bad));
  }
});

Authority('requirePort (CONNECT authority-form)', () => {
  assert.is(normalizeAuthority('a', true), null);
  assert.is(normalizeAuthority('[::1]', true), null);
  assert.is(normalizeAuthority('A:443', true), 'a:443');
});

Authority.run();

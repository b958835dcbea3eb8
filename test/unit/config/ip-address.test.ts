// Tests for config/ip-address.ts: RFC 4291 §2.2 text forms, IPv4-mapped storage, CIDR masks.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatIp, ipMatches, parseIpInto, parseIpMask } from '../../../config/ip-address.js';

const IpAddress = suite('ip-address');

function parsed(text: string): string | null {
  const b = new Uint8Array(16);
  return parseIpInto(text, b) ? formatIp(b) : null;
}

IpAddress('valid forms', () => {
  assert.is(parsed('10.1.2.3'), '10.1.2.3');
  assert.is(parsed('::'), '0:0:0:0:0:0:0:0');
  assert.is(parsed('::1'), '0:0:0:0:0:0:0:1');
  assert.is(parsed('1::'), '1:0:0:0:0:0:0:0');
  assert.is(parsed('2001:DB8::8:800:200C:417A'), '2001:db8:0:0:8:800:200c:417a');
  assert.is(parsed('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
  assert.is(parsed('::ffff:192.0.2.1'), '192.0.2.1', 'IPv4-mapped reads as IPv4');
  assert.is(parsed('64:ff9b::192.0.2.1'), '64:ff9b:0:0:0:0:c000:201');
  assert.is(parsed('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1');
});

IpAddress('invalid forms', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '1:2:3:4:5:6:7:8:9', ':::', '1::2::3',
    ':1:2', '1:2:', '12345::', '1:2:3:4:5:6:7::8', '::1.2.3', 'g::1', '%eth0', '1.2.3.4 ']) {
    assert.is(parsed(bad), null, bad);
  }
});

IpAddress('masks: IPv4 bits count over the mapped form; bad masks are null', () => {
  assert.is(parseIpMask('10.0.0.0/8')!.bits, 104);
  assert.is(parseIpMask('2001:db8::/32')!.bits, 32);
  assert.is(parseIpMask('[::1]')!.bits, 128);
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'host/8']) assert.is(parseIpMask(bad), null, bad);
  const b = new Uint8Array(16);
  parseIpInto('10.255.0.1', b);
  assert.ok(ipMatches(parseIpMask('10.0.0.0/8')!, b));
  assert.not.ok(ipMatches(parseIpMask('10.0.0.0/9')!, b));
  assert.ok(ipMatches(parseIpMask('10.128.0.0/9')!, b));
});

IpAddress('property: every IPv6 text parses to the same bytes as its canonical form', () => {
  fc.assert(fc.property(fc.ipV6(), (ip) => {
    const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    assert.is(parsed(ip), parsed(canonical));
    assert.ok(parsed(ip) !== null);
  }), { numRuns: 500 });
});

IpAddress('property: every IPv4 text round-trips and matches its own /32 and /0', () => {
  fc.assert(fc.property(fc.ipV4(), (ip) => {
    assert.is(parsed(ip), ip);
    const b = new Uint8Array(16);
    parseIpInto(ip, b);
    assert.ok(ipMatches(parseIpMask(`${ip}/32`)!, b));
    assert.ok(ipMatches(parseIpMask('0.0.0.0/0')!, b));
  }), { numRuns: 500 });
});

IpAddress.run();

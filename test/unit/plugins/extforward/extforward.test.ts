// Unit tests of plugins/extforward: the trust list (addresses, CIDR masks, "all"), reading
// X-Forwarded-For-style lists and RFC 7239 Forwarded (lighttpd 1.4.69 mod_extforward), the HAProxy
// PROXY protocol v1/v2 parser, and the config checks through the real parser and plugin host.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash } from '../../../../config/model.js';
import { Server } from '../../../../core/server.js';
import { addressTokens, forwardedClient, lastUntrusted, parseForwarded } from '../../../../plugins/extforward/forwarded-header.js';
import { parseProxyHeader } from '../../../../plugins/extforward/proxy-protocol.js';
import { checkForwarder, clientAddress, isTrustedAddress, isTrustedPeer, trustList } from '../../../../plugins/extforward/trust-list.js';

const T = suite('extforward');

const trust = trustList(new ConfigHash([['10.0.0.0/8', 'trust'], ['192.0.2.1', 'trust'], ['2001:db8::/32', 'trust'], ['10.9.9.9', 'untrusted']]));

T('trust list: single addresses (any spelling), CIDR masks, "untrusted" entries; "all" only for the peer', () => {
  assert.ok(isTrustedAddress(trust, '10.1.2.3'));
  assert.ok(isTrustedAddress(trust, '192.0.2.1'));
  assert.ok(isTrustedAddress(trust, '::ffff:192.0.2.1'));
  assert.ok(isTrustedAddress(trust, '2001:DB8:0::5'));
  assert.not.ok(isTrustedAddress(trust, '10.9.9.9'), 'an exact "untrusted" entry wins over the mask');
  assert.not.ok(isTrustedAddress(trust, '192.0.2.2'));
  assert.not.ok(isTrustedAddress(trust, 'not-an-ip'));
  const all = trustList(new ConfigHash([['all', 'trust'], ['10.0.0.1', 'trust']]));
  assert.ok(isTrustedPeer(all, '203.0.113.1'));
  assert.not.ok(isTrustedAddress(all, '203.0.113.1'), '"all" does not trust the addresses inside a header');
  const none = trustList(new ConfigHash([['all', 'untrusted'], ['10.0.0.1', 'trust']]));
  assert.not.ok(isTrustedPeer(none, '10.0.0.1'), '"all" => "untrusted" trusts no peer (lighttpd)');
});

T('forwarder check: values trust/untrusted (any case), keys addresses, masks or "all"', () => {
  assert.is(checkForwarder(new ConfigHash([['all', 'TRUST'], ['::1', 'trust'], ['10.0.0.0/8', 'trust'], ['10.0.0.9', 'untrusted']])), undefined);
  assert.match(checkForwarder(new ConfigHash([['10.0.0.1', 'yes']])) ?? '', /expected "trust" or "untrusted"/);
  assert.match(checkForwarder(new ConfigHash([['example.org', 'trust']])) ?? '', /not an IP address or a CIDR mask/);
  assert.match(checkForwarder(new ConfigHash([['10.0.0.0/33', 'trust']])) ?? '', /not an IP address/);
  assert.match(checkForwarder(new ConfigHash([['10.0.0.0/8', 'untrusted']])) ?? '', /CIDR mask can only be "trust"/);
  assert.match(checkForwarder(['10.0.0.1']) ?? '', /expected/);
});

T('client addresses: numeric only, IPv6 lowercased, IPv4-mapped as the dotted quad', () => {
  assert.is(clientAddress('203.0.113.9'), '203.0.113.9');
  assert.is(clientAddress('2001:DB8::1'), '2001:db8::1');
  assert.is(clientAddress('::ffff:198.51.100.1'), '198.51.100.1');
  assert.is(clientAddress('cafe'), null);
  assert.is(clientAddress('1.2.3'), null);
  assert.is(clientAddress('fe80::1%eth0'), null);
  assert.is(clientAddress(''), null);
});

T('X-Forwarded-For: address runs, the rightmost untrusted one; null when all are trusted', () => {
  assert.equal(addressTokens('203.0.113.9, 10.1.2.3'), ['203.0.113.9', '10.1.2.3']);
  assert.equal(addressTokens(' "2001:db8::1",unknown ; 1.2.3.4'), ['2001:db8::1', '1.2.3.4']);
  assert.is(lastUntrusted(addressTokens('1.1.1.1, 203.0.113.9, 10.1.2.3, 192.0.2.1'), trust), '203.0.113.9');
  assert.is(lastUntrusted(addressTokens('10.1.1.1, 10.2.2.2'), trust), null);
  assert.is(lastUntrusted([], trust), null);
});

T('Forwarded: elements, pairs, quoted strings with , and ; inside, pairs without "=" skipped', () => {
  assert.equal(parseForwarded('for=1.2.3.4;proto=https, for="[::1]:80";by="a,b;c"'), [[['for', '1.2.3.4'], ['proto', 'https']], [['for', '"[::1]:80"'], ['by', '"a,b;c"']]]);
  assert.equal(parseForwarded('junk; For=1.2.3.4'), [[['for', '1.2.3.4']]]);
  assert.is(typeof parseForwarded('for="1.2.3.4'), 'string');
  assert.is(typeof parseForwarded(Array.from({ length: 70 }, (_, i) => `for=10.0.0.${i}`).join(',')), 'string');
});

T('Forwarded: the first untrusted for= from the right, with its proto/host/remote_user', () => {
  const r = forwardedClient('for=198.51.100.17;proto=https;host="App.Example";remote_user="al\\"ice", for=10.0.0.5', trust);
  assert.equal(r, { kind: 'found', address: '198.51.100.17', proto: 'https', host: 'app.example', remoteUser: 'al"ice' });
  assert.equal(forwardedClient('for="[2001:db8:1::1]:4711"', trustList(new ConfigHash([]))), { kind: 'found', address: '2001:db8:1::1' });
  assert.equal(forwardedClient('for="198.51.100.1:8080"', trust), { kind: 'found', address: '198.51.100.1' });
  // An obfuscated node ends the walk but is never the client: the last real address before it is.
  assert.equal(forwardedClient('for=203.0.113.1, for=_hidden, for=10.0.0.5', trust), { kind: 'found', address: '10.0.0.5' });
  assert.equal(forwardedClient('for=203.0.113.1, for=_hidden', trust), { kind: 'none' });
  // With every node trusted, the furthest one (lighttpd).
  assert.equal(forwardedClient('for=10.1.1.1, for=10.0.0.5', trust), { kind: 'found', address: '10.1.1.1' });
  assert.equal(forwardedClient('for=unknown', trust), { kind: 'none' });
  assert.equal(forwardedClient('proto=https', trust), { kind: 'none' });
  // host from a later element when the chosen one has none; remote_user from the closest proxy.
  assert.equal(forwardedClient('for=203.0.113.1, for=10.0.0.5;host=later.example;remote_user=bob', trust),
    { kind: 'found', address: '203.0.113.1', host: 'later.example', remoteUser: 'bob' });
  assert.equal(forwardedClient('for="[::1"', trust), { kind: 'bad', reason: 'Invalid IPv6 addr in Forwarded header' });
  assert.equal(forwardedClient('for="[::1]', trust), { kind: 'bad', reason: 'invalid quoted-string in Forwarded header' });
  assert.equal(forwardedClient('for="[]"', trust).kind, 'bad');
  assert.equal(forwardedClient('for=1.2.3.4;host="x\\"', trust).kind, 'bad');
});

T('lighttpd 1.4.69 tests/request.t "mod_extforward" cases', () => {
  const t = trustList(new ConfigHash([['127.0.0.1', 'trust'], ['127.0.30.1', 'trust']]));
  assert.is(lastUntrusted(addressTokens('127.0.10.1'), t), '127.0.10.1');
  assert.is(lastUntrusted(addressTokens('127.0.10.1, 127.0.20.1'), t), '127.0.20.1');
  assert.is(lastUntrusted(addressTokens('127.0.10.1, 127.0.20.1, 127.0.30.1'), t), '127.0.20.1');
  assert.equal(forwardedClient('for=127.0.10.1, for=127.0.20.1;proto=https, for=127.0.30.1;proto=http', t),
    { kind: 'found', address: '127.0.20.1', proto: 'https' });
});

T('PROXY v1: TCP4, TCP6, UNKNOWN; incomplete; refusals', () => {
  const ok = parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 56324 80\r\nGET / HTTP/1.1\r\n'));
  assert.equal(ok, { kind: 'header', consumed: 41, address: '192.0.2.7', port: 56324 });
  const v6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8::7 ::1 4000 443\r\n'));
  assert.equal(v6, { kind: 'header', consumed: 37, address: '2001:db8::7', port: 4000 });
  assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', consumed: 15 });
  assert.equal(parseProxyHeader(Buffer.from('PRO')), { kind: 'incomplete' });
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), { kind: 'incomplete' });
  for (const bad of ['GET / HTTP/1.1\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 0 80\r\n', 'PROXY TCP4 ::1 ::1 1 2\r\n', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', `PROXY ${'x'.repeat(120)}`]) {
    assert.is(parseProxyHeader(Buffer.from(bad)).kind, 'invalid', JSON.stringify(bad));
  }
});

function v2(cmd: number, fam: number, body: Buffer): Buffer {
  const h = Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from([0x20 | cmd, fam, 0, 0])]);
  h.writeUInt16BE(body.length, 14);
  return Buffer.concat([h, body]);
}

T('PROXY v2: TCP4 and TCP6 addresses, LOCAL, TLVs (SSL with sub-TLVs, unique id), incomplete, refusals', () => {
  const a4 = Buffer.from([198, 51, 100, 23, 127, 0, 0, 1, 0x9c, 0x40, 0x01, 0xbb]);
  assert.equal(parseProxyHeader(v2(1, 0x11, a4)), { kind: 'header', consumed: 28, address: '198.51.100.23', port: 40000 });
  const a6 = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(a6, 0);
  a6.writeUInt16BE(5000, 32);
  assert.equal(parseProxyHeader(v2(1, 0x21, a6)), { kind: 'header', consumed: 52, address: '2001:db8::1', port: 5000 });
  assert.equal(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0))), { kind: 'header', consumed: 16 });
  const sub = Buffer.from([0x21, 0, 3, 0x41, 0x42, 0x43]);
  const ssl = Buffer.concat([Buffer.from([0x20, 0, 5 + sub.length, 0x05, 0, 0, 0, 0]), sub]);
  const id = Buffer.from([0x05, 0, 2, 0x69, 0x64]);
  const withTlvs = parseProxyHeader(v2(1, 0x11, Buffer.concat([a4, ssl, id])));
  assert.equal(withTlvs, { kind: 'header', consumed: 28 + ssl.length + id.length, address: '198.51.100.23', port: 40000, ssl: true, sslClientVerified: true, env: [['SSL_PROTOCOL', 'ABC'], ['PP2_UNIQUE_ID', 'id']] });
  const whole = v2(1, 0x11, a4);
  assert.equal(parseProxyHeader(whole.subarray(0, 8)), { kind: 'incomplete' });
  assert.equal(parseProxyHeader(whole.subarray(0, 20)), { kind: 'incomplete' });
  assert.is(parseProxyHeader(v2(2, 0x11, a4)).kind, 'invalid');
  assert.is(parseProxyHeader(v2(1, 0x11, Buffer.alloc(4))).kind, 'invalid');
  const big = v2(1, 0x11, Buffer.alloc(3000));
  assert.is(parseProxyHeader(big.subarray(0, 16)).kind, 'invalid');
});

async function load(line: string): Promise<ConfigError | null> {
  const model = parseLighttpdConfig(`server.modules = ( "mod_extforward" )\n${line}\n`, '/etc/test.conf', { cwd: '/tmp' });
  try {
    await Server.create({ model, cwd: '/tmp', listen: [], warn: () => {} });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

T('config: refused with file:line and the key; good configs load', async () => {
  assert.match((await load('extforward.forwarder = ( "10.0.0.1" => "yes" )'))?.message ?? '', /^\/etc\/test\.conf:2: extforward\.forwarder: /);
  assert.match((await load('extforward.params = ( "by" => "enable" )'))?.message ?? '', /^\/etc\/test\.conf:2: extforward\.params: keys must be one of/);
  assert.match((await load('extforward.params = ( "host" => "maybe" )'))?.message ?? '', /extforward\.params: "host": expected/);
  assert.match((await load('extforward.hap-PROXY = "sometimes"'))?.message ?? '', /^\/etc\/test\.conf:2: extforward\.hap-PROXY: /);
  assert.match((await load('extforward.headers = ( "a" => 1 )'))?.message ?? '', /extforward\.headers: /);
  assert.is(await load('extforward.forwarder = ( "all" => "trust" )\nextforward.headers = ( "Forwarded" )\nextforward.params = ( "remote_user" => 1 )'), null);
});

T.run();

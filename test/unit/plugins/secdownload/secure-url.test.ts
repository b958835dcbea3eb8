// plugins/secdownload: the URL shape, the timeout window, what each algorithm signs (tokens made
// here with node:crypto as lighttpd's docs make them in PHP and Perl), path-segments,
// hash-querystr, and the checks at boot.
import crypto from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError } from '../../../../config/model.js';
import { PluginHost } from '../../../../core/plugin-host.js';
import { MAC_LENGTH, parseSecureUrl, signedText, verifyMac, withinTimeout, type SecureUrl } from '../../../../plugins/secdownload/secure-url.js';

const T = suite('secdownload');
const SECRET = 'verysecret';

const md5Token = (rel: string, ts: string) => crypto.createHash('md5').update(SECRET + rel + ts).digest('hex');
const hmacToken = (hash: 'sha1' | 'sha256', signed: string) => crypto.createHmac(hash, SECRET).update(signed).digest('base64url');

function parse(rest: string, len: number): SecureUrl {
  const u = parseSecureUrl(rest, len);
  assert.ok(u, rest);
  return u!;
}

T('the URL shape: token of the algorithm\'s length, "/", 1-16 hex digits, "/", the path', () => {
  const mac = 'a'.repeat(32);
  assert.equal(parse(`${mac}/5f5e1000/dir/f.txt`, 32), { mac, timestampHex: '5f5e1000', protectedPath: '/5f5e1000/dir/f.txt', relPath: '/dir/f.txt' });
  assert.equal(parse(`${mac}/A/x`, 32).timestampHex, 'A');
  for (const rest of [
    'a'.repeat(31) + '/5/x', // too short
    'a'.repeat(33) + '/5/x', // too long
    'a'.repeat(31) + '+/5/x', // not base64url
    `${mac}/5`, // no path
    `${mac}//x`, // no timestamp
    `${mac}/5g/x`, // not hex
    `${mac}/${'1'.repeat(17)}/x`, // 17 digits
    `${mac}5/x`,
  ]) assert.is(parseSecureUrl(rest, 32), null, rest);
  assert.ok(parseSecureUrl(`${mac}/${'1'.repeat(16)}/x`, 32), '16 digits');
});

T('the timeout window is open both ways', () => {
  const now = 1_800_000_000;
  const hex = (n: number) => n.toString(16);
  assert.ok(withinTimeout(hex(now), now, 60));
  assert.ok(withinTimeout(hex(now - 60), now, 60));
  assert.not.ok(withinTimeout(hex(now - 61), now, 60));
  assert.ok(withinTimeout(hex(now + 60), now, 60));
  assert.not.ok(withinTimeout(hex(now + 61), now, 60));
  assert.not.ok(withinTimeout('ffffffffffffffff', now, 60));
  assert.ok(withinTimeout(hex(now), now, 0));
});

T('md5: md5(secret + path + hex timestamp), lowercase or uppercase hex', () => {
  const ts = '5f5e1000';
  const good = md5Token('/f.txt', ts);
  const url = parse(`${good}/${ts}/f.txt`, MAC_LENGTH.md5);
  assert.ok(verifyMac('md5', SECRET, url, signedText(url, 0, null)));
  const upper = parse(`${good.toUpperCase()}/${ts}/f.txt`, 32);
  assert.ok(verifyMac('md5', SECRET, upper, signedText(upper, 0, null)));
  const other = parse(`${good}/${ts}/g.txt`, 32);
  assert.not.ok(verifyMac('md5', SECRET, other, signedText(other, 0, null)), 'another path');
  assert.not.ok(verifyMac('md5', 'other', url, signedText(url, 0, null)), 'another secret');
  const notHex = parse(`${'z'.repeat(32)}/${ts}/f.txt`, 32);
  assert.not.ok(verifyMac('md5', SECRET, notHex, signedText(notHex, 0, null)));
});

T('hmac-sha1 and hmac-sha256: base64url of HMAC(secret, "/" timestamp path), no padding', () => {
  const ts = '5f5e1000';
  for (const [alg, hash] of [['hmac-sha1', 'sha1'], ['hmac-sha256', 'sha256']] as const) {
    const token = hmacToken(hash, `/${ts}/d/f.txt`);
    assert.is(token.length, MAC_LENGTH[alg]);
    const url = parse(`${token}/${ts}/d/f.txt`, MAC_LENGTH[alg]);
    assert.ok(verifyMac(alg, SECRET, url, signedText(url, 0, null)), alg);
    const flipped = parse(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}/${ts}/d/f.txt`, MAC_LENGTH[alg]);
    assert.not.ok(verifyMac(alg, SECRET, flipped, signedText(flipped, 0, null)), `${alg}: one character changed`);
    assert.not.ok(verifyMac(alg === 'hmac-sha1' ? 'hmac-sha256' : 'hmac-sha1', SECRET, url, signedText(url, 0, null)), 'wrong length for the other algorithm');
  }
});

T('path-segments cuts what is signed after that many segments; hash-querystr appends "?query"', () => {
  const url = parse(`${'a'.repeat(43)}/5f/album/2024/a.jpg`, 43);
  assert.is(signedText(url, 0, null), '/5f/album/2024/a.jpg');
  assert.is(signedText(url, 1, null), '/5f/album');
  assert.is(signedText(url, 2, null), '/5f/album/2024');
  assert.is(signedText(url, 3, null), '/5f/album/2024/a.jpg');
  assert.is(signedText(url, 9, null), '/5f/album/2024/a.jpg');
  assert.is(signedText(url, 0, 'qs=1'), '/5f/album/2024/a.jpg?qs=1');
  assert.is(signedText(url, 1, 'qs=1'), '/5f/album?qs=1');
  assert.is(signedText(url, 0, ''), '/5f/album/2024/a.jpg', 'an empty query adds nothing');
  // md5 signs the relative path as cut: secret + "/album" + timestamp.
  const ts = '5f';
  const m = parse(`${md5Token('/album', ts)}/${ts}/album/x.jpg`, 32);
  assert.ok(verifyMac('md5', SECRET, m, signedText(m, 1, null)));
  assert.not.ok(verifyMac('md5', SECRET, m, signedText(m, 0, null)));
});

async function validate(text: string): Promise<void> {
  const model = parseLighttpdConfig(text, '/etc/lantern/test.conf', { cwd: '/tmp' });
  const host = new PluginHost({ cwd: '/tmp' });
  await host.load(model);
  host.validate(model, () => {});
}

T('bad values stop the start with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['secdownload.algorithm = "sha512"', /test\.conf:2: secdownload\.algorithm: expected one of "md5", "hmac-sha1", "hmac-sha256", got "sha512"/],
    ['secdownload.algorithm = ""', /test\.conf:2: secdownload\.algorithm: expected one of/],
    ['secdownload.timeout = "soon"', /test\.conf:2: secdownload\.timeout: expected an integer/],
    ['secdownload.hash-querystr = "yes"', /test\.conf:2: secdownload\.hash-querystr: expected "enable" or "disable"/],
    ['$HTTP["host"] == "x" {\n  secdownload.path-segments = 70000\n}', /test\.conf:3: secdownload\.path-segments: must be at most 65535/],
  ];
  for (const [line, re] of cases) {
    try {
      await validate(`server.modules = ( "mod_secdownload" )\n${line}\n`);
      assert.unreachable(line);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.match((err as Error).message, re, line);
    }
  }
  await validate('server.modules = ( "mod_secdownload" )\nsecdownload.algorithm = "hmac-sha256"\nsecdownload.timeout = 120\nsecdownload.hash-querystr = "enable"\n');
});

T.run();

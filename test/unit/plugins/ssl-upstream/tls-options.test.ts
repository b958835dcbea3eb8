// ssl-upstream's settings: the lighttpd-style keys (per host and proxy-core.*) read into
// UpstreamTlsOptions, the native object checked, and the files read into a secure context once,
// with a message naming the key for each way they can be wrong.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsKeyReader, tlsOptionsProblem } from '../../../../plugins/ssl-upstream/tls-options.js';
import { prepareTls, tlsTransport } from '../../../../plugins/ssl-upstream/tls-transport.js';
import { makeTempDir, removeDir } from '../../../helpers/spawn-lantern.js';
import { skipUnless, which } from '../../../helpers/wait.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

const T = suite('ssl-upstream options');
const withCerts = skipUnless(T, which('openssl') !== null, 'openssl not installed');
let dir = '';
let certs: TestCerts;

T.before(() => {
  if (which('openssl') === null) return;
  dir = makeTempDir('ssl-upstream-unit');
  certs = makeTestCerts(dir);
});
T.after(() => removeDir(dir));

T('per-host keys: "tls" => "enable" with its settings; lighttpd booleans', () => {
  const r = new TlsKeyReader();
  r.set('tls', 'enable');
  r.set('tls-ca-file', '/etc/ca.pem');
  r.set('tls-sni', 'api.internal');
  r.set('tls-cert', '/etc/client.pem');
  r.set('tls-insecure-skip-verify', 'disable');
  r.set('tls-min-version', 'TLSv1.3');
  assert.equal(r.result(), { caFile: '/etc/ca.pem', sni: 'api.internal', certFile: '/etc/client.pem', insecureSkipVerify: false, minVersion: 'TLSv1.3' });
});

T('no "tls" key: no TLS; "tls" => "disable": none either', () => {
  assert.is(new TlsKeyReader().result(), null);
  const r = new TlsKeyReader();
  r.set('tls', 'disable');
  assert.is(r.result(), null);
});

T('settings without "tls" => "enable" are an error naming the key, in each key style', () => {
  const host = new TlsKeyReader();
  host.set('tls-sni', 'a.test');
  assert.throws(() => host.result(), /"tls-sni" needs "tls" => "enable"/);
  const core = new TlsKeyReader('proxy-core.');
  core.set('tls-ca-file', '/x.pem');
  assert.throws(() => core.result(), /proxy-core\.tls-ca-file needs proxy-core\.tls = "enable"/);
});

T('bad values name the key and what is expected', () => {
  const r = new TlsKeyReader();
  assert.throws(() => r.set('tls', 'yes'), /"tls": expected "enable" or "disable", got "yes"/);
  assert.throws(() => r.set('tls-min-version', 'TLSv1.1'), /"tls-min-version": expected "TLSv1\.2" or "TLSv1\.3"/);
  assert.throws(() => r.set('tls-sni', 'bad name'), /"tls-sni": expected a host name/);
  assert.throws(() => r.set('tls-ca-file', 5), /"tls-ca-file": expected a string, got 5/);
  assert.throws(() => r.set('tls-cert', ''), /"tls-cert": expected a file name/);
  // "" is a valid SNI setting: none is sent.
  r.set('tls-sni', '');
  assert.is(r.options.sni, '');
});

T('the native object is checked field by field', () => {
  assert.is(tlsOptionsProblem(null), undefined);
  assert.is(tlsOptionsProblem({ caFile: '/a', sni: '', insecureSkipVerify: true, minVersion: 'TLSv1.2' }), undefined);
  assert.match(tlsOptionsProblem({ ca: '/a' })!, 'unknown field "ca"');
  assert.match(tlsOptionsProblem({ insecureSkipVerify: 'yes' })!, 'tls.insecureSkipVerify: expected true or false');
  assert.match(tlsOptionsProblem({ minVersion: 'TLSv1' })!, 'tls.minVersion');
  assert.match(tlsOptionsProblem('enable')!, 'expected an object');
  assert.throws(() => tlsTransport.bound({ name: 'b', protocol: 'http' }, { cafile: '/x' } as never), /unknown field "cafile"/);
});

withCerts('files: read once; ALPN http/1.1 only for the http protocol; verification on unless skipped', () => {
  const http = prepareTls({ name: 'b', protocol: 'http' }, { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey });
  assert.equal(http.alpn, ['http/1.1']);
  assert.is(http.verify, true);
  assert.is(http.sni, undefined);
  const fcgi = prepareTls({ name: 'b', protocol: 'fastcgi' }, { certFile: certs.clientPem, insecureSkipVerify: true, sni: '' });
  assert.is(fcgi.alpn, undefined);
  assert.is(fcgi.verify, false);
  assert.is(fcgi.sni, '');
});

withCerts('file problems: missing, no certificate, no key, a key that is not the certificate\'s', () => {
  const b = { name: 'b', protocol: 'http' };
  assert.throws(() => prepareTls(b, { caFile: path.join(dir, 'none.pem') }), /tls-ca-file ".*none\.pem": cannot read it \(ENOENT\)/);
  assert.throws(() => prepareTls(b, { caFile: certs.clientKey }), /tls-ca-file ".*": no PEM certificate in it/);
  assert.throws(() => prepareTls(b, { certFile: certs.clientCert }), /no private key in it \(give tls-key\)/);
  assert.throws(() => prepareTls(b, { keyFile: certs.clientKey }), /tls-key ".*" needs tls-cert/);
  assert.throws(() => prepareTls(b, { certFile: certs.clientCert, keyFile: certs.clientCert }), /tls-key ".*": no PEM private key in it/);
  assert.throws(() => prepareTls(b, { certFile: certs.clientCert, keyFile: certs.serverKey }), /TLS settings of backend "b": .*(key values mismatch|KEY_VALUES_MISMATCH)/i);
  fs.writeFileSync(path.join(dir, 'empty.pem'), '');
  assert.throws(() => prepareTls(b, { caFile: path.join(dir, 'empty.pem') }), /no PEM certificate/);
});

T.run();

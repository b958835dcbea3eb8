// Unit tests of mod_openssl's helpers: ssl.openssl.ssl-conf-cmd mapped onto node:tls, loading
// certificates and keys (a key that does not match, a PEM without a key), lighttpd's SSL_*
// formatting, and the option tables of docs/modules.md and docs/tls.md against the declarations.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import type { PluginDefinition } from '../../../../core/plugin.js';
import { loadCertificate, pemBlocks } from '../../../../plugins/openssl/certificate.js';
import { DEFAULT_CIPHER_LIST, socketTlsParams } from '../../../../plugins/openssl/conf-cmd.js';
import { cipherBits, onelineName } from '../../../../plugins/openssl/ssl-env.js';
import { skipUnless, which } from '../../../helpers/wait.js';

const T = suite('openssl');
const withOpenssl = skipUnless(T, which('openssl') !== null, 'openssl not installed');

const cmd = (entries: Array<[string, string]>) => socketTlsParams({ confCmd: new ConfigHash(entries) });

T('defaults are lighttpd\'s: TLS 1.2 to 1.3, its cipher list, no compression or renegotiation, client order', () => {
  const p = socketTlsParams({});
  assert.is(p.minVersion, 'TLSv1.2');
  assert.is(p.maxVersion, 'TLSv1.3');
  assert.ok(p.ciphers.includes(DEFAULT_CIPHER_LIST + ':!aNULL:!eNULL:!EXP'));
  assert.ok(p.ciphers.startsWith('TLS_AES_256_GCM_SHA384:'), 'TLS 1.3 suites kept');
  assert.is(p.honorCipherOrder, false);
  assert.ok((p.secureOptions & crypto.constants.SSL_OP_NO_COMPRESSION) !== 0);
  assert.ok((p.secureOptions & crypto.constants.SSL_OP_NO_RENEGOTIATION) !== 0);
  assert.ok((p.secureOptions & crypto.constants.SSL_OP_NO_TICKET) === 0, 'tickets on');
  tls.createSecureContext({ ciphers: p.ciphers, minVersion: p.minVersion, maxVersion: p.maxVersion, secureOptions: p.secureOptions });
});

T('ssl.cipher-list sets the TLS 1.2 list and the server\'s order; ssl.honor-cipher-order can turn it off', () => {
  const p = socketTlsParams({ cipherList: 'HIGH' });
  assert.ok(p.ciphers.endsWith(':HIGH:!aNULL:!eNULL:!EXP'));
  assert.is(p.honorCipherOrder, true);
  assert.is(socketTlsParams({ cipherList: 'HIGH', honorCipherOrder: false }).honorCipherOrder, false);
  assert.is(socketTlsParams({ honorCipherOrder: true }).honorCipherOrder, true);
});

T('ssl-conf-cmd: protocols, cipher strings, suites, groups, options, security level (names case-insensitive)', () => {
  const p = cmd([['MinProtocol', 'TLSv1.3'], ['maxprotocol', 'None'], ['CipherString', 'ECDHE+AESGCM'], ['Ciphersuites', 'TLS_AES_128_GCM_SHA256'],
    ['Groups', 'X25519:P-256'], ['Options', '-SessionTicket, ServerPreference,+PrioritizeChaCha'], ['SecurityLevel', '2']]);
  assert.is(p.minVersion, 'TLSv1.3');
  assert.is(p.maxVersion, 'TLSv1.3');
  assert.is(p.ciphers, 'TLS_AES_128_GCM_SHA256:ECDHE+AESGCM:!aNULL:!eNULL:!EXP:@SECLEVEL=2');
  assert.is(p.ecdhCurve, 'X25519:P-256');
  assert.is(p.honorCipherOrder, true);
  assert.ok((p.secureOptions & crypto.constants.SSL_OP_NO_TICKET) !== 0);
  assert.ok((p.secureOptions & crypto.constants.SSL_OP_PRIORITIZE_CHACHA) !== 0);
  assert.is(cmd([['MinProtocol', 'None']]).minVersion, 'TLSv1');
  assert.is(cmd([['MinProtocol', 'TLSv1.0']]).minVersion, 'TLSv1');
  assert.is(cmd([['Options', 'SessionTicket']]).secureOptions & crypto.constants.SSL_OP_NO_TICKET, 0);
  assert.is(cmd([['Options', '-ServerPreference']]).honorCipherOrder, false);
  assert.ok(cmd([['CipherString', '']]).ciphers.includes(':HIGH:!aNULL'), 'an empty CipherString is HIGH (lighttpd)');
});

T('ssl-conf-cmd: what node:tls cannot do is refused with the command', () => {
  assert.throws(() => cmd([['VerifyMode', 'Peer']]), /"VerifyMode" is not supported/);
  assert.throws(() => cmd([['Protocol', '-ALL,TLSv1.2']]), /use "MinProtocol" and "MaxProtocol"/);
  assert.throws(() => cmd([['MinProtocol', 'SSLv3']]), /expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or None/);
  assert.throws(() => cmd([['Options', 'Bugs']]), /"Bugs" is not supported/);
  assert.throws(() => cmd([['Options', 'Compression']]), /compression is not available/);
  assert.throws(() => cmd([['SecurityLevel', 'high']]), /expected 0 to 5/);
  assert.throws(() => cmd([['DHParameters', '/nonexistent/dh.pem']]), /cannot read "\/nonexistent\/dh.pem": ENOENT/);
  assert.throws(() => socketTlsParams({ confCmd: new ConfigHash([['MinProtocol', 3]]) }), /must be a string/);
});

T('lighttpd\'s SSL_* formats: one-line subject, key sizes from the cipher name', () => {
  assert.is(onelineName('C=DE\nO=Example\nCN=client'), '/C=DE/O=Example/CN=client');
  assert.is(cipherBits('TLS_AES_256_GCM_SHA384'), 256);
  assert.is(cipherBits('TLS_AES_128_GCM_SHA256'), 128);
  assert.is(cipherBits('ECDHE-RSA-CHACHA20-POLY1305'), 256);
  assert.is(cipherBits('ECDHE-RSA-AES128-GCM-SHA256'), 128);
  assert.equal(pemBlocks('x\n-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n', /CERTIFICATE/).length, 1);
});

withOpenssl('loadCertificate: one PEM file or a separate key; a mismatched, missing or absent key is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openssl-unit-'));
  try {
    const gen = (name: string) => {
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}.example`], { cwd: dir });
      assert.is(r.status, 0, String(r.stderr));
    };
    gen('one');
    gen('two');
    const f = (n: string) => path.join(dir, n);
    fs.writeFileSync(f('one.pem'), fs.readFileSync(f('one.crt'), 'latin1') + fs.readFileSync(f('one.key'), 'latin1'));
    const both = loadCertificate(f('one.pem'), f('one.pem'));
    assert.match(both.subject, /CN=one\.example/);
    assert.ok(both.selfIssued);
    assert.match(loadCertificate(f('two.crt'), f('two.key')).subject, /CN=two\.example/);
    assert.throws(() => loadCertificate(f('one.crt'), f('two.key')), /does not match the certificate/);
    assert.throws(() => loadCertificate(f('one.crt'), f('one.crt')), /no private key in ssl\.pemfile/);
    assert.throws(() => loadCertificate(f('nope.pem'), f('nope.pem')), /cannot read ssl\.pemfile ".*nope\.pem": ENOENT/);
    assert.throws(() => loadCertificate(f('one.key'), f('one.key')), /no certificate in ssl\.pemfile/);
    assert.throws(() => loadCertificate(f('one.pem'), f('one.pem'), Date.now() + 10 * 86_400_000), /is not valid now/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

T('every option has a row in docs/modules.md and docs/tls.md with its doc text', async () => {
  const plugin = (await import('../../../../plugins/openssl/index.js')).default as PluginDefinition;
  for (const page of ['modules.md', 'tls.md']) {
    const lines = fs.readFileSync(new URL(`../../../../docs/${page}`, import.meta.url), 'utf8').split('\n');
    for (const [key, spec] of Object.entries(plugin.options ?? {})) {
      const row = lines.find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key} in docs/${page}`);
      assert.ok(row!.replace(/\\\|/g, '|').includes(spec.doc), `doc text of ${key} differs in docs/${page}`);
    }
  }
});

T.run();

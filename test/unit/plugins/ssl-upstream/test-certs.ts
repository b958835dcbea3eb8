// Certificates for the ssl-upstream tests, made at test time with openssl (EC P-256: fast): a test
// CA, a backend certificate it signs (127.0.0.1, localhost, a.test, b.test) and an expired copy, a second CA with its
// own backend certificate (the "wrong CA"), and a client certificate signed by the test CA.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The backend certificate (same key), expired since yesterday. */
  expiredCert: string;
  /** The wrong CA's backend: its certificate followed by that CA (a chain that ends self-signed). */
  otherChain: string;
  otherKey: string;
  clientCert: string;
  clientKey: string;
  /** Certificate and key in one file (lighttpd's ssl.pemfile convention). */
  clientPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`]);
}

function makeLeaf(dir: string, name: string, ca: string, cn: string, ext: string): void {
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** Make the certificates in `dir` (which must exist). */
export function makeTestCerts(dir: string): TestCerts {
  makeCa(dir, 'ca', 'lantern test CA');
  makeCa(dir, 'other-ca', 'some other CA');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:a.test,DNS:b.test\nextendedKeyUsage=serverAuth';
  makeLeaf(dir, 'server', 'ca', 'backend', serverExt);
  makeLeaf(dir, 'other', 'other-ca', 'backend', serverExt);
  makeLeaf(dir, 'client', 'ca', 'lantern client', 'extendedKeyUsage=clientAuth');
  // -days -1: notAfter a day before now (notBefore is now), so it is expired from the start.
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'expired.crt', '-days', '-1', '-extfile', 'server.ext']);
  const p = (f: string) => path.join(dir, f);
  fs.writeFileSync(p('other-chain.crt'), Buffer.concat([fs.readFileSync(p('other.crt')), fs.readFileSync(p('other-ca.crt'))]));
  fs.writeFileSync(p('client.pem'), Buffer.concat([fs.readFileSync(p('client.crt')), fs.readFileSync(p('client.key'))]));
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    expiredCert: p('expired.crt'),
    otherChain: p('other-chain.crt'),
    otherKey: p('other.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    clientPem: p('client.pem'),
  };
}

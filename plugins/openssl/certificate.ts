// Loading ssl.pemfile / ssl.privkey / ssl.ca-file as lighttpd 1.4.69's mod_openssl does
// (network_openssl_load_pemfile): the PEM file holds the certificate, then its chain, and may hold
// the private key too; ssl.privkey names the key when it is elsewhere. The key must match the
// certificate, and an expired or not yet valid certificate is refused.
import crypto from 'node:crypto';
import fs from 'node:fs';

/** A certificate ready for tls.createSecureContext(). */
export interface LoadedCertificate {
  /** The leaf certificate and the chain that follows it in the PEM file, PEM text. */
  cert: string;
  key: string;
  /** The leaf's subject, for messages and the tests. */
  subject: string;
  /** The leaf names itself as issuer (no chain to build from ssl.ca-file). */
  selfIssued: boolean;
}

/** A PEM file's sections of one kind (`CERTIFICATE`, a key), in file order. */
export function pemBlocks(text: string, label: RegExp): string[] {
  const out: string[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) if (label.test(m[1]!)) out.push(m[0]);
  return out;
}

const KEY_LABEL = /^(?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY$/;

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (err) {
    throw new Error(`cannot read ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Load a certificate (and its chain) from `pemFile` and its key from `keyFile` (the same file when
 * ssl.privkey is not set). Throws an Error whose message says which file and why.
 */
export function loadCertificate(pemFile: string, keyFile: string, nowMs = Date.now()): LoadedCertificate {
  const pem = readText(pemFile, 'ssl.pemfile');
  const certs = pemBlocks(pem, /^(?:X509 |TRUSTED )?CERTIFICATE$/);
  if (certs.length === 0) throw new Error(`no certificate in ssl.pemfile "${pemFile}"`);
  const keyText = keyFile === pemFile ? pem : readText(keyFile, 'ssl.privkey');
  const keys = pemBlocks(keyText, KEY_LABEL);
  if (keys.length === 0) {
    throw new Error(keyFile === pemFile
      ? `no private key in ssl.pemfile "${pemFile}" (put it there or name it with ssl.privkey)`
      : `no private key in ssl.privkey "${keyFile}"`);
  }
  if (keys[0]!.includes('ENCRYPTED')) throw new Error(`the private key in "${keyFile}" is encrypted (lantern does not ask for a passphrase)`);
  let x509: crypto.X509Certificate;
  let key: crypto.KeyObject;
  try {
    x509 = new crypto.X509Certificate(certs[0]!);
  } catch (err) {
    throw new Error(`cannot parse the certificate in "${pemFile}": ${(err as Error).message}`);
  }
  try {
    key = crypto.createPrivateKey(keys[0]!);
  } catch (err) {
    throw new Error(`cannot parse the private key in "${keyFile}": ${(err as Error).message}`);
  }
  if (!x509.checkPrivateKey(key)) throw new Error(`the private key in "${keyFile}" does not match the certificate in "${pemFile}"`);
  const from = Date.parse(x509.validFrom);
  const to = Date.parse(x509.validTo);
  if (!(from <= nowMs && nowMs <= to)) throw new Error(`the certificate in "${pemFile}" is not valid now (valid from ${x509.validFrom} to ${x509.validTo})`);
  return { cert: certs.join('\n'), key: keys[0]!, subject: x509.subject.replace(/\n/g, ', '), selfIssued: x509.subject === x509.issuer };
}

/** ssl.ca-file: the CA certificates (client verification, and the chain of a leaf whose PEM file has none). */
export function loadCaFile(file: string): string[] {
  const certs = pemBlocks(readText(file, 'ssl.ca-file'), /^(?:X509 |TRUSTED )?CERTIFICATE$/);
  if (certs.length === 0) throw new Error(`no certificate in ssl.ca-file "${file}"`);
  for (const c of certs) {
    try { new crypto.X509Certificate(c); } catch (err) { throw new Error(`cannot parse a certificate in "${file}": ${(err as Error).message}`); }
  }
  return certs;
}

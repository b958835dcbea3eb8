// lighttpd 1.4.69 mod_openssl's request environment (http_cgi_ssl_env,
// https_add_ssl_client_entries): SSL_PROTOCOL and SSL_CIPHER* for every TLS request, and with
// ssl.verifyclient.activate SSL_CLIENT_VERIFY, SSL_CLIENT_S_DN(_*), SSL_CLIENT_M_SERIAL,
// REMOTE_USER/AUTH_TYPE (ssl.verifyclient.username) and SSL_CLIENT_CERT (exportcert).
import type tls from 'node:tls';
import type { VerifyClient } from './listener-tls.js';

/** Bits of a cipher's symmetric key, read from its name (node:tls does not report them). */
export function cipherBits(name: string): number {
  if (/AES_?256|AES256|CHACHA20|CAMELLIA256|ARIA256/i.test(name)) return 256;
  if (/AES_?128|AES128|CAMELLIA128|ARIA128/i.test(name)) return 128;
  if (/3DES|DES-CBC3/i.test(name)) return 168;
  return 0;
}

export function sessionEnv(socket: tls.TLSSocket): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const protocol = socket.getProtocol();
  if (protocol) out.push(['SSL_PROTOCOL', protocol]);
  const cipher = socket.getCipher();
  if (cipher) {
    const bits = String(cipherBits(cipher.name));
    out.push(['SSL_CIPHER', cipher.name], ['SSL_CIPHER_USEKEYSIZE', bits], ['SSL_CIPHER_ALGKEYSIZE', bits]);
  }
  return out;
}

/** OpenSSL's one-line form of a distinguished name: `/C=DE/O=Example/CN=client`. */
export function onelineName(subject: string): string {
  return subject.split('\n').filter(Boolean).map((part) => `/${part}`).join('');
}

/** How many CA certificates sit above the client's in its verified chain (OpenSSL's error depth). */
export function clientChainDepth(socket: tls.TLSSocket): number {
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  let depth = 0;
  const seen = new Set<string>();
  while (cert?.issuerCertificate && cert.issuerCertificate !== cert && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    cert = cert.issuerCertificate;
    depth++;
  }
  return depth;
}

export function clientCertEnv(socket: tls.TLSSocket, verify: VerifyClient): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) {
    out.push(['SSL_CLIENT_VERIFY', 'NONE']);
    return out;
  }
  if (!socket.authorized) {
    out.push(['SSL_CLIENT_VERIFY', `FAILED:${String(socket.authorizationError ?? 'unknown')}`]);
    return out;
  }
  out.push(['SSL_CLIENT_VERIFY', 'SUCCESS']);
  out.push(['SSL_CLIENT_S_DN', onelineName(cert.subject)]);
  for (const part of cert.subject.split('\n')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.push([`SSL_CLIENT_S_DN_${part.slice(0, eq)}`, part.slice(eq + 1)]);
  }
  out.push(['SSL_CLIENT_M_SERIAL', cert.serialNumber.toUpperCase()]);
  if (verify.username !== '') {
    const user = out.find(([k]) => k === verify.username);
    if (user !== undefined) out.push(['REMOTE_USER', user[1]], ['AUTH_TYPE', 'SSL_CLIENT_VERIFY']);
  }
  if (verify.exportCert) out.push(['SSL_CLIENT_CERT', cert.toString()]);
  return out;
}

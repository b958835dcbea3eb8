// A listener's TLS parameters from lighttpd 1.4.69's socket-scope keys: ssl.cipher-list,
// ssl.openssl.ssl-conf-cmd (OpenSSL's SSL_CONF_cmd(3) names) and the older ssl.honor-cipher-order,
// mapped onto what node:tls can set. A command node:tls cannot honour is refused at load (lighttpd
// refuses what OpenSSL's SSL_CONF_cmd() does not know), never silently dropped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type tls from 'node:tls';
import type { ConfigHash } from '../../config/model.js';

/** lighttpd's LIGHTTPD_DEFAULT_CIPHER_LIST (TLS 1.2 and below). */
export const DEFAULT_CIPHER_LIST = 'EECDH+AESGCM:AES256+EECDH:CHACHA20:!SHA1:!SHA256:!SHA384';
/** OpenSSL's default TLS 1.3 suites: CipherString never changes them, only Ciphersuites does. */
const DEFAULT_TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
/** lighttpd always appends this to a cipher string (null and export ciphers never). */
const CIPHER_TAIL = ':!aNULL:!eNULL:!EXP';

const PROTOCOLS: Record<string, tls.SecureVersion | null> = {
  'none': null, 'tlsv1': 'TLSv1', 'tlsv1.0': 'TLSv1', 'tlsv1.1': 'TLSv1.1', 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3',
};

/** `Options` flags node:tls can set, with the SSL_OP_* bit each one clears (+) or sets (-). */
const OPTION_FLAGS: Record<string, { bit: number; setWhenOn: boolean } | 'server-preference' | 'ignored'> = {
  sessionticket: { bit: crypto.constants.SSL_OP_NO_TICKET, setWhenOn: false },
  compression: { bit: crypto.constants.SSL_OP_NO_COMPRESSION, setWhenOn: false },
  prioritizechacha: { bit: crypto.constants.SSL_OP_PRIORITIZE_CHACHA, setWhenOn: true },
  norenegotiation: { bit: crypto.constants.SSL_OP_NO_RENEGOTIATION, setWhenOn: true },
  serverpreference: 'server-preference',
  // Kernel TLS needs OpenSSL to own the socket; Node's TLS writes through its own stream.
  ktls: 'ignored',
};

/** What a listener's contexts are made with besides the certificate. */
export interface SocketTlsParams {
  ciphers: string;
  honorCipherOrder: boolean;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  secureOptions: number;
  ecdhCurve?: string;
  dhparam?: Buffer;
  sigalgs?: string;
}

export interface SocketTlsInput {
  cipherList?: string;
  honorCipherOrder?: boolean;
  confCmd?: ConfigHash;
}

/**
 * The parameters for `input`; throws an Error naming the command and why. lighttpd's defaults:
 * TLS 1.2 to 1.3, its cipher list, no compression, no renegotiation, session tickets on.
 */
export function socketTlsParams(input: SocketTlsInput): SocketTlsParams {
  const out: SocketTlsParams = {
    ciphers: '', honorCipherOrder: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3',
    secureOptions: crypto.constants.SSL_OP_NO_COMPRESSION | crypto.constants.SSL_OP_NO_RENEGOTIATION,
  };
  let cipherString = DEFAULT_CIPHER_LIST;
  let suites = DEFAULT_TLS13_SUITES;
  if (input.cipherList) {
    cipherString = input.cipherList;
    // lighttpd: a historical ssl.cipher-list may list weak ciphers first: the server's order wins.
    out.honorCipherOrder = true;
  }
  if (input.honorCipherOrder !== undefined) out.honorCipherOrder = input.honorCipherOrder;
  let securityLevel: number | null = null;
  for (const [rawName, value] of input.confCmd?.entries ?? []) {
    if (typeof value !== 'string') throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}": the value must be a string`);
    const name = rawName.toLowerCase();
    switch (name) {
      case 'minprotocol':
      case 'maxprotocol': {
        const v = PROTOCOLS[value.toLowerCase()];
        if (v === undefined) throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}" => "${value}": expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or None`);
        if (name === 'minprotocol') out.minVersion = v ?? 'TLSv1';
        else out.maxVersion = v ?? 'TLSv1.3';
        break;
      }
      case 'cipherstring':
        cipherString = value.trim() === '' ? 'HIGH' : value;
        break;
      case 'ciphersuites':
        suites = value;
        break;
      case 'curves':
      case 'groups':
        out.ecdhCurve = value;
        break;
      case 'signaturealgorithms':
        out.sigalgs = value;
        break;
      case 'dhparameters':
        try { out.dhparam = fs.readFileSync(value); } catch (err) {
          throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}": cannot read "${value}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        break;
      case 'securitylevel': // lighttpd's own extension of the SSL_CONF_cmd names
        if (!/^[0-5]$/.test(value.trim())) throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}" => "${value}": expected 0 to 5`);
        securityLevel = Number(value.trim());
        break;
      case 'options':
        for (const item of value.split(/[\s,]+/).filter(Boolean)) {
          const on = !item.startsWith('-');
          const flag = item.replace(/^[-+]/, '').toLowerCase();
          const how = OPTION_FLAGS[flag];
          if (how === undefined) {
            throw new Error(`ssl.openssl.ssl-conf-cmd "Options" => "${value}": "${item}" is not supported (lantern knows SessionTicket, ServerPreference, Compression, PrioritizeChaCha, NoRenegotiation, KTLS)`);
          }
          if (how === 'ignored') continue;
          if (how === 'server-preference') { out.honorCipherOrder = on; continue; }
          if (flag === 'compression' && on) throw new Error('ssl.openssl.ssl-conf-cmd "Options" => "Compression": TLS compression is not available (CRIME); node:tls never enables it');
          const set = on === how.setWhenOn;
          out.secureOptions = set ? out.secureOptions | how.bit : out.secureOptions & ~how.bit;
        }
        break;
      case 'protocol':
        throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}" is not supported: use "MinProtocol" and "MaxProtocol"`);
      default:
        throw new Error(`ssl.openssl.ssl-conf-cmd "${rawName}" is not supported (lantern maps MinProtocol, MaxProtocol, CipherString, Ciphersuites, Curves/Groups, SignatureAlgorithms, DHParameters, SecurityLevel and Options onto node:tls)`);
    }
  }
  out.ciphers = `${suites ? `${suites}:` : ''}${cipherString}${CIPHER_TAIL}${securityLevel !== null ? `:@SECLEVEL=${securityLevel}` : ''}`;
  return out;
}

// mod_openssl: TLS on listeners (lighttpd 1.4.69's ssl.* keys). The global ssl.engine makes the
// main listener https, `$SERVER["socket"]` blocks their own; certificates are picked by SNI through
// the host conditions, reloaded on SIGHUP, and the request environment gets lighttpd's SSL_*
// variables (SSL_CLIENT_* with ssl.verifyclient.activate). See docs/tls.md.
import tls from 'node:tls';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { ListenerTlsSetup, type VerifyClient } from './listener-tls.js';
import { clientCertEnv, sessionEnv } from './ssl-env.js';

const noCrLf = (v: unknown) => (/[\r\n\0]/.test(String(v)) ? 'CR, LF and NUL are not allowed' : undefined);

export default definePlugin({
  id: 'openssl',
  aliases: ['mod_openssl'],
  options: {
    'ssl.engine': { type: 'boolean', default: false, doc: 'Serve TLS on the listener: in the global scope the main one (server.bind:server.port), inside `$SERVER["socket"] == "..."` that socket. A socket block inherits the global value. Default: disabled.' },
    'ssl.pemfile': { type: 'string', default: '', doc: 'PEM file with the server certificate, the chain after it, and the private key unless ssl.privkey names it. In a `$HTTP["host"]` block: the certificate for that TLS SNI name. Read at start (a missing, unreadable, expired or mismatched file stops the start) and again on SIGHUP.', check: noCrLf },
    'ssl.privkey': { type: 'string', default: '', doc: 'PEM file with the private key of the ssl.pemfile of the same block. Default: the key is in ssl.pemfile.', check: noCrLf },
    'ssl.ca-file': { type: 'string', default: '', doc: 'PEM file of CA certificates: client certificates are verified against it (ssl.verifyclient.activate), and a certificate whose PEM file has no chain is sent with its chain built from these CAs.', check: noCrLf },
    'ssl.verifyclient.ca-file': { type: 'string', default: '', doc: 'Same as ssl.ca-file (lighttpd 1.4.60+ name); wins over it when both are set.', check: noCrLf },
    'ssl.cipher-list': { type: 'string', default: '', doc: 'OpenSSL cipher string for TLS 1.2 and below (deprecated in lighttpd: prefer ssl.openssl.ssl-conf-cmd "CipherString"); setting it also makes the server\'s cipher order win. Default: lighttpd\'s "EECDH+AESGCM:AES256+EECDH:CHACHA20:!SHA1:!SHA256:!SHA384".' },
    'ssl.honor-cipher-order': { type: 'boolean', default: false, doc: 'Choose the cipher by the server\'s order, not the client\'s (older lighttpd key; lighttpd 1.4.69 spells it ssl.openssl.ssl-conf-cmd "Options" => "ServerPreference"). Default: the client\'s order, unless ssl.cipher-list is set.' },
    'ssl.openssl.ssl-conf-cmd': { type: 'hash', doc: 'OpenSSL SSL_CONF_cmd settings, per listener: "MinProtocol"/"MaxProtocol" (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, None; default TLSv1.2 to TLSv1.3), "CipherString", "Ciphersuites" (TLS 1.3), "Curves"/"Groups", "SignatureAlgorithms", "DHParameters" (a file), "SecurityLevel", "Options" (SessionTicket, ServerPreference, PrioritizeChaCha, NoRenegotiation, -Compression, KTLS; "-" in front turns one off). Any other command stops the start.' },
    'ssl.disable-client-renegotiation': { type: 'boolean', default: true, doc: 'Accepted for compatibility: client-initiated renegotiation is always refused (lighttpd 1.4.69 ignores the key too).' },
    'ssl.read-ahead': { type: 'boolean', default: false, doc: 'Accepted for compatibility (no effect).' },
    'ssl.verifyclient.activate': { type: 'boolean', default: false, doc: 'Ask the client for a certificate, checked against ssl.ca-file (required then). Read per listener (global scope or `$SERVER["socket"]`), not per host. Default: disabled.' },
    'ssl.verifyclient.enforce': { type: 'boolean', default: true, doc: 'With ssl.verifyclient.activate: refuse the TLS handshake without a valid client certificate. Disabled: the request goes on and SSL_CLIENT_VERIFY says NONE or FAILED:reason. Default: enabled.' },
    'ssl.verifyclient.depth': { type: 'integer', default: 9, min: 0, max: 255, doc: 'Longest client certificate chain accepted, in CA certificates above the client\'s. Default: 9.' },
    'ssl.verifyclient.username': { type: 'string', default: '', doc: 'A SSL_CLIENT_* variable (e.g. "SSL_CLIENT_S_DN_CN") whose value becomes REMOTE_USER (AUTH_TYPE SSL_CLIENT_VERIFY) for a verified client certificate, so mod_auth\'s require rules and the access log see it. Default: none.' },
    'ssl.verifyclient.exportcert': { type: 'boolean', default: false, doc: 'Put the verified client certificate (PEM) in SSL_CLIENT_CERT for CGI-family backends. Default: disabled.' },
    'debug.log-ssl-noise': { type: 'boolean', default: false, doc: 'Write failed TLS handshakes (a plain HTTP request on a TLS port, no shared protocol or cipher, a refused client certificate) to the error log, per listener. Default: disabled.' },
  },
  create(ctx) {
    const server = ctx.server;
    const setup = new ListenerTlsSetup(server, server.model, (m) => ctx.logError(m));
    server.listenerTls = (spec) => setup.forSpec(spec);
    ctx.hooks.sighup.tap(ctx.id, () => setup.reload());

    /** The SSL_* variables of a connection, computed once (lighttpd: per request, same values). */
    const envOf = (req: Request): Array<[string, string]> | null => {
      const socket = req.conn.socket;
      if (!(socket instanceof tls.TLSSocket)) return null;
      const data = req.conn.pluginData;
      let env = data.get(ctx.id) as Array<[string, string]> | undefined;
      if (env === undefined) {
        env = sessionEnv(socket);
        const verify: VerifyClient | undefined = setup.verifyFor(req.conn.listener);
        if (verify?.activate) env.push(...clientCertEnv(socket, verify));
        data.set(ctx.id, env);
      }
      return env;
    };

    // uriRaw, early: REMOTE_USER from a client certificate must be there for mod_auth (uriClean).
    ctx.hooks.uriRaw.tap({ name: ctx.id, stage: -100 }, (req) => {
      if (req.scheme !== 'https') return undefined;
      const env = envOf(req);
      if (env !== null) for (const pair of env) req.env.push([pair[0], pair[1]]);
      return undefined;
    });
  },
});

// ssl-upstream: TLS to backends (design.md §3: "TLS over a socket: SNI, CA verification, client
// certs, session reuse"), a transport under any proxy-core protocol. A backend asks for it with
// its `tls` settings (BackendOptions.tls, the per-host "tls" => "enable" of proxy.server /
// fastcgi.server / scgi.server, lighttpd 1.5-style proxy-core.tls = "enable"); proxy-core then
// opens its members' connections through tls-transport.ts. proxy-core imports the transport
// itself (docs/architecture.md says why), so this declaration only lets a config name the module
// (server.modules += ( "mod_ssl_upstream" )) without an error; it owns no keys.
import { definePlugin } from '../../core/plugin.js';

export type { UpstreamTlsOptions } from './tls-options.js';
export { tlsTransport, TlsHandshakeError } from './tls-transport.js';

export default definePlugin({
  id: 'ssl-upstream',
  aliases: ['mod_ssl_upstream'],
  requires: ['proxy-core'],
  create() {
    return {};
  },
});

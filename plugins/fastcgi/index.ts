// mod_fastcgi: lighttpd 1.4's fastcgi.* keys (fastcgi.server, fastcgi.balance,
// fastcgi.map-extensions, fastcgi.debug; src/mod_fastcgi.c) on proxy-core: each key of
// fastcgi.server becomes a "fastcgi" backend for its responders (and one for its authorizers),
// spawned by proxy-core when a host has "bin-path" (design.md §3).
import { definePlugin } from '../../core/plugin.js';
import { createGateway, gatewayOptions } from '../proxy-core/gateway/gateway-plugin.js';
import { CGI_FAMILY_DEFAULTS, commonSettings, hostOptions, type GatewayDialect, type GatewaySettings } from '../proxy-core/gateway/route-table.js';
import type { GatewayModule } from '../proxy-core/gateway/server-config.js';

export const MOD_FASTCGI: GatewayModule = { module: 'mod_fastcgi', key: 'fastcgi.server', spawns: true, authorizer: true, cgiEnv: true, proto: false };

const dialect: GatewayDialect<GatewaySettings> = {
  mod: MOD_FASTCGI,
  settingsOf: (values) => commonSettings('fastcgi', values),
  protocolOf: () => 'fastcgi',
  // The CGI environment carries the client's fields; no X-Forwarded-* list is built for it.
  // lighttpd queues without a limit: a php pool of 4 behind 100 clients must not answer 503.
  defaults: CGI_FAMILY_DEFAULTS,
  backendOptions: (hosts) => ({ forwardedFor: false, ...hostOptions(hosts) }),
};

export default definePlugin({
  id: 'fastcgi',
  aliases: ['mod_fastcgi'],
  requires: ['proxy-core', 'proxy-backend-fastcgi', 'balancer-rr', 'balancer-hash'],
  options: gatewayOptions(MOD_FASTCGI, 'fastcgi', 'Requests go to the backends over FastCGI 1.0 (FCGI_KEEP_CONN), with the CGI/1.1 environment.'),
  create: (ctx) => createGateway(ctx, dialect),
});

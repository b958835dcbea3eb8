// mod_scgi: lighttpd 1.4's scgi.* keys (scgi.server, scgi.protocol, scgi.balance,
// scgi.map-extensions, scgi.debug; src/mod_scgi.c) on proxy-core: each key of scgi.server becomes
// an "scgi" or "uwsgi" backend (the host's "proto", else scgi.protocol), spawned by proxy-core
// when a host has "bin-path" (design.md §3).
import { definePlugin } from '../../core/plugin.js';
import { createGateway, gatewayOptions } from '../proxy-core/gateway/gateway-plugin.js';
import { CGI_FAMILY_DEFAULTS, commonSettings, hostOptions, type GatewayDialect, type GatewaySettings } from '../proxy-core/gateway/route-table.js';
import type { GatewayModule } from '../proxy-core/gateway/server-config.js';

export const MOD_SCGI: GatewayModule = { module: 'mod_scgi', key: 'scgi.server', spawns: true, authorizer: false, cgiEnv: true, proto: true };

interface ScgiSettings extends GatewaySettings {
  protocol: 'scgi' | 'uwsgi';
}

const dialect: GatewayDialect<ScgiSettings> = {
  mod: MOD_SCGI,
  settingsOf: (values) => ({ ...commonSettings('scgi', values), protocol: values.get('scgi.protocol') === 'uwsgi' ? 'uwsgi' : 'scgi' }),
  protocolOf: (hosts, s) => hosts[0]!.proto ?? s.protocol,
  // lighttpd queues without a limit: a php pool of 4 behind 100 clients must not answer 503.
  defaults: CGI_FAMILY_DEFAULTS,
  backendOptions: (hosts) => ({ forwardedFor: false, ...hostOptions(hosts) }),
};

export default definePlugin({
  id: 'scgi',
  aliases: ['mod_scgi'],
  requires: ['proxy-core', 'proxy-backend-scgi', 'balancer-rr', 'balancer-hash'],
  options: {
    ...gatewayOptions(MOD_SCGI, 'scgi', 'Requests go to the backends over SCGI or the uwsgi packet format ("proto"), with the CGI/1.1 environment.'),
    'scgi.protocol': {
      type: 'string',
      default: 'scgi',
      enum: ['scgi', 'uwsgi'],
      doc: 'The packet format for hosts that do not say ("proto" per host wins): "scgi" (netstring, SCGI 1) or "uwsgi" (the uwsgi packet: 4-byte header and 16-bit lengths). Default: "scgi".',
    },
  },
  create: (ctx) => createGateway(ctx, dialect),
});

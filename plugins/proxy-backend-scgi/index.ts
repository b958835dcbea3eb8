// mod_scgi (lighttpd 1.4 src/mod_scgi.c): the "scgi" and "uwsgi" protocols for proxy-core. Both
// send the CGI environment once (an SCGI netstring or a uwsgi packet), then the body, and read the
// response until the backend closes: one request per connection. `scgi.server` is parsed by the
// gateway-config module, not here.
import { definePlugin } from '../../core/plugin.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import type { ProtocolDefinition } from '../proxy-core/types.js';
import { GatewayExchange } from './exchange.js';
import { encodeScgiHead } from './netstring.js';
import { encodeUwsgiPacket } from './uwsgi-packet.js';

export const scgiProtocol: ProtocolDefinition = {
  name: 'scgi',
  keepAlive: false,
  // CONTENT_LENGTH goes in the head: proxy-core collects a body of unknown length first (or 411).
  streamsUnknownLength: false,
  usesEnv: true,
  createExchange(up, options) {
    return new GatewayExchange(up, options, encodeScgiHead);
  },
};

export const uwsgiProtocol: ProtocolDefinition = {
  name: 'uwsgi',
  keepAlive: false,
  streamsUnknownLength: false,
  usesEnv: true,
  createExchange(up, options) {
    return new GatewayExchange(up, options, (env) => encodeUwsgiPacket(env));
  },
};

export default definePlugin({
  id: 'proxy-backend-scgi',
  aliases: ['mod_proxy_backend_scgi'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    if (!core) throw new Error('proxy-backend-scgi: proxy-core is not loaded');
    core.registerProtocol(scgiProtocol);
    core.registerProtocol(uwsgiProtocol);
  },
});

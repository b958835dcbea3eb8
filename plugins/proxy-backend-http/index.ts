// mod_proxy_backend_http (lighttpd 1.5): the "http" protocol for proxy-core, HTTP/1.1 to the
// backends with keep-alive and chunked request bodies, or HTTP/1.0 (protocolOptions.httpVersion).
import { definePlugin } from '../../core/plugin.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import type { ProtocolDefinition } from '../proxy-core/types.js';
import { HttpExchange } from './http-exchange.js';

export const httpProtocol: ProtocolDefinition = {
  name: 'http',
  keepAlive: true,
  streamsUnknownLength: true,
  usesEnv: false,
  options: {
    httpVersion: {
      type: 'string', enum: ['1.0', '1.1'], default: '1.1',
      doc: 'The HTTP version spoken to the backend: "1.0" sends no chunked bodies (an unknown length is buffered first) and closes each connection. Default: "1.1".',
    },
  },
  // RFC 9112 §6.1: an HTTP/1.0 recipient knows no chunked coding, and keeps no connection
  // open unless asked; proxy-core then buffers a body of unknown length and closes after each.
  capabilities(options) {
    const http10 = options.httpVersion === '1.0';
    return { keepAlive: !http10, streamsUnknownLength: !http10 };
  },
  createExchange(up, options) {
    return new HttpExchange(up, options);
  },
};

export default definePlugin({
  id: 'proxy-backend-http',
  aliases: ['mod_proxy_backend_http'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    if (!core) throw new Error('proxy-backend-http: proxy-core is not loaded');
    core.registerProtocol(httpProtocol);
  },
});

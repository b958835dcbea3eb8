// mod_proxy_backend_fastcgi (lighttpd 1.5): the "fastcgi" protocol for proxy-core, FastCGI 1.0
// in the Responder or Authorizer role, with FCGI_KEEP_CONN connections. The `fastcgi.server`
// config key is parsed by the gateway config, not here: this plugin only frames bytes.
import { definePlugin } from '../../core/plugin.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import type { ProtocolDefinition } from '../proxy-core/types.js';
import { FastcgiExchange } from './exchange.js';
import { encodeParams } from './params.js';
import { encodeRecord, FCGI_GET_VALUES, FCGI_NULL_REQUEST_ID } from './record.js';

/** FCGI_GET_VALUES for FCGI_MAX_CONNS, sent once on each new connection. */
const GET_MAX_CONNS = encodeRecord(FCGI_GET_VALUES, FCGI_NULL_REQUEST_ID, encodeParams([['FCGI_MAX_CONNS', '']]));

export const fastcgiProtocol: ProtocolDefinition = {
  name: 'fastcgi',
  keepAlive: true,
  // C2: FastCGI needs CONTENT_LENGTH, so a body of unknown length is buffered first (or 411).
  streamsUnknownLength: false,
  usesEnv: true,
  options: {
    role: {
      type: 'string',
      default: 'responder',
      enum: ['responder', 'authorizer'],
      doc: 'The FastCGI role asked for in BEGIN_REQUEST (FastCGI 1.0 §6). `responder` (the default) sends the request body on STDIN and relays the response. `authorizer` sends no body and no CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED or SCRIPT_NAME, and its answer decides whether the request may go on.',
    },
    keepConn: {
      type: 'boolean',
      default: true,
      doc: 'Whether BEGIN_REQUEST sets FCGI_KEEP_CONN so that the backend keeps the connection open for further requests (default true). When false the backend closes the connection after each request and proxy-core never pools it.',
    },
  },
  // FastCGI §4.1: each new connection asks FCGI_MAX_CONNS; php-cgi answers PHP_FCGI_CHILDREN.
  announcesCapacity: true,
  preamble() {
    return GET_MAX_CONNS;
  },
  capabilities(options) {
    return { keepAlive: options.keepConn !== false, streamsUnknownLength: false };
  },
  createExchange(up, options) {
    return new FastcgiExchange(up, options);
  },
};

export default definePlugin({
  id: 'proxy-backend-fastcgi',
  aliases: ['mod_proxy_backend_fastcgi'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    if (!core) throw new Error('proxy-backend-fastcgi: proxy-core is not loaded');
    core.registerProtocol(fastcgiProtocol);
  },
});

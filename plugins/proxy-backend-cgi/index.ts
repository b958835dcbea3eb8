// The "cgi" protocol for proxy-core (RFC 3875): the framing of a CGI script's conversation, and
// nothing else. The script runs as a process per request on proxy-core's exec: transport, which
// hands it the CGI environment, streams the request body to its stdin, then EOF, and logs its
// stderr; this protocol reads its stdout: a CGI header block (Status, Location, Content-Type) or,
// from an NPH script, a whole HTTP status line and head, then a body that ends with the output.
// A script with no valid header block is answered 500 (checklist G10; lighttpd's mod_cgi sends
// such output as the body of a 200 instead).
// cgi.assign and the other cgi.* keys are the "cgi" plugin's (mod_cgi).
import { Buffer } from 'node:buffer';
import { definePlugin } from '../../core/plugin.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import type { ProtocolDefinition } from '../proxy-core/types.js';
import { GatewayExchange } from '../proxy-backend-scgi/exchange.js';

const NOTHING = Buffer.alloc(0);

export const cgiProtocol: ProtocolDefinition = {
  name: 'cgi',
  // One process per request: its output ends with the response.
  keepAlive: false,
  // CONTENT_LENGTH is in the environment before the script starts: proxy-core collects a body
  // of unknown length first (or answers 411 when streaming is forced).
  streamsUnknownLength: false,
  usesEnv: true,
  createExchange(up, options) {
    return new GatewayExchange(up, options, () => NOTHING, 'LT_ERR_SCRIPT_FAILED', true);
  },
};

export default definePlugin({
  id: 'proxy-backend-cgi',
  aliases: ['mod_proxy_backend_cgi'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    if (!core) throw new Error('proxy-backend-cgi: proxy-core is not loaded');
    core.registerProtocol(cgiProtocol);
  },
});

// Node peer for the proxy cases (issue 4): undici's Pool to the origin, each response streamed
// with pool.stream() straight into the node:http response (back-pressure from the client
// reaches the origin socket). Usage: node undici-proxy.mjs <port> <originPort>
import http from 'node:http';
import { Pool } from 'undici';

const [port, originPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${originPort}`, { connections: 64 });
// RFC 9110 §7.6.1: hop-by-hop fields are not forwarded (undici also refuses most of them).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host']);

function endToEnd(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const server = http.createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream(
    { path: req.url, method: req.method, headers: endToEnd(req.headers), body: hasBody ? req : null, opaque: res },
    ({ statusCode, headers, opaque }) => {
      opaque.writeHead(statusCode, endToEnd(headers));
      return opaque;
    },
    (err) => {
      if (!err) return;
      if (res.headersSent) res.destroy();
      else { res.writeHead(502, { 'Content-Length': 0 }); res.end(); }
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));

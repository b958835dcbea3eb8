// Node peer for the proxy cases (issue 4): the npm package http-proxy in front of the origin,
// with a keep-alive agent of 64 sockets. Usage: node http-proxy.mjs <port> <originPort>
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${originPort}`, agent });
proxy.on('error', (err, req, res) => {
  // A failed upstream exchange: 502 if nothing was sent yet, else cut the response.
  if (res.headersSent) res.destroy();
  else { res.writeHead(502, { 'Content-Length': 0 }); res.end(); }
});
// http-proxy 1.18.1 aborts the upstream request on the request's 'aborted' event, which Node
// >= 15.5 no longer emits once the request body is complete: a client that leaves mid-response
// (wrk does at the end of every run) would hold one agent socket forever, and after 64 of them
// the peer stalls (http-party/node-http-proxy#1559, still open). A deployed http-proxy needs
// the same fix, so the peer carries it: the response's 'close' before its end frees the socket.
proxy.on('proxyReq', (proxyReq, req, res) => {
  res.on('close', () => { if (!res.writableFinished) proxyReq.destroy(); });
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));

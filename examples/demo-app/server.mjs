// lantern's demo backend: a tiny node:http app that shows which process answered (its pid) and
// how many requests that process has served. lantern's embedded config starts two of these
// (plugins/demo-app) and proxies /demo/ to them round robin, so a reload shows the pid change.
//
//   node server.mjs <port> [host]      host defaults to 127.0.0.1; port 0 picks a free port
//
// Once it listens it prints one line, `listening on http://<host>:<port>/demo/ pid <pid>`, which
// the demo-app plugin waits for before lantern starts accepting requests.
import http from 'node:http';

const port = Number(process.argv[2] ?? '8081');
const host = process.argv[3] ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`usage: node server.mjs <port> [host] (got port "${process.argv[2]}")\n`);
  process.exit(2);
}

let hits = 0;

/** Only the characters HTML gives a meaning to; everything shown here is ours, but stay safe. */
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(hitCount, via) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lantern demo app</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
  .big { font-size: 2.5rem; font-weight: 600; }
  code { font-family: ui-monospace, monospace; background: #f4f4f4; border-radius: 4px; padding: 0 0.25rem; }
</style>
</head>
<body>
<h1>lantern demo app</h1>
<p>This page was made by a Node.js process behind lantern's proxy. Reload it: lantern balances
requests round robin over two processes, so the process id changes.</p>
<p>process id <span class="big" id="pid">${escapeHtml(process.pid)}</span></p>
<p>requests served by this process: <span class="big" id="hits">${escapeHtml(hitCount)}</span></p>
<p>reached via <code>${escapeHtml(via)}</code> · <a href="/demo/api">/demo/api</a> (JSON) ·
<a href="/server-status">/server-status</a> (lantern's status page) · <a href="/">welcome page</a></p>
</body>
</html>
`;
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/demo/api') {
    hits++;
    const body = JSON.stringify({ pid: process.pid, hits });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/demo/' || path === '/demo') {
    hits++;
    const body = page(hits, req.headers['x-forwarded-for'] ? 'lantern (X-Forwarded-For present)' : 'a direct connection');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
});

// lantern keeps connections to its backends alive between requests; keep them longer than
// Node's 5 s default so an idle pool is not torn down under it at every pause.
server.keepAliveTimeout = 60_000;

server.on('error', (err) => {
  process.stderr.write(`demo-app ${process.pid}: ${err.message}\n`);
  process.exit(1);
});

server.listen(port, host, () => {
  const bound = server.address();
  process.stdout.write(`listening on http://${host}:${bound.port}/demo/ pid ${process.pid}\n`);
});

// SIGTERM (lantern stopping): stop accepting, let requests in flight finish, then exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

// Reference for the hello case (issue 4), not a proxy and not a Node peer: a bare-bones raw-socket
// relay with no parsing, hooks or config, as fast as plain Node relays bytes. It is the ceiling
// for one Node process, so the report can show whether "lantern >= 2x the best Node peer" asks
// for more than any Node process relaying these bytes reaches.
// Each client connection gets its own TCP connection to the origin; bytes are copied both ways
// unchanged. Usage: node raw-relay.mjs <port> <originPort>
import net from 'node:net';

const [port, originPort] = process.argv.slice(2).map(Number);
// libuv reads into this buffer (net's `onread`) instead of a new Buffer and a 'data' event per
// read. One buffer serves every socket: each read is copied inside its synchronous callback,
// before libuv reads again, because socket.write() may keep the Buffer it is given.
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/** onread callback relaying reads of `src()` to `dst()`; false (stop reading) until `dst()` drains. */
function forward(src, dst) {
  const resume = () => src().resume();
  return (n, buf) => {
    const to = dst();
    if (to.destroyed) return false;
    if (to.write(Buffer.from(buf.subarray(0, n)))) return true;
    to.once('drain', resume);
    return false;
  };
}

/** Tie two sockets together: an end is forwarded, an error or a close ends the other one too. */
function pair(a, b) {
  for (const [x, y] of [[a, b], [b, a]]) {
    x.on('end', () => y.end());
    // ECONNRESET and the like: drop both, never throw.
    x.on('error', () => { a.destroy(); b.destroy(); });
    // Closed without an error: let the other flush what it holds, then close it.
    x.on('close', () => { if (!y.destroyed) { y.end(); if (y.writableFinished) y.destroy(); else y.once('finish', () => y.destroy()); } });
  }
}

const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (sock) => {
  let client;
  const upstream = net.connect({
    host: '127.0.0.1', port: originPort, noDelay: true, allowHalfOpen: true,
    onread: { buffer: readBuffer, callback: forward(() => upstream, () => client) },
  });
  const h = sock._handle;
  if (h) {
    // Re-wrap the accepted handle so the client socket reads through `onread` too (the server
    // cannot give accepted sockets that option); pauseOnConnect kept it from reading meanwhile.
    sock._handle = null;
    client = new net.Socket({ handle: h, allowHalfOpen: true, onread: { buffer: readBuffer, callback: forward(() => client, () => upstream) } });
  } else {
    // No handle to take (a Node that hides it): 'data' events, each a fresh Buffer.
    client = sock;
    client.on('data', (d) => { if (!upstream.write(d)) { client.pause(); upstream.once('drain', () => client.resume()); } });
  }
  pair(client, upstream);
  client.resume();
  upstream.resume(); // flowing, so 'end' is emitted (reads themselves go to the callback)
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));

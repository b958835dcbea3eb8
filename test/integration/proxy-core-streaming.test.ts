// Reliability checklist rows F3, G1, G2 and G3 through proxy-core: back-pressure with a slow
// reader, client aborts during the upload and during the response (no upstream socket left
// behind, also after 1 000 aborts), and a backend that answers before the body is complete.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { connectRaw } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const S = suite('proxy-core streaming and aborts (F3, G1-G3)');
const MiB = 1024 * 1024;
let lt: ProxyHandle;
let early: FakeBackend;
let hold: FakeBackend;

/**
 * A backend that streams `bytes` as fast as the socket takes them and says how far it got. It
 * answers one request per connection and closes after it (`Connection: close`): a response
 * that completes (the kernel's loopback buffers can take all of it before a client's abort is
 * seen) must not leave a pooled connection that this backend would never answer again.
 */
interface Streamer {
  address: string;
  sent: number;
  blockedSinceMs: number;
  open: number;
  close(): Promise<void>;
}

async function streamer(total: number, pieceBytes: number): Promise<Streamer> {
  const piece = Buffer.alloc(pieceBytes, 0x61);
  const state = { sent: 0, blockedSinceMs: 0, open: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    state.open++;
    s.on('close', () => { sockets.delete(s); state.open--; });
    s.on('error', () => {});
    s.once('data', () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`);
      let mine = 0;
      const pump = () => {
        if (mine >= total) { s.end(); return; }
        while (mine < total) {
          const n = Math.min(pieceBytes, total - mine);
          mine += n;
          state.sent += n;
          if (!s.write(n === pieceBytes ? piece : piece.subarray(0, n))) {
            state.blockedSinceMs = Date.now();
            s.once('drain', () => { state.blockedSinceMs = 0; pump(); });
            return;
          }
        }
        s.end();
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    address: `127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let big: Streamer;
let aborts: Streamer;

/** A backend that reads nothing until told to, then reads everything and answers with the byte count. */
interface Sink {
  address: string;
  received: number;
  start(): void;
  close(): Promise<void>;
}

async function lazySink(): Promise<Sink> {
  const sockets = new Set<net.Socket>();
  let go = false;
  const state = { received: 0 };
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.pause();
    let head = true;
    let want = -1;
    let got = 0;
    s.on('data', (d: Buffer) => {
      state.received += d.length;
      if (head) {
        const text = d.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        want = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        got = d.length - end - 4;
        head = false;
      } else {
        got += d.length;
      }
      if (got >= want) s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${String(got).length}\r\n\r\n${got}`);
    });
    const poll = setInterval(() => { if (go) { clearInterval(poll); s.resume(); } }, 5);
    s.on('close', () => { clearInterval(poll); sockets.delete(s); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    start: () => { go = true; },
    close: () => {
      for (const x of sockets) x.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let lazy: Sink;
let stuck: Sink;

S.before(async () => {
  big = await streamer(64 * MiB, 64 * 1024);
  aborts = await streamer(4 * MiB, 64 * 1024);
  early = await fakeBackend({ answerAfter: 'head', respond: () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno' });
  hold = await fakeBackend({ answerAfter: 'head', respond: () => ['HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nfirst', fakeBackend.pause, 'never'] });
  lazy = await lazySink();
  stuck = await lazySink();
  lt = await startProxy(`
server.stream-request-body = 2
server.stream-response-body = 2
$HTTP["url"] =^ "/big/" { proxy-core.backends = ( "${big.address}" ) }
$HTTP["url"] =^ "/abort/" { proxy-core.backends = ( "${aborts.address}" ) proxy-core.max-pool-size = 64 proxy-core.max-backlog-size = 1000 }
$HTTP["url"] =^ "/early/" { proxy-core.backends = ( "${early.address}" ) }
$HTTP["url"] =^ "/hold/" { proxy-core.backends = ( "${hold.address}" ) }
$HTTP["url"] =^ "/lazy/" { proxy-core.backends = ( "${lazy.address}" ) }
$HTTP["url"] =^ "/stuck/" { proxy-core.backends = ( "${stuck.address}" ) proxy-core.write-timeout = "0.3" }
`);
});
S.after(async () => {
  await lt?.stop();
  await big?.close();
  await aborts?.close();
  await early?.close();
  await hold?.close();
  await lazy?.close();
  await stuck?.close();
});

const members = (address: string) => lt.api.snapshot().backends.find((b) => b.members[0]?.key === address)!.members[0]!;

S('F3 a client that does not read: the backend is paused, memory stays bounded; then everything arrives', async () => {
  // A plain socket, so that the test itself keeps nothing it reads.
  const c = net.connect(lt.port, '127.0.0.1');
  await new Promise<void>((resolve) => c.once('connect', resolve));
  c.pause();
  c.write('GET /big/x HTTP/1.1\r\nHost: h\r\n\r\n');
  await waitFor(() => big.blockedSinceMs !== 0 && Date.now() - big.blockedSinceMs > 300, 5000, 5, 'the backend to be blocked for 300 ms');
  assert.ok(big.sent < 40 * MiB, `the backend could only send ${big.sent} bytes of 64 MiB`);
  // What lantern holds in user space for the client: its socket's write queue.
  const queued = () => { let n = 0; for (const x of lt.server.connections) n += x.socket.writableLength; return n; };
  let received = 0;
  let peakQueued = queued();
  const done = new Promise<void>((resolve) => {
    c.on('data', (d: Buffer) => {
      received += d.length;
      peakQueued = Math.max(peakQueued, queued());
      if (received >= 64 * MiB) resolve();
    });
  });
  c.resume();
  await done;
  assert.is(big.sent, 64 * MiB);
  assert.ok(peakQueued < 2 * MiB, `at most ${peakQueued} bytes queued in lantern for the client`);
  c.destroy();
});

S('F3 upload to a backend that does not read: the client is paused, nothing piles up; then it all arrives', async () => {
  const total = 48 * MiB;
  const c = net.connect(lt.port, '127.0.0.1');
  await new Promise<void>((resolve) => c.once('connect', resolve));
  c.write(`POST /lazy/up HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`);
  const piece = Buffer.alloc(64 * 1024, 0x62);
  let written = 0;
  let blockedSinceMs = 0;
  const pump = () => {
    while (written < total) {
      written += piece.length;
      if (!c.write(piece)) { blockedSinceMs = Date.now(); c.once('drain', () => { blockedSinceMs = 0; pump(); }); return; }
    }
  };
  pump();
  await waitFor(() => blockedSinceMs !== 0 && Date.now() - blockedSinceMs > 300, 5000, 5, 'the client to be blocked for 300 ms');
  assert.ok(written < 40 * MiB, `the client could only write ${written} bytes`);
  const answer = new Promise<string>((resolve) => { let t = ''; c.on('data', (d) => { t += d; if (t.endsWith(String(total))) resolve(t); }); });
  lazy.start();
  assert.match(await answer, /^HTTP\/1\.1 200 OK/);
  assert.is(lazy.received > total, true);
  c.destroy();
});

S('write timeout: a backend that takes no request bytes → 504', async () => {
  const c = net.connect(lt.port, '127.0.0.1');
  await new Promise<void>((resolve) => c.once('connect', resolve));
  c.on('error', () => {});
  const total = 48 * MiB;
  c.write(`POST /stuck/up HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`);
  const piece = Buffer.alloc(64 * 1024, 0x62);
  let written = 0;
  const pump = () => { while (written < total && !c.destroyed) { written += piece.length; if (!c.write(piece)) { c.once('drain', pump); return; } } };
  pump();
  const text = await new Promise<string>((resolve) => { let t = ''; c.on('data', (d) => { t += d; if (t.includes('\r\n\r\n')) resolve(t); }); });
  assert.match(text, /^HTTP\/1\.1 504 /);
  const m = members(stuck.address);
  assert.is(m.failures.writeTimeout, 1);
  c.destroy();
});

S('G1 client disconnects mid-upload: the upstream connection is destroyed, never pooled', async () => {
  const c = await connectRaw(lt.port);
  await c.write('POST /hold/up HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n0123456789');
  await hold.waitRequests(1, 3000);
  c.destroy();
  await hold.waitFor((b) => b.connections[0]!.closed, 3000, 'lantern to close the upstream connection');
  await waitFor(() => members(hold.address).connections === 0 && members(hold.address).active === 0, 2000, 1, 'the member to forget it');
});

S('G2 client disconnects while the response streams: upstream destroyed', async () => {
  const c = await connectRaw(lt.port);
  const before = members(aborts.address).requests;
  await c.write('GET /abort/one HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.readUntil((b) => b.length > 1000, 3000, 'the first bytes');
  c.destroy();
  await waitFor(() => aborts.open === 0, 3000, 1, 'lantern to close the upstream connection');
  const m = members(aborts.address);
  assert.is(m.requests, before + 1);
  assert.is(m.connections, 0, 'not pooled');
});

S('G2 1 000 clients abort mid-response: no socket left behind', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  const serverConnsBefore = lt.server.connections.size;
  const one = async () => {
    const c = await connectRaw(lt.port);
    await c.write('GET /abort/x HTTP/1.1\r\nHost: h\r\n\r\n');
    await c.readUntil((b) => b.length > 1000, 5000, 'some body bytes');
    c.destroy();
  };
  for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, one));
  await waitFor(() => aborts.open === 0, 5000, 5, 'every backend socket to close');
  await waitFor(() => lt.server.connections.size === serverConnsBefore, 5000, 5, 'every client connection to close');
  const m = members(aborts.address);
  assert.is(m.connections, 0);
  assert.is(m.active, 0);
  assert.ok(m.requests >= 1000);
  await waitFor(() => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length <= before, 5000, 5, 'the socket count to come back');
});

S('G3 the backend answers before the body is complete: answer forwarded, body drained, backend connection not reused', async () => {
  const c = await connectRaw(lt.port);
  await c.write('POST /early/a HTTP/1.1\r\nHost: h\r\nContent-Length: 20000\r\n\r\n' + 'x'.repeat(100));
  const res = await c.readResponse(3000);
  assert.is(res.status, 403);
  assert.is(res.body.toString(), 'no');
  await early.waitFor((b) => b.connections[0]!.closed, 3000, 'lantern to close the early backend connection');
  // The rest of the body is read and dropped; the client connection goes on.
  await c.write('x'.repeat(19900));
  await c.write('GET /early/b HTTP/1.1\r\nHost: h\r\n\r\n');
  const res2 = await c.readResponse(3000);
  assert.is(res2.status, 403);
  assert.is(early.connectionCount, 2, 'a new backend connection');
  c.destroy();
});

S.run();

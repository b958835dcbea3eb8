// Reliability checklist rows F3 and G1-G6 through proxy-core (HTTP backend): slow readers,
// client aborts (and no socket leak after 1 000 of them), early responses, Expect, Upgrade.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { connectRaw, rawExchange } from '../helpers/raw-client.js';
import type { LanternHandle } from '../helpers/lantern.js';
import { startProxy } from '../helpers/proxy-setup.js';
import { withTimeout, waitFor } from '../helpers/wait.js';

const G = suite('reliability F3, G: slow peers, aborts, Expect, Upgrade');
const MiB = 1024 * 1024;

async function withProxy(be: FakeBackend, fn: (lt: LanternHandle) => Promise<void>, extra = '') {
  const lt = await startProxy([be.address], extra);
  try { await fn(lt); } finally { await lt.stop(); await be.close(); }
}

for (const [mode, streamConf] of [['server.stream-response-body = 2', 'server.stream-response-body = 2'], ['a response buffer capped at 1 MiB', 'proxy-core.max-temp-file-size = 1048576']]) {
G(`F3 a client that does not read (${mode}): lantern stops reading upstream (bounded), then delivers everything`, async () => {
  const total = 64 * MiB;
  const chunk = Buffer.alloc(MiB, 0x61);
  let backendSocket: net.Socket | null = null;
  const be = await fakeBackend({ respond: async (_req, conn) => {
    backendSocket = conn.socket;
    await conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
    for (let i = 0; i < 64; i++) await conn.write(chunk);
    return 'stall';
  } });
  await withProxy(be, async (lt) => {
    const c = await connectRaw(lt.port);
    try {
      c.socket.pause();
      await c.socket.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitFor(() => backendSocket !== null, 3000, 5, 'backend got the request');
      // Let the pipes fill, then check the backend is held back.
      let last = -1;
      await waitFor(() => {
        const now = backendSocket!.bytesWritten - backendSocket!.writableLength;
        const stable = now === last;
        last = now;
        return stable && now > 0;
      }, 10000, 200, 'backend writes stall');
      assert.ok(last < 40 * MiB, `lantern buffered at most a bounded amount (backend wrote ${last} bytes)`);
      let got = 0;
      c.socket.on('data', (d: Buffer) => { got += d.length; });
      c.socket.resume();
      await waitFor(() => got >= total, 20000, 5, 'whole body delivered');
    } finally { c.destroy(); }
  }, streamConf);
});
}

G('G1 client disconnects mid-upload → the upstream request is aborted, connection not pooled', async () => {
  const be = await fakeBackend({ answerAfter: 'head', respond: () => 'stall' });
  await withProxy(be, async (lt) => {
    const c = await connectRaw(lt.port);
    await c.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npartial');
    await be.waitRequests(1, 3000);
    c.destroy();
    await be.waitFor((b) => b.connections[0]?.closedByPeer === true, 3000, 'upstream connection closed by lantern');
    assert.ok(be.connections[0].requests[0].complete === false, 'the upstream request never completed');
  }, 'server.stream-request-body = 2');
});

G('G2 client disconnects while the response streams → upstream destroyed', async () => {
  const be = await fakeBackend({ respond: async (_r, conn) => {
    await conn.write('HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n');
    await conn.write(Buffer.alloc(65536, 0x62));
    return 'stall';
  } });
  await withProxy(be, async (lt) => {
    const c = await connectRaw(lt.port);
    await c.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.readUntil((u) => u.length > 1000, 3000, 'some body');
    c.destroy();
    await be.waitFor((b) => b.connections[0]?.closedByPeer === true, 3000, 'upstream closed');
  });
});

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

G('G2 no socket leak: 1 000 clients that abort mid-response', async () => {
  // The backend streams until lantern drops the upstream connection. (A client FIN alone is a
  // half-close, which still gets its answer; a client that is gone shows on the next write.)
  const piece = Buffer.alloc(16384, 0x63);
  const be = await fakeBackend({ respond: async (_r, conn) => {
    await conn.write('HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n');
    while (!conn.closed) {
      await conn.write(piece).catch(() => {});
      await new Promise((r) => setTimeout(r, 5));
    }
    return 'stall';
  } });
  await withProxy(be, async (lt) => {
    const before = openFds();
    const one = () => new Promise<void>((resolve, reject) => {
      const s = net.connect(lt.port, '127.0.0.1');
      const t = setTimeout(() => { s.destroy(); reject(new Error('no response bytes in 5 s')); }, 5000);
      s.once('data', () => { clearTimeout(t); s.destroy(); resolve(); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
      s.write('GET /abort HTTP/1.1\r\nHost: a\r\n\r\n');
    });
    for (let i = 0; i < 1000; i += 20) await Promise.all(Array.from({ length: 20 }, one));
    // Every upstream connection of an aborted response must be gone (not pooled, not leaked).
    await be.waitFor((b) => b.connections.every((c) => c.closed), 10000, 'all upstream connections closed');
    await waitFor(() => openFds() <= before + 2, 5000, 5, `fds back to ${before} (now ${openFds()})`);
    assert.is(lt.server.connections.size, 0, 'no client connection left');
  });
});

G('G3 backend answers before the request body is complete → forwarded; backend connection not reused', async () => {
  const be = await fakeBackend({ answerAfter: 'head', respond: (req) => req.target === '/early'
    ? { chunks: ['HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!'], then: 'keep' }
    : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });
  await withProxy(be, async (lt) => {
    const r = await rawExchange({ port: lt.port, send: ['POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n', 'x'.repeat(1000)], timeoutMs: 5000, expectResponses: 1 });
    assert.is(r.responses[0].status, 413);
    assert.is(r.responses[0].body.toString(), 'big!');
    const r2 = await rawExchange({ port: lt.port, send: 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n', expectResponses: 1, timeoutMs: 5000 });
    assert.is(r2.responses[0].status, 200);
    assert.is(be.connectionCount, 2, 'the first backend connection was not reused');
  }, 'server.stream-request-body = 2');
});

G('G4 Expect: 100-continue → exactly one 100, then the answer', async () => {
  const be = await fakeBackend({ respond: (req) => `HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body}` });
  await withProxy(be, async (lt) => {
    const c = await connectRaw(lt.port);
    try {
      await c.write('POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
      const interim = await c.readResponse(3000);
      assert.is(interim.status, 100);
      await c.write('hello');
      const res = await c.readResponse(3000);
      assert.is(res.status, 200);
      assert.is(res.body.toString(), 'hello');
      assert.is(c.unread.length, 0, 'no second 100');
    } finally { c.destroy(); }
    assert.not.ok(/expect/i.test(be.connections[0].requests[0].head), 'Expect not forwarded after lantern answered it');
  });
});

G('G5 WebSocket through the tunnel (ws on both sides), with bytes pipelined after the handshake', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  const port = (wss.address() as net.AddressInfo).port;
  const lt = await startProxy([`127.0.0.1:${port}`], 'proxy-core.upgrade = "enable"');
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${lt.port}/ws`);
    const got: string[] = [];
    ws.on('message', (m) => got.push(String(m)));
    await withTimeout(new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); }), 5000, 'ws open');
    ws.send('one');
    ws.send('two');
    await waitFor(() => got.length === 2, 5000, 5, 'two echoes');
    assert.equal(got, ['echo:one', 'echo:two']);
    ws.close();

    // A raw client pipelines a frame right after its handshake: the frame must reach the backend.
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const masked = (text: string) => {
      const payload = Buffer.from(text);
      const mask = Buffer.from([1, 2, 3, 4]);
      const out = Buffer.alloc(6 + payload.length);
      out[0] = 0x81; out[1] = 0x80 | payload.length; mask.copy(out, 2);
      for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4];
      return out;
    };
    const c = await connectRaw(lt.port);
    try {
      await c.write(Buffer.concat([Buffer.from(`GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`), masked('early')]));
      const bytes = await c.readUntil((u) => u.includes('echo:early'), 5000, 'echo of the pipelined frame');
      assert.ok(bytes.toString('latin1').startsWith('HTTP/1.1 101'));
    } finally { c.destroy(); }
  } finally {
    await lt.stop();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});

G('G6 Upgrade on HTTP/1.0 ignored; missing Sec-WebSocket-Key → 400; h2c never forwarded', async () => {
  const be = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });
  await withProxy(be, async (lt) => {
    let r = await rawExchange({ port: lt.port, send: 'GET /g6 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n', timeoutMs: 4000, expectResponses: 1 });
    assert.is(r.responses[0].status, 400);
    r = await rawExchange({ port: lt.port, send: 'GET /h2c HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n', timeoutMs: 4000, expectResponses: 1 });
    assert.is(r.responses[0].status, 200);
    r = await rawExchange({ port: lt.port, send: 'GET /ten HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', timeoutMs: 4000, expectResponses: 1 });
    assert.is(r.responses[0].status, 200);
    const heads = be.connections.flatMap((c) => c.requests).map((q) => q.head);
    assert.ok(heads.every((h) => !/^upgrade:/im.test(h)), 'no Upgrade forwarded');
    assert.ok(heads.every((h) => !/http2-settings/i.test(h)));
  }, 'proxy-core.upgrade = "enable"');
});

G.run();

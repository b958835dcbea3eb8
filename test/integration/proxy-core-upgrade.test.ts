// Reliability checklist rows G5 and G6 through proxy-core: WebSocket upgrades become a byte
// tunnel after the backend's 101 (tested with the `ws` package on both sides), bytes pipelined
// right after the handshake are kept, half-close is relayed; upgrades that must not pass don't.
import http from 'node:http';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket, WebSocketServer } from 'ws';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { connectRaw, rawExchange } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const G = suite('proxy-core upgrade tunnel (G5, G6)');
let lt: ProxyHandle;
let wsHttp: http.Server;
let wss: WebSocketServer;
let rawUp: net.Server;
let plain: FakeBackend;

const HANDSHAKE = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

/** A masked client text frame (RFC 6455 §5.2), payload < 126 bytes. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

G.before(async () => {
  wsHttp = http.createServer((_req, res) => res.end('plain'));
  wss = new WebSocketServer({ server: wsHttp });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary })));
  await new Promise<void>((resolve) => wsHttp.listen(0, '127.0.0.1', resolve));
  // A raw upgrade backend: 101, then echoes; on the client's FIN it says "bye" and ends too.
  rawUp = net.createServer({ allowHalfOpen: true }, (s) => {
    let head = '';
    s.on('data', (d) => {
      if (!head.includes('\r\n\r\n')) {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
        return;
      }
      s.write(d);
    });
    s.on('end', () => s.end('bye'));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => rawUp.listen(0, '127.0.0.1', resolve));
  plain = await fakeBackend();
  const wsAddr = `127.0.0.1:${(wsHttp.address() as net.AddressInfo).port}`;
  const rawAddr = `127.0.0.1:${(rawUp.address() as net.AddressInfo).port}`;
  lt = await startProxy(`
$HTTP["url"] =^ "/ws/" { proxy-core.backends = ( "${wsAddr}" ) proxy-core.upgrade = "enable" }
$HTTP["url"] =^ "/raw/" { proxy-core.backends = ( "${rawAddr}" ) proxy-core.upgrade = "enable" proxy-core.read-timeout = "0.5" }
$HTTP["url"] =^ "/plain/" { proxy-core.backends = ( "${plain.address}" ) proxy-core.upgrade = "enable" }
$HTTP["url"] =^ "/off/" { proxy-core.backends = ( "${plain.address}" ) }
`);
});

G.after(async () => {
  await lt?.stop();
  wss?.close();
  await new Promise<void>((resolve) => wsHttp.close(() => resolve()));
  await new Promise<void>((resolve) => rawUp.close(() => resolve()));
  await plain?.close();
});

G('G5 WebSocket through the tunnel with ws on both sides: text and binary both ways, clean close', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${lt.port}/ws/chat`);
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = () => new Promise<{ data: Buffer; binary: boolean }>((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
  let m = next();
  ws.send('hello');
  assert.is((await m).data.toString(), 'echo:hello');
  m = next();
  const blob = Buffer.alloc(200000, 7);
  ws.send(blob);
  const got = await m;
  assert.ok(got.binary);
  assert.ok(got.data.equals(blob), 'a 200 kB binary message comes back intact');
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(1000);
  assert.is(await closed, 1000);
  await waitFor(() => lt.api.snapshot().backends.every((b) => b.members.every((x) => x.active === 0)), 2000, 5, 'no request left active');
});

G('G5 bytes pipelined right after the handshake are forwarded', async () => {
  const c = await connectRaw(lt.port);
  await c.write(Buffer.concat([Buffer.from(HANDSHAKE('/ws/pipelined')), clientFrame('early')]));
  const text = (await c.readUntil((b) => b.includes('echo:early'), 3000, 'the echo of the pipelined frame')).toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.match(text, /\r\nUpgrade: websocket\r\n/i);
  assert.match(text, /\r\nConnection: upgrade\r\n/i);
  c.destroy();
});

G('G5 half-close is relayed both ways; the tunnel closes when both sides are done', async () => {
  const c = await connectRaw(lt.port);
  await c.write(HANDSHAKE('/raw/x'));
  await c.readUntil((b) => b.toString().includes('\r\n\r\n'), 3000, 'the 101');
  await c.write('ping');
  await c.readUntil((b) => b.toString() === 'ping', 3000, 'the echo');
  await c.end();
  await c.readUntil((b) => b.toString() === 'bye', 3000, 'the backend answer after our FIN');
  assert.ok(await c.waitClose(3000), 'closed after both FINs');
  await waitFor(() => lt.api.snapshot().tunnels === 0, 3000, 5, 'the tunnel to be gone');
});

G('G5 an idle tunnel is closed', async () => {
  const c = await connectRaw(lt.port);
  await c.write(HANDSHAKE('/raw/idle'));
  await c.readUntil((b) => b.toString().includes('\r\n\r\n'), 3000, 'the 101');
  assert.ok(await c.waitClose(4000), 'closed after the idle time');
});

G('G5 a backend that answers an upgrade with a normal response: normal response', async () => {
  const r = await rawExchange({ port: lt.port, send: HANDSHAKE('/ws/nope'.replace('/ws/', '/plain/')), expectResponses: 1, timeoutMs: 3000 });
  assert.is(r.responses[0]?.status, 200);
  assert.is(r.responses[0]?.header('upgrade'), undefined);
  const req = plain.connections.flatMap((x) => x.requests).find((x) => x.target === '/plain/nope')!;
  assert.is(req.header('upgrade'), 'websocket', 'the upgrade was asked for');
  assert.is(req.header('connection'), 'upgrade');
});

G('G6 HTTP/1.0, h2c and upgrades on a backend without proxy-core.upgrade are not forwarded; no key → 400', async () => {
  const sent = async (request: string, target: string) => {
    const r = await rawExchange({ port: lt.port, send: request, expectResponses: 1, timeoutMs: 3000 });
    assert.is(r.responses[0]?.status, 200, target);
    const req = plain.connections.flatMap((x) => x.requests).find((x) => x.target === target)!;
    assert.is(req.header('upgrade'), undefined, `${target}: no Upgrade`);
    assert.is(req.header('connection'), undefined, `${target}: no Connection`);
  };
  await sent('GET /plain/v10 HTTP/1.0\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n', '/plain/v10');
  await sent('GET /plain/h2c HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n', '/plain/h2c');
  await sent(HANDSHAKE('/off/ws'), '/off/ws');
  const before = plain.requestCount;
  const r = await rawExchange({ port: lt.port, send: 'GET /plain/nokey HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', timeoutMs: 3000 });
  assert.is(r.responses[0]?.status, 400);
  assert.is(plain.requestCount, before, 'nothing forwarded');
});

G.run();

// Micro-benchmark of the core's per-request JS cost: one Connection fed the same keep-alive
// request over and over through a fake socket (no syscalls). Prints ns per request.
// Usage: node --import tsx bench/micro-request.ts [--dist] [config.conf] [path]
// --dist measures the compiled dist/ (what bin/lantern runs) instead of the sources via tsx.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { Listener } from '../core/listeners.js';

const args = process.argv.slice(2);
const useDist = args[0] === '--dist';
if (useDist) args.shift();
const root = useDist ? '../dist/' : '../';
const { loadConfig } = await import(`${root}config/load.js`) as typeof import('../config/load.js');
const { Connection } = await import(`${root}core/connection.js`) as typeof import('../core/connection.js');
const { Server } = await import(`${root}core/server.js`) as typeof import('../core/server.js');
const { SocketReader } = await import(`${root}core/socket-reader.js`) as typeof import('../core/socket-reader.js');

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1'; remotePort = 5555; destroyed = false; writableNeedDrain = false;
  writableLength = 0; bytesWritten = 0; written = 0;
  setNoDelay() { return this; }
  cork() {} uncork() {} pause() { return this; } resume() { return this; }
  write(d: string | Buffer) { this.written += d.length; return true; }
  end() { return this; } destroy() { this.destroyed = true; return this; }
}

const file = args[0];
const reqPath = args[1] ?? '/hello.txt';
const model = await loadConfig(file, { cwd: process.cwd() });
const server = await Server.create({ model, listen: [] });
const sock = new FakeSocket();
(server.limits as { maxKeepAliveRequests: number }).maxKeepAliveRequests = Number.MAX_SAFE_INTEGER;
const listener = { name: '127.0.0.1:80', scheme: 'http', origin: 'micro', server: null, boundPort: 80 } as unknown as Listener;
const reader = new SocketReader();
const conn = new Connection(server, sock as unknown as net.Socket, listener, reader);
const req = Buffer.from(`GET ${reqPath} HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n`);
const feed = (n: number) => { for (let i = 0; i < n; i++) reader.sink(req); };
// Warm the file cache (the first request goes to the file system) and the JIT.
feed(1);
await new Promise((r) => setTimeout(r, 200));
if (sock.written === 0) throw new Error('no response to the first request');
const first = sock.written;
for (let round = 0; round < 3; round++) {
  feed(10000);
  await new Promise((r) => setImmediate(r));
}
// The stat cache trusts an entry for one second: start the measured run on a fresh entry.
await new Promise((r) => setTimeout(r, 1100));
feed(1);
await new Promise((r) => setTimeout(r, 100));
const N = 100000;
const before = sock.written;
const t0 = process.hrtime.bigint();
feed(N);
const ns = Number(process.hrtime.bigint() - t0) / N;
const per = (sock.written - before) / N;
if (Math.abs(per - first) > 2) throw new Error(`responses are ${per} bytes, the first was ${first}: not every request was answered synchronously`);
process.stdout.write(`${ns.toFixed(0)} ns/request, ${per.toFixed(0)} bytes/response\n`);
void conn;
await server.stop(0);

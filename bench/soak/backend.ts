// One member of the soak pool: a small node:http server in its own process (so the soak can
// kill -9 it and start it again on the same port). It answers every request with a JSON line
// naming itself and echoing the request id, the request body's length and SHA-1, then filler
// bytes derived from the id; request fields (bench/soak/protocol.ts) make it slow, chunked,
// dripping, or misbehave (reset on the head, FIN or RST halfway through the body).
//
//   node --import tsx bench/soak/backend.ts <name> <port> <keepAliveTimeoutMs> <maxRequestsPerSocket>
//
// Prints "listening <port>" once it accepts connections. Exits by itself when its parent goes
// away (checked every second), so a soak that dies leaves no member behind.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { H, R, padBytes, type AnswerLine } from './protocol.js';

const [name = 'm?', portArg = '0', keepAliveArg = '2000', maxReqArg = '0'] = process.argv.slice(2);
const parentPid = process.ppid;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const int = (v: string | string[] | undefined, max: number) => Math.min(max, Math.max(0, Number.parseInt(String(v ?? '0'), 10) || 0));

/** Writes `data` and waits until the socket took it (or went away); never waits more than 30 s. */
function writeAll(res: http.ServerResponse, data: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { clearTimeout(timer); res.off('drain', onDrain); res.off('close', onClose); resolve(ok); };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), 30_000);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const socket = req.socket as net.Socket;
  const id = String(req.headers[H.id] ?? '');
  const mode = String(req.headers[H.mode] ?? '');
  if (mode === 'reset-early') { socket.resetAndDestroy(); return; }

  const hash = createHash('sha1');
  let reqBytes = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) { hash.update(chunk); reqBytes += chunk.length; }
  } catch {
    return; // lantern went away mid-body
  }
  const delay = int(req.headers[H.delay], 60_000);
  if (delay > 0) await sleep(delay);
  if (res.destroyed || socket.destroyed) return;

  const pad = int(req.headers[H.pad], 64 * 1024 * 1024);
  const line: AnswerLine = { id, member: name, pid: process.pid, method: req.method ?? '', reqBytes, reqSha1: hash.digest('hex'), pad };
  const body = Buffer.concat([Buffer.from(`${JSON.stringify(line)}\n`, 'latin1'), padBytes(id, pad)]);
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain', [R.id]: id, [R.member]: name };
  if (req.headers[H.chunked] !== '1') headers['content-length'] = body.length;
  res.writeHead(200, headers);

  if (mode === 'drop-mid' || mode === 'reset-mid') {
    const half = body.subarray(0, Math.max(1, body.length >> 1));
    res.write(half, () => (mode === 'drop-mid' ? socket.destroy() : socket.resetAndDestroy()));
    return;
  }
  const drip = req.headers[H.drip] === '1';
  const piece = drip ? Math.max(1, Math.ceil(body.length / 5)) : 64 * 1024;
  for (let at = 0; at < body.length; at += piece) {
    if (!(await writeAll(res, body.subarray(at, at + piece)))) return;
    if (drip) await sleep(40 + Math.floor(Math.random() * 110));
  }
  res.end();
}

const server = http.createServer({ keepAliveTimeout: Number(keepAliveArg) || 2000 }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    process.stderr.write(`soak backend ${name}: ${(err as Error).stack ?? String(err)}\n`);
    res.destroy();
  });
});
const maxRequests = Number(maxReqArg) || 0;
if (maxRequests > 0) server.maxRequestsPerSocket = maxRequests;
server.on('clientError', (_err, socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port: Number(portArg) }, () => {
  const addr = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${addr.port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`soak backend ${name}: ${err.message}\n`);
  process.exit(3);
});

// Orphaned (the soak died without killing us): leave.
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 1000);

// SocketReader: every chunk it hands out stays the receiver's (a later read never writes over it),
// small reads are copies, big transfers arrive whole, and an accepted socket read through
// withReader() sees the same bytes and its end.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withReader } from '../../../core/listeners.js';
import { SocketReader } from '../../../core/socket-reader.js';
import { once, withTimeout } from '../../helpers/wait.js';

const R = suite('socket-reader');

/** A listening server whose accepted sockets go to `onSocket`; resolves with its port. */
async function server(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const srv = net.createServer(onSocket);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening', 2000);
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

/** Connect with a SocketReader; collects every chunk, resolves them at 'end'. */
function readAll(port: number): { socket: net.Socket; reader: SocketReader; chunks: Buffer[]; done: Promise<Buffer[]>; received: (bytes: number) => Promise<void> } {
  const chunks: Buffer[] = [];
  let total = 0;
  let waiting: { bytes: number; resolve: () => void } | null = null;
  const reader = new SocketReader((c) => {
    chunks.push(c);
    total += c.length;
    if (waiting !== null && total >= waiting.bytes) { waiting.resolve(); waiting = null; }
  });
  /** Resolves once `bytes` bytes in all have arrived. */
  const received = (bytes: number) => withTimeout(new Promise<void>((resolve) => {
    if (total >= bytes) resolve(); else waiting = { bytes, resolve };
  }), 3000, `${bytes} bytes`);
  const socket = net.connect({ port, host: '127.0.0.1', onread: reader.onread });
  const done = withTimeout(new Promise<Buffer[]>((resolve) => socket.on('end', () => resolve(chunks))), 5000, 'the reader socket to end');
  return { socket, reader, chunks, done, received };
}

R('chunks kept across reads are never overwritten (small reads copied, large ones handed over)', async () => {
  let accepted: (s: net.Socket) => void = () => {};
  const gotPeer = new Promise<net.Socket>((resolve) => { accepted = resolve; });
  const srv = await server((s) => accepted(s));
  const { done, received } = readAll(srv.port);
  const peer = await withTimeout(gotPeer, 2000, 'the accepted socket');
  // Each piece waits until the previous one arrived: separate reads, each with its own bytes.
  const sizes = [100, 3000, 9000, 40000, 10, 70000, 200];
  const sent: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const piece = Buffer.alloc(sizes[i]!, 65 + i);
    sent.push(piece);
    bytes += piece.length;
    peer.write(piece);
    await received(bytes);
  }
  peer.end();
  const all = Buffer.concat(await done);
  assert.ok(all.equals(Buffer.concat(sent)), 'every byte as sent, none overwritten by a later read');
  srv.close();
});

R('a large transfer arrives whole, in reads that grow past the first buffer', async () => {
  const body = Buffer.alloc(1 << 20);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
  const srv = await server((s) => { s.end(body); });
  const { done } = readAll(srv.port);
  const chunks = await done;
  assert.ok(Buffer.concat(chunks).equals(body));
  assert.ok(chunks.some((c) => c.length > 16 * 1024), `some read larger than 16 KiB (largest ${Math.max(...chunks.map((c) => c.length))})`);
  srv.close();
});

R('the read buffer grows for a big transfer and shrinks back once reads are small (idle sockets hold little)', async () => {
  let accepted: (s: net.Socket) => void = () => {};
  const gotPeer = new Promise<net.Socket>((resolve) => { accepted = resolve; });
  const srv = await server((s) => accepted(s));
  const { reader, received, done } = readAll(srv.port);
  const peer = await withTimeout(gotPeer, 2000, 'the accepted socket');
  assert.is(reader.readBufferBytes, 4096, 'a new socket starts small');
  let bytes = 1 << 20;
  peer.write(Buffer.alloc(bytes, 1));
  await received(bytes);
  assert.ok(reader.readBufferBytes > 4096, `grew during the transfer (${reader.readBufferBytes})`);
  for (let i = 0; i < 6; i++) {
    peer.write('x');
    bytes += 1;
    await received(bytes);
  }
  assert.is(reader.readBufferBytes, 4096, 'back to the initial size after small reads');
  peer.end();
  await done;
  srv.close();
});

R('withReader: an accepted socket is read through its reader, writes and end work', async () => {
  const got: Buffer[] = [];
  let readerBytes = -1;
  let ended: () => void = () => {};
  const endedP = new Promise<void>((resolve) => { ended = resolve; });
  const open: net.Socket[] = [];
  const srv = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (accepted) => {
    const { socket, reader } = withReader(accepted);
    open.push(socket);
    reader.sink = (c) => { got.push(c); readerBytes = reader.readBufferBytes; };
    socket.on('end', () => { socket.end('bye:' + Buffer.concat(got).toString()); ended(); });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening', 2000);
  const client = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  open.push(client);
  try {
    let answer = '';
    client.on('data', (d: Buffer) => { answer += d.toString(); });
    const closed = once(client, 'end', 3000);
    client.end('hello');
    await withTimeout(endedP, 3000, 'the server side to see the end');
    await closed;
    assert.is(answer, 'bye:hello');
    assert.is(readerBytes, 4096, "the bytes came through the reader's own buffer (onread), not 'data' events");
  } finally {
    for (const s of open) s.destroy();
    srv.close();
  }
});

R.run();

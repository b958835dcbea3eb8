// write-batch: small writes are held until the end of the event loop's turn and then leave in
// order; flushBatched() sends them at once (before a large or direct write, an end, a close, a
// hand-over); holding never passes BATCH_MAX_BYTES nor hides a socket that is already backed up;
// a socket destroyed meanwhile is skipped without an error.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BATCH_MAX_BYTES, batchWrite, flushBatched, type BatchedWriter } from '../../../core/write-batch.js';
import { once, withTimeout } from '../../helpers/wait.js';

const W = suite('write-batch');

/** A connected pair: `writer` wraps the client side, `received(n)` resolves with the first n bytes the server side read. */
async function pair(): Promise<{ writer: BatchedWriter<net.Socket>; received: (n: number) => Promise<string>; close: () => void }> {
  let data = '';
  let waiting: { n: number; resolve: (s: string) => void } | null = null;
  const srv = net.createServer((s) => {
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
      if (waiting !== null && data.length >= waiting.n) { waiting.resolve(data.slice(0, waiting.n)); waiting = null; }
    });
    s.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening', 2000);
  const socket = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect', 2000);
  const received = (n: number) => withTimeout(new Promise<string>((resolve) => {
    if (data.length >= n) resolve(data.slice(0, n)); else waiting = { n, resolve };
  }), 3000, `${n} bytes at the server`);
  const writer: BatchedWriter<net.Socket> = { socket, held: null, heldMore: null, heldBytes: 0 };
  return { writer, received, close: () => { socket.destroy(); srv.close(); } };
}

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

W('small writes wait for the end of the turn, then leave together and in order (strings as latin1)', async () => {
  const p = await pair();
  try {
    assert.is(batchWrite(p.writer, 'GET / HTTP/1.1\r\n'), true);
    assert.is(batchWrite(p.writer, Buffer.from('Host: \xe9\r\n\r\n', 'latin1')), true);
    assert.is(p.writer.heldBytes, 27);
    assert.is(p.writer.socket.bytesWritten, 0, 'nothing written yet');
    await turnEnd();
    assert.is(p.writer.held, null);
    assert.is(p.writer.heldBytes, 0);
    assert.is(await p.received(27), 'GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n');
  } finally {
    p.close();
  }
});

W('flushBatched sends what is held at once; a large write flushes first and keeps the order', async () => {
  const p = await pair();
  try {
    batchWrite(p.writer, 'head;');
    flushBatched(p.writer);
    assert.is(p.writer.held, null);
    assert.is(p.writer.socket.bytesWritten, 5, 'written without waiting for the turn');
    batchWrite(p.writer, 'more;');
    const big = Buffer.alloc(BATCH_MAX_BYTES + 1, 0x61);
    batchWrite(p.writer, big);
    assert.is(p.writer.held, null, 'a piece over the limit is not held, and nothing waits before it');
    const got = await p.received(10 + big.length);
    assert.is(got.slice(0, 11), 'head;more;a');
    flushBatched(p.writer); // nothing held: a no-op
  } finally {
    p.close();
  }
});

W('holding stops at BATCH_MAX_BYTES for one socket in one turn', async () => {
  const p = await pair();
  try {
    const piece = Buffer.alloc(BATCH_MAX_BYTES / 2, 0x62);
    batchWrite(p.writer, piece);
    batchWrite(p.writer, piece);
    assert.is(p.writer.heldBytes, BATCH_MAX_BYTES);
    batchWrite(p.writer, 'c');
    assert.is(p.writer.heldBytes, 0, 'the third piece flushed the two held ones and went after them');
    const got = await p.received(BATCH_MAX_BYTES + 1);
    assert.is(got[BATCH_MAX_BYTES], 'c');
  } finally {
    p.close();
  }
});

W('a socket whose peer is not reading is never held: the write answers with its back-pressure', async () => {
  const srv = net.createServer((s) => { s.pause(); s.on('error', () => {}); });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening', 2000);
  const socket = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  socket.on('error', () => {});
  try {
    await once(socket, 'connect', 2000);
    const w: BatchedWriter<net.Socket> = { socket, held: null, heldMore: null, heldBytes: 0 };
    // More than the kernel's buffers take: Node keeps the rest queued in the socket.
    socket.write(Buffer.alloc(32 * 1024 * 1024));
    assert.ok(socket.writableLength > 0, 'the socket is backed up');
    assert.is(batchWrite(w, 'x'), false, 'socket.write answered: wait for drain');
    assert.is(w.held, null);
  } finally {
    socket.destroy();
    srv.close();
  }
});

W('a socket destroyed while its writes are held is skipped at the end of the turn', async () => {
  const a = await pair();
  const b = await pair();
  try {
    batchWrite(a.writer, 'lost');
    batchWrite(b.writer, 'kept');
    a.writer.socket.destroy();
    await turnEnd();
    assert.is(a.writer.held, null);
    assert.is(await b.received(4), 'kept', 'the other socket of the same turn still gets its bytes');
  } finally {
    a.close();
    b.close();
  }
});

W.run();

// write-batch: small writes are held until the end of the event loop's turn and then leave in
// order; flushBatched() sends them at once (before a large write, a close, a hand-over); a
// socket destroyed meanwhile is skipped without an error.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { batchWrite, flushBatched, type BatchedWriter } from '../../../core/write-batch.js';
import { once, withTimeout } from '../../helpers/wait.js';

const W = suite('write-batch');

/** A connected pair: `writer` wraps the client side, `received(n)` resolves with the first n bytes the server side read. */
async function pair(): Promise<{ writer: BatchedWriter; received: (n: number) => Promise<string>; close: () => void }> {
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
  return { writer: { socket, batched: false }, received, close: () => { socket.destroy(); srv.close(); } };
}

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

W('small writes wait for the end of the turn, then leave together and in order', async () => {
  const p = await pair();
  try {
    assert.is(batchWrite(p.writer, 'GET / HTTP/1.1\r\n', 'latin1'), true);
    assert.is(batchWrite(p.writer, Buffer.from('Host: a\r\n\r\n')), true);
    assert.is(p.writer.batched, true);
    assert.is(p.writer.socket.writableLength, 27, 'held in the socket, not yet written');
    await turnEnd();
    assert.is(p.writer.batched, false);
    assert.is(p.writer.socket.writableLength, 0, 'written once the turn is over');
    assert.is(await p.received(27), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  } finally {
    p.close();
  }
});

W('flushBatched sends what is held at once, and a large write after it keeps the order', async () => {
  const p = await pair();
  try {
    batchWrite(p.writer, 'head;', 'latin1');
    flushBatched(p.writer);
    assert.is(p.writer.batched, false);
    assert.is(p.writer.socket.writableLength, 0, 'uncorked: written without waiting for the turn');
    const big = Buffer.alloc(64 * 1024, 0x61);
    p.writer.socket.write(big);
    const got = await p.received(5 + big.length);
    assert.is(got.slice(0, 6), 'head;a');
    assert.is(got.length, 5 + big.length);
    flushBatched(p.writer); // nothing held: a no-op
    assert.is(p.writer.batched, false);
  } finally {
    p.close();
  }
});

W('a socket destroyed while its writes are held is skipped at the end of the turn', async () => {
  const a = await pair();
  const b = await pair();
  try {
    batchWrite(a.writer, 'lost', 'latin1');
    batchWrite(b.writer, 'kept', 'latin1');
    a.writer.socket.destroy();
    await turnEnd();
    assert.is(a.writer.batched, false);
    assert.is(await b.received(4), 'kept', 'the other socket of the same turn still gets its bytes');
  } finally {
    a.close();
    b.close();
  }
});

W.run();

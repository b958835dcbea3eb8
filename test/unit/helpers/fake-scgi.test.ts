// Tests of the fake SCGI / uwsgi backend (test/helpers/fake-scgi.ts), driven over a raw net socket.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pause, startFakeScgi, type FakeScgi } from '../../helpers/fake-scgi.js';
import { TimeoutError, once, withTimeout } from '../../helpers/wait.js';
import { encodeScgiHead } from '../../../plugins/proxy-backend-scgi/netstring.js';
import { encodeUwsgiPacket } from '../../../plugins/proxy-backend-scgi/uwsgi-packet.js';

const FakeScgiSuite = suite('fake-scgi');

async function using(fake: FakeScgi, body: (fake: FakeScgi) => Promise<void>): Promise<void> {
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}

/** Connects, writes `pieces` in order, half-closes, and collects every byte until the fake closes. */
async function talk(target: { port: number; path: string | null }, pieces: Buffer[], timeoutMs = 2000): Promise<{ bytes: string; socket: net.Socket }> {
  const socket = target.path !== null
    ? net.connect({ path: target.path, allowHalfOpen: true })
    : net.connect({ port: target.port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect', timeoutMs);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const ended = withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), timeoutMs, 'the fake to close');
  for (const p of pieces) socket.write(p);
  socket.end();
  await ended;
  return { bytes: Buffer.concat(chunks).toString('latin1'), socket };
}

FakeScgiSuite('scgi: head and body recorded (env as array and Map); default CGI reply, then close', async () => {
  await using(await startFakeScgi(), async (fake) => {
    assert.match(fake.address, /^127\.0\.0\.1:\d+$/);
    assert.is(fake.path, null);
    const head = encodeScgiHead([['CONTENT_LENGTH', '5'], ['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/x']]);
    // The head and body split anywhere.
    const all = Buffer.concat([head, Buffer.from('hello')]);
    const { bytes } = await talk(fake, [all.subarray(0, 3), all.subarray(3, 20), all.subarray(20)]);
    assert.is(bytes, 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok');
    await fake.waitForRequests(1, 1000);
    const [req] = fake.requests;
    assert.equal(req!.env, [['CONTENT_LENGTH', '5'], ['SCGI', '1'], ['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/x']]);
    assert.is(req!.envMap.get('REQUEST_URI'), '/x');
    assert.is(req!.contentLength, 5);
    assert.is(req!.body.toString(), 'hello');
    assert.is(req!.complete, true);
    assert.is(req!.extraBytes, 0);
    assert.equal(req!.headBytes, head);
    await fake.waitFor((f) => f.connections[0]!.closed, 1000, 'connection closed');
    assert.is(req!.peerClosed, true);
    assert.is(fake.connections[0]!.closedByUs, true);
  });
});

FakeScgiSuite('uwsgi: packet decoded with modifiers; scripted reply in pieces with a pause', async () => {
  const fake = await startFakeScgi({
    protocol: 'uwsgi',
    respond: (req) => ['HTTP/1.1 200 OK\r\n\r\n', pause, `${req.envMap.get('PATH_INFO')}:${req.body.toString()}`],
  });
  await using(fake, async () => {
    const packet = encodeUwsgiPacket([['CONTENT_LENGTH', '2'], ['PATH_INFO', '/p']]);
    const done = talk(fake, [packet, Buffer.from('hiEXTRA')]);
    await fake.waitForRequests(1, 1000);
    fake.release();
    const { bytes } = await done;
    assert.is(bytes, 'HTTP/1.1 200 OK\r\n\r\n/p:hi');
    const [req] = fake.requests;
    assert.is(req!.protocol, 'uwsgi');
    assert.is(req!.modifier1, 0);
    assert.is(req!.modifier2, 0);
    assert.is(req!.body.toString(), 'hi');
    assert.is(req!.extraBytes, 5);
  });
});

FakeScgiSuite("answerAfter 'head' and then 'reset': answers before the body, then RST", async () => {
  await using(await startFakeScgi({ answerAfter: 'head', respond: () => ({ chunks: ['Status: 500\r\n\r\n'], then: 'reset' }) }), async (fake) => {
    const socket = net.connect({ port: fake.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    await once(socket, 'connect', 1000);
    // Linux reports an RST that follows received data as an EOF: wait for either.
    const closed = withTimeout(new Promise<void>((resolve) => { socket.once('end', resolve); socket.once('close', () => resolve()); }), 2000, 'reset');
    socket.resume();
    socket.write(encodeScgiHead([['CONTENT_LENGTH', '100']]));
    await closed;
    assert.is(fake.requests[0]!.complete, false);
    assert.is(fake.connections[0]!.closedByUs, true);
    socket.destroy();
  });
});

FakeScgiSuite("'stall' keeps the connection open without an answer; a malformed head is recorded and reset", async () => {
  await using(await startFakeScgi({ respond: () => 'stall' }), async (fake) => {
    const socket = net.connect({ port: fake.port, host: '127.0.0.1' });
    socket.on('error', () => {});
    await once(socket, 'connect', 1000);
    socket.write(encodeScgiHead([['CONTENT_LENGTH', '0']]));
    await fake.waitForRequests(1, 1000);
    assert.is(fake.requests[0]!.complete, true);
    const err = await fake.waitFor((f) => f.connections[0]!.closed, 100, 'never').catch((e: unknown) => e);
    assert.instance(err, TimeoutError);
    socket.destroy();
  });
  await using(await startFakeScgi(), async (fake) => {
    await talk(fake, [Buffer.from('x:garbage')]);
    await fake.waitFor((f) => f.errors.length === 1, 1000, 'the decode error');
    assert.match(fake.connections[0]!.protocolError!, /bad netstring length/);
    assert.is(fake.requests.length, 0);
  });
});

FakeScgiSuite('listens on a unix socket path', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-scgi-'));
  try {
    const socketPath = path.join(dir, 'app.sock');
    await using(await startFakeScgi({ path: socketPath, respond: () => 'Status: 200 OK\r\n\r\nunix' }), async (fake) => {
      assert.is(fake.address, `unix:${socketPath}`);
      assert.is(fake.port, 0);
      const { bytes } = await talk(fake, [encodeScgiHead([['CONTENT_LENGTH', '0']])]);
      assert.is(bytes, 'Status: 200 OK\r\n\r\nunix');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

FakeScgiSuite('waitForRequests times out with a TimeoutError naming what it waited for', async () => {
  await using(await startFakeScgi(), async (fake) => {
    const err = await fake.waitForRequests(1, 50).catch((e: unknown) => e);
    assert.instance(err, TimeoutError);
    assert.match((err as Error).message, /1 request head/);
  });
});

FakeScgiSuite.run();

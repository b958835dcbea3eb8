// Tests of the raw HTTP test client (test/helpers/raw-client.ts) against a tiny node:net server that writes literal bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { refusedPort } from '../../helpers/fake-backend.js';
import { connectRaw, rawExchange } from '../../helpers/raw-client.js';
import { TimeoutError } from '../../helpers/wait.js';

const RawClient = suite('raw-client');

interface TinyServer {
  port: number;
  received: Buffer[];
  close(): Promise<void>;
}

/** A server whose connections run `onSocket`; `received` gets each connection's bytes once it has ended. */
async function tinyServer(onSocket: (socket: net.Socket) => void, listenPath?: string): Promise<TinyServer> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const pieces: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => pieces.push(chunk));
    socket.on('end', () => received.push(Buffer.concat(pieces)));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => (listenPath ? server.listen(listenPath, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `then` once the socket has received a blank line (a whole request head). */
function afterHead(socket: net.Socket, then: (head: string) => void): void {
  let text = '';
  const onData = (chunk: Buffer) => {
    text += chunk.toString('latin1');
    if (text.includes('\r\n\r\n')) {
      socket.off('data', onData);
      then(text);
    }
  };
  socket.on('data', onData);
}

const writeEach = async (socket: net.Socket, pieces: string[]) => {
  for (const piece of pieces) await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
};

RawClient('pipelined responses in separate writes resolve at expectResponses without a close', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, () =>
      writeEach(socket, [
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na',
        'HTTP/1.1 200 OK\r\nContent-Le',
        'ngth: 2\r\n\r\nbb',
        'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
      ]),
    ),
  );
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', expectResponses: 3, timeoutMs: 2000 });
    assert.is(result.timedOut, false);
    assert.is(result.closed, false);
    assert.equal(
      result.responses.map((r) => [r.status, r.body.toString()]),
      [
        [200, 'a'],
        [200, 'bb'],
        [404, ''],
      ],
    );
  } finally {
    await server.close();
  }
});

RawClient('chunked response written byte by byte is decoded; raw keeps the framing', async () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n';
  const server = await tinyServer((socket) => afterHead(socket, () => writeEach(socket, [...wire])));
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\n\r\n', expectResponses: 1, timeoutMs: 2000 });
    const [response] = result.responses;
    assert.is(response.chunked, true);
    assert.is(response.complete, true);
    assert.is(response.body.toString(), 'wikipedia');
    assert.is(response.raw.toString('latin1'), wire);
    assert.equal(response.trailers, [['X-Trailer', 't']]);
  } finally {
    await server.close();
  }
});

RawClient('1xx interim responses are listed and do not count as final', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, () =>
      writeEach(socket, ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']),
    ),
  );
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\n\r\n', expectResponses: 1, timeoutMs: 2000 });
    assert.equal(
      result.responses.map((r) => r.status),
      [100, 103, 200],
    );
    assert.is(result.responses[1].header('link'), '</a>');
  } finally {
    await server.close();
  }
});

RawClient('a response to HEAD has no body even with Content-Length', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, () => writeEach(socket, ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'])),
  );
  try {
    const result = await rawExchange({
      port: server.port,
      send: 'HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n',
      headRequests: [true, false],
      expectResponses: 2,
      timeoutMs: 2000,
    });
    assert.equal(
      result.responses.map((r) => r.body.toString()),
      ['', 'hello'],
    );
  } finally {
    await server.close();
  }
});

RawClient('a close-delimited body ends at FIN; closed is reported', async () => {
  const server = await tinyServer((socket) => afterHead(socket, () => socket.end('HTTP/1.0 200 OK\r\nX-A: 1\r\nx-a: 2\r\n\r\nall of it')));
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.reset, false);
    assert.is(result.timedOut, false);
    assert.is(result.responses[0].body.toString(), 'all of it');
    assert.is(result.responses[0].complete, true);
    assert.equal(result.responses[0].headerAll('X-A'), ['1', '2']);
  } finally {
    await server.close();
  }
});

RawClient('a reset mid-body is reported as closed and incomplete', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, async () => {
      await writeEach(socket, ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial']);
      socket.resetAndDestroy();
    }),
  );
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.responses[0].complete, false);
    assert.is(result.responses[0].body.toString(), 'partial');
  } finally {
    await server.close();
  }
});

RawClient('a reset with nothing sent is reported as reset by both clients', async () => {
  const server = await tinyServer((socket) => afterHead(socket, () => socket.resetAndDestroy()));
  try {
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.reset, true);
    assert.is(result.responses.length, 0);
    const conn = await connectRaw(server.port);
    await conn.write('GET / HTTP/1.1\r\n\r\n');
    assert.is(await conn.waitClose(2000), true);
    assert.is(conn.reset, true);
    conn.destroy();
  } finally {
    await server.close();
  }
});

RawClient('a silent server ends in timedOut, not a rejection', async () => {
  const server = await tinyServer(() => {});
  try {
    const started = Date.now();
    const result = await rawExchange({ port: server.port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 100 });
    assert.is(result.timedOut, true);
    assert.is(result.closed, false);
    assert.is(result.responses.length, 0);
    assert.ok(Date.now() - started < 2000);
  } finally {
    await server.close();
  }
});

RawClient('pieces arrive in order and halfClose sends FIN after them', async () => {
  const server = await tinyServer((socket) => socket.on('end', () => socket.end('HTTP/1.1 204 No Content\r\n\r\n')));
  try {
    const result = await rawExchange({
      port: server.port,
      send: ['POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n', Buffer.from('ab'), 'cd'],
      halfClose: true,
      timeoutMs: 2000,
    });
    assert.is(result.responses[0]?.status, 204);
    assert.is(server.received[0].toString(), 'POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd');
  } finally {
    await server.close();
  }
});

RawClient('a refused connection rejects with the reason', async () => {
  const port = await refusedPort();
  try {
    await rawExchange({ port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 2000 });
    assert.unreachable('should have rejected');
  } catch (err) {
    assert.match((err as Error).message, 'ECONNREFUSED');
  }
  try {
    await connectRaw(port);
    assert.unreachable('should have rejected');
  } catch (err) {
    assert.match((err as Error).message, 'ECONNREFUSED');
  }
});

RawClient('unix socket targets work for both clients', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lantern-raw-'));
  const socketPath = path.join(dir, 's.sock');
  const server = await tinyServer((socket) => afterHead(socket, () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nu')), socketPath);
  try {
    const result = await rawExchange({ path: socketPath, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 2000 });
    assert.is(result.responses[0].body.toString(), 'u');
    const conn = await connectRaw({ path: socketPath });
    await conn.write('GET / HTTP/1.1\r\n\r\n');
    assert.is((await conn.readResponse(2000)).body.toString(), 'u');
    conn.destroy();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

RawClient('connectRaw step by step: head, 100 Continue, body, final response, close', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, (head) => {
      assert.match(head, 'Expect: 100-continue');
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      socket.once('data', (body: Buffer) => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    }),
  );
  try {
    const conn = await connectRaw(server.port);
    await conn.write('PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    const interim = await conn.readResponse(2000);
    assert.is(interim.status, 100);
    await conn.write('12345');
    const final = await conn.readResponse(2000);
    assert.is(final.status, 200);
    assert.is(final.body.toString(), '12345');
    assert.is(await conn.waitClose(2000), true);
    assert.is(conn.closed, true);
    assert.is(conn.unread.length, 0);
    conn.destroy();
  } finally {
    await server.close();
  }
});

RawClient('connectRaw reads fail with a clear timeout; waitClose answers false', async () => {
  const server = await tinyServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'));
  try {
    const conn = await connectRaw(server.port);
    try {
      await conn.readResponse(50);
      assert.unreachable('should have timed out');
    } catch (err) {
      assert.instance(err, TimeoutError);
      assert.match((err as Error).message, 'a response');
      assert.match((err as Error).message, 'Content-Length: 10');
    }
    assert.is(await conn.waitClose(30), false);
    const rest = await conn.readUntil((unread) => unread.includes('short'), 1000);
    assert.match(rest.toString(), 'short');
    conn.destroy();
  } finally {
    await server.close();
  }
});

RawClient('connectRaw: bytes after a 101 are left for readUntil; a read after close rejects', async () => {
  const server = await tinyServer((socket) =>
    afterHead(socket, () => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\ntunnel-bytes')),
  );
  try {
    const conn = await connectRaw(server.port);
    await conn.write('GET / HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n');
    assert.is((await conn.readResponse(2000)).status, 101);
    const tunnel = await conn.readUntil((unread) => unread.length >= 12, 2000);
    assert.is(tunnel.toString(), 'tunnel-bytes');
    assert.is(await conn.waitClose(2000), true);
    try {
      await conn.readResponse(2000);
      assert.unreachable('should have rejected');
    } catch (err) {
      assert.match((err as Error).message, 'closed before a whole response');
    }
    conn.destroy();
  } finally {
    await server.close();
  }
});

RawClient.run();

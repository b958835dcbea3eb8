// Tests of rawRequest() / rawRequests() (test/helpers/raw-client.ts) against a node:net server that writes literal bytes.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawRequest, rawRequests } from '../../helpers/raw-client.js';
import { once } from '../../helpers/wait.js';

const RawRequest = suite('raw-request');

/** A server that runs `onSocket` for each connection, half-open allowed; closed by close(). */
async function literalServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening', 5000);
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The exception `p` rejects with (fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

RawRequest('HTTP/1.0, half-closed: the server sees the FIN, a close-delimited body is read whole', async () => {
  let sawEnd = false;
  const srv = await literalServer((socket) => {
    socket.resume();
    socket.on('end', () => {
      sawEnd = true;
      socket.end('HTTP/1.0 200 OK\r\nX-A: 1\r\nX-A: 2\r\n\r\nuntil close');
    });
  });
  try {
    const res = await rawRequest(srv.port, 'GET / HTTP/1.0\r\n\r\n', { timeoutMs: 5000 });
    assert.ok(sawEnd);
    assert.is(res.version, 'HTTP/1.0');
    assert.is(res.status, 200);
    assert.equal(res.headerAll('x-a'), ['1', '2']);
    assert.is(res.body.toString(), 'until close');
    assert.ok(res.complete);
  } finally {
    await srv.close();
  }
});

RawRequest('keep-alive: two pipelined answers on a connection the server keeps open', async () => {
  const srv = await literalServer((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none'));
    socket.once('data', () => socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\ntwo'));
  });
  try {
    const send = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
    const [one, two] = await rawRequests(srv.port, send, 2, { halfClose: false, timeoutMs: 5000 });
    assert.is(one!.body.toString(), 'one');
    assert.is(two!.status, 404);
    assert.is(two!.body.toString(), 'two');
  } finally {
    await srv.close();
  }
});

RawRequest('HEAD: the answer has no body; untilClose reads on to the FIN', async () => {
  const srv = await literalServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'));
  });
  try {
    const res = await rawRequest(srv.port, 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', { halfClose: false, untilClose: true, headRequests: [true], timeoutMs: 5000 });
    assert.is(res.header('content-length'), '10');
    assert.is(res.body.length, 0);
  } finally {
    await srv.close();
  }
});

RawRequest('no answer within the hard timeout fails, naming the request and the time-out', async () => {
  const srv = await literalServer((socket) => socket.resume());
  try {
    const err = await failure(rawRequest(srv.port, ['GET /silent HTTP/1.1\r\n', 'Host: a\r\n\r\n'], { timeoutMs: 200 }));
    assert.match(err.message, /a response to "GET \/silent HTTP\/1\.1" \(timed out: true, closed: false\)/);
  } finally {
    await srv.close();
  }
});

RawRequest('rawRequests: another number of answers fails', async () => {
  const srv = await literalServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  try {
    const err = await failure(rawRequests(srv.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', 2, { halfClose: false, timeoutMs: 5000 }));
    assert.match(err.message, /responses to "GET \/ HTTP\/1\.1" \(timed out: false, closed: true\)/);
  } finally {
    await srv.close();
  }
});

RawRequest.run();

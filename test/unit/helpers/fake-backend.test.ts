// Tests of the scripted fake HTTP backend (test/helpers/fake-backend.ts), driven with the raw client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, pause, type FakeBackend } from '../../helpers/fake-backend.js';
import { connectRaw, rawExchange } from '../../helpers/raw-client.js';
import { TimeoutError } from '../../helpers/wait.js';

const FakeBackendSuite = suite('fake-backend');

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

async function using(backend: FakeBackend, body: (backend: FakeBackend) => Promise<void>): Promise<void> {
  try {
    await body(backend);
  } finally {
    await backend.close();
  }
}

FakeBackendSuite('default reply is a 200 "ok"; the request is recorded', async () => {
  await using(await fakeBackend({}), async (backend) => {
    assert.match(backend.address, /^127\.0\.0\.1:\d+$/);
    const result = await rawExchange({ port: backend.port, send: 'GET /x?y HTTP/1.1\r\nHost: a\r\nX-Id: 7\r\n\r\n', expectResponses: 1, timeoutMs: 2000 });
    assert.is(result.responses[0].body.toString(), 'ok');
    assert.is(backend.connectionCount, 1);
    const [req] = backend.connections[0].requests;
    assert.is(req.method, 'GET');
    assert.is(req.target, '/x?y');
    assert.is(req.header('x-id'), '7');
    assert.is(req.head, 'GET /x?y HTTP/1.1\r\nHost: a\r\nX-Id: 7\r\n\r\n');
  });
});

FakeBackendSuite('pipelined requests with Content-Length and chunked bodies are answered in order on one connection', async () => {
  await using(await fakeBackend({ respond: (req) => ok(`${req.method}:${req.body}`) }), async (backend) => {
    const result = await rawExchange({
      port: backend.port,
      send: [
        'POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc',
        'PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n',
        '1\r\nf\r\n0\r\n\r\nGET /c HTTP/1.1\r\n\r\n',
      ],
      expectResponses: 3,
      timeoutMs: 2000,
    });
    assert.equal(
      result.responses.map((r) => r.body.toString()),
      ['POST:abc', 'PUT:def', 'GET:'],
    );
    assert.is(backend.connectionCount, 1);
    assert.is(backend.requestCount, 3);
    assert.is(backend.connections[0].requests[1].chunked, true);
    assert.match(backend.connections[0].received.toString(), 'GET /c HTTP/1.1');
  });
});

FakeBackendSuite("answerAfter 'head' + 'close': FIN right after the head, body not waited for", async () => {
  await using(await fakeBackend({ answerAfter: 'head', respond: () => 'close' }), async (backend) => {
    const result = await rawExchange({ port: backend.port, send: 'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n123', timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.responses.length, 0);
    const conn = backend.connections[0];
    assert.is(conn.closedByUs, true);
    assert.is(conn.requests[0].complete, false);
  });
});

FakeBackendSuite('answerAfter N bytes + reset: RST mid-body', async () => {
  await using(await fakeBackend({ answerAfter: 40, respond: () => 'reset' }), async (backend) => {
    const conn = await connectRaw(backend.port);
    await conn.write('POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n');
    await conn.write('x'.repeat(20));
    assert.is(await conn.waitClose(2000), true);
    await backend.waitFor((b) => b.connections[0]?.closed === true, 2000, 'backend socket closed');
    assert.ok(backend.connections[0].received.length >= 40);
    assert.is(backend.connections[0].closedByUs, true);
    conn.destroy();
  });
});

FakeBackendSuite('answerAfter 0 answers on accept, before any request', async () => {
  await using(await fakeBackend({ answerAfter: 0, respond: () => ({ chunks: ['HTTP/1.1 503 Busy\r\n\r\n'], then: 'close' }) }), async (backend) => {
    const result = await rawExchange({ port: backend.port, send: [], timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.responses[0].status, 503);
  });
});

FakeBackendSuite("'stall' never answers: the client times out", async () => {
  await using(await fakeBackend({ respond: () => 'stall' }), async (backend) => {
    const result = await rawExchange({ port: backend.port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 100 });
    assert.is(result.timedOut, true);
    assert.is(result.raw.length, 0);
    assert.is(backend.requestCount, 1);
  });
});

FakeBackendSuite('a paused reply goes on only after release(); a banked release lets it through', async () => {
  const script = { respond: () => [`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345`, pause, '67890'] };
  await using(await fakeBackend(script), async (backend) => {
    const conn = await connectRaw(backend.port);
    await conn.write('GET / HTTP/1.1\r\n\r\n');
    await conn.readUntil((unread) => unread.includes('12345'), 2000, 'first piece');
    await backend.waitFor((b) => b.pausedReplies === 1, 2000, 'reply paused');
    assert.is(conn.unread.length, 0);
    backend.release();
    const rest = await conn.readUntil((unread) => unread.includes('67890'), 2000, 'second piece');
    assert.is(rest.toString(), '67890');
    assert.is(backend.pausedReplies, 0);

    backend.release();
    await conn.write('GET / HTTP/1.1\r\n\r\n');
    const second = await conn.readResponse(2000);
    assert.is(second.body.toString(), '1234567890');
    conn.destroy();
  });
});

FakeBackendSuite("then 'close' ends a close-delimited reply; a half-closing client still gets its answer", async () => {
  await using(await fakeBackend({ respond: () => 'HTTP/1.0 200 OK\r\n\r\nbody until close', then: 'close' }), async (backend) => {
    const result = await rawExchange({ port: backend.port, send: 'GET / HTTP/1.0\r\n\r\n', halfClose: true, timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.responses[0].body.toString(), 'body until close');
    assert.is(result.responses[0].complete, true);
  });
});

FakeBackendSuite('keep-alive: the backend closes after the client half-closes and its requests are answered', async () => {
  await using(await fakeBackend({}), async (backend) => {
    const result = await rawExchange({ port: backend.port, send: 'GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n', halfClose: true, timeoutMs: 2000 });
    assert.is(result.closed, true);
    assert.is(result.responses.length, 2);
    assert.is(backend.connections[0].closedByPeer, true);
  });
});

FakeBackendSuite('closedByPeer records a client that goes away without a request', async () => {
  await using(await fakeBackend({}), async (backend) => {
    const conn = await connectRaw(backend.port);
    await backend.waitConnections(1, 2000);
    conn.destroy();
    await backend.waitFor((b) => b.connections[0].closedByPeer && b.connections[0].closed, 2000, 'peer close');
    assert.is(backend.connections[0].closedByUs, false);
    assert.is(backend.requestCount, 0);
  });
});

FakeBackendSuite('an async respond can send 100 Continue and wait for the body', async () => {
  const backend: FakeBackend = await fakeBackend({
    answerAfter: 'head',
    respond: async (req, conn) => {
      await conn.write('HTTP/1.1 100 Continue\r\n\r\n');
      await backend.waitFor(() => req.complete, 2000, 'request body');
      return ok(`got ${req.body}`);
    },
  });
  await using(backend, async () => {
    const conn = await connectRaw(backend.port);
    await conn.write('PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    assert.is((await conn.readResponse(2000)).status, 100);
    await conn.write('data');
    assert.is((await conn.readResponse(2000)).body.toString(), 'got data');
    conn.destroy();
  });
});

FakeBackendSuite('a respond that throws is recorded and its connection destroyed', async () => {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    await using(
      await fakeBackend({
        respond: () => {
          throw new Error('script bug');
        },
      }),
      async (backend) => {
        const result = await rawExchange({ port: backend.port, send: 'GET / HTTP/1.1\r\n\r\n', timeoutMs: 2000 });
        assert.is(result.closed, true);
        assert.is(backend.errors.length, 1);
      },
    );
  } finally {
    process.stderr.write = write;
  }
  assert.match(written.join(''), 'script bug');
});

FakeBackendSuite('waitFor rejects with the backend state on timeout', async () => {
  await using(await fakeBackend({}), async (backend) => {
    try {
      await backend.waitRequests(1, 30);
      assert.unreachable('should have timed out');
    } catch (err) {
      assert.instance(err, TimeoutError);
      assert.match((err as Error).message, '0 connection(s)');
    }
  });
});

FakeBackendSuite('listens on a unix socket; refusedPort() is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lantern-fake-'));
  const socketPath = path.join(dir, 'b.sock');
  try {
    await using(await fakeBackend({ path: socketPath }), async (backend) => {
      assert.is(backend.address, `unix:${socketPath}`);
      const result = await rawExchange({ path: socketPath, send: 'GET / HTTP/1.1\r\n\r\n', expectResponses: 1, timeoutMs: 2000 });
      assert.is(result.responses[0].status, 200);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const port = await fakeBackend.refusedPort();
  try {
    await rawExchange({ port, send: 'x', timeoutMs: 2000 });
    assert.unreachable('should have been refused');
  } catch (err) {
    assert.match((err as Error).message, 'ECONNREFUSED');
  }
});

FakeBackendSuite.run();

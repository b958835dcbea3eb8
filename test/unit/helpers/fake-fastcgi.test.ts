// Tests of the scripted fake FastCGI backend (test/helpers/fake-fastcgi.ts), driven with a raw socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeParams } from '../../../plugins/proxy-backend-fastcgi/params.js';
import {
  FCGI_ABORT_REQUEST, FCGI_AUTHORIZER, FCGI_KEEP_CONN, FCGI_PARAMS, FCGI_RESPONDER, FCGI_STDIN, RecordDecoder,
  encodeBeginRequest, encodeRecord, encodeStream, type FcgiRecord,
} from '../../../plugins/proxy-backend-fastcgi/record.js';
import {
  fcgiEndRequest, fcgiRecord, fcgiResponse, fcgiStderr, fcgiStdout, pause, splitBytes, splitEvery, startFakeFastcgi,
  type FakeFastcgi, type FakeFastcgiScript,
} from '../../helpers/fake-fastcgi.js';
import { connectRaw, type RawConnection } from '../../helpers/raw-client.js';
import { TimeoutError } from '../../helpers/wait.js';

const FakeFastcgiSuite = suite('fake-fastcgi');

async function using(script: FakeFastcgiScript, body: (fake: FakeFastcgi) => Promise<void>): Promise<void> {
  const fake = await startFakeFastcgi(script);
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}

/** A whole request as a web server sends it. */
function request(o: { id?: number; role?: number; keepConn?: boolean; env?: Array<[string, string]>; stdin?: string } = {}): Buffer {
  const id = o.id ?? 1;
  return Buffer.concat([
    encodeBeginRequest(id, o.role ?? FCGI_RESPONDER, o.keepConn === false ? 0 : FCGI_KEEP_CONN),
    encodeStream(FCGI_PARAMS, id, encodeParams(o.env ?? [['REQUEST_METHOD', 'GET']])), encodeRecord(FCGI_PARAMS, id),
    encodeStream(FCGI_STDIN, id, Buffer.from(o.stdin ?? '', 'latin1')), encodeRecord(FCGI_STDIN, id),
  ]);
}

/** Reads records until an END_REQUEST. */
async function readAnswer(conn: RawConnection, timeoutMs = 2000): Promise<FcgiRecord[]> {
  let records: FcgiRecord[] = [];
  await conn.readUntil((unread) => {
    records = new RecordDecoder().push(unread);
    return records.some((r) => r.type === 3);
  }, timeoutMs, 'END_REQUEST');
  return records;
}

FakeFastcgiSuite('default answer; BEGIN_REQUEST, params and stdin are recorded', async () => {
  await using({}, async (fake) => {
    assert.match(fake.address, /^127\.0\.0\.1:\d+$/);
    assert.is(fake.path, null);
    const conn = await connectRaw(fake.port);
    const env: Array<[string, string]> = [['REQUEST_METHOD', 'POST'], ['HTTP_X_LONG', 'v'.repeat(300)]];
    // Split inside headers and content: the fake must reassemble.
    for (const piece of splitEvery(request({ env, stdin: 'hello' }), 5)) await conn.write(piece);
    const records = await readAnswer(conn);
    assert.equal(records.map((r) => r.type), [6, 6, 3]);
    assert.is(records[0]!.content.toString(), 'Content-Type: text/plain\r\n\r\nok');
    const [req] = fake.requests;
    assert.is(req!.role, FCGI_RESPONDER);
    assert.is(req!.keepConn, true);
    assert.equal(req!.params, env);
    assert.is(req!.env.get('HTTP_X_LONG'), 'v'.repeat(300));
    assert.is(req!.stdin.toString(), 'hello');
    assert.is(req!.stdinRecords, 1);
    assert.is(req!.complete, true);
    assert.is(req!.aborted, false);
    conn.destroy();
  });
});

FakeFastcgiSuite('keep: two requests on one connection are answered in order', async () => {
  await using({ respond: (req) => fcgiResponse(`Status: 200\r\n\r\n${req.env.get('QUERY_STRING')}`) }, async (fake) => {
    const conn = await connectRaw(fake.port);
    await conn.write(request({ env: [['QUERY_STRING', 'a']] }));
    assert.is((await readAnswer(conn))[0]!.content.toString(), 'Status: 200\r\n\r\na');
    await conn.write(request({ env: [['QUERY_STRING', 'b']], keepConn: false }));
    assert.is((await readAnswer(conn))[0]!.content.toString(), 'Status: 200\r\n\r\nb');
    assert.is(fake.connections.length, 1);
    assert.is(fake.requests.length, 2);
    assert.is(fake.requests[1]!.keepConn, false);
    conn.destroy();
  });
});

FakeFastcgiSuite("answerAfter 'params', ABORT_REQUEST recorded, stall; closedByPeer", async () => {
  await using({ answerAfter: 'params', respond: () => 'stall' }, async (fake) => {
    const conn = await connectRaw(fake.port);
    await conn.write(Buffer.concat([encodeBeginRequest(1, FCGI_AUTHORIZER, 0), encodeRecord(FCGI_PARAMS, 1)]));
    await fake.waitFor((f) => f.requests[0]?.paramsComplete === true, 2000, 'params');
    assert.is(fake.requests[0]!.role, FCGI_AUTHORIZER);
    assert.is(fake.requests[0]!.complete, false);
    await conn.write(encodeRecord(FCGI_ABORT_REQUEST, 1));
    await fake.waitFor((f) => f.requests[0]!.aborted, 2000, 'abort');
    conn.destroy();
    // A stalled reply keeps our side open (allowHalfOpen): only the peer's FIN is seen.
    await fake.waitFor((f) => f.connections[0]!.closedByPeer, 2000, 'peer close');
    assert.is(fake.connections[0]!.closedByUs, false);
  });
});

FakeFastcgiSuite('pieces with a pause; then close', async () => {
  const answer = fcgiResponse('Status: 200\r\n\r\nbody', { stderr: 'oops', recordBytes: 3, paddingBytes: 1 });
  const [first, second] = splitBytes(answer, 11);
  await using({ respond: () => ({ chunks: [first!, pause, second!], then: 'close' }) }, async (fake) => {
    const conn = await connectRaw(fake.port);
    await conn.write(request());
    const got = await conn.readUntil((u) => u.length >= 11, 2000, 'first piece');
    assert.equal(got, first);
    await fake.waitFor((f) => f.pausedReplies === 1, 2000, 'paused');
    fake.release();
    const rest = await conn.readUntil((u) => u.length === second!.length, 2000, 'second piece');
    assert.equal(rest, second);
    assert.is(await conn.waitClose(2000), true);
    assert.is(fake.connections[0]!.closedByUs, true);
    conn.destroy();
  });
});

FakeFastcgiSuite('answerAfter 8 bytes + reset: RST inside the first record', async () => {
  await using({ answerAfter: 8, respond: () => 'reset' }, async (fake) => {
    const conn = await connectRaw(fake.port);
    await conn.write(request().subarray(0, 12));
    assert.is(await conn.waitClose(2000), true);
    assert.is(fake.connections[0]!.closedByUs, true);
    conn.destroy();
  });
});

FakeFastcgiSuite("a unix socket; 'reset' there is a plain close (no RST on unix sockets)", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-fcgi-'));
  try {
    await using({ path: path.join(dir, 's.sock'), respond: () => 'reset' }, async (fake) => {
      assert.is(fake.address, `unix:${path.join(dir, 's.sock')}`);
      assert.is(fake.port, 0);
      const conn = await connectRaw({ path: fake.path! });
      await conn.write(request());
      assert.is(await conn.waitClose(2000), true);
      assert.is(fake.connections[0]!.closedByUs, true);
      assert.equal(fake.errors, []);
      conn.destroy();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

FakeFastcgiSuite('builders: records with chosen padding, END_REQUEST statuses, stderr', () => {
  assert.equal(fcgiRecord(6, 1, 'ab', 0), Buffer.from('0106000100020000' + '6162', 'hex'));
  assert.equal(fcgiRecord(6, 1, 'ab', 3).length, 8 + 2 + 3);
  assert.equal(fcgiEndRequest(2, 1, 3), Buffer.from('0103000300080000' + '0000000201000000', 'hex'));
  assert.equal(new RecordDecoder().push(fcgiStdout('abcdefg', { recordBytes: 3 })).map((r) => r.content.toString()), ['abc', 'def', 'g']);
  assert.equal(fcgiStderr(''), Buffer.from('0107000100000000', 'hex'));
  assert.equal(splitBytes('abcdef', 2, 2, 5).map(String), ['ab', 'cde', 'f']);
});

FakeFastcgiSuite('bytes that are not FastCGI set decodeError and end the wait', async () => {
  await using({}, async (fake) => {
    const conn = await connectRaw(fake.port);
    await conn.write('GET / HTTP/1.1\r\n\r\n');
    await fake.waitFor((f) => f.connections[0]?.decodeError != null, 2000, 'decode error');
    assert.match(fake.connections[0]!.decodeError!, 'version');
    assert.is(await conn.waitClose(2000), true);
    conn.destroy();
  });
});

FakeFastcgiSuite('waitForRequests rejects with the state on timeout', async () => {
  await using({}, async (fake) => {
    try {
      await fake.waitForRequests(1, 30);
      assert.unreachable('should have timed out');
    } catch (err) {
      assert.instance(err, TimeoutError);
      assert.match((err as Error).message, '0 connection(s)');
    }
  });
});

FakeFastcgiSuite.run();

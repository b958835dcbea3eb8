// Reliability checklist rows B12, C2, C5, E5, G1, G3, G8, G9 through the CGI-family gateways
// (fastcgi.server, scgi.server on proxy-core), plus the FastCGI Authorizer role (FastCGI 1.0 §6.3)
// and the CGI local redirect (RFC 3875 §6.2.2), end to end against fake FastCGI / SCGI backends.
// Each test asserts the bytes the client got, what the backend received and the error log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  fcgiEndRequest, fcgiRecord, fcgiResponse, fcgiStderr, fcgiStdout, pause, splitEvery, startFakeFastcgi,
  type FakeFastcgi, type FakeFastcgiRequest,
} from '../helpers/fake-fastcgi.js';
import { startFakeScgi } from '../helpers/fake-scgi.js';
import { connectRaw, rawExchange, type RawExchangeResult, type RawResponse } from '../helpers/raw-client.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import type { ProxyCoreApi, MemberSnapshot } from '../../plugins/proxy-core/api.js';
import {
  FCGI_ABORT_REQUEST, FCGI_AUTHORIZER, FCGI_CANT_MPX_CONN, FCGI_MAX_CONTENT_BYTES, FCGI_OVERLOADED, FCGI_STDIN, FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
} from '../../plugins/proxy-backend-fastcgi/record.js';

const T = suite('reliability CGI gateways: fastcgi.server, scgi.server');

const OK_HEAD = 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n';
const ok = (req: FakeFastcgiRequest, body = 'ok') => fcgiResponse(OK_HEAD + body, { requestId: req.requestId });
const echo = (req: FakeFastcgiRequest) => fcgiResponse(OK_HEAD + req.stdin.toString('latin1'), { requestId: req.requestId });

interface Gateway {
  lt: LanternHandle;
  port: number;
  /** The error log's text so far. */
  log(): string;
}

/** A host block of fastcgi.server / scgi.server for a fake (check-local off: no script files needed). */
const host = (fake: { port: number }, extra = '') =>
  `( "host" => "127.0.0.1", "port" => ${fake.port}, "check-local" => "disable"${extra} )`;

/**
 * Runs `fn` against a lantern with mod_fastcgi and mod_scgi, `conf` appended, the error log in a
 * temp file, `files` in the docroot; stops lantern and closes the fakes afterwards.
 */
async function scenario(
  fakes: Array<{ close(): Promise<void> }>, conf: string, files: Record<string, string>, fn: (g: Gateway) => Promise<void>,
): Promise<void> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-cgi-log-'));
  const logFile = path.join(logDir, 'error.log');
  let lt: LanternHandle | null = null;
  try {
    lt = await startLantern(`
server.modules = ( "mod_fastcgi", "mod_scgi" )
server.document-root = "%DIR%"
server.errorlog = "${logFile}"
server.max-read-idle = 5
${conf}
`, { files });
    const g: Gateway = { lt, port: lt.port, log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '') };
    await fn(g);
  } finally {
    await lt?.stop();
    for (const f of fakes) await f.close();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

/** One request on a fresh client connection; stops at its response (or the server's close). */
function send(g: Gateway, request: string | Array<string | Buffer>, timeoutMs = 5000): Promise<RawExchangeResult> {
  return rawExchange({ port: g.port, send: request, expectResponses: 1, timeoutMs });
}

/** The one response of `r`, with a readable failure when there is none. */
function only(r: RawExchangeResult): RawResponse {
  assert.ok(r.responses.length >= 1, `no response (closed ${r.closed}, timed out ${r.timedOut}); raw ${JSON.stringify(r.raw.toString('latin1').slice(0, 300))}`);
  return r.responses[0]!;
}

const get = (g: Gateway, target: string, extra = '') => send(g, `GET ${target} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`);
const params = (req: FakeFastcgiRequest, name: string) => req.params.filter(([n]) => n === name).map(([, v]) => v);

function members(g: Gateway): MemberSnapshot[] {
  const api = g.lt.server.host.api<ProxyCoreApi>('proxy-core');
  if (!api) throw new Error('proxy-core is not loaded');
  return api.snapshot().backends.flatMap((b) => b.members);
}

function retries(g: Gateway): number {
  return g.lt.server.host.api<ProxyCoreApi>('proxy-core')!.snapshot().backends.reduce((n, b) => n + b.retries, 0);
}

// --- B12, C5: what the environment is built from ---

T('B12: X_Foo: a with X-Foo: b → HTTP_X_FOO = "b" only (FastCGI and SCGI, both orders)', async () => {
  const fcgi = await startFakeFastcgi();
  const scgi = await startFakeScgi();
  await scenario([fcgi, scgi], `
fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )
scgi.server = ( "/s/" => ( "a" => ${host(scgi)} ) )
`, {}, async (g) => {
    const orders = ['X_Foo: from-underscore\r\nX-Foo: b\r\n', 'X-Foo: b\r\nX_Foo: from-underscore\r\n'];
    for (const [i, fields] of orders.entries()) {
      const r = only(await get(g, `/f/b12-${i}`, fields));
      assert.is(r.status, 200);
      assert.is(r.body.toString(), 'ok');
      const req = fcgi.requests[i]!;
      assert.equal(params(req, 'HTTP_X_FOO'), ['b'], `FastCGI order ${i}: ${JSON.stringify(req.params)}`);
      assert.not.ok(req.params.some(([, v]) => v.includes('from-underscore')), 'the underscore field is not exported under any name');
    }
    for (const [i, fields] of orders.entries()) {
      const r = only(await get(g, `/s/b12-${i}`, fields));
      assert.is(r.status, 200);
      const req = scgi.requests[i]!;
      assert.equal(req.env.filter(([n]) => n === 'HTTP_X_FOO').map(([, v]) => v), ['b'], `SCGI order ${i}`);
      assert.not.ok(req.env.some(([, v]) => v.includes('from-underscore')), 'SCGI: not exported under any name');
    }
  });
});

T('C5: Proxy: evil → no HTTP_PROXY (FastCGI and SCGI)', async () => {
  const fcgi = await startFakeFastcgi();
  const scgi = await startFakeScgi();
  await scenario([fcgi, scgi], `
fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )
scgi.server = ( "/s/" => ( "a" => ${host(scgi)} ) )
`, {}, async (g) => {
    assert.is(only(await get(g, '/f/c5', 'Proxy: evil\r\nX-Other: fine\r\n')).status, 200);
    assert.is(only(await get(g, '/s/c5', 'Proxy: evil\r\nX-Other: fine\r\n')).status, 200);
    const f = fcgi.requests[0]!;
    assert.equal(params(f, 'HTTP_PROXY'), []);
    assert.not.ok(f.params.some(([, v]) => v === 'evil'), 'the value appears under no name');
    assert.equal(params(f, 'HTTP_X_OTHER'), ['fine'], 'other fields still go');
    const s = scgi.requests[0]!;
    assert.not.ok(s.envMap.has('HTTP_PROXY'));
    assert.not.ok(s.env.some(([, v]) => v === 'evil'));
    assert.is(s.envMap.get('HTTP_X_OTHER'), 'fine');
  });
});

// --- C2: framing toward the backend ---

const CHUNKED_POST = (target: string) =>
  `POST ${target} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`;

T('C2: a chunked body reaches FastCGI and SCGI de-chunked, CONTENT_LENGTH first; "0" for a GET', async () => {
  const fcgi = await startFakeFastcgi({ respond: echo });
  const scgi = await startFakeScgi({ respond: (req) => `Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n${req.body.toString('latin1')}` });
  await scenario([fcgi, scgi], `
fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )
scgi.server = ( "/s/" => ( "a" => ${host(scgi)} ) )
`, {}, async (g) => {
    let r = only(await send(g, CHUNKED_POST('/f/c2')));
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'hello world');
    const post = fcgi.requests[0]!;
    assert.equal(post.params[0], ['CONTENT_LENGTH', '11'], 'CONTENT_LENGTH is the first param, the de-chunked length');
    assert.equal(params(post, 'CONTENT_LENGTH'), ['11'], 'exactly once');
    assert.equal(params(post, 'HTTP_TRANSFER_ENCODING'), []);
    assert.is(post.stdin.toString('latin1'), 'hello world', 'the exact STDIN bytes');
    assert.ok(post.stdinComplete, 'the empty STDIN record ended the stream');

    r = only(await get(g, '/f/c2-get'));
    assert.is(r.status, 200);
    const g0 = fcgi.requests[1]!;
    assert.equal(g0.params[0], ['CONTENT_LENGTH', '0'], 'a GET has CONTENT_LENGTH "0", first');
    assert.is(g0.stdin.length, 0);
    assert.is(g0.stdinRecords, 0);
    assert.ok(g0.stdinComplete, 'an empty body still ends with the empty STDIN record (G8)');

    // A chunked body larger than the in-memory spool (64 KiB) goes through a temp file; STDIN
    // records carry at most 65 535 bytes each (G8).
    const big = Buffer.alloc(150_000);
    for (let i = 0; i < big.length; i++) big[i] = 0x61 + (i % 26);
    const chunks: string[] = [];
    for (let at = 0; at < big.length; at += 10_000) {
      const piece = big.subarray(at, at + 10_000);
      chunks.push(`${piece.length.toString(16)}\r\n${piece.toString('latin1')}\r\n`);
    }
    r = only(await send(g, [`POST /f/c2-big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`, ...chunks, '0\r\n\r\n'], 8000));
    assert.is(r.status, 200);
    assert.is(r.body.length, big.length);
    const bigReq = fcgi.requests[2]!;
    assert.equal(bigReq.params[0], ['CONTENT_LENGTH', String(big.length)]);
    assert.ok(bigReq.stdin.equals(big), 'the exact STDIN bytes');
    const conn = fcgi.connections.find((c) => c.requests.includes(bigReq))!;
    const stdinRecords = conn.records.filter((x) => x.type === FCGI_STDIN);
    assert.ok(stdinRecords.every((x) => x.content.length <= FCGI_MAX_CONTENT_BYTES), 'content ≤ 65 535 per record');

    r = only(await send(g, CHUNKED_POST('/s/c2')));
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'hello world');
    const s = scgi.requests[0]!;
    assert.equal(s.env[0], ['CONTENT_LENGTH', '11']);
    assert.is(s.body.toString('latin1'), 'hello world');
    assert.is(s.extraBytes, 0);
  });
});

T('C2: with server.stream-request-body = 1 a chunked body to FastCGI gets 411; a Content-Length body still goes', async () => {
  const fcgi = await startFakeFastcgi({ respond: echo });
  await scenario([fcgi], `
server.stream-request-body = 1
fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )
`, {}, async (g) => {
    const r = only(await send(g, CHUNKED_POST('/f/c2s')));
    assert.is(r.status, 411);
    assert.is(fcgi.requests.length, 0, 'the backend never saw the request');
    const cl = only(await send(g, 'POST /f/c2cl HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello'));
    assert.is(cl.status, 200);
    assert.is(cl.body.toString(), 'hello');
    assert.equal(fcgi.requests[0]!.params[0], ['CONTENT_LENGTH', '5']);
  });
});

// --- E5: a pooled connection the backend closed ---

T('E5: the backend closes its kept-alive FastCGI connection while idle → the next GET gets 200 on a fresh connection', async () => {
  // As php-cgi does after PHP_FCGI_MAX_REQUESTS: answer, then close the connection.
  const fcgi = await startFakeFastcgi({ respond: (req) => ok(req), then: 'close' });
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const first = only(await get(g, '/f/e5a'));
    assert.is(first.status, 200);
    assert.ok(fcgi.requests[0]!.keepConn, 'FCGI_KEEP_CONN was asked for');
    await fcgi.waitFor((f) => f.connections[0]!.closed, 3000, 'the backend closed the first connection');
    const second = await get(g, '/f/e5b');
    assert.is(only(second).status, 200);
    assert.is(only(second).body.toString(), 'ok');
    assert.is(fcgi.connections.length, 2);
    assert.is(fcgi.connections[0]!.requests.length, 1, 'nothing was sent on the closed connection');
    assert.is(fcgi.connections[1]!.requests.length, 1);
    const m = members(g)[0]!;
    assert.is(m.state, 'up');
    assert.is(m.failures.reset, 0);
    assert.not.match(g.log(), /e5b/, 'nothing about the second request in the error log');
  });
});

T('E5: the backend closes the reused connection right after the next request, unanswered → retried once on a fresh connection → 200', async () => {
  // Answers the first request of each connection; closes (FIN) on the second without a byte.
  const fcgi = await startFakeFastcgi({ respond: (req, conn) => (conn.requests.indexOf(req) === 0 ? ok(req) : 'close') });
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    assert.is(only(await get(g, '/f/e5r-1')).status, 200);
    const r = await get(g, '/f/e5r-2');
    assert.is(only(r).status, 200, 'the client sees no error');
    assert.is(only(r).body.toString(), 'ok');
    assert.is(fcgi.connections.length, 2, 'one fresh connection for the retry');
    assert.is(fcgi.connections[0]!.requests.length, 2, 'the request was sent on the reused connection first');
    assert.is(fcgi.connections[1]!.requests.length, 1, 'then once more on a fresh one');
    assert.is(retries(g), 1);
    const m = members(g)[0]!;
    assert.is(m.state, 'up', 'the idle-close race does not count against the member');
    assert.is(m.failures.reset, 0);
  });
});

// --- G1, G3: aborts and early answers ---

/** A responder whose first connection sends the head and 20 000 body bytes, then 20 000 more after each release (4 times), then ends. */
function midResponseFake(): Promise<FakeFastcgi> {
  const body = 'x'.repeat(20_000);
  const more = Array.from({ length: 4 }, () => fcgiStdout('y'.repeat(20_000)));
  return startFakeFastcgi({
    respond: (req, conn) => conn.id === 0
      ? { chunks: [fcgiStdout(OK_HEAD + body), ...more.flatMap((piece) => [pause, piece]), pause, fcgiStdout(''), fcgiEndRequest()], then: 'keep' }
      : ok(req),
  });
}

/** After an aborted first request: ABORT_REQUEST (if any) was for that request, and the connection carries no other one. */
async function assertNotReused(g: Gateway, fcgi: FakeFastcgi): Promise<void> {
  const conn0 = fcgi.connections[0]!;
  const aborts = conn0.records.filter((x) => x.type === FCGI_ABORT_REQUEST);
  assert.ok(aborts.length <= 1, 'at most one ABORT_REQUEST');
  if (aborts.length === 1) assert.is(aborts[0]!.requestId, conn0.requests[0]!.requestId);
  // Not reused: lantern closes it (after ABORT_REQUEST, if it sent one).
  await fcgi.waitFor((f) => f.connections[0]!.closedByPeer, 2000, 'lantern closed the aborted connection');
  fcgi.release(5);
  const next = await get(g, '/f/g1-next');
  assert.is(only(next).status, 200);
  assert.is(fcgi.connections[0]!.requests.length, 1, 'no second request on the aborted connection');
  assert.is(fcgi.connections.length, 2);
}

T('G1/E2: the backend closes its unix socket while the body is being sent, without an answer → 502 at once, not at the read timeout', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-cgi-epipe-'));
  const fake = await startFakeFastcgi({ path: path.join(dir, 'app.sock'), answerAfter: 'params', respond: () => 'close' });
  await scenario([fake], `fastcgi.server = ( "/up" => ( ( "socket" => "${fake.path}", "check-local" => "disable" ) ) )`, {}, async (g) => {
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const started = Date.now();
    // The backend's close makes lantern's next body write fail (EPIPE on a unix socket); with no
    // answer from it, the backend's end of the stream must end the attempt.
    const r = await send(g, [`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`, body], 8000);
    assert.is(only(r).status, 502);
    assert.ok(Date.now() - started < 4000, `answered after ${Date.now() - started} ms`);
    assert.ok(fake.requests.length >= 1, 'the backend got the request');
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

T('G1: the client goes away (RST) mid-response → FCGI_ABORT_REQUEST (or close) promptly; the connection is not reused', async () => {
  const fcgi = await midResponseFake();
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const c = await connectRaw(g.port);
    await c.write('GET /f/g1 HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.readUntil((u) => u.includes('xxxxxxxx'), 3000, 'the head and some body');
    await fcgi.waitFor((f) => f.pausedReplies === 1, 3000, 'the reply paused mid-body');
    const t0 = Date.now();
    c.socket.resetAndDestroy();
    await fcgi.waitFor((f) => f.requests[0]!.aborted || f.connections[0]!.closedByPeer, 2000, 'ABORT_REQUEST or close');
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `promptly (${ms} ms)`);
    await assertNotReused(g, fcgi);
  });
});

T('G1: the client closes (FIN) mid-response → aborted at the next write to it; the connection is not reused', async () => {
  // A FIN alone is a half-close (the answer would still go out): the client is known to be gone
  // when a write to it fails, i.e. once the backend sends more.
  const fcgi = await midResponseFake();
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const c = await connectRaw(g.port);
    await c.write('GET /f/g1 HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.readUntil((u) => u.includes('xxxxxxxx'), 3000, 'the head and some body');
    await fcgi.waitFor((f) => f.pausedReplies === 1, 3000, 'the reply paused mid-body');
    c.destroy();
    // One more piece at a time, each given 1 s to be noticed: the first write after the FIN draws
    // the client's RST, a later one fails. Detected before the reply ends.
    const gone = (f: FakeFastcgi) => f.requests[0]!.aborted || f.connections[0]!.closedByPeer;
    let pieces = 0;
    while (!gone(fcgi) && pieces < 4) {
      fcgi.release();
      pieces++;
      await fcgi.waitFor(gone, 1000, 'ABORT_REQUEST or close').catch(() => {});
    }
    assert.ok(gone(fcgi), `ABORT_REQUEST or close after ${pieces} more piece(s)`);
    assert.ok(pieces <= 2, `noticed at the first failed write (after ${pieces} piece(s))`);
    assert.not.ok(fcgi.connections[0]!.closedByUs, 'the backend did not finish its reply');
    await assertNotReused(g, fcgi);
  });
});

T('G1: the client goes away mid-upload → the FastCGI request is aborted (ABORT_REQUEST or close), never completed', async () => {
  const fcgi = await startFakeFastcgi({ answerAfter: 'params', respond: () => 'stall' });
  await scenario([fcgi], `server.stream-request-body = 2\nfastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const c = await connectRaw(g.port);
    await c.write('POST /f/up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npartial');
    await fcgi.waitFor((f) => f.requests[0]?.paramsComplete === true, 3000, 'PARAMS arrived');
    c.destroy();
    await fcgi.waitFor((f) => f.requests[0]!.aborted || f.connections[0]!.closedByPeer, 2000, 'ABORT_REQUEST or close');
    await fcgi.waitFor((f) => f.connections[0]!.closedByPeer, 2000, 'lantern closed the connection');
    const req = fcgi.requests[0]!;
    assert.not.ok(req.stdinComplete, 'the STDIN stream was never ended as if the body were whole');
    assert.ok(req.stdin.length < 100000);
  });
});

T('G3: the FastCGI backend answers before the request body was all sent → forwarded; the connection is not reused', async () => {
  const fcgi = await startFakeFastcgi({
    answerAfter: 'params',
    respond: (req, conn) => conn.id === 0
      ? fcgiResponse('Status: 413 Payload Too Large\r\nContent-Type: text/plain\r\n\r\nbig!', { requestId: req.requestId })
      : ok(req),
  });
  await scenario([fcgi], `server.stream-request-body = 2\nfastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const c = await connectRaw(g.port);
    try {
      await c.write(`POST /f/early HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n${'x'.repeat(1000)}`);
      const early = await c.readResponse(3000);
      assert.is(early.status, 413);
      assert.is(early.body.toString(), 'big!');
      // The rest of the body is drained (then the connection serves the next request) or the
      // client connection is closed: either way no stray bytes are taken for a request.
      await c.write('y'.repeat(199_000) + 'GET /f/after HTTP/1.1\r\nHost: a\r\n\r\n').catch(() => {});
      const after = await c.readResponse(3000).catch((err: Error) => err);
      if (!(after instanceof Error)) {
        assert.is(after.status, 200, 'the request after the drained body');
        assert.is(after.body.toString(), 'ok');
      } else {
        assert.ok(c.closed, `no response and not closed: ${after.message}`);
      }
    } finally { c.destroy(); }
    const next = await get(g, '/f/g3-next');
    assert.is(only(next).status, 200);
    assert.is(fcgi.connections[0]!.requests.length, 1, 'the early-answered connection carried no other request');
    assert.ok(fcgi.connections.length >= 2);
    await fcgi.waitFor((f) => f.connections[0]!.closedByPeer, 2000, 'lantern closed the early-answered connection');
  });
});

// --- G8: FastCGI records ---

T('G8: FastCGI STDERR goes to the error log, never to the client', async () => {
  const big = 'E'.repeat(70_000); // more than one record (nginx "large stderr handled")
  const fcgi = await startFakeFastcgi({
    respond: (req) => {
      const id = req.requestId;
      return Buffer.concat([
        fcgiStderr('err-one: before the head\n', { requestId: id }),
        fcgiStdout('Status: 200 OK\r\nContent-Type: text/plain\r\n', { requestId: id }),
        fcgiStderr('err-two: inside the head', { requestId: id }),
        fcgiStdout('\r\nbody-1,', { requestId: id }),
        fcgiStderr('err-three: inside the body\n', { requestId: id }),
        fcgiStderr(big, { requestId: id }),
        fcgiStdout('body-2', { requestId: id }),
        fcgiStderr('', { requestId: id }),
        fcgiStdout('', { requestId: id }),
        fcgiEndRequest(0, 0, id),
      ]);
    },
  });
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const r = await get(g, '/f/g8-stderr');
    const res = only(r);
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'body-1,body-2');
    assert.ok(res.complete);
    assert.not.match(r.raw.toString('latin1'), /err-|EEEE/, 'no STDERR byte on the wire');
    await waitFor(() => g.log().includes('err-three'), 3000, 5, 'STDERR in the error log');
    const log = g.log();
    for (const line of ['err-one: before the head', 'err-two: inside the head', 'err-three: inside the body']) assert.ok(log.includes(line), `log has "${line}"`);
    assert.ok((log.match(/E/g) ?? []).length >= big.length, 'the large STDERR is logged whole');
  });
});

T('G8: END_REQUEST REQUEST_COMPLETE → 200 (a non-zero appStatus is only logged); UNKNOWN_ROLE → 502', async () => {
  const done = await startFakeFastcgi({ respond: (req) => fcgiResponse(OK_HEAD + 'done', { requestId: req.requestId, appStatus: 255 }) });
  const role = await startFakeFastcgi({ respond: (req) => fcgiEndRequest(0, FCGI_UNKNOWN_ROLE, req.requestId) });
  await scenario([done, role], `
fastcgi.server = ( "/done/" => ( "a" => ${host(done)} ), "/role/" => ( "a" => ${host(role)} ) )
`, {}, async (g) => {
    const r = only(await get(g, '/done/x'));
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'done');
    await waitFor(() => /application status 255/.test(g.log()), 3000, 5, 'appStatus logged');
    const u = only(await get(g, '/role/x'));
    assert.is(u.status, 502);
    assert.is(role.requests.length, 1, 'UNKNOWN_ROLE is not retried');
    const m = members(g).find((x) => x.key === `127.0.0.1:${role.port}`)!;
    assert.is(m.failures.badResponse, 1, 'counted as a bad response');
    assert.match(m.lastError ?? '', /UNKNOWN_ROLE/);
    assert.not.match(u.body.toString('latin1'), /UNKNOWN_ROLE/, 'no protocol detail to the client');
  });
});

for (const [name, status] of [['OVERLOADED', FCGI_OVERLOADED], ['CANT_MPX_CONN', FCGI_CANT_MPX_CONN]] as const) {
  T(`G8: END_REQUEST ${name} → retried on the other member (200); a single member → 503`, async () => {
    const busy = await startFakeFastcgi({ respond: (req) => fcgiEndRequest(0, status, req.requestId) });
    const busy1 = await startFakeFastcgi({ respond: (req) => fcgiEndRequest(0, status, req.requestId) });
    const other = await startFakeFastcgi({ respond: (req) => ok(req, 'other') });
    await scenario([busy, busy1, other], `
fastcgi.server = (
  "/two/" => ( "busy" => ${host(busy)}, "other" => ${host(other)} ),
  "/one/" => ( "busy" => ${host(busy1)} ),
)
`, {}, async (g) => {
      // Whichever member the balancer picks first, every answer comes from "other"; go on until
      // "busy" was picked at least once (the first pick, or the second with round robin).
      for (let i = 0; i < 4 && busy.requests.length === 0; i++) {
        const r = only(await get(g, `/two/${i}`));
        assert.is(r.status, 200, `request ${i}`);
        assert.is(r.body.toString(), 'other');
      }
      assert.ok(busy.requests.length >= 1, `the ${name} member was tried`);
      assert.ok(retries(g) >= 1, 'retried');
      const r = only(await get(g, '/one/x'));
      assert.is(r.status, 503);
      assert.is(busy1.requests.length, 1, 'tried once');
      assert.not.match(r.body.toString('latin1'), new RegExp(name), 'no protocol detail to the client');
    });
  });
}

T('G8: output cut short (close before END_REQUEST) → the response is cut short, never a whole 200', async () => {
  const big = 'z'.repeat(40_000);
  const small = await startFakeFastcgi({ respond: (req) => ({ chunks: [fcgiStdout('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n' + 'a'.repeat(40), { requestId: req.requestId })], then: 'close' }) });
  const large = await startFakeFastcgi({ respond: (req) => ({ chunks: [fcgiStdout(OK_HEAD + big, { requestId: req.requestId })], then: 'close' }) });
  const head = await startFakeFastcgi({ respond: (req) => ({ chunks: [fcgiStdout('Status: 200 OK\r\nContent-Ty', { requestId: req.requestId })], then: 'close' }) });
  await scenario([small, large, head], `
fastcgi.server = ( "/small/" => ( "a" => ${host(small)} ), "/large/" => ( "a" => ${host(large)} ), "/head/" => ( "a" => ${host(head)} ) )
`, {}, async (g) => {
    // With Content-Length: 100 and 40 bytes: 502 if nothing went out yet, else an incomplete body.
    let r = await get(g, '/small/x');
    let res = only(r);
    if (res.status === 200) {
      assert.not.ok(res.complete, 'a 200 must not look whole');
      assert.ok(r.closed, 'the client connection is closed');
    } else {
      assert.is(res.status, 502);
    }
    // No length, 40 000 bytes (more than is held back with the head): the head went out, so the
    // chunked body ends without its last chunk and the connection closes (D6).
    r = await get(g, '/large/x');
    res = only(r);
    assert.is(res.status, 200);
    assert.not.ok(res.complete, 'incomplete body');
    assert.ok(r.closed, 'the client connection is closed');
    assert.ok(!r.raw.toString('latin1').endsWith('0\r\n\r\n'), 'no final chunk');
    // Cut inside the head: nothing went out → 502.
    res = only(await get(g, '/head/x'));
    assert.is(res.status, 502);
  });
});

T('G8: a head split across many records (1-byte records, padding) and TCP pieces → the right response', async () => {
  const cgi = 'Status: 201 Created\r\nContent-Type: text/plain\r\nX-Split: yes\r\n\r\nsplit-body';
  const reply = (id: number) => {
    const b = Buffer.from(cgi, 'latin1');
    const records: Buffer[] = [];
    // 1-byte records with 0, 7 and 255 bytes of padding in turn, then the rest in one record.
    for (let i = 0; i < 40; i++) records.push(fcgiRecord(FCGI_STDOUT, id, b.subarray(i, i + 1), [0, 7, 255][i % 3]));
    records.push(fcgiRecord(FCGI_STDOUT, id, b.subarray(40), 3));
    records.push(fcgiRecord(FCGI_STDOUT, id, '', 5), fcgiEndRequest(0, 0, id));
    // Written in 5-byte pieces: cuts inside record headers, contents and padding.
    return splitEvery(Buffer.concat(records), 5);
  };
  const fcgi = await startFakeFastcgi({ respond: (req) => reply(req.requestId) });
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    for (const target of ['/f/split-1', '/f/split-2']) {
      const r = only(await get(g, target));
      assert.is(r.status, 201);
      assert.is(r.header('x-split'), 'yes');
      assert.is(r.header('content-type'), 'text/plain');
      assert.is(r.body.toString(), 'split-body');
      assert.ok(r.complete);
    }
    assert.is(fcgi.connections.length, 1, 'the connection was reused after a clean split answer');
  });
});

// --- G9: SCGI ---

T('G9: SCGI netstring (CONTENT_LENGTH first, SCGI=1, no duplicates, exact body); the response ends at the close', async () => {
  const scgi = await startFakeScgi({ respond: (req) => ['Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n', `got:${req.body.toString('latin1')};`, 'tail'] });
  await scenario([scgi], `scgi.server = ( "/s/" => ( "a" => ${host(scgi)} ) )`, {}, async (g) => {
    const body = 'scgi-body\x00\xff';
    const r = await send(g, `POST /s/g9?q=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const res = only(r);
    assert.is(res.status, 200);
    assert.is(res.body.toString('latin1'), `got:${body};tail`, 'the body up to the backend\'s close');
    assert.ok(res.complete, 'framed for the client (chunked or length)');
    assert.not.ok(r.closed, 'the client connection stays open');
    const req = scgi.requests[0]!;
    const text = req.headBytes.toString('latin1');
    const m = /^([1-9][0-9]*|0):/.exec(text);
    assert.ok(m, `netstring length prefix: ${JSON.stringify(text.slice(0, 20))}`);
    assert.is(req.headBytes.length, m![0].length + Number(m![1]) + 1, 'len: ... , spans the head exactly');
    assert.is(text.at(-1), ',');
    assert.ok(text.slice(m![0].length).startsWith('CONTENT_LENGTH\0'), 'CONTENT_LENGTH first');
    assert.equal(req.env[0], ['CONTENT_LENGTH', String(body.length)]);
    assert.is(req.envMap.get('SCGI'), '1');
    const names = req.env.map(([n]) => n);
    assert.is(new Set(names).size, names.length, `no duplicate names: ${names.join(' ')}`);
    assert.is(req.envMap.get('QUERY_STRING'), 'q=1');
    assert.is(req.body.toString('latin1'), body, 'the exact body');
    assert.is(req.extraBytes, 0, 'nothing after the body');
  });
});

T('G9: SCGI truncated or malformed response head → 502', async () => {
  const cut = await startFakeScgi({ respond: () => 'Status: 200 OK\r\nContent-Ty' });
  const bad = await startFakeScgi({ respond: () => 'this is not a header\r\n\r\nbody' });
  await scenario([cut, bad], `scgi.server = ( "/cut/" => ( "a" => ${host(cut)} ), "/bad/" => ( "a" => ${host(bad)} ) )`, {}, async (g) => {
    let r = await get(g, '/cut/x');
    assert.is(only(r).status, 502);
    assert.not.match(r.raw.toString('latin1'), /Content-Ty\r?$/m, 'none of the backend\'s bytes reach the client');
    r = await get(g, '/bad/x');
    assert.is(only(r).status, 502);
    assert.not.match(r.raw.toString('latin1'), /not a header/);
    assert.is(cut.requests.length, 1, 'a bad answer is not retried');
  });
});

T('D3/G8: a backend\'s Transfer-Encoding: chunked body is decoded (FastCGI in 3-byte records, SCGI); cut short → never a whole 200', async () => {
  const chunkedHead = 'Status: 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
  const chunkedBody = '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n';
  const fcgi = await startFakeFastcgi({
    respond: (req) => req.env.get('QUERY_STRING') === 'cut'
      ? fcgiResponse(chunkedHead + '5\r\nhello\r\n', { requestId: req.requestId })
      : fcgiResponse(chunkedHead + chunkedBody + 'ignored after the last chunk', { requestId: req.requestId, recordBytes: 3 }),
  });
  const scgi = await startFakeScgi({ respond: () => [chunkedHead, chunkedBody] });
  await scenario([fcgi, scgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )\nscgi.server = ( "/s/" => ( "a" => ${host(scgi)} ) )`, {}, async (g) => {
    for (const target of ['/f/x', '/s/x']) {
      const res = only(await get(g, target));
      assert.is(res.status, 200, target);
      assert.is(res.body.toString(), 'hello, world', `${target}: the chunks' data, not their framing`);
      assert.ok(res.complete, target);
    }
    const cut = await get(g, '/f/x?cut');
    const raw = cut.raw.toString('latin1');
    assert.ok(cut.closed || /^HTTP\/1\.1 502/.test(raw), 'cut short: an error or a cut connection');
    assert.not.ok(cut.responses.length === 1 && cut.responses[0]!.complete && cut.responses[0]!.status === 200, 'never a whole 200');
  });
});

T('a FastCGI app that writes an HTTP status line (as NPH) is answered with that status and its fields', async () => {
  const fcgi = await startFakeFastcgi({ respond: (req) => fcgiResponse('HTTP/1.0 201 Created\r\nX-A: b\r\nContent-Type: text/plain\r\n\r\nmade', { requestId: req.requestId }) });
  await scenario([fcgi], `fastcgi.server = ( "/f/" => ( "a" => ${host(fcgi)} ) )`, {}, async (g) => {
    const res = only(await get(g, '/f/x'));
    assert.is(res.status, 201);
    assert.is(res.header('x-a'), 'b');
    assert.is(res.body.toString(), 'made');
  });
});

// --- FastCGI Authorizer (FastCGI 1.0 §6.3) ---

/** Says yes (200 + Variable-USER) to `X-Token: good`, else `denyStatus` with its own body. */
function authorizer(denyStatus: number) {
  return (req: FakeFastcgiRequest) => req.env.get('HTTP_X_TOKEN') === 'good'
    ? fcgiResponse('Status: 200 OK\r\nVariable-USER: alice\r\nContent-Type: text/plain\r\n\r\nauthorizer-yes-body', { requestId: req.requestId })
    : fcgiResponse(`Status: ${denyStatus} Denied\r\nContent-Type: text/plain\r\nX-Auth: no\r\n\r\ndenied by authorizer`, { requestId: req.requestId });
}

T('authorizer in front of a static file: 200 + Variable-USER → the file; 403 → the authorizer\'s answer', async () => {
  const auth = await startFakeFastcgi({ respond: authorizer(403) });
  await scenario([auth], `
fastcgi.server = ( "/private/" => ( "auth" => ${host(auth, ', "mode" => "authorizer"')} ) )
`, { 'private/doc.txt': 'the private document\n' }, async (g) => {
    const r = await get(g, '/private/doc.txt', 'X-Token: good\r\n');
    const res = only(r);
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'the private document\n');
    assert.not.match(r.raw.toString('latin1'), /authorizer-yes-body|Variable-/i, 'the authorizer\'s own answer is not sent');
    const a = auth.requests[0]!;
    assert.is(a.role, FCGI_AUTHORIZER, 'role AUTHORIZER (2)');
    assert.is(a.stdin.length, 0, 'no STDIN data');
    assert.is(a.stdinRecords, 0);
    assert.equal(params(a, 'CONTENT_LENGTH'), [], '§6.3: no CONTENT_LENGTH to an authorizer');

    const d = await get(g, '/private/doc.txt', 'X-Token: bad\r\n');
    const denied = only(d);
    assert.is(denied.status, 403);
    assert.is(denied.body.toString(), 'denied by authorizer');
    assert.not.match(d.raw.toString('latin1'), /the private document/);
    assert.is(auth.requests.length, 2);
  });
});

T('authorizer in front of a FastCGI responder: 200 → the responder gets USER=alice and the body; 401 → it never sees the request', async () => {
  const auth = await startFakeFastcgi({ respond: authorizer(401) });
  const app = await startFakeFastcgi({ respond: (req) => fcgiResponse(`${OK_HEAD}app:${req.env.get('USER')}:${req.stdin.toString('latin1')}`, { requestId: req.requestId }) });
  await scenario([auth, app], `
fastcgi.server = ( "/private/" => (
  "auth" => ${host(auth, ', "mode" => "authorizer"')},
  "app" => ${host(app)},
) )
`, {}, async (g) => {
    const r = only(await send(g, 'POST /private/app HTTP/1.1\r\nHost: a\r\nX-Token: good\r\nContent-Length: 11\r\n\r\nhello world'));
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'app:alice:hello world');
    const a = auth.requests[0]!;
    assert.is(a.role, FCGI_AUTHORIZER);
    assert.is(a.stdin.length, 0, 'the authorizer got no body');
    const q = app.requests[0]!;
    assert.is(q.role, 1, 'the responder role');
    assert.equal(params(q, 'USER'), ['alice'], 'the Variable- prefix stripped');
    assert.not.ok(q.params.some(([n]) => /^variable-/i.test(n) || n === 'HTTP_VARIABLE_USER'), 'no Variable-* name');
    assert.equal(q.params[0], ['CONTENT_LENGTH', '11']);
    assert.is(q.stdin.toString(), 'hello world', 'the request body reaches the responder');

    const d = only(await send(g, 'POST /private/app HTTP/1.1\r\nHost: a\r\nX-Token: bad\r\nContent-Length: 11\r\n\r\nhello world'));
    assert.is(d.status, 401);
    assert.is(d.body.toString(), 'denied by authorizer');
    assert.is(auth.requests.length, 2);
    assert.is(app.requests.length, 1, 'the responder never saw the denied request');
  });
});

// --- CGI local redirect (RFC 3875 §6.2.2) ---

T('a responder answering Location: /other.txt without Status → the static file, 200', async () => {
  const fcgi = await startFakeFastcgi({ respond: (req) => fcgiResponse('Location: /other.txt\r\n\r\n', { requestId: req.requestId }) });
  await scenario([fcgi], `fastcgi.server = ( "/app/" => ( "a" => ${host(fcgi)} ) )`, { 'other.txt': 'the other file\n' }, async (g) => {
    const r = await withTimeout(get(g, '/app/go'), 6000, 'the local redirect');
    const res = only(r);
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'the other file\n');
    assert.is(res.header('location'), undefined, 'served, not redirected');
    assert.is(fcgi.requests.length, 1, 'the responder was asked once');
  });
});

T('fastcgi.map-extensions: /x.php3 and /x.php3/info go to the ".php" backend, split as a .php script (check-local on)', async () => {
  const fcgi = await startFakeFastcgi({ respond: (req) => ok(req) });
  const php = `( "host" => "127.0.0.1", "port" => ${fcgi.port} )`;
  await scenario([fcgi], `fastcgi.server = ( ".php" => ( ${php} ) )\nfastcgi.map-extensions = ( ".php3" => ".php" )`,
    { 'x.php3': '<?php secret(); ?>', 'plain.txt': 'plain\n' }, async (g) => {
      for (const [target, scriptName, pathInfo] of [['/x.php3', '/x.php3', []], ['/x.php3?q=1', '/x.php3', []], ['/x.php3/info/more', '/x.php3', ['/info/more']]] as const) {
        const res = only(await get(g, target));
        assert.is(res.status, 200, target);
        assert.is(res.body.toString(), 'ok', `${target}: the backend's answer, never the script's source`);
        const req = fcgi.requests.at(-1)!;
        assert.equal(params(req, 'SCRIPT_NAME'), [scriptName], target);
        assert.equal(params(req, 'PATH_INFO'), [...pathInfo], target);
      }
      assert.is(fcgi.requests.length, 3);
      // A missing mapped script is still check-local's 404, and other files stay static.
      assert.is(only(await get(g, '/missing.php3')).status, 404);
      assert.is(only(await get(g, '/missing.php3/info')).status, 404);
      assert.is(only(await get(g, '/plain.txt')).body.toString(), 'plain\n');
      assert.is(fcgi.requests.length, 3);
    });
});

T.run();

// Reliability checklist rows C1-C6 and G4 through proxy-core: what reaches the backend (fake
// backend records every byte), over raw client sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend, type FakeRequest } from '../helpers/fake-backend.js';
import { connectRaw, rawExchange } from '../helpers/raw-client.js';
import { startProxy, type ProxyHandle } from './proxy-core-fixtures.js';

const C = suite('proxy-core upstream request (C1-C6, G4)');
let be: FakeBackend;
let lt: ProxyHandle;

C.before(async () => {
  be = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });
  const a = be.address;
  lt = await startProxy(`
$HTTP["url"] =^ "/a/" { proxy-core.backends = ( "${a}" ) }
$HTTP["url"] =^ "/s/" { proxy-core.backends = ( "${a}" ) server.stream-request-body = 2 }
$HTTP["url"] =^ "/v10/" { proxy-core.backends = ( "${a}" ) proxy-core.http-version = "1.0" }
$HTTP["url"] =^ "/forced/" { proxy-core.backends = ( "${a}" ) proxy-core.http-version = "1.0" server.stream-request-body = 1 }
$HTTP["url"] =^ "/trust/" {
  proxy-core.backends = ( "${a}" )
  proxy-core.trust-forwarded-from = ( "127.0.0.0/8" )
  proxy-core.forwarded = ( "for" => "enable", "proto" => "enable", "host" => "enable" )
}
$HTTP["url"] =^ "/fwd/" { proxy-core.backends = ( "${a}" ) proxy-core.forwarded = ( "for" => "enable", "host" => "enable" ) }
$HTTP["url"] =^ "/nohost/" { proxy-core.backends = ( "${a}" ) proxy-core.preserve-host = "disable" }
$HTTP["url"] =^ "/noxff/" { proxy-core.backends = ( "${a}" ) proxy-core.x-forwarded = "disable" }
`);
});
C.after(async () => { await lt?.stop(); await be?.close(); });

/** The request the backend received for `target` (each test uses its own paths). */
async function received(target: string): Promise<FakeRequest> {
  const find = () => be.connections.flatMap((c) => c.requests).find((r) => r.target === target && r.complete);
  await be.waitFor(() => find() !== undefined, 2000, `a request for ${target}`);
  return find()!;
}

/** Send `bytes`, expect one 200, return what the backend received for it. */
async function forwarded(bytes: string): Promise<FakeRequest> {
  const r = await rawExchange({ port: lt.port, send: bytes, expectResponses: 1, timeoutMs: 4000 });
  assert.is(r.responses[0]?.status, 200, 'status');
  const target = bytes.split(' ')[1]!;
  return received(target.startsWith('http') ? target.replace(/^http:\/\/[^/]*/, '') : target);
}

const names = (r: FakeRequest) => r.headers.map(([n]) => n.toLowerCase());

C('C1 hop-by-hop fields and the names Connection lists are removed', async () => {
  const r = await forwarded('GET /a/x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n' +
    'Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: websocket\r\nX-Secret: s\r\nX-Kept: k\r\n\r\n');
  for (const n of ['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-secret', 'transfer-encoding']) {
    assert.not.ok(names(r).includes(n), `${n} removed`);
  }
  assert.is(r.header('x-kept'), 'k');
  assert.is(r.version, 'HTTP/1.1');
});

C('C2 framing is regenerated: buffered (the default) a chunked body goes with its length; streamed it stays chunked (extensions dropped); CL stays CL', async () => {
  const b = await forwarded('POST /a/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.is(b.header('transfer-encoding'), undefined);
  assert.is(b.header('content-length'), '5');
  assert.is(b.body.toString(), 'abcde');
  const r = await forwarded('POST /s/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.is(r.header('transfer-encoding'), 'chunked');
  assert.is(r.header('content-length'), undefined);
  assert.is(r.body.toString(), 'abcde');
  assert.not.ok(r.raw.toString('latin1').includes('ext=1'), 'chunk extensions are not forwarded');
  const r2 = await forwarded('PUT /a/l HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello');
  assert.is(r2.header('content-length'), '5');
  assert.is(r2.body.toString(), 'hello');
  const r3 = await forwarded('POST /a/empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
  assert.is(r3.header('content-length'), '0', 'an empty POST keeps Content-Length: 0');
});

C('C2 an HTTP/1.0 backend gets a buffered body with Content-Length; forced streaming → 411', async () => {
  const r = await forwarded('POST /v10/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  assert.is(r.version, 'HTTP/1.0');
  assert.is(r.header('content-length'), '3');
  assert.is(r.header('transfer-encoding'), undefined);
  assert.is(r.body.toString(), 'abc');
  const before = be.requestCount;
  const x = await rawExchange({ port: lt.port, send: 'POST /forced/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', timeoutMs: 3000 });
  assert.is(x.responses[0]?.status, 411);
  assert.is(be.requestCount, before, 'nothing forwarded');
});

C('C3 X-Forwarded-*: an untrusted client\'s values are replaced', async () => {
  const r = await forwarded('GET /a/f HTTP/1.1\r\nHost: Example.org:8080\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n' +
    'X-Forwarded-Host: evil\r\nForwarded: for=6.6.6.6\r\n\r\n');
  assert.equal(r.headers.filter(([n]) => n.toLowerCase() === 'x-forwarded-for'), [['X-Forwarded-For', '127.0.0.1']]);
  assert.is(r.header('x-forwarded-proto'), 'http');
  assert.is(r.header('x-forwarded-host'), 'example.org:8080');
  // Forwarded is not enabled for /a/: the client's own passes untouched.
  assert.is(r.header('forwarded'), 'for=6.6.6.6');
});

C('C3 trusted peer: XFF appended, its proto/host kept, RFC 7239 Forwarded appended', async () => {
  const r = await forwarded('GET /trust/f HTTP/1.1\r\nHost: example.org\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n' +
    'X-Forwarded-Proto: https\r\nForwarded: for=10.0.0.1\r\n\r\n');
  assert.is(r.header('x-forwarded-for'), '10.0.0.1, 10.0.0.2, 127.0.0.1');
  assert.is(r.header('x-forwarded-proto'), 'https');
  assert.is(r.header('forwarded'), 'for=10.0.0.1, for=127.0.0.1;proto=http;host=example.org');
});

C('C3 Forwarded from an untrusted client is replaced; a host with a port is quoted', async () => {
  const r = await forwarded('GET /fwd/f HTTP/1.1\r\nHost: example.org:81\r\nForwarded: for=6.6.6.6\r\n\r\n');
  assert.is(r.header('forwarded'), 'for=127.0.0.1;host="example.org:81"');
});

C('C3 proxy-core.x-forwarded = disable: no X-Forwarded-* added', async () => {
  const r = await forwarded('GET /noxff/f HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.is(r.header('x-forwarded-for'), undefined);
  assert.is(r.header('x-forwarded-proto'), undefined);
});

C('C4 repeated fields keep their order; exactly one Host; absolute-form becomes origin-form', async () => {
  const r = await forwarded('GET /a/rep HTTP/1.1\r\nHost: h\r\nX-Rep: 1\r\nCookie: a=1\r\nX-Rep: 2\r\nCookie: b=2\r\n\r\n');
  assert.equal(r.headers.filter(([n]) => n === 'X-Rep').map(([, v]) => v), ['1', '2']);
  assert.equal(r.headers.filter(([n]) => n === 'Cookie').map(([, v]) => v), ['a=1', 'b=2']);
  assert.is(r.headers.filter(([n]) => n.toLowerCase() === 'host').length, 1);
  const abs = await forwarded('GET http://Other.Example:8080/a/abs?q=1 HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.is(abs.target, '/a/abs?q=1');
  assert.equal(abs.headers.filter(([n]) => n.toLowerCase() === 'host'), [['Host', 'other.example:8080']]);
});

C('C6 preserve-host disabled: Host is the member address', async () => {
  const r = await forwarded('GET /nohost/x HTTP/1.1\r\nHost: client.example\r\n\r\n');
  assert.is(r.header('host'), be.address);
  assert.is(r.header('x-forwarded-host'), 'client.example');
});

C('C6 HTTP/1.0 without Host: the member address is sent', async () => {
  const r = await forwarded('GET /a/old HTTP/1.0\r\n\r\n');
  assert.is(r.header('host'), be.address);
});

C('G4 Expect: 100-continue: one 100 from lantern, Expect not forwarded, body forwarded', async () => {
  const c = await connectRaw(lt.port);
  await c.write('POST /a/e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  const cont = await c.readResponse(3000);
  assert.is(cont.status, 100);
  await c.write('body');
  const res = await c.readResponse(3000);
  assert.is(res.status, 200);
  const r = await received('/a/e');
  assert.is(r.header('expect'), undefined);
  assert.is(r.body.toString(), 'body');
  assert.not.ok(c.unread.toString().includes('100 Continue'), 'no second 100');
  c.destroy();
});

C.run();

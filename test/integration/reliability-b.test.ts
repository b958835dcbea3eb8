// Reliability checklist rows B1-B11 (request line and header validity) over raw sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rawExchange } from '../helpers/raw-client.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { seen } from '../helpers/plugins/echo/index.js';

const ECHO = new URL('../helpers/plugins/echo/index.ts', import.meta.url).pathname;
const B = suite('reliability B: request line and headers');
let lt: LanternHandle;

B.before(async () => {
  lt = await startLantern(`
server.modules = ( "${ECHO}" )
server.document-root = "%DIR%"
`, { files: { 'index.html': 'hi\n' } });
});
B.after(async () => { await lt?.stop(); });

async function one(bytes: string) {
  return rawExchange({ port: lt.port, send: bytes, expectResponses: 1, timeoutMs: 4000 });
}

async function rejected(bytes: string, status: number, what: string, close = true) {
  const before = seen.length;
  const r = await rawExchange({ port: lt.port, send: bytes, timeoutMs: 4000, expectResponses: close ? undefined : 1 });
  assert.ok(r.responses.length >= 1, `${what}: got a response`);
  assert.is(r.responses[0].status, status, `${what}: status`);
  if (close) assert.ok(r.closed, `${what}: closed`);
  assert.is(seen.length, before, `${what}: nothing reached the handler`);
}

B('B1 bad method token → 400; bad version → 400; HTTP/2.0 → 505', async () => {
  await rejected('G(T / HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'G(T');
  await rejected('G=":<>(e),[T];?" / HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'separators');
  await rejected('GET / HTTP/1.01\r\nHost: t\r\n\r\n', 400, 'HTTP/1.01');
  await rejected('GET / HTTP/1.32\r\nHost: t\r\n\r\n', 400, 'HTTP/1.32');
  await rejected('GET /\r\nHost: t\r\n\r\n', 400, 'no version');
  await rejected('GET / http/1.1\r\nHost: t\r\n\r\n', 400, 'lowercase version');
  await rejected('GET / HTTP/2.0\r\nHost: t\r\n\r\n', 505, 'HTTP/2.0');
});

B('B2 target forms: space/CTL, * with GET, CONNECT without port, relative → 400', async () => {
  await rejected('GET /a b HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'space');
  await rejected('GET /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'CTL');
  await rejected('GET * HTTP/1.1\r\nHost: t\r\n\r\n', 400, '* with GET');
  await rejected('CONNECT example.org HTTP/1.1\r\nHost: example.org\r\n\r\n', 400, 'CONNECT without port');
  await rejected('GET foo HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'relative');
  const r = await one('OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.is(r.responses[0].status, 200, 'OPTIONS * is fine');
});

B('B3 Host: missing, duplicated, invalid → 400', async () => {
  await rejected('GET /echo HTTP/1.1\r\n\r\n', 400, 'missing');
  await rejected('GET /echo HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 400, 'two identical');
  await rejected('GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'two different');
  for (const h of ['bad host', '..a', 'a:99999', '[::1', 'a@b', 'a:']) {
    await rejected(`GET /echo HTTP/1.1\r\nHost: ${h}\r\n\r\n`, 400, `Host ${JSON.stringify(h)}`);
  }
  const r = await one('GET /echo HTTP/1.0\r\n\r\n');
  assert.is(r.responses[0].status, 200, 'HTTP/1.0 may omit Host');
});

B('B4 absolute-form target wins over Host', async () => {
  const r = await one('GET http://Target.Example:8080/echo/x?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n');
  assert.is(r.responses[0].status, 200);
  const got = JSON.parse(r.responses[0].body.toString());
  assert.is(got.host, 'target.example:8080');
  assert.is(got.path, '/echo/x');
  assert.is(got.query, 'q=1');
  // HTTP/1.1 with an absolute-form target and no Host: the target names the host (lighttpd).
  const bare = await one('GET http://target.example/echo/y HTTP/1.1\r\n\r\n');
  assert.is(bare.responses[0].status, 200);
  assert.is(JSON.parse(bare.responses[0].body.toString()).host, 'target.example');
});

B('B5 whitespace between field name and colon → 400', async () => {
  await rejected('GET /echo HTTP/1.1\r\nHost : t\r\n\r\n', 400, 'space');
  await rejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-A\t: 1\r\n\r\n', 400, 'tab');
});

B('B6 obs-fold and whitespace before the first field → 400', async () => {
  await rejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\n\r\n', 400, 'obs-fold');
  await rejected('GET /echo HTTP/1.1\r\n Host: t\r\n\r\n', 400, 'leading space');
});

B('B7 bad field names → 400', async () => {
  for (const line of ['\x02: x', ':foo: x', ': empty', 'X-\xef: x', 'foo bar', 'X(A): 1']) {
    await rejected(`GET /echo HTTP/1.1\r\nHost: t\r\n${line}\r\n\r\n`, 400, JSON.stringify(line));
  }
});

B('B8 NUL, bare CR, bare LF in a value → 400', async () => {
  await rejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n', 400, 'NUL');
  await rejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n', 400, 'bare CR');
  await rejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\nb: c\r\n\r\n', 400, 'bare LF');
});

B('B9 limits: long request line → 414; long field, big head, many fields → 431 + close', async () => {
  await rejected(`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414, 'request line');
  await rejected(`GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ${'b'.repeat(9000)}\r\n\r\n`, 431, 'one field');
  const many = Array.from({ length: 300 }, (_, i) => `X-${i}: v\r\n`).join('');
  await rejected(`GET /echo HTTP/1.1\r\nHost: t\r\n${many}\r\n`, 431, 'count');
  const big = Array.from({ length: 40 }, (_, i) => `X-${i}: ${'v'.repeat(1000)}\r\n`).join('');
  await rejected(`GET /echo HTTP/1.1\r\nHost: t\r\n${big}\r\n`, 431, 'whole head');
});

B('B10 bad percent-encoding → 400; dot segments normalised for routing, raw target kept', async () => {
  for (const p of ['/echo/%', '/echo/%1', '/echo/%00', '/echo/%zz']) {
    await rejected(`GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`, 400, p);
  }
  const r = await one('GET /x/../echo/./a%62/%41 HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.is(r.responses[0].status, 200);
  const got = JSON.parse(r.responses[0].body.toString());
  assert.is(got.path, '/echo/ab/A');
  assert.is(got.target, '/x/../echo/./a%62/%41');
  const r2 = await one('GET /echo/a%3ab HTTP/1.1\r\nHost: t\r\n\r\n');
  const got2 = JSON.parse(r2.responses[0].body.toString());
  assert.is(got2.pathRaw, '/echo/a%3Ab', 'escapes normalised to upper case for matching');
  assert.is(got2.target, '/echo/a%3ab', 'the target itself is kept');
  assert.is(got2.path, '/echo/a:b');
});

B('B11 TRACE and CONNECT → 405', async () => {
  await rejected('TRACE /echo HTTP/1.1\r\nHost: t\r\n\r\n', 405, 'TRACE', false);
  await rejected('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', 405, 'CONNECT', false);
});

B('a plugin that throws gives 500 for that request, and the server keeps serving', async () => {
  const lt2 = await startLantern(`
server.modules = ( "${ECHO}" )
server.document-root = "%DIR%"
$HTTP["url"] =^ "/echo/boom" { echo.throw = "enable" }
`, { files: { 'index.html': 'hi\n' } });
  try {
    const r = await rawExchange({ port: lt2.port, send: 'GET /echo/boom HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/ok HTTP/1.1\r\nHost: t\r\n\r\n', expectResponses: 2, timeoutMs: 4000 });
    assert.equal(r.responses.map((x) => x.status), [500, 200]);
    assert.is(lt2.server.counters.pluginErrors, 1);
  } finally {
    await lt2.stop();
  }
});

B.run();

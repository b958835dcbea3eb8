// Integration tests of plugins/proxy (lighttpd 1.4 mod_proxy on proxy-core): routing by prefix/suffix, balancing, failover, proxy.header rewriting both ways, Forwarded, boot errors.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, pause, type FakeBackend, type FakeReply, type FakeRequest } from '../helpers/fake-backend.js';
import { startLantern, type LanternHandle, type LanternOptions } from '../helpers/lantern.js';
import { rawExchange, rawRequest, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir } from '../helpers/spawn-lantern.js';
import { rejects } from '../helpers/wait.js';

const P = suite('mod-proxy');

const backends: FakeBackend[] = [];
const lanterns: LanternHandle[] = [];

const ok = (name: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\n\r\n${name}`;

/** A fake backend that answers `name` as its body (or what `respond` returns). */
async function named(name: string, respond?: (req: FakeRequest) => FakeReply): Promise<FakeBackend> {
  const be = await fakeBackend({ respond: respond ?? (() => ok(name)) });
  backends.push(be);
  return be;
}

async function lantern(conf: string, opts: LanternOptions = {}): Promise<LanternHandle> {
  const lt = await startLantern(`server.modules = ( "mod_proxy" )\nserver.document-root = "%DIR%"\n${conf}`, opts);
  lanterns.push(lt);
  return lt;
}

async function get(lt: LanternHandle, target: string, headers = 'Host: www.example\r\n'): Promise<RawResponse> {
  return rawRequest(lt.port, `GET ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
}

/** The last request a fake backend received. */
const last = (be: FakeBackend) => be.connections.flatMap((c) => c.requests).at(-1)!;

const host = (be: FakeBackend) => `( "host" => "127.0.0.1", "port" => ${be.port} )`;

P.after.each(async () => {
  for (const lt of lanterns.splice(0)) await lt.stop();
  for (const be of backends.splice(0)) await be.close();
});

P('a "/" key is a URL prefix, any other key a suffix; the first matching key wins; the rest stays static', async () => {
  const app = await named('app');
  const php = await named('php');
  const lt = await lantern(`mimetype.assign = ( ".txt" => "text/plain" )
proxy.server = ( "/app/" => ( ${host(app)} ), ".php" => ( "php" => ${host(php)} ) )
`, { files: { 'static.txt': 'static' } });
  assert.is((await get(lt, '/app/x?q=1')).body.toString(), 'app');
  assert.is(last(app).target, '/app/x?q=1', 'the target goes up unchanged');
  assert.is((await get(lt, '/dir/index.php')).body.toString(), 'php');
  assert.is((await get(lt, '/app/y.php')).body.toString(), 'app', 'config order, not the longest match');
  assert.is((await get(lt, '/static.txt')).body.toString(), 'static');
  assert.is((await get(lt, '/index.php.txt')).status, 404, 'a suffix must end the path');
});

P('"" matches everything; keys inside condition blocks apply to matching requests only', async () => {
  const main = await named('main');
  const api = await named('api');
  const lt = await lantern(`proxy.server = ( "" => ( ${host(main)} ) )
$HTTP["host"] == "api.example" { proxy.server = ( "" => ( ${host(api)} ) ) }
`);
  assert.is((await get(lt, '/anything')).body.toString(), 'main');
  assert.is((await get(lt, '/anything', 'Host: api.example\r\n')).body.toString(), 'api');
});

P('proxy.balance "round-robin" alternates; a refused host is failed over; X-Forwarded-For is sent', async () => {
  const a = await named('a');
  const b = await named('b');
  const lt = await lantern(`proxy.balance = "round-robin"\nproxy.server = ( "/" => ( ${host(a)}, ${host(b)} ) )\n`);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push((await get(lt, `/r${i}`)).body.toString());
  assert.equal(seen.slice().sort(), ['a', 'a', 'b', 'b'], seen.join(''));
  assert.is.not(seen[0], seen[1]);
  assert.is(last(a).header('x-forwarded-for'), '127.0.0.1');

  const down = await fakeBackend.refusedPort();
  const c = await named('c');
  const lt2 = await lantern(`proxy.balance = "round-robin"\nproxy.server = ( "/" => ( ( "host" => "127.0.0.1", "port" => ${down} ), ${host(c)} ) )\n`);
  for (let i = 0; i < 3; i++) {
    const r = await get(lt2, `/f${i}`);
    assert.equal([r.status, r.body.toString()], [200, 'c']);
  }
});

P('round-robin ignores load; the default "fair" avoids the host that is busy', async () => {
  for (const balance of ['round-robin', 'fair']) {
    // "/slow" waits for release(): the host that takes it stays busy meanwhile.
    const slowFirst = (name: string) => (req: FakeRequest): FakeReply => (req.target === '/slow' ? [pause, ok(name)] : ok(name));
    const a = await named('a', slowFirst('a'));
    const b = await named('b', slowFirst('b'));
    const lt = await lantern(`${balance === 'fair' ? '' : `proxy.balance = "${balance}"`}\nproxy.server = ( "/" => ( ${host(a)}, ${host(b)} ) )\n`);
    const slow = rawExchange({ port: lt.port, send: 'GET /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', expectResponses: 1, timeoutMs: 5000 });
    await Promise.race([a.waitFor((x) => x.pausedReplies === 1, 3000, 'slow on a'), b.waitFor((x) => x.pausedReplies === 1, 3000, 'slow on b')]);
    const [busy, free] = a.pausedReplies === 1 ? ['a', 'b'] : ['b', 'a'];
    assert.is((await get(lt, '/2')).body.toString(), free, `${balance}: the second request goes to the other host`);
    assert.is((await get(lt, '/3')).body.toString(), balance === 'round-robin' ? busy : free, `${balance}: the third request`);
    a.release(1);
    b.release(1);
    assert.is((await slow).responses[0]?.body.toString(), busy);
  }
});

P('proxy.balance "hash": the same path always goes to the same host', async () => {
  const a = await named('a');
  const b = await named('b');
  const lt = await lantern(`proxy.balance = "hash"\nproxy.server = ( "/" => ( ${host(a)}, ${host(b)} ) )\n`);
  for (const p of ['/one', '/two', '/three']) {
    const first = (await get(lt, p)).body.toString();
    for (let i = 0; i < 3; i++) assert.is((await get(lt, `${p}?i=${i}`)).body.toString(), first, p);
  }
});

P('map-urlpath and map-host-request going up; Location, Content-Location and Set-Cookie mapped back', async () => {
  const be = await named('x', () => 'HTTP/1.1 302 Found\r\nLocation: http://backend.internal/back/login?next=/back/\r\nContent-Location: /back/x\r\n' +
    'Set-Cookie: sid=1; Path=/back/; Domain=backend.internal\r\nSet-Cookie: other=2; Path=/elsewhere\r\nContent-Length: 0\r\n\r\n');
  const lt = await lantern(`proxy.server = ( "/front/" => ( ${host(be)} ) )
proxy.header = (
  "map-urlpath" => ( "/front/" => "/back/" ),
  "map-host-request" => ( "www.example" => "backend.internal" ),
  "map-host-response" => ( "backend.internal" => "www.example" ),
)
`);
  const r = await get(lt, '/front/page?x=1', 'Host: www.example\r\nDestination: http://www.example/front/moved\r\n');
  const up = last(be);
  assert.is(up.target, '/back/page?x=1');
  assert.is(up.header('host'), 'backend.internal');
  assert.is(up.header('destination'), 'http://backend.internal/back/moved');
  assert.is(r.status, 302);
  assert.is(r.header('location'), 'http://www.example/front/login?next=/back/');
  assert.is(r.header('content-location'), '/front/x');
  assert.equal(r.headerAll('set-cookie'), ['sid=1; Path=/front/; Domain=www.example', 'other=2; Path=/elsewhere']);
});

P('"-" in map-host-response stands for the client Host; rewriting stays with requests mod_proxy forwarded', async () => {
  const be = await named('x', () => 'HTTP/1.1 301 Moved\r\nLocation: http://backend.internal/next\r\nContent-Length: 0\r\n\r\n');
  const lt = await lantern(`proxy.server = ( "/p/" => ( ${host(be)} ) )
proxy.header = ( "map-host-request" => ( "-" => "backend.internal" ), "map-host-response" => ( "-" => "-" ) )
`);
  const r = await get(lt, '/p/a', 'Host: shop.example:8080\r\n');
  assert.is(last(be).header('host'), 'backend.internal');
  assert.is(r.header('location'), 'http://shop.example:8080/next');
});

P('proxy.replace-http-host sends the host entry\'s label', async () => {
  const be = await named('x');
  const lt = await lantern(`proxy.replace-http-host = "enable"\nproxy.server = ( "/" => ( "app.internal" => ${host(be)} ) )\n`);
  await get(lt, '/');
  assert.is(last(be).header('host'), 'app.internal');
});

P('proxy.forwarded adds RFC 7239 Forwarded; force-http10 speaks HTTP/1.0 upstream', async () => {
  const be = await named('x');
  const lt = await lantern(`proxy.server = ( "/" => ( ${host(be)} ) )
proxy.forwarded = ( "for" => 1, "proto" => 1 )
$HTTP["url"] =^ "/old/" { proxy.header = ( "force-http10" => "enable" ) }
`);
  await get(lt, '/new');
  assert.match(last(be).header('forwarded') ?? '', /for=127\.0\.0\.1;proto=http/);
  assert.is(last(be).version, 'HTTP/1.1');
  await get(lt, '/old/x');
  assert.is(last(be).version, 'HTTP/1.0');
});

P('proxy.debug = 1 logs the backend chosen for each request', async () => {
  const be = await named('x');
  const dir = makeTempDir('proxy-debug');
  try {
    const lt = await lantern(`server.errorlog = "${dir}/error.log"\nproxy.debug = 1\nproxy.server = ( "/d/" => ( ${host(be)} ) )\n`);
    await get(lt, '/d/x');
    assert.match(fs.readFileSync(`${dir}/error.log`, 'utf8'), /GET \/d\/x → backend "proxy:lighttpd\.conf:5:\/d\/" \(key "\/d\/"\)/);
  } finally {
    removeDir(dir);
  }
});

P('bad values stop the start with file:line and key', async () => {
  await rejects(lantern('proxy.server = ( "/" => ( ( "host" => "127.0.0.1" ) ) )\n'), /lighttpd\.conf:3: proxy\.server: "\/" => host #1: "port" is missing for host "127\.0\.0\.1"/);
  await rejects(lantern('proxy.balance = "random"\n'), /lighttpd\.conf:3: proxy\.balance: expected one of "fair", "least-connection", "round-robin", "hash", "sticky", got "random"/);
  await rejects(lantern('proxy.header = ( "map-url" => ( "/a" => "/b" ) )\n'), /lighttpd\.conf:3: proxy\.header: unexpected key "map-url"/);
  await rejects(lantern('proxy.forwarded = ( "client" => 1 )\n'), /lighttpd\.conf:3: proxy\.forwarded: keys must be one of/);
  await rejects(lantern('$HTTP["url"] =^ "/x" {\n  proxy.server = ( ".php" => ( "a" => ( "socket" => "/s", "port" => 9 ) ) )\n}\n'), /lighttpd\.conf:4: proxy\.server: "\.php" => "a": either "host"\/"port" or "socket"/);
});

P.run();

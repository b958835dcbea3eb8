// Integration tests of plugins/status (mod_status): the status page as HTML, JSON, JSONP and ?auto text, the statistics and config pages, and proxy-core's member counters after real proxied traffic.
import { suite } from 'uvu';
import { connectionLimit } from '../../core/server.js';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, rawRequest, type RawResponse } from '../helpers/raw-client.js';

const S = suite('status');

const STATUS_CONF = `
server.modules = ( "mod_status" )
server.document-root = "%DIR%"
server.tag = "lantern <test> & co"
mimetype.assign = ( ".txt" => "text/plain" )
status.status-url = "/server-status"
status.statistics-url = "/server-statistics"
status.config-url = "/server-config"
`;

async function get(port: number, target: string, extra = ''): Promise<RawResponse> {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: status.test\r\n${extra}Connection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
}

interface StatusJson {
  RequestsTotal: number;
  Uptime: number;
  BusyServers: number;
  server: { counters: Record<string, number>; connectionsOpen: number };
  backends: Array<{ name: string; requests: number; members: Array<{ key: string; state: string; requests: number; active: number; failures: Record<string, number>; lastError: string | null }> }> | null;
  connections: Array<{ target: string }>;
}

async function statusJson(port: number): Promise<StatusJson> {
  const res = await get(port, '/server-status?json');
  assert.is(res.status, 200);
  assert.is(res.header('content-type'), 'application/json');
  return JSON.parse(res.body.toString()) as StatusJson;
}

S('without proxy-core: JSON counts what happened, backends is null', async () => {
  const lt = await startLantern(STATUS_CONF, { files: { 'a.txt': 'a' } });
  try {
    for (let i = 0; i < 3; i++) assert.is((await get(lt.port, '/a.txt')).status, 200);
    assert.is((await get(lt.port, '/missing')).status, 404);
    const j = await statusJson(lt.port);
    assert.is(j.RequestsTotal, 4, 'the four finished requests (this one is still running)');
    assert.is(j.server.counters.requests, 5);
    assert.is(j.server.counters.connections, 5);
    assert.is(j.BusyServers, 1, 'only the status request\'s connection is open');
    assert.is(j.backends, null);
    assert.equal(j.connections.map((c) => c.target), ['/server-status?json']);
    assert.match(j.Uptime.toString(), /^\d+$/);
  } finally {
    await lt.stop();
  }
});

S('HTML for a person: escaped, with the core counters; JSON by Accept; JSONP; ?auto; 405 for POST', async () => {
  const lt = await startLantern(STATUS_CONF);
  try {
    const html = await get(lt.port, "/server-status?a=1&b='x'");
    assert.is(html.status, 200);
    assert.is(html.header('content-type'), 'text/html; charset=utf-8');
    assert.is(html.header('cache-control'), 'no-store');
    const body = html.body.toString();
    assert.match(body, /<title>server status<\/title>/);
    assert.match(body, /<h1>lantern &lt;test&gt; &amp; co: server status<\/h1>/, 'server.tag escaped');
    assert.ok(body.includes('<td>/server-status?a=1&amp;b=&#39;x&#39;</td>'), 'the in-flight target escaped in the connections table');
    assert.not.ok(body.includes("b='x'"));
    assert.match(body, /<td>bad requests<\/td><td class="n">0<\/td>/);
    assert.match(body, /proxy-core is not loaded/);
    assert.match(body, /table\.sortable/, 'status.enable-sort is on by default');

    const byAccept = await get(lt.port, '/server-status', 'Accept: text/html;q=0.5, application/json\r\n');
    assert.is(byAccept.header('content-type'), 'application/json');
    assert.ok(typeof JSON.parse(byAccept.body.toString()).RequestsTotal === 'number');

    const jsonp = await get(lt.port, '/server-status?jsonp=show_it');
    assert.is(jsonp.header('content-type'), 'application/javascript; charset=utf-8');
    assert.match(jsonp.body.toString(), /^show_it\(\{[\s\S]*\}\);\n$/);
    const badJsonp = await get(lt.port, '/server-status?jsonp=alert(1)');
    assert.is(badJsonp.header('content-type'), 'application/json', 'a callback that is not a plain name is ignored');

    const auto = await get(lt.port, '/server-status?auto');
    assert.is(auto.header('content-type'), 'text/plain; charset=utf-8');
    const autoText = auto.body.toString();
    assert.match(autoText, /^Total Accesses: \d+\nTotal kBytes: \d+\nUptime: \d+\nBusyServers: 1\nIdleServers: \d+\n$/);
    // The room under server.max-connections: unset here, a third of the open-files limit.
    const limit = connectionLimit(0).maxConnections;
    assert.is(Number(/IdleServers: (\d+)/.exec(autoText)![1]), limit > 0 ? limit - 1 : 0);

    const post = await rawExchange({ port: lt.port, send: 'POST /server-status HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', expectResponses: 1 });
    assert.is(post.responses[0]?.status, 405);
    assert.is(post.responses[0]?.header('allow'), 'GET, HEAD');
  } finally {
    await lt.stop();
  }
});

S('statistics-url: sorted key: value lines of every counter', async () => {
  const lt = await startLantern(STATUS_CONF);
  try {
    await get(lt.port, '/nothing');
    const res = await get(lt.port, '/server-statistics');
    assert.is(res.status, 200);
    assert.is(res.header('content-type'), 'text/plain; charset=utf-8');
    const lines = res.body.toString().trimEnd().split('\n');
    assert.ok(lines.every((l) => /^[^:\s][^\n]*: -?\d+$/.test(l)), lines.join('|'));
    const keys = lines.map((l) => l.slice(0, l.lastIndexOf(': ')));
    assert.equal(keys, [...keys].sort(), 'sorted by key');
    assert.ok(lines.includes('core.requests: 2'));
    assert.ok(lines.includes('status.requests: 1'));
    assert.ok(lines.includes('core.bad-requests: 0'));
    assert.not.ok(lines.some((l) => l.startsWith('proxy-core.')), 'no proxy-core lines without proxy-core');
  } finally {
    await lt.stop();
  }
});

S('config-url: loaded plugins and where their options are set, escaped; also as JSON', async () => {
  const lt = await startLantern(`${STATUS_CONF}\n$HTTP["url"] =^ "/x<y>" { status.enable-sort = "disable" }\n`);
  try {
    const res = await get(lt.port, '/server-config');
    assert.is(res.status, 200);
    const body = res.body.toString();
    for (const id of ['status', 'staticfile', 'indexfile', 'dirlisting']) assert.ok(body.includes(`<h2>${id}</h2>`), id);
    assert.match(body, /<td>status\.status-url<\/td><td>string<\/td><td>&quot;&quot;<\/td><td>global \([^)]*lighttpd\.conf:6\): &quot;\/server-status&quot;<\/td>/);
    assert.ok(body.includes('$HTTP[&quot;url&quot;] =^ &quot;/x&lt;y&gt;&quot;'), 'condition text escaped');
    const json = JSON.parse((await get(lt.port, '/server-config?json')).body.toString()) as { plugins: Array<{ id: string; aliases: string[] }> };
    assert.equal(json.plugins.find((p) => p.id === 'status')?.aliases, ['mod_status']);
  } finally {
    await lt.stop();
  }
});

S('status URLs are per condition block; other paths are left alone', async () => {
  const lt = await startLantern(`server.modules = ( "mod_status" )\nserver.document-root = "%DIR%"\n$HTTP["remoteip"] == "10.0.0.0/8" { status.status-url = "/server-status" }\n`);
  try {
    assert.is((await get(lt.port, '/server-status')).status, 404, 'not enabled for 127.0.0.1');
  } finally {
    await lt.stop();
  }
});

S('with proxy-core: member requests and failures match what happened; a stopped backend shows refused and disabled', async () => {
  let be: FakeBackend | null = await fakeBackend({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });
  const member = be.address;
  let lt: LanternHandle | null = null;
  try {
    lt = await startLantern(`server.modules = ( "mod_status", "mod_proxy" )
server.document-root = "%DIR%"
status.status-url = "/server-status"
status.statistics-url = "/server-statistics"
proxy.server = ( "/app/" => ( ( "host" => "127.0.0.1", "port" => ${be.port}, "disable-time" => 60 ) ) )
`);
    const N = 5;
    for (let i = 0; i < N; i++) {
      const r = await get(lt.port, `/app/${i}`);
      assert.is(r.status, 200);
      assert.is(r.body.toString(), 'ok');
    }
    let j = await statusJson(lt.port);
    assert.ok(j.backends, 'proxy-core is loaded');
    assert.is(j.backends!.length, 1);
    const b = j.backends![0];
    assert.is(b.name, 'proxy:lighttpd.conf:5:/app/');
    assert.is(b.requests, N);
    assert.equal(b.members.map((m) => [m.key, m.state, m.requests, m.active, m.failures.refused]), [[member, 'up', N, 0, 0]]);

    await be.close();
    be = null;
    const failed = await get(lt.port, '/app/down');
    assert.is(failed.status, 503, 'a refused backend answers 503, as in lighttpd');
    j = await statusJson(lt.port);
    const m = j.backends![0].members[0];
    assert.is(m.failures.refused, 1, 'one refused connect counted');
    assert.is(m.state, 'disabled');
    assert.ok(m.lastError, 'last error shown');

    const html = (await get(lt.port, '/server-status')).body.toString();
    assert.ok(html.includes('<h3>backend <code>proxy:lighttpd.conf:5:/app/</code></h3>'));
    assert.match(html, new RegExp(`<td>${member.replace(/\./g, '\\.')}</td><td class="disabled">disabled until `));
    const stats = (await get(lt.port, '/server-statistics')).body.toString();
    assert.ok(stats.includes(`proxy-core.backend.proxy:lighttpd.conf:5:/app/.${member}.failures.refused: 1\n`), stats);
    assert.ok(stats.includes(`proxy-core.backend.proxy:lighttpd.conf:5:/app/.${member}.state: 1\n`));
  } finally {
    await lt?.stop();
    await be?.close();
  }
});

S.run();

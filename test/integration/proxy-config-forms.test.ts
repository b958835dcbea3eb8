// The "all three forms on the same engine": lighttpd 1.5 proxy-core.* keys, lighttpd 1.4
// proxy.server, and the native format (YAML and JSON) all reach the same backend through
// proxy-core, with its counters showing the request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { rawExchange } from '../helpers/raw-client.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import type { ProxyCoreApi } from '../../plugins/proxy-core/api.js';

const F = suite('proxy config forms');
let be: FakeBackend;

F.before(async () => {
  be = await fakeBackend({ respond: (req) => `HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}` });
});
F.after(async () => { await be?.close(); });

async function check(lt: LanternHandle, what: string) {
  try {
    const before = be.requestCount;
    const r = await rawExchange({ port: lt.port, send: 'GET /app/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n', expectResponses: 1, timeoutMs: 5000 });
    assert.is(r.responses[0]?.status, 200, `${what}: status`);
    assert.is(r.responses[0].body.toString(), '/app/x?y=1', `${what}: target forwarded`);
    assert.is(be.requestCount, before + 1, `${what}: the backend got it`);
    const snap = lt.server.host.api<ProxyCoreApi>('proxy-core')!.snapshot();
    assert.is(snap.backends.reduce((n, b) => n + b.requests, 0), 1, `${what}: counted by proxy-core`);
  } finally { await lt.stop(); }
}

F('lighttpd 1.5: proxy-core.* in a condition block', async () => {
  await check(await startLantern(`
server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "mod_balancer_rr" )
server.document-root = "%DIR%"
$HTTP["url"] =^ "/app/" {
  proxy-core.backends = ( "${be.address}" )
  proxy-core.protocol = "http"
  proxy-core.balancer = "round-robin"
}
`), '1.5 keys');
});

F('lighttpd 1.4: proxy.server', async () => {
  const [host, port] = be.address.split(':');
  await check(await startLantern(`
server.modules = ( "mod_proxy" )
server.document-root = "%DIR%"
proxy.balance = "round-robin"
proxy.server = ( "/app/" => ( ( "host" => "${host}", "port" => ${port} ) ) )
`), '1.4 proxy.server');
});

F('native YAML', async () => {
  await check(await startLantern(`
server:
  modules: [mod_proxy_core, mod_proxy_backend_http, mod_balancer_rr]
  document-root: "%DIR%"
'$HTTP["url"] =^ "/app/"':
  proxy-core.backends: ["${be.address}"]
  proxy-core.protocol: http
  proxy-core.balancer: round-robin
`, { syntax: 'native' }), 'native YAML');
});

F('native JSON', async () => {
  await check(await startLantern(JSON.stringify({
    'server.modules': ['mod_proxy_core', 'mod_proxy_backend_http', 'mod_balancer_rr'],
    'server.document-root': '%DIR%',
    'proxy-core.backends': [be.address],
    'proxy-core.balancer': 'round-robin',
  }), { syntax: 'native' }), 'native JSON');
});

F.run();

// Integration tests of plugins/demo-app: two examples/demo-app processes started with lantern, answering through lantern round robin, restarted when they die, gone when it stops.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, rawRequest } from '../helpers/raw-client.js';
import { freePort } from '../helpers/ports.js';
import { makeTempDir, removeDir } from '../helpers/spawn-lantern.js';
import { alive, rejects, waitFor } from '../helpers/wait.js';

const D = suite('demo-app');

interface DemoApi { pids(): Array<number | undefined>; ports: number[] }

async function getJson(port: number, target: string): Promise<{ status: number; json: { pid: number; hits: number } | null }> {
  const res = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: demo.test\r\nConnection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
  return { status: res.status, json: res.status === 200 ? JSON.parse(res.body.toString()) : null };
}

function demoApi(lt: LanternHandle): DemoApi {
  const api = lt.server.host.api<DemoApi>('demo-app');
  assert.ok(api, 'demo-app exposes its api');
  return api!;
}

D('both processes listen when lantern has started; one dies and is restarted; stopping kills both', async () => {
  const ports = [await freePort(), await freePort()];
  const logDir = makeTempDir('demo-log');
  const lt = await startLantern(`server.modules = ( "demo-app" )\nserver.errorlog = "${logDir}/error.log"\ndemo-app.ports = ( ${ports.join(', ')} )\n`);
  let pids: number[] = [];
  try {
    const api = demoApi(lt);
    pids = api.pids() as number[];
    assert.is(pids.length, 2);
    const a = await getJson(ports[0], '/demo/api');
    const b = await getJson(ports[1], '/demo/api');
    assert.equal([a.json?.pid, b.json?.pid], pids, 'each port is served by its own process');
    assert.is.not(pids[0], pids[1]);
    const page = await rawExchange({ port: ports[0], send: 'GET /demo/ HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n', expectResponses: 1 });
    assert.match(page.responses[0]!.body.toString(), new RegExp(`<span class="big" id="pid">${pids[0]}</span>`));
    assert.match(page.responses[0]!.body.toString(), /id="hits">2</, 'the hit counter counts the page too');

    process.kill(pids[0], 'SIGKILL');
    await waitFor(() => { const p = api.pids()[0]; return p !== undefined && p !== pids[0]; }, 5000, 10, 'a new process on the first port');
    // Probed with a path that does not count as a hit (404).
    await waitFor(async () => (await getJson(ports[0], '/probe').catch(() => ({ status: 0 }))).status === 404, 5000, 20, 'the restarted process to answer');
    const again = await getJson(ports[0], '/demo/api');
    assert.is(again.json?.pid, api.pids()[0]);
    assert.is(again.json?.hits, 1, 'a fresh process');
    pids = api.pids() as number[];
    assert.match(fs.readFileSync(`${logDir}/error.log`, 'utf8'), new RegExp(`server\\.mjs ${ports[0]} \\(pid \\d+\\) exited with signal SIGKILL; restarting in 100 ms`));
  } finally {
    await lt.stop();
    removeDir(logDir);
  }
  for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} is gone after stop`);
});

D('a process that ignores SIGTERM is killed with SIGKILL 2 s later', async () => {
  const dir = makeTempDir('demo-stubborn', {
    'stubborn.mjs': `import http from 'node:http';
process.on('SIGTERM', () => {});
http.createServer((q, s) => s.end('x')).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening on ' + process.argv[2]));
`,
  });
  const port = await freePort();
  const lt = await startLantern(`server.modules = ( "demo-app" )\nserver.errorlog = "${dir}/error.log"\ndemo-app.ports = ( ${port} )\ndemo-app.script = "${dir}/stubborn.mjs"\n`);
  const pid = demoApi(lt).pids()[0]!;
  assert.ok(alive(pid));
  const started = Date.now();
  let log = '';
  try {
    await lt.stop();
    log = fs.readFileSync(`${dir}/error.log`, 'utf8');
  } finally {
    removeDir(dir);
  }
  const tookMs = Date.now() - started;
  assert.not.ok(alive(pid), 'killed');
  assert.ok(tookMs >= 1900 && tookMs < 6000, `SIGKILL after the 2 s grace (took ${tookMs} ms)`);
  assert.match(log, /stubborn\.mjs \d+ \(pid \d+\) ignored SIGTERM for 2000 ms: SIGKILL/);
});

D('bad demo-app.ports stop the start with file:line and key', async () => {
  await rejects(startLantern('server.modules = ( "demo-app" )\ndemo-app.ports = ( 8081, "http" )\n'), /lighttpd\.conf:2: demo-app\.ports: expected a list of TCP ports/);
  await rejects(startLantern('server.modules = ( "demo-app" )\ndemo-app.ports = ( 8081, 8081 )\n'), /demo-app\.ports: port 8081 is listed twice/);
});

D('through lantern: /demo/ is balanced round robin over both processes', async () => {
  const ports = [await freePort(), await freePort()];
  const lt = await startLantern(`server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "mod_balancer_rr", "demo-app" )
demo-app.ports = ( ${ports.join(', ')} )
$HTTP["url"] =^ "/demo/" {
  proxy-core.backends = ( "127.0.0.1:${ports[0]}", "127.0.0.1:${ports[1]}" )
  proxy-core.protocol = "http"
  proxy-core.balancer = "round-robin"
}
`);
  let pids: number[] = [];
  try {
    pids = demoApi(lt).pids() as number[];
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await getJson(lt.port, '/demo/api');
      assert.is(r.status, 200);
      seen.push(r.json!.pid);
    }
    assert.equal(new Set(seen), new Set(pids), `both processes answered: ${seen.join(', ')}`);
    assert.is.not(seen[0], seen[1], 'round robin alternates');
  } finally {
    await lt.stop();
  }
  for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} is gone after stop`);
});

D.run();

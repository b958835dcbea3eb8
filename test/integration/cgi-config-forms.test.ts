// Every config form reaches the same CGI-family engine: lighttpd 1.4's fastcgi.server and
// scgi.server, lighttpd 1.5's proxy-core.protocol = "fastcgi" | "scgi" | "uwsgi", and the native
// format (YAML and JSON), each against a fake backend that records what it received; and bad
// gateway configs stop the start with file:line and no stack trace (the smallest configs a
// lighttpd user writes, with no module loaded "just for the test").
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startFakeFastcgi, fcgiResponse, type FakeFastcgi } from '../helpers/fake-fastcgi.js';
import { startFakeScgi, type FakeScgi } from '../helpers/fake-scgi.js';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE } from '../helpers/spawn-lantern.js';
import type { ProxyCoreApi } from '../../plugins/proxy-core/api.js';

const F = suite('CGI-family config forms');
let fcgi: FakeFastcgi;
let scgi: FakeScgi;
let uwsgi: FakeScgi;
let dir = '';

F.before(async () => {
  fcgi = await startFakeFastcgi({
    respond: (req) => fcgiResponse(`Content-Type: text/plain\r\n\r\nfcgi ${req.env.get('SCRIPT_NAME')} ${req.env.get('QUERY_STRING')}`),
  });
  scgi = await startFakeScgi({ respond: (req) => `Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nscgi ${req.envMap.get('SCRIPT_NAME')}` });
  uwsgi = await startFakeScgi({ protocol: 'uwsgi', respond: (req) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuwsgi ${req.envMap.get('SCRIPT_NAME')}` });
  dir = makeTempDir('lantern-cgi-forms-');
});
F.after(async () => {
  await fcgi?.close();
  await scgi?.close();
  await uwsgi?.close();
  removeDir(dir);
});

/** One GET through lantern; the body says which fake answered; proxy-core counted it on one backend of `protocol`. */
async function check(lt: LanternHandle, target: string, body: string, protocol: string, what: string): Promise<void> {
  try {
    const r = await rawExchange({ port: lt.port, send: `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, expectResponses: 1, timeoutMs: 5000 });
    assert.is(r.responses[0]?.status, 200, `${what}: status`);
    assert.is(r.responses[0]!.body.toString(), body, `${what}: body`);
    const snap = lt.server.host.api<ProxyCoreApi>('proxy-core')!.snapshot();
    const used = snap.backends.filter((b) => b.requests > 0);
    assert.equal(used.map((b) => [b.protocol, b.requests]), [[protocol, 1]], `${what}: one ${protocol} backend took it`);
  } finally {
    await lt.stop();
  }
}


F('FastCGI, lighttpd 1.4: fastcgi.server with only mod_fastcgi loaded', async () => {
  const [host, port] = fcgi.address.split(':');
  await check(await startLantern(`
server.modules = ( "mod_fastcgi" )
server.document-root = "%DIR%"
fastcgi.server = ( ".php" => ( ( "host" => "${host}", "port" => ${port} ) ) )
`, { files: { 'app/index.php': '<?php' } }), '/app/index.php?a=1', 'fcgi /app/index.php a=1', 'fastcgi', '1.4 fastcgi.server');
});

F('FastCGI, lighttpd 1.5: proxy-core.protocol = "fastcgi" with mod_proxy_core + mod_proxy_backend_fastcgi', async () => {
  await check(await startLantern(`
server.modules = ( "mod_proxy_core", "mod_proxy_backend_fastcgi" )
server.document-root = "%DIR%"
$HTTP["url"] =~ "\\.php$" {
  proxy-core.backends = ( "${fcgi.address}" )
  proxy-core.protocol = "fastcgi"
}
`), '/app/index.php?a=1', 'fcgi /app/index.php a=1', 'fastcgi', '1.5 proxy-core keys');
});

F('FastCGI, native YAML and JSON: the same fastcgi.server', async () => {
  const [host, port] = fcgi.address.split(':');
  await check(await startLantern(`
server:
  modules: [mod_fastcgi]
  document-root: "%DIR%"
fastcgi.server:
  ".php":
    - host: "${host}"
      port: ${port}
      check-local: disable
`, { syntax: 'native' }), '/x.php?b=2', 'fcgi /x.php b=2', 'fastcgi', 'native YAML');
  await check(await startLantern(JSON.stringify({
    'server.modules': ['mod_proxy_core', 'mod_proxy_backend_fastcgi'],
    'server.document-root': '%DIR%',
    'proxy-core.backends': [fcgi.address],
    'proxy-core.protocol': 'fastcgi',
  }), { syntax: 'native' }), '/y.php?c=3', 'fcgi /y.php c=3', 'fastcgi', 'native JSON');
});

F('SCGI and uwsgi, lighttpd 1.4: scgi.server with "proto"; 1.5: proxy-core.protocol', async () => {
  const [sHost, sPort] = scgi.address.split(':');
  const [uHost, uPort] = uwsgi.address.split(':');
  await check(await startLantern(`
server.modules = ( "mod_scgi" )
server.document-root = "%DIR%"
scgi.server = ( "/app" => ( ( "host" => "${sHost}", "port" => ${sPort}, "check-local" => "disable" ) ) )
`), '/app/run', 'scgi /app', 'scgi', '1.4 scgi.server');
  await check(await startLantern(`
server.modules = ( "mod_scgi" )
server.document-root = "%DIR%"
scgi.server = ( "/app" => ( ( "host" => "${uHost}", "port" => ${uPort}, "check-local" => "disable", "proto" => "uwsgi" ) ) )
`), '/app/run', 'uwsgi /app', 'uwsgi', '1.4 scgi.server "proto" => "uwsgi"');
  await check(await startLantern(`
server.modules = ( "mod_proxy_core", "mod_proxy_backend_scgi" )
server.document-root = "%DIR%"
$HTTP["url"] =^ "/app" { proxy-core.backends = ( "${uwsgi.address}" ) proxy-core.protocol = "uwsgi" }
`), '/app/run', 'uwsgi /app/run', 'uwsgi', '1.5 proxy-core.protocol = "uwsgi"');
});

F('lighttpd 1.5: a config with only mod_proxy_core + mod_proxy_backend_http starts, and "carp" needs no extra module', async () => {
  for (const balancer of ['', 'proxy-core.balancer = "carp"']) {
    const lt = await startLantern(`
server.modules = ( "mod_proxy_core", "mod_proxy_backend_fastcgi" )
server.document-root = "%DIR%"
${balancer}
$HTTP["url"] =~ "\\.php$" { proxy-core.backends = ( "${fcgi.address}" ) proxy-core.protocol = "fastcgi" }
`);
    await check(lt, '/z.php', 'fcgi /z.php ', 'fastcgi', balancer || 'default balancer');
  }
  const http = await startLantern(`
server.modules = ( "mod_proxy_core", "mod_proxy_backend_http" )
server.document-root = "%DIR%"
$HTTP["url"] =^ "/app/" { proxy-core.backends = ( "127.0.0.1:9" ) }
`);
  try {
    const r = await rawExchange({ port: http.port, send: 'GET /app/ HTTP/1.1\r\nHost: a\r\n\r\n', expectResponses: 1, timeoutMs: 5000 });
    assert.is(r.responses[0]!.status, 503, 'started and routed (nothing listens on :9: refused, 503)');
  } finally {
    await http.stop();
  }
});

/** Bad gateway configs: -t and a real start stop with `file:line: message`, never a stack trace. */
const BROKEN: Array<{ name: string; text: string; line: number; says: RegExp }> = [
  {
    name: 'an unknown per-host option',
    text: 'server.modules = ( "mod_fastcgi" )\nserver.document-root = "/tmp"\nfastcgi.server = ( ".php" => ( ( "host" => "127.0.0.1", "port" => 9000, "colour" => "blue" ) ) )\n',
    line: 3, says: /fastcgi\.server: .*"colour": unknown per-host option of mod_fastcgi/,
  },
  {
    name: 'a bin-path that does not exist',
    text: 'server.modules = ( "mod_fastcgi" )\nserver.document-root = "/tmp"\n\nfastcgi.server = ( ".php" => ( ( "socket" => "/tmp/x.sock", "bin-path" => "/nonexistent/php-cgi" ) ) )\n',
    line: 4, says: /"bin-path": "\/nonexistent\/php-cgi" does not exist/,
  },
  {
    name: 'a spawned backend\'s socket in a directory that does not exist',
    text: 'server.modules = ( "mod_fastcgi" )\nserver.document-root = "/tmp"\nfastcgi.server = ( ".php" => ( ( "socket" => "/nonexistent-dir/php.sock", "bin-path" => "/bin/sh" ) ) )\n',
    line: 3, says: /"socket": the directory \/nonexistent-dir does not exist/,
  },
  {
    name: 'both socket and host',
    text: 'server.modules = ( "mod_scgi" )\nserver.document-root = "/tmp"\nscgi.server = ( "/app" => ( ( "host" => "127.0.0.1", "port" => 9000, "socket" => "/tmp/a.sock" ) ) )\n',
    line: 3, says: /either "host"\/"port" or "socket" has to be set, not both/,
  },
  {
    name: 'an option the protocol does not have',
    text: 'server.modules = ( "mod_proxy_core", "mod_proxy_backend_fastcgi" )\nserver.document-root = "/tmp"\nproxy-core.protocol = "fastcgi"\nproxy-core.protocol-options = ( "keep-alive-please" => 1 )\nproxy-core.backends = ( "127.0.0.1:9000" )\n',
    line: 3, says: /protocol "fastcgi" has no option "keepAlivePlease" \(its options: role, keepConn\)/,
  },
  {
    name: 'a balancer nobody registers',
    text: 'server.modules = ( "mod_proxy_core", "mod_proxy_backend_http" )\nserver.document-root = "/tmp"\nproxy-core.balancer = "weighted-magic"\n$HTTP["url"] =^ "/app/" {\n  proxy-core.backends = ( "127.0.0.1:9000" )\n}\n',
    line: 3, says: /proxy-core\.balancer: no balancer "weighted-magic" is registered/,
  },
];

for (const b of BROKEN) {
  F(`${b.name}: -t and -D stop with file:line, no stack trace`, async () => {
    const file = path.join(dir, `${b.name.replace(/\W+/g, '-')}.conf`);
    fs.writeFileSync(file, b.text);
    for (const flag of ['-tt', '-D']) {
      const r = await runLantern([flag, '-f', file], { cwd: dir, timeoutMs: 20_000 });
      assert.ok(r.code !== 0 && r.code !== null, `${flag}: exit code ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${b.line}: `, 'm'), `${flag}: ${r.stderr}`);
      assert.match(r.stderr, b.says, `${flag}: ${r.stderr}`);
      assert.not.match(r.stderr, STACK_LINE, r.stderr);
    }
  });
}

F.run();

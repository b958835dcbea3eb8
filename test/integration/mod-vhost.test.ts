// mod_simple_vhost and mod_evhost from the smallest lighttpd configs that name them, run as a
// harness runs lighttpd (`lantern -D -f lighttpd.conf`, the listening socket inherited as fd 3):
// the document root from the Host field (port stripped, lowercased), the default host when the
// host's folder is missing, a Host that would climb out refused by the core, evhost's %0..%9,
// %_ and %{n.m}, server.document-root kept (and the path logged) when evhost's folder is missing,
// static files and the CGI environment (DOCUMENT_ROOT, SCRIPT_FILENAME) under the chosen root.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, startLanternProcess, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';

const CGI_SCRIPT = [
  "printf 'Content-Type: text/plain\\r\\n\\r\\n'",
  'printf "DOCUMENT_ROOT=%s\\nSCRIPT_FILENAME=%s\\n" "$DOCUMENT_ROOT" "$SCRIPT_FILENAME"',
  '',
].join('\n');

/** One lantern from `config` (%DIR% = its folder) with `files`; stopped with SIGTERM in `after`. */
class Server {
  dir = '';
  port = 0;
  proc: LanternProcess | undefined;

  async start(prefix: string, files: Record<string, string>, config: string): Promise<void> {
    this.dir = makeTempDir(prefix, files);
    const conf = path.join(this.dir, 'lighttpd.conf');
    fs.writeFileSync(conf, config.replaceAll('%DIR%', this.dir));
    const socket = await ListeningSocket.open();
    this.port = socket.port;
    this.proc = await startLanternProcess(['-D', '-f', conf], socket, { cwd: this.dir });
  }

  async stop(): Promise<void> {
    try {
      if (this.proc && this.proc.status === null) assert.is(await this.proc.stop('SIGTERM'), 0, this.proc.stderr);
    } finally {
      this.proc?.kill();
      removeDir(this.dir);
    }
  }

  /** One request, the client half-closing after it; `host: null` sends no Host field. */
  async get(target: string, host: string | null, version: '1.0' | '1.1' = '1.1'): Promise<RawResponse> {
    const hostLine = host === null ? '' : `Host: ${host}\r\n`;
    const r = await rawExchange({ port: this.port, send: `GET ${target} HTTP/${version}\r\n${hostLine}\r\n`, halfClose: true, expectResponses: 1, timeoutMs: 10_000 });
    const res = r.responses[0];
    assert.ok(res, `a response to ${host}${target}: ${JSON.stringify(r.raw.toString('latin1').slice(0, 200))}`);
    assert.is(res!.version, `HTTP/${version}`);
    return res!;
  }
}

// ---------------------------------------------------------------------------------------------
const S = suite('mod_simple_vhost');
const sv = new Server();

S.before(async () => {
  await sv.start('simple-vhost', {
    'default/hello.txt': 'server.document-root',
    'vhosts/www.example.org/htdocs/hello.txt': 'www.example.org',
    'vhosts/www.example.org/htdocs/env.sh': CGI_SCRIPT,
    'vhosts/fallback.test/htdocs/hello.txt': 'the default host',
    'vhosts/nodocroot.test/hello.txt': 'no htdocs inside',
    'vhosts/file.test': 'a file, not a folder',
    'outside.txt': 'outside every root',
  }, `
server.document-root = "%DIR%/default"
server.modules = ( "mod_simple_vhost", "mod_cgi" )
simple-vhost.server-root = "%DIR%/vhosts"
simple-vhost.default-host = "fallback.test"
simple-vhost.document-root = "htdocs"
cgi.assign = ( ".sh" => "/bin/sh" )
$HTTP["host"] == "debug.test" { simple-vhost.debug = 1 }
$HTTP["host"] == "off.test" { simple-vhost.server-root = "" }
`);
});
S.after(() => sv.stop());

S('the document root is server-root + host + document-root, for HTTP/1.1 and HTTP/1.0', async () => {
  for (const version of ['1.1', '1.0'] as const) {
    const res = await sv.get('/hello.txt', 'www.example.org', version);
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'www.example.org');
  }
});

S('the port is stripped and the host lowercased (and a trailing dot dropped)', async () => {
  for (const host of [`www.example.org:${sv.port}`, 'WWW.Example.ORG', 'www.example.org.:80']) {
    const res = await sv.get('/hello.txt', host);
    assert.is(res.status, 200, host);
    assert.is(res.body.toString(), 'www.example.org', host);
  }
});

S('a host without a folder, or whose folder lacks document-root, gets the default host', async () => {
  for (const host of ['unknown.test', 'nodocroot.test', 'file.test', '127.0.0.1', '[::1]:8080']) {
    const res = await sv.get('/hello.txt', host);
    assert.is(res.status, 200, host);
    assert.is(res.body.toString(), 'the default host', host);
  }
});

S('each request on a keep-alive connection gets the root of its own Host', async () => {
  const send = ['www.example.org', 'unknown.test', 'WWW.example.org'].map((h) => `GET /hello.txt HTTP/1.1\r\nHost: ${h}\r\n\r\n`).join('');
  const r = await rawExchange({ port: sv.port, send, halfClose: true, expectResponses: 3, timeoutMs: 10_000 });
  assert.equal(r.responses.map((res) => res.body.toString()), ['www.example.org', 'the default host', 'www.example.org']);
});

S('an HTTP/1.0 request without Host gets the default host', async () => {
  const res = await sv.get('/hello.txt', null, '1.0');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'the default host');
});

S('a Host that would climb out of server-root is refused before any file is looked at', async () => {
  for (const host of ['../../', '..', '../outside.txt', 'a/../..', '.hidden', 'x%2f..']) {
    const res = await sv.get('/outside.txt', host);
    assert.is(res.status, 400, host);
    assert.not.match(res.body.toString(), /outside every root/, host);
  }
});

S('simple-vhost.server-root = "" in a condition turns the module off there', async () => {
  const res = await sv.get('/hello.txt', 'off.test');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'server.document-root');
});

S('a CGI script sees the host\'s document root', async () => {
  const res = await sv.get('/env.sh', 'www.example.org');
  assert.is(res.status, 200);
  const root = `${sv.dir}/vhosts/www.example.org/htdocs/`;
  assert.match(res.body.toString(), `DOCUMENT_ROOT=${root}\n`);
  assert.match(res.body.toString(), `SCRIPT_FILENAME=${root}env.sh\n`);
});

S('nothing is logged without simple-vhost.debug; with it each missing folder is', async () => {
  assert.not.match(sv.proc!.stderr, /simple-vhost/);
  const res = await sv.get('/hello.txt', 'debug.test');
  assert.is(res.body.toString(), 'the default host');
  const line = await sv.proc!.waitOutput('stderr', /simple-vhost.*debug\.test.*/, 5000);
  assert.match(line[0], `${sv.dir}/vhosts/debug.test/htdocs/: No such file or directory`);
  assert.not.match(sv.proc!.stderr, STACK_LINE);
});

// ---------------------------------------------------------------------------------------------
const E = suite('mod_evhost');
const ev = new Server();

E.before(async () => {
  await ev.start('evhost', {
    'default/hello.txt': 'server.document-root',
    'sites/example.org/www/hello.txt': 'www of example.org',
    'sites/example.org/w/www/hello.txt': 'www, by first letter',
    'sites/example.org/blog/hello.txt': 'blog of example.org',
    'full/shop.example.net/hello.txt': 'the whole host',
    'users/j/johndoe/hello.txt': 'johndoe by first letter',
    'users/j/johndoe/env.sh': CGI_SCRIPT,
  }, `
server.document-root = "%DIR%/default"
server.modules = ( "mod_evhost", "mod_cgi" )
evhost.path-pattern = "%DIR%/sites/%0/%3/"
cgi.assign = ( ".sh" => "/bin/sh" )
$HTTP["host"] =~ "\\.example\\.net(:[0-9]+)?$" { evhost.path-pattern = "%DIR%/full/%_" }
$HTTP["host"] =~ "\\.users\\.example\\.com$" { evhost.path-pattern = "%DIR%/users/%{4.1}/%4/" }
`);
});
E.after(() => ev.stop());

E('%0 is the domain with its TLD and %3 the label before it, for HTTP/1.1 and HTTP/1.0', async () => {
  for (const version of ['1.1', '1.0'] as const) {
    assert.is((await ev.get('/hello.txt', 'www.example.org', version)).body.toString(), 'www of example.org');
    assert.is((await ev.get('/hello.txt', `BLOG.example.org:${ev.port}`, version)).body.toString(), 'blog of example.org');
  }
});

E('%_ is the whole host without its port', async () => {
  const res = await ev.get('/hello.txt', 'shop.example.net:8080');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'the whole host');
});

E('%{4.1} is the first character of %4 (lighttpd\'s user-folder example)', async () => {
  const res = await ev.get('/hello.txt', 'johndoe.users.example.com');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'johndoe by first letter');
});

E('a missing folder keeps server.document-root and writes the path to the error log', async () => {
  const res = await ev.get('/hello.txt', 'nobody.example.org');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'server.document-root');
  const line = await ev.proc!.waitOutput('stderr', /evhost.*nobody.*/, 5000);
  assert.match(line[0], `${ev.dir}/sites/example.org/nobody/: No such file or directory`);
  assert.not.match(ev.proc!.stderr, STACK_LINE);
});

E('no Host (HTTP/1.0) leaves server.document-root', async () => {
  const res = await ev.get('/hello.txt', null, '1.0');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'server.document-root');
});

E('a Host that would climb out is refused by the core (400)', async () => {
  for (const host of ['..', '../../etc', 'www..example.org']) assert.is((await ev.get('/hello.txt', host)).status, 400, host);
});

E('a CGI script sees the pattern\'s document root', async () => {
  const res = await ev.get('/env.sh', 'johndoe.users.example.com');
  assert.is(res.status, 200);
  const root = `${ev.dir}/users/j/johndoe/`;
  assert.match(res.body.toString(), `DOCUMENT_ROOT=${root}\n`);
  assert.match(res.body.toString(), `SCRIPT_FILENAME=${root}env.sh\n`);
});

E('a bad pattern stops the start with file:line and the key', async () => {
  const conf = path.join(ev.dir, 'bad.conf');
  fs.writeFileSync(conf, `server.document-root = "${ev.dir}/default"\nserver.modules = ( "mod_evhost" )\nevhost.path-pattern = "/srv/%x/"\n`);
  const r = await runLantern(['-t', '-f', conf], { cwd: ev.dir });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /bad\.conf:3: evhost\.path-pattern: invalid evhost\.path-pattern/);
  assert.not.match(r.stderr, STACK_LINE);
});

S.run();
E.run();

// Integration tests of mod_cgi on proxy-core (the exec: transport and the cgi protocol) with real
// perl and python scripts, started from the smallest lighttpd config a user writes
// (server.modules = ( "mod_cgi" ) and cgi.assign): the RFC 3875 environment, request bodies
// (200 KB, chunked de-chunked), NPH, broken header blocks, local redirects, X-Sendfile, stderr to
// the error log, a hung script killed at its timeout, the spawn failures, 100 concurrent
// requests, and no process left after SIGTERM (checklist G10).
// Every test reports itself skipped when perl (or python3, for its own tests) is not installed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { connectRaw, rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { childPids, makeTempDir, removeDir, startLanternProcess, type LanternProcess } from '../helpers/spawn-lantern.js';
import { alive, skipUnless, waitFor, which, withTimeout } from '../helpers/wait.js';

const C = suite('cgi');
const PERL = which('perl');
const PYTHON = which('python3');
const perl = skipUnless(C, PERL !== null, 'perl not installed');
const python = skipUnless(C, PERL !== null && PYTHON !== null, 'perl or python3 not installed');

const PL = (body: string) => `#!${PERL ?? '/usr/bin/perl'}\nuse strict; use warnings; $| = 1;\n${body}\n`;

const SCRIPTS: Record<string, string> = {
  // Every variable, one `NAME=value` line each, sorted; then the working directory.
  'www/env.pl': PL(`print "Content-Type: text/plain\\r\\n\\r\\n";
print "$_=$ENV{$_}\\n" for sort keys %ENV;
use Cwd; print "CWD=", getcwd(), "\\n";`),
  'www/sub/env.py': `import os, sys
sys.stdout.write("Content-Type: text/plain\\r\\n\\r\\n")
for k in sorted(os.environ): sys.stdout.write(k + "=" + os.environ[k] + "\\n")
sys.stdout.write("CWD=" + os.getcwd() + "\\n")
`,
  // sha256 and length of the body the script read, and the CONTENT_LENGTH it was given.
  'www/post.py': `import hashlib, os, sys
n = int(os.environ.get("CONTENT_LENGTH", "0") or "0")
data = b""
while len(data) < n:
    chunk = sys.stdin.buffer.read(n - len(data))
    if not chunk: break
    data += chunk
sys.stdout.write("Status: 201 Created\\r\\nContent-Type: text/plain\\r\\n\\r\\n")
sys.stdout.write(hashlib.sha256(data).hexdigest() + " " + str(len(data)) + " " + os.environ.get("CONTENT_LENGTH", "<unset>"))
`,
  'www/nph-status.pl': PL('print "HTTP/1.1 202 Accepted\\r\\nX-Nph: yes\\r\\nContent-Type: text/plain\\r\\n\\r\\nnph body";'),
  'www/bytes.pl': PL('print "Content-Type: text/plain\\r\\n\\r\\n", unpack("H*", $ENV{HTTP_X_BYTES} // "");'),
  'www/status.pl': PL('print "Status: 404 Not Here\\r\\nContent-Type: text/plain\\r\\n\\r\\nnot here";'),
  'www/no-head.pl': PL('print "this is not a header block at all\\n";'),
  'www/bad-field.pl': PL('print "Content-Type text/plain\\r\\n\\r\\nbody";'),
  'www/silent.pl': PL(''),
  'www/redir.pl': PL('print "Location: /target.txt\\r\\n\\r\\n";'),
  'www/noredir/redir.pl': PL('print "Location: /target.txt\\r\\n\\r\\n";'),
  'www/sendfile.pl': PL('print "X-Sendfile: $ENV{DOCUMENT_ROOT}/target.txt\\r\\nContent-Type: text/plain\\r\\n\\r\\nnot this";'),
  'www/target.txt': 'the target file\n',
  'www/stderr.pl': PL('print STDERR "secret-stderr-line\\n"; print "Content-Type: text/plain\\r\\n\\r\\nok";'),
  // Leaves its pid in ../pids/<name>, then hangs; hang-deaf.pl ignores SIGTERM.
  'www/hang.pl': PL('open(my $f, ">", "../pids/hang") or die; print $f $$; close $f; sleep 60;'),
  'www/hang-deaf.pl': PL('$SIG{TERM} = "IGNORE"; open(my $f, ">", "../pids/deaf") or die; print $f $$; close $f; sleep 60;'),
  'www/abandoned.pl': PL('open(my $f, ">", "../pids/abandoned") or die; print $f $$; close $f; print "Content-Type: text/plain\\r\\n\\r\\nstarted\\n"; sleep 30;'),
  'www/abandoned2.pl': PL('open(my $f, ">", "../pids/abandoned2") or die; print $f $$; close $f; print "Content-Type: text/plain\\r\\n\\r\\nstarted\\n"; sleep 30;'),
  'www/fin/abandoned.pl': PL('open(my $f, ">", "../../pids/abandoned3") or die; print $f $$; close $f; print "Content-Type: text/plain\\r\\n\\r\\nstarted\\n"; sleep 30;'),
  'www/long.pl': PL('open(my $f, ">", "../pids/long") or die; print $f $$; close $f; sleep 30; print "Content-Type: text/plain\\r\\n\\r\\nlate";'),
  'www/slow.pl': PL('select(undef, undef, undef, 0.2); print "Content-Type: text/plain\\r\\n\\r\\n$ENV{QUERY_STRING}";'),
  'www/direct.cgi': '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\ndirect %s" "$QUERY_STRING"\n',
  'www/noexec.cgi': '#!/bin/sh\necho never\n',
  'www/x.bad': 'never run\n',
  // Switches protocols, then answers each line it reads in upper case until its stdin ends.
  'www/ws/echo.pl': PL('print "Status: 101\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n"; while (my $l = <STDIN>) { print uc($l); } print "BYE\\n";'),
  'pids/.keep': '',
};

interface Setup { proc: LanternProcess; port: number; dir: string; errorLog: string }

let setup: Setup | null = null;
const dirs: string[] = [];

function config(dir: string, port: number): string {
  return `server.port = ${port}
server.bind = "127.0.0.1"
server.document-root = "${dir}/www"
server.errorlog = "${dir}/error.log"
server.modules = ( "mod_cgi" )
cgi.assign = ( ".pl" => "${PERL}", ".py" => "${PYTHON ?? '/usr/bin/python3'}", ".cgi" => "", ".bad" => "/nonexistent/interpreter" )
cgi.x-sendfile = "enable"
cgi.local-redir = "enable"
$HTTP["url"] =^ "/hang" {
  cgi.limits = ( "read-timeout" => 1 )
}
$HTTP["url"] =^ "/fin/" {
  cgi.limits = ( "tcp-fin-propagate" => "SIGTERM" )
}
$HTTP["url"] =^ "/ws/" {
  cgi.upgrade = "enable"
}
$HTTP["url"] =^ "/noredir/" {
  cgi.local-redir = "disable"
}
`;
}

async function start(env: NodeJS.ProcessEnv = {}): Promise<Setup> {
  const dir = makeTempDir('cgi', SCRIPTS);
  dirs.push(dir);
  fs.chmodSync(path.join(dir, 'www/direct.cgi'), 0o755);
  fs.chmodSync(path.join(dir, 'www/noexec.cgi'), 0o644);
  const socket = await ListeningSocket.open();
  const file = path.join(dir, 'lighttpd.conf');
  fs.writeFileSync(file, config(dir, socket.port));
  const proc = await startLanternProcess(['-D', '-f', file], socket, { cwd: dir, env });
  return { proc, port: socket.port, dir, errorLog: path.join(dir, 'error.log') };
}

async function ready(): Promise<Setup> {
  setup ??= await start();
  return setup;
}

C.after(() => {
  setup?.proc.kill();
  for (const d of dirs) removeDir(d);
});

async function request(port: number, head: string, body: string | Buffer | Array<string | Buffer> = '', timeoutMs = 10_000): Promise<RawResponse> {
  const send = Array.isArray(body) ? [head, ...body] : body.length > 0 ? [head, body] : [head];
  const r = await rawExchange({ port, send, expectResponses: 1, timeoutMs });
  assert.ok(r.responses.length >= 1, `a response to ${JSON.stringify(head.split('\r\n')[0])}; got ${JSON.stringify(r.raw.toString('latin1').slice(0, 300))}`);
  return r.responses[0]!;
}

const get = (port: number, target: string, extra = '', timeoutMs = 10_000) => request(port, `GET ${target} HTTP/1.1\r\nHost: cgi.test\r\n${extra}Connection: close\r\n\r\n`, '', timeoutMs);

function envOf(body: Buffer): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of body.toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

function errorLog(s: Setup): string {
  try { return fs.readFileSync(s.errorLog, 'utf8'); } catch { return ''; }
}

function pidFile(s: Setup, name: string): Promise<number> {
  const file = path.join(s.dir, 'pids', name);
  let pid = 0;
  return waitFor(() => {
    try { pid = Number(fs.readFileSync(file, 'utf8')); } catch { return false; }
    return pid > 0;
  }, 10_000, 10, `the script's pid in ${file}`).then(() => pid);
}

perl('G10: the RFC 3875 environment of a perl script (meta-variables, path info, header fields, working directory)', async () => {
  const s = await ready();
  const r = await get(s.port, '/env.pl/some/path%20info?a=1&b=%41', 'X-Custom: v1\r\nProxy: http://evil\r\nX_Under: dropped\r\n');
  assert.is(r.status, 200, r.body.toString());
  const env = envOf(r.body);
  const www = path.join(s.dir, 'www');
  const expect: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: 'GET',
    QUERY_STRING: 'a=1&b=%41',
    SCRIPT_NAME: '/env.pl',
    PATH_INFO: '/some/path info',
    PATH_TRANSLATED: `${www}/some/path info`,
    SCRIPT_FILENAME: `${www}/env.pl`,
    DOCUMENT_ROOT: www,
    REQUEST_URI: '/env.pl/some/path%20info?a=1&b=%41',
    REDIRECT_STATUS: '200',
    CONTENT_LENGTH: '0',
    SERVER_PORT: String(s.port),
    SERVER_ADDR: '127.0.0.1',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: 'cgi.test',
    HTTP_X_CUSTOM: 'v1',
    CWD: www,
  };
  for (const [k, v] of Object.entries(expect)) assert.is(env.get(k), v, k);
  assert.ok(env.has('SERVER_SOFTWARE') && env.get('SERVER_SOFTWARE')!.startsWith('lantern'), 'SERVER_SOFTWARE');
  assert.ok(/^[0-9]+$/.test(env.get('REMOTE_PORT') ?? ''), 'REMOTE_PORT');
  assert.is(env.has('HTTP_PROXY'), false, 'C5: Proxy: never becomes HTTP_PROXY');
  assert.is(env.has('HTTP_X_UNDER'), false, 'B12: a field name with "_" is dropped');
  // Nothing of lantern's own environment leaks in (lighttpd passes the CGI variables only).
  assert.is(env.has('LANTERN_FROM_SOURCE'), false, "lantern's own environment");
  assert.is(env.get('QUERY_STRING'), 'a=1&b=%41');
});

perl('header values reach the script as the bytes received, not re-encoded (one that is not UTF-8 too)', async () => {
  const s = await ready();
  const r = await request(s.port, 'GET /bytes.pl HTTP/1.1\r\nHost: cgi.test\r\nX-Bytes: caf\xe9 \xc3\xa9\r\nConnection: close\r\n\r\n');
  assert.is(r.status, 200);
  // Started with child_process.spawn() (LANTERN_CGI_SPAWN=direct, or no perl for the launcher),
  // Node passes the environment as UTF-8: the lone 0xE9 would become U+FFFD (docs/cgi.md).
  const sent = Buffer.from('caf\xe9 \xc3\xa9', 'latin1');
  const expected = process.env.LANTERN_CGI_SPAWN === 'direct' ? Buffer.from(sent.toString('utf8'), 'utf8') : sent;
  assert.is(r.body.toString(), expected.toString('hex'));
});

perl('G10: QUERY_STRING is set (empty) without a query', async () => {
  const s = await ready();
  const r = await get(s.port, '/env.pl');
  const env = envOf(r.body);
  assert.is(env.get('QUERY_STRING'), '');
  assert.is(env.get('PATH_INFO'), undefined, 'no PATH_INFO without path info');
});

python('a python script gets the same environment, run in its own directory', async () => {
  const s = await ready();
  const r = await get(s.port, '/sub/env.py/x?q=1');
  assert.is(r.status, 200, r.body.toString());
  const env = envOf(r.body);
  assert.is(env.get('SCRIPT_NAME'), '/sub/env.py');
  assert.is(env.get('PATH_INFO'), '/x');
  assert.is(env.get('QUERY_STRING'), 'q=1');
  assert.is(env.get('CWD'), path.join(s.dir, 'www', 'sub'));
});

python('a 200 KB POST reaches the script whole, with its CONTENT_LENGTH', async () => {
  const s = await ready();
  const body = crypto.randomBytes(200 * 1024);
  const r = await request(s.port, `POST /post.py HTTP/1.1\r\nHost: cgi.test\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, body);
  assert.is(r.status, 201, r.body.toString());
  assert.is(r.body.toString(), `${crypto.createHash('sha256').update(body).digest('hex')} ${body.length} ${body.length}`);
});

python('a chunked upload arrives de-chunked, with its length in CONTENT_LENGTH', async () => {
  const s = await ready();
  const parts = [crypto.randomBytes(7000), crypto.randomBytes(1), crypto.randomBytes(30000)];
  const whole = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n'));
  chunks.push(Buffer.from('0\r\n\r\n'));
  const r = await request(s.port, 'POST /post.py HTTP/1.1\r\nHost: cgi.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', chunks);
  assert.is(r.status, 201, r.body.toString());
  assert.is(r.body.toString(), `${crypto.createHash('sha256').update(whole).digest('hex')} ${whole.length} ${whole.length}`);
});

perl('NPH: an nph- script sends its own status line and fields', async () => {
  const s = await ready();
  const r = await get(s.port, '/nph-status.pl');
  assert.is(r.status, 202);
  assert.is(r.header('x-nph'), 'yes');
  assert.is(r.body.toString(), 'nph body');
});

perl('G10: Status: is honoured, with the body of the script', async () => {
  const s = await ready();
  const r = await get(s.port, '/status.pl');
  assert.is(r.status, 404);
  assert.is(r.body.toString(), 'not here', "the script's own body, not an error page");
});

perl('G10: a script with no header block, a broken field or no output at all is answered 500', async () => {
  const s = await ready();
  for (const script of ['/no-head.pl', '/bad-field.pl', '/silent.pl']) {
    const r = await get(s.port, script);
    assert.is(r.status, 500, script);
    assert.not.match(r.body.toString(), /this is not a header/, `${script}: nothing of the script's output`);
    assert.is.not(r.body.toString(), 'body', `${script}: nothing of the script's output`);
  }
  assert.match(errorLog(s), /CGI script failed/);
});

perl('G10: a local Location without Status is an internal redirect (cgi.local-redir); disabled, a 302', async () => {
  const s = await ready();
  const r = await get(s.port, '/redir.pl');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'the target file\n');
  const off = await get(s.port, '/noredir/redir.pl');
  assert.is(off.status, 302);
  assert.is(off.header('location'), '/target.txt');
});

perl('X-Sendfile (cgi.x-sendfile): the named file is served instead of the script body', async () => {
  const s = await ready();
  const r = await get(s.port, '/sendfile.pl');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'the target file\n');
  assert.is(r.header('x-sendfile'), undefined, 'the field itself is not sent');
});

perl("a script's stderr goes to the error log, never to the client", async () => {
  const s = await ready();
  const r = await get(s.port, '/stderr.pl');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'ok');
  assert.not.match(r.raw.toString('latin1'), /secret-stderr-line/);
  await waitFor(() => /stderr\.pl: secret-stderr-line/.test(errorLog(s)), 5000, 20, 'the stderr line in the error log');
});

perl('G10: a hung script is ended at its read-timeout (SIGTERM) and answered 504', async () => {
  const s = await ready();
  const r = await get(s.port, '/hang.pl');
  assert.is(r.status, 504);
  const pid = await pidFile(s, 'hang');
  await waitFor(() => !alive(pid), 5000, 20, `the hung script (pid ${pid}) to be gone`);
});

perl('G10: a hung script that ignores SIGTERM is killed (SIGKILL) after the grace period', async () => {
  const s = await ready();
  const r = await get(s.port, '/hang-deaf.pl');
  assert.is(r.status, 504);
  const pid = await pidFile(s, 'deaf');
  await waitFor(() => !alive(pid), 8000, 50, `the script ignoring SIGTERM (pid ${pid}) to be killed`);
  await waitFor(() => /hang-deaf\.pl: still running .* SIGKILL/.test(errorLog(s)), 5000, 20, 'the SIGKILL in the error log');
});

perl('spawn failures: not executable 403, missing 404, a missing interpreter 500; never 502', async () => {
  const s = await ready();
  assert.is((await get(s.port, '/noexec.cgi')).status, 403, 'a script without the execute bit, run directly');
  assert.is((await get(s.port, '/missing.pl')).status, 404, 'no such script');
  assert.is((await get(s.port, '/x.bad')).status, 500, 'its interpreter does not exist');
  assert.match(errorLog(s), /noexec\.cgi.*not executable/);
  assert.match(errorLog(s), /\/nonexistent\/interpreter/);
});

perl('one failing script never disables CGI for the others', async () => {
  const s = await ready();
  for (let i = 0; i < 6; i++) {
    assert.is((await get(s.port, `/silent.pl?${i}`)).status, 500);
    assert.is((await get(s.port, `/noexec.cgi?${i}`)).status, 403);
    assert.is((await get(s.port, `/x.bad?${i}`)).status, 500);
  }
  const ok = await get(s.port, '/direct.cgi?still-up');
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'direct still-up');
});

perl('100 concurrent requests each get their own script and answer', async () => {
  const s = await ready();
  const rs = await withTimeout(Promise.all(Array.from({ length: 100 }, (_, i) => get(s.port, `/slow.pl?n${i}`, '', 40_000))), 45_000, '100 concurrent CGI requests');
  for (let i = 0; i < 100; i++) {
    assert.is(rs[i]!.status, 200, `request ${i}`);
    assert.is(rs[i]!.body.toString(), `n${i}`);
  }
});

perl('cgi.upgrade: after the script answers 101, bytes go both ways and a half-close reaches its stdin', async () => {
  const s = await ready();
  const r = await rawExchange({
    port: s.port,
    send: ['GET /ws/echo.pl HTTP/1.1\r\nHost: cgi.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', 'hello\nworld\n'],
    halfClose: true,
    timeoutMs: 10_000,
  });
  const text = r.raw.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 /);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  assert.is(body, 'HELLO\nWORLD\nBYE\n', 'the echo, then the script ended when its stdin did');
  assert.ok(r.closed, 'the tunnel closed after the script ended');
});

/** Starts `script` (which leaves its pid in ../pids/<pidName>), reads the start of its answer, then lets `leave` end the client. */
async function abandon(s: Setup, script: string, pidName: string, leave: (c: Awaited<ReturnType<typeof connectRaw>>) => void): Promise<number> {
  const client = await connectRaw(s.port);
  try {
    await client.write(`GET ${script} HTTP/1.1\r\nHost: cgi.test\r\n\r\n`);
    const pid = await pidFile(s, pidName);
    await client.readUntil((b) => b.includes('started'), 10_000, 'the start of the response');
    leave(client);
    return pid;
  } finally {
    client.destroy();
  }
}

perl('G2: a client that resets ends its script (SIGTERM); a half-close does not, unless tcp-fin-propagate', async () => {
  const s = await ready();
  const reset = await abandon(s, '/abandoned.pl', 'abandoned', (c) => c.socket.resetAndDestroy());
  await waitFor(() => !alive(reset), 5000, 20, `the script of the client that reset (pid ${reset}) to be ended`);
  // A FIN: the client may still read the answer (lighttpd's default): the script goes on.
  const fin = await abandon(s, '/abandoned2.pl', 'abandoned2', (c) => { void c.end(); });
  const finEnded = await waitFor(() => !alive(fin), 500, 20, 'never').then(() => true, () => false);
  assert.is(finEnded, false, 'a half-closed client still gets its answer: the script runs on');
  process.kill(fin, 'SIGKILL');
  const propagated = await abandon(s, '/fin/abandoned.pl', 'abandoned3', (c) => { void c.end(); });
  await waitFor(() => !alive(propagated), 5000, 20, `with tcp-fin-propagate, the script of the client that half-closed (pid ${propagated}) to be ended`);
});

for (const mode of ['perl', 'direct'] as const) {
  perl(`started ${mode === 'perl' ? 'by the perl helper' : 'by child_process.spawn()'} (LANTERN_CGI_SPAWN=${mode}): the same answers`, async () => {
    const s = await start({ LANTERN_CGI_SPAWN: mode });
    try {
      const r = await get(s.port, '/env.pl/p?q=1');
      assert.is(r.status, 200);
      const env = envOf(r.body);
      assert.is(env.get('PATH_INFO'), '/p');
      assert.is(env.get('CWD'), path.join(s.dir, 'www'));
      assert.is((await get(s.port, '/noexec.cgi')).status, 403);
      assert.is((await get(s.port, '/x.bad')).status, 500);
      assert.is((await get(s.port, '/silent.pl')).status, 500);
      const ok = await get(s.port, '/direct.cgi?m');
      assert.is(ok.body.toString(), 'direct m');
      const bytes = await request(s.port, 'GET /bytes.pl HTTP/1.1\r\nHost: cgi.test\r\nX-Bytes: caf\xe9\r\nConnection: close\r\n\r\n');
      // Node passes a process environment as UTF-8: without a helper the lone 0xE9 becomes U+FFFD.
      assert.is(bytes.body.toString(), mode === 'perl' ? '636166e9' : '636166efbfbd');
      const pid = await (async () => { const p = rawExchange({ port: s.port, send: 'GET /long.pl HTTP/1.1\r\nHost: cgi.test\r\n\r\n', expectResponses: 1, timeoutMs: 20_000 }); const n = await pidFile(s, 'long'); void p; return n; })();
      assert.is(await s.proc.stop('SIGTERM', 20_000), 0);
      assert.is(alive(pid), false, 'no script left after SIGTERM');
    } finally {
      s.proc.kill();
    }
  });
}

perl('G10: no script process is left after SIGTERM', async () => {
  // Its own lantern: this one is stopped.
  const s = await start();
  try {
    const pending = rawExchange({ port: s.port, send: 'GET /long.pl HTTP/1.1\r\nHost: cgi.test\r\n\r\n', expectResponses: 1, timeoutMs: 20_000 });
    const pid = await pidFile(s, 'long');
    assert.ok(alive(pid), 'the script runs');
    // lantern's own children: the launcher that forks the scripts (perl), when perl is there.
    const helpers = childPids(s.proc.pid);
    const code = await s.proc.stop('SIGTERM', 20_000);
    assert.is(code, 0, 'lantern exits 0');
    assert.is(alive(pid), false, `the script (pid ${pid}) is gone when lantern has exited`);
    await waitFor(() => helpers.every((h) => !alive(h)), 5000, 20, `lantern's helper processes (${helpers}) to exit`);
    await pending;
  } finally {
    s.proc.kill();
  }
});

C.run();

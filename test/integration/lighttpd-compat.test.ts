// Drop-in test (design.md §1 use 4): a lighttpd 1.4 test-style config (env.SRCDIR/env.PORT,
// server.modules, mimetype.assign, $HTTP["host"]/$HTTP["url"] conditions with else chains and
// nesting, include "conf.d/*.conf") runs unchanged with `lantern -D -f`, and each part of it
// shows in the responses and the access logs.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListeningSocket } from '../helpers/ports.js';
import { rawRequest, type RawResponse } from '../helpers/raw-client.js';
import {
  makeTempDir, REPO_ROOT, removeDir, runLantern, startLanternProcess, type LanternProcess,
} from '../helpers/spawn-lantern.js';
import { waitFor } from '../helpers/wait.js';

const Compat = suite('lighttpd-compat');

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'lighttpd-compat');
const CONF = path.join(FIXTURE, 'lighttpd.conf');

let srcdir = '';
let port = 0;
let proc: LanternProcess | undefined;

Compat.before(async () => {
  // What lighttpd's tests/prepare.sh does: a scratch tree with the docroots and a logs folder.
  srcdir = makeTempDir('compat');
  fs.cpSync(path.join(FIXTURE, 'servers'), path.join(srcdir, 'tmp', 'servers'), { recursive: true });
  fs.mkdirSync(path.join(srcdir, 'tmp', 'logs'));
  // As lighttpd's tests/LightyTest.pm does: the listening socket is made first and inherited
  // (LISTEN_FDS), so the port is lantern's from before it starts.
  const socket = await ListeningSocket.open();
  port = socket.port;
  proc = await startLanternProcess(['-D', '-f', CONF], socket, { cwd: srcdir, env: { SRCDIR: srcdir, PORT: String(port) } });
});

Compat.after(async () => {
  try {
    if (proc && proc.status === null) assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
  } finally {
    proc?.kill();
    removeDir(srcdir);
  }
});

async function get(target: string, host: string, extra = ''): Promise<RawResponse> {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`, { halfClose: false, timeoutMs: 5000 });
}

const fixtureText = (rel: string) => fs.readFileSync(path.join(FIXTURE, 'servers', rel), 'utf8');

Compat('-t accepts the config as it is, without a single warning', async () => {
  const r = await runLantern(['-t', '-f', CONF], { cwd: srcdir, env: { SRCDIR: srcdir, PORT: String(port) } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'Syntax OK\n');
  assert.is(r.stderr, '');
  assert.is(proc!.stderr, '', 'nor does the running server warn');
});

Compat('server.pid-file and server.tag from the global scope', async () => {
  assert.is(fs.readFileSync(path.join(srcdir, 'tmp', 'lighttpd.pid'), 'utf8'), `${proc!.pid}\n`);
  const res = await get('/', 'www.example.org');
  assert.is(res.status, 200);
  assert.is(res.header('server'), 'lighttpd-1.4.x');
  assert.is(res.header('content-type'), 'text/html');
  assert.is(res.body.toString(), fixtureText('www.example.org/pages/index.html'), 'index-file.names');
});

Compat('$HTTP["host"] else chain: each branch has its own document root', async () => {
  const cases: Array<[string, string]> = [
    ['www.example.org', 'www hello\n'],
    ['docs.example.org', 'docs hello\n'],
    [`docs.example.org:${port}`, 'docs hello\n'],
    ['old.example.org', 'legacy hello\n'],
    ['legacy.example.org', 'legacy hello\n'],
    ['notold.example.org', 'www hello\n'],
    ['static.example.org', 'static hello\n'],
    ['unknown.test', 'www hello\n'],
  ];
  for (const [host, body] of cases) {
    const res = await get('/hello.txt', host);
    assert.is(res.status, 200, host);
    assert.is(res.body.toString(), body, host);
  }
  assert.is((await get('/', 'docs.example.org')).body.toString(), fixtureText('docs.example.org/pages/index.html'));
});

Compat('the last else branch: static-file.exclude-extensions only for hosts no branch names', async () => {
  // Excluded and no handler takes it: 403 where the file exists, 404 where it does not (static's
  // own root has none), as lighttpd answers.
  assert.is((await get('/secret.inc', 'www.example.org')).status, 403, 'www');
  assert.is((await get('/secret.inc', 'static.example.org')).status, 404, 'static');
  const docs = await get('/secret.inc', 'docs.example.org');
  assert.is(docs.status, 200);
  assert.is(docs.body.toString(), 'docs include\n');
});

Compat('mimetype.assign: suffixes, the longest one wins, += from an include, per-host override', async () => {
  const types: Array<[string, string]> = [
    ['/hello.txt', 'text/plain'],
    ['/style.css', 'text/css'],
    ['/README', 'text/plain; charset=utf-8'],
    ['/archive.tar.gz', 'application/x-tgz'],
    ['/single.gz', 'application/gzip'],
    ['/notes.md', 'text/markdown'],
  ];
  for (const [target, type] of types) {
    const res = await get(target, 'www.example.org');
    assert.is(res.status, 200, target);
    assert.is(res.header('content-type'), type, target);
  }
  assert.is((await get('/hello.txt', 'static.example.org')).header('content-type'), 'text/x-static');
});

Compat('$HTTP["url"] =^ "/dir/": listings there only, and not on the host whose nested block disables them', async () => {
  const listing = await get('/dir/', 'www.example.org');
  assert.is(listing.status, 200);
  assert.match(listing.header('content-type') ?? '', /^text\/html/);
  const html = listing.body.toString();
  assert.match(html, /Index of \/dir\//);
  for (const name of ['a.txt', 'b.html', 'sub/']) assert.ok(html.includes(`href="${name}"`), `lists ${name}: ${html}`);
  const sub = await get('/dir/sub/', 'www.example.org');
  assert.is(sub.status, 200);
  assert.ok(sub.body.toString().includes('href="c.txt"'));
  assert.is((await get('/nolist/', 'www.example.org')).status, 403, 'no listing outside /dir/');
  assert.is((await get('/dir/', 'docs.example.org')).status, 403, 'the nested block wins on docs.example.org');
  assert.is((await get('/dir/d.txt', 'docs.example.org')).body.toString(), 'docs dir file\n');
});

Compat('$HTTP["url"] == in an else branch: server.range-requests disabled for one URL', async () => {
  const enabled = await get('/range.enabled', 'www.example.org', 'Range: bytes=0-3\r\n');
  assert.is(enabled.status, 206);
  assert.is(enabled.body.toString(), '0123');
  const disabled = await get('/range.disabled', 'www.example.org', 'Range: bytes=0-3\r\n');
  assert.is(disabled.status, 200);
  assert.is(disabled.body.toString(), '0123456789\n');
});

Compat('accesslog: lighttpd-format lines, a separate file for the host from conf.d', async () => {
  await get('/hello.txt?compat-main', 'docs.example.org');
  await get('/hello.txt?compat-static', 'static.example.org');
  const main = path.join(srcdir, 'tmp', 'logs', 'lighttpd.access.log');
  const stat = path.join(srcdir, 'tmp', 'logs', 'static.access.log');
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  await waitFor(() => read(main).includes('compat-main') && read(stat).includes('compat-static'), 5000, 50, 'both access logs');
  assert.match(read(main), /^127\.0\.0\.1 docs\.example\.org - \[[^\]]+\] "GET \/hello\.txt\?compat-main HTTP\/1\.1" 200 11 "-" "-"$/m);
  assert.match(read(stat), /^127\.0\.0\.1 static\.example\.org - \[[^\]]+\] "GET \/hello\.txt\?compat-static HTTP\/1\.1" 200 13 "-" "-"$/m);
  assert.not.match(read(main), /compat-static/, 'the static host logs only to its own file');
});

Compat.run();

// Integration tests of plugins/staticfile over raw sockets: types, validators, conditionals
// (RFC 9110 §13) and ranges (§14) as lighttpd 1.4 answers them, HEAD, POST, redirects,
// refusals, streaming and fd hygiene.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { connectRaw, rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const S = suite('staticfile');
let lt: LanternHandle;
const RANGE_FILE = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const BIG = randomBytes(5 * 1024 * 1024);

S.before(async () => {
  lt = await startLantern(`
server.document-root = "%DIR%"
mimetype.assign = ( ".txt" => "text/plain; charset=utf-8", ".html" => "text/html", ".gz" => "application/gzip",
                    ".tar.gz" => "application/x-tgz", ".bin" => "application/x-bin" )
static-file.exclude-extensions = ( ".php" )
$HTTP["url"] =^ "/nolinks/" { server.follow-symlink = "disable" }
$HTTP["url"] =^ "/norange/" { server.range-requests = "disable" }
$HTTP["url"] =^ "/noetag/" { static-file.etags = "disable" }
$HTTP["url"] =^ "/nopi/" { static-file.disable-pathinfo = "enable" }
`, {
    files: {
      'a.txt': 'hello world\n', 'x.tar.gz': 'tgz', 'x.gz': 'gz', 'noext': 'raw', 'r.bin': RANGE_FILE, 'big.bin': BIG,
      'dir/index.html': '<p>dir</p>', 'x.php': '<?php secret(); ?>', 'norange/r.bin': RANGE_FILE, 'noetag/a.txt': 'n',
      'nopi/a.txt': 'pi', 'real/f.txt': 'via link', 'empty.txt': '',
    },
  });
  fs.mkdirSync(path.join(lt.dir, 'emptydir'));
  fs.mkdirSync(path.join(lt.dir, 'nolinks'));
  fs.symlinkSync(path.join(lt.dir, 'real'), path.join(lt.dir, 'link'));
  fs.symlinkSync(path.join(lt.dir, 'real'), path.join(lt.dir, 'nolinks', 'link'));
});
S.after(async () => { await lt?.stop(); });

async function get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const r = await rawExchange({
    port: lt.port, send: `${method} ${target} HTTP/1.1\r\nHost: t\r\n${lines}\r\n`,
    expectResponses: 1, headRequests: [method === 'HEAD'], timeoutMs: 5000,
  });
  assert.is(r.responses.length, 1, `${method} ${target}: one response`);
  return r.responses[0]!;
}

/** Split a multipart/byteranges body into parts (test-side parser, RFC 2046 §5.1.1). */
function parseMultipart(res: RawResponse): Array<{ range: string; type: string; body: Buffer }> {
  const m = /boundary=([^;\s]+)/.exec(res.header('content-type') ?? '');
  assert.ok(m, 'boundary in Content-Type');
  const delim = Buffer.from(`\r\n--${m![1]}`);
  const parts: Array<{ range: string; type: string; body: Buffer }> = [];
  // The body starts with the first delimiter without its CRLF (lighttpd's layout).
  assert.ok(res.body.subarray(0, delim.length - 2).equals(delim.subarray(2)), 'the body starts with the first delimiter');
  const body = Buffer.concat([Buffer.from('\r\n'), res.body]);
  let at = body.indexOf(delim);
  while (at >= 0) {
    const after = at + delim.length;
    if (body.subarray(after, after + 2).toString() === '--') break;
    const headEnd = body.indexOf('\r\n\r\n', after);
    const head = body.subarray(after + 2, headEnd).toString();
    const next = body.indexOf(delim, headEnd);
    const field = (n: string) => new RegExp(`^${n}: (.*)$`, 'mi').exec(head)?.[1] ?? '';
    parts.push({ range: field('Content-Range'), type: field('Content-Type'), body: body.subarray(headEnd + 4, next) });
    at = next;
  }
  return parts;
}

const fdCount = () => fs.readdirSync('/proc/self/fd').length;

/** Open descriptors of this process that point into `dir` (files served by lantern). */
function fdsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

S('Content-Type: longest suffix, charset only when configured, octet-stream default', async () => {
  assert.is((await get('/a.txt')).header('content-type'), 'text/plain; charset=utf-8');
  assert.is((await get('/x.tar.gz')).header('content-type'), 'application/x-tgz');
  assert.is((await get('/x.gz')).header('content-type'), 'application/gzip');
  assert.is((await get('/noext')).header('content-type'), 'application/octet-stream');
  assert.is((await get('/dir/index.html')).header('content-type'), 'text/html');
});

S('200 with body, ETag, Last-Modified and Accept-Ranges', async () => {
  const r = await get('/a.txt');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'hello world\n');
  assert.is(r.header('content-length'), '12');
  assert.match(r.header('etag') ?? '', /^"[0-9a-f-]+"$/);
  assert.is(r.header('accept-ranges'), 'bytes');
  const mtime = fs.statSync(path.join(lt.dir, 'a.txt')).mtimeMs;
  assert.is(r.header('last-modified'), new Date(Math.floor(mtime / 1000) * 1000).toUTCString());
  const empty = await get('/empty.txt', { Range: 'bytes=0-0' });
  assert.is(empty.status, 200);
  assert.is(empty.header('content-length'), '0');
});

S('If-None-Match → 304 (strong, weak, list, *); other tag → 200', async () => {
  const etag = (await get('/a.txt')).header('etag')!;
  for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const r = await get('/a.txt', { 'If-None-Match': inm });
    assert.is(r.status, 304, inm);
    assert.is(r.body.length, 0);
    assert.is(r.header('etag'), etag);
    assert.is(r.header('content-type'), 'text/plain; charset=utf-8', 'lighttpd sends Content-Type on a 304');
  }
  assert.is((await get('/a.txt', { 'If-None-Match': '"nope"' })).status, 200);
});

S('If-Modified-Since → 304 unless modified since, a date in the future too (lighttpd); ignored when If-None-Match is present', async () => {
  const lm = (await get('/a.txt')).header('last-modified')!;
  assert.is((await get('/a.txt', { 'If-Modified-Since': lm })).status, 304);
  assert.is((await get('/a.txt', { 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' })).status, 304);
  assert.is((await get('/a.txt', { 'If-Modified-Since': 'garbage' })).status, 200);
  assert.is((await get('/a.txt', { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 200);
  assert.is((await get('/a.txt', { 'If-Modified-Since': lm, 'If-None-Match': '"nope"' })).status, 200);
});

S('If-Match and If-Unmodified-Since are not evaluated for a static file (lighttpd); If-None-Match on a POST → 412', async () => {
  const etag = (await get('/a.txt')).header('etag')!;
  assert.is((await get('/a.txt', { 'If-Match': '"nope"' })).status, 200);
  assert.is((await get('/a.txt', { 'If-Unmodified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 200);
  assert.is((await get('/a.txt', { 'If-None-Match': etag, 'Content-Length': '0' }, 'POST')).status, 412);
});

S('single range and suffix range → 206 with Content-Range', async () => {
  const r = await get('/r.bin', { Range: 'bytes=0-99' });
  assert.is(r.status, 206);
  assert.is(r.header('content-range'), 'bytes 0-99/1000');
  assert.ok(r.body.equals(RANGE_FILE.subarray(0, 100)));
  const s = await get('/r.bin', { Range: 'bytes=-500' });
  assert.is(s.header('content-range'), 'bytes 500-999/1000');
  assert.ok(s.body.equals(RANGE_FILE.subarray(500)));
  const open = await get('/r.bin', { Range: 'bytes=990-' });
  assert.ok(open.body.equals(RANGE_FILE.subarray(990)));
});

S('multiple ranges → 206 multipart/byteranges with exact length and bytes', async () => {
  const r = await get('/r.bin', { Range: 'bytes=0-9, 500-509, 990-' });
  assert.is(r.status, 206);
  assert.match(r.header('content-type') ?? '', /^multipart\/byteranges; boundary=/);
  assert.is(Number(r.header('content-length')), r.body.length);
  const parts = parseMultipart(r);
  assert.equal(parts.map((p) => p.range), ['bytes 0-9/1000', 'bytes 500-509/1000', 'bytes 990-999/1000']);
  assert.ok(parts.every((p) => p.type === 'application/x-bin'));
  assert.ok(parts[0]!.body.equals(RANGE_FILE.subarray(0, 10)));
  assert.ok(parts[1]!.body.equals(RANGE_FILE.subarray(500, 510)));
  assert.ok(parts[2]!.body.equals(RANGE_FILE.subarray(990)));
  // Ranges less than 80 bytes apart are one range (lighttpd coalesces them).
  const near = await get('/r.bin', { Range: 'bytes=0-9, 20-29' });
  assert.is(near.status, 206);
  assert.is(near.header('content-range'), 'bytes 0-29/1000');
  assert.ok(near.body.equals(RANGE_FILE.subarray(0, 30)));
});

S('unsatisfiable or invalid → 416 (lighttpd: a plain error page); another unit → 200 full; past 10 ranges the rest are ignored', async () => {
  for (const bad of ['bytes=2000-', 'bytes=9-1', 'bytes=x', 'bytes=-0']) {
    const r = await get('/r.bin', { Range: bad });
    assert.is(r.status, 416, bad);
    assert.is(r.header('content-type'), 'text/html');
    assert.is(r.header('content-range'), undefined, 'lighttpd 1.4.69 sends no Content-Range with its 416');
  }
  const full = await get('/r.bin', { Range: 'lines=1-2' });
  assert.is(full.status, 200);
  assert.is(full.body.length, 1000);
  const many = await get('/r.bin', { Range: `bytes=${Array.from({ length: 12 }, (_, i) => `${i * 90}-${i * 90 + 1}`).join(',')}` });
  assert.is(many.status, 206);
  assert.is(parseMultipart(many).length, 10);
});

S('HTTP/1.0: no Accept-Ranges and Range ignored (lighttpd)', async () => {
  const r = await rawExchange({ port: lt.port, send: 'GET /r.bin HTTP/1.0\r\nRange: bytes=0-9\r\n\r\n', halfClose: true, timeoutMs: 5000 });
  const res = r.responses[0]!;
  assert.is(res.status, 200);
  assert.is(res.body.length, 1000);
  assert.is(res.header('accept-ranges'), undefined);
  // The same file again, now from the cache.
  const again = await rawExchange({ port: lt.port, send: 'GET /r.bin HTTP/1.0\r\n\r\n', halfClose: true, timeoutMs: 5000 });
  assert.is(again.responses[0]!.header('accept-ranges'), undefined);
  assert.is((await get('/r.bin')).header('accept-ranges'), 'bytes');
});

S('If-Range: matching ETag or date → 206, otherwise → 200 full', async () => {
  const first = await get('/r.bin');
  const etag = first.header('etag')!;
  const lm = first.header('last-modified')!;
  assert.is((await get('/r.bin', { Range: 'bytes=0-1', 'If-Range': etag })).status, 206);
  assert.is((await get('/r.bin', { Range: 'bytes=0-1', 'If-Range': lm })).status, 206);
  const stale = await get('/r.bin', { Range: 'bytes=0-1', 'If-Range': '"old"' });
  assert.is(stale.status, 200);
  assert.is(stale.body.length, 1000);
  assert.is((await get('/r.bin', { Range: 'bytes=0-1', 'If-Range': `W/${etag}` })).status, 200);
});

S('HEAD: the same headers as GET, no body; Range ignored', async () => {
  const g = await get('/a.txt');
  const h = await get('/a.txt', { Range: 'bytes=0-1' }, 'HEAD');
  assert.is(h.status, 200);
  assert.is(h.body.length, 0);
  for (const n of ['content-type', 'content-length', 'etag', 'last-modified', 'accept-ranges']) assert.is(h.header(n), g.header(n), n);
});

S('directory without slash → 301 to path + "/" with the query kept', async () => {
  const r = await get('/dir?x=1&y');
  assert.is(r.status, 301);
  assert.is(r.header('location'), '/dir/?x=1&y');
  assert.is((await get('/dir%20x')).status, 404);
});

S('directory without index → 403; missing → 404; excluded extension → not served: 403, 404 when missing (lighttpd)', async () => {
  assert.is((await get('/emptydir/')).status, 403);
  assert.is((await get('/missing.txt')).status, 404);
  const php = await get('/x.php');
  assert.is(php.status, 403);
  assert.not.ok(php.body.toString().includes('secret'));
  assert.is((await get('/missing.php')).status, 404);
  // The suffix is the found file's, not the URL's: path info after the script is still its source.
  for (const path of ['/x.php/', '/x.php/extra', '/x.php/a/b?q=1']) {
    const withInfo = await get(path);
    assert.is(withInfo.status, 403, path);
    assert.not.ok(withInfo.body.toString().includes('secret'), path);
  }
  assert.is((await get('/missing.php/extra')).status, 404);
});

S('POST is served the file, as lighttpd does; PUT/DELETE → 404 when missing, else 501; OPTIONS lists Allow', async () => {
  const posted = await rawExchange({
    port: lt.port, send: 'POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', timeoutMs: 5000,
  });
  assert.equal(posted.responses.map((x) => x.status), [200, 200], 'the POST body is read and dropped; the next request follows');
  const r = posted.responses[0]!;
  assert.is(r.body.toString(), 'hello world\n');
  assert.is(r.header('accept-ranges'), undefined, 'Range is for GET and HEAD');
  assert.is((await get('/a.txt', {}, 'PUT')).status, 501);
  assert.is((await get('/a.txt', {}, 'DELETE')).status, 501);
  assert.is((await get('/missing.txt', {}, 'DELETE')).status, 404);
  for (const target of ['/a.txt', '/emptydir/']) {
    const o = await get(target, {}, 'OPTIONS');
    assert.is(o.status, 200, target);
    assert.is(o.header('allow'), 'OPTIONS, GET, HEAD, POST');
  }
});

S('symlinks: followed by default, 403 when server.follow-symlink is disabled', async () => {
  assert.is((await get('/link/f.txt')).body.toString(), 'via link');
  assert.is((await get('/nolinks/link/f.txt')).status, 403);
});

S('PATH_INFO after a file is served; 403 with static-file.disable-pathinfo', async () => {
  const r = await get('/a.txt/extra/info');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'hello world\n');
  assert.is((await get('/nopi/a.txt/extra')).status, 403);
  assert.is((await get('/nopi/a.txt')).status, 200);
});

S('server.range-requests disabled → 200 full, no Accept-Ranges; static-file.etags disabled → no ETag', async () => {
  const r = await get('/norange/r.bin', { Range: 'bytes=0-1' });
  assert.is(r.status, 200);
  assert.is(r.body.length, 1000);
  assert.is(r.header('accept-ranges'), undefined);
  const n = await get('/noetag/a.txt');
  assert.is(n.header('etag'), undefined);
  assert.ok(n.header('last-modified'));
});

S('unreadable file → 403', async () => {
  if (process.getuid?.() !== 0) {
    fs.writeFileSync(path.join(lt.dir, 'secret.txt'), 's');
    fs.chmodSync(path.join(lt.dir, 'secret.txt'), 0o000);
    assert.is((await get('/secret.txt')).status, 403);
    return;
  }
  // Root reads any file: run a lantern as "nobody" in a child process for this one.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-nobody-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'secret.txt'), 's', { mode: 0o000 });
  fs.writeFileSync(path.join(dir, 'open.txt'), 'o', { mode: 0o644 });
  const helper = new URL('../helpers/lantern.ts', import.meta.url).pathname;
  fs.writeFileSync(path.join(dir, 'run.mts'),
    `import { startLantern } from ${JSON.stringify(helper)};\nconst lt = await startLantern('server.document-root = "${dir}"\\n');\nconsole.log(lt.port);\n`, { mode: 0o644 });
  // The child's own temp dirs go inside `dir`, which is removed at the end (it is killed, not stopped).
  const childTmp = path.join(dir, 'tmp');
  fs.mkdirSync(childTmp, { mode: 0o777 });
  fs.chmodSync(childTmp, 0o777);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'run.mts')], {
    uid: 65534, gid: 65534, cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TMPDIR: childTmp },
  });
  try {
    const port = await withTimeout(new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    }), 15000, 'the child lantern to listen');
    const send = async (t: string) => (await rawExchange({ port, send: `GET ${t} HTTP/1.1\r\nHost: t\r\n\r\n`, expectResponses: 1 })).responses[0]!;
    assert.is((await send('/secret.txt')).status, 403);
    assert.is((await send('/open.txt')).status, 200);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

S('a 5 MiB file streams intact', async () => {
  const r = await get('/big.bin');
  assert.is(r.status, 200);
  assert.is(r.header('content-length'), String(BIG.length));
  assert.is(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(BIG).digest('hex'));
  const part = await get('/big.bin', { Range: 'bytes=1000000-3999999' });
  assert.ok(part.body.equals(BIG.subarray(1000000, 4000000)));
});

S('clients that abort mid-download leak no file descriptors', async () => {
  const before = fdCount();
  const abortsBefore = lt.server.counters.clientAborts;
  for (let i = 0; i < 20; i++) {
    const c = await connectRaw(lt.port);
    await c.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    await c.readUntil((b) => b.length > 64 * 1024, 5000, 'the first body bytes');
    // Stop reading so the server is waiting on back-pressure, then go away.
    c.socket.pause();
    c.destroy();
  }
  for (let i = 0; i < 30; i++) await get(i % 2 ? '/a.txt' : '/r.bin', { Range: 'bytes=0-1' });
  await waitFor(() => lt.server.counters.clientAborts >= abortsBefore + 20, 5000, 10, '20 client aborts');
  // Every file descriptor lantern opened on the served files is closed again...
  await waitFor(() => fdsUnder(fs.realpathSync(lt.dir)).length === 0, 5000, 10, `no open file under the docroot (open: ${fdsUnder(fs.realpathSync(lt.dir)).join(', ')})`);
  // ...and the process as a whole holds no more descriptors than before (sockets included).
  await waitFor(() => fdCount() <= before, 5000, 10, `fd count back to ${before} (now ${fdCount()})`);
});

S.run();

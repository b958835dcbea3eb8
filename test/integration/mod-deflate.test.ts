// mod_deflate (plugins/deflate) from a lighttpd config, on the wire: Accept-Encoding negotiation
// (q=0, identity, the server's order), Vary, the ETag per coding and If-None-Match, what is never
// compressed (HEAD, 206, 304, Content-Encoding, no-transform, small bodies, other types), static
// files (with deflate.cache-dir) and proxied backend responses (Content-Length, streamed with
// sync flush), HTTP/1.0 and 1.1, a slow client (back-pressure reaches the backend), a client that
// goes away, mod_compress with the old compress.* keys, and bad config stopping the start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResponses } from '../helpers/http-bytes.js';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { connectRaw, rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const D = suite('mod-deflate');

const HTML = '<p>hello, compressed world</p>\n'.repeat(200);
const TEXT = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(i % 40)}\n`).join('');
const BIG_BYTES = 24 * 1024 * 1024;
const BIG = crypto.randomBytes(BIG_BYTES);
const BIG_SHA = crypto.createHash('sha256').update(BIG).digest('hex');

let server: LighttpdConfigServer | undefined;
let dir = '';
let port = 0;
let proc: LanternProcess | undefined;
let backend: net.Server | undefined;
/** Body bytes the backend got out for /app/big (its socket accepted them). */
let bigSent = 0;
let bigDone = false;
let bigClosed = false;
/** Lets the streamed /app/stream response go on after its first piece. */
let releaseStream: () => void = () => {};

/** A small HTTP/1.1 backend: one request per connection, answers by path, then closes. */
function startBackend(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const target = head.split(' ')[1] ?? '/';
      answer(target, socket);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function answer(target: string, socket: net.Socket): void {
  const text = (fields: string, body: string | Buffer) => {
    socket.write(`HTTP/1.1 200 OK\r\n${fields}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    socket.end(body);
  };
  switch (target) {
    case '/app/cl': text('Content-Type: text/html\r\n', HTML); return;
    case '/app/etag': text('Content-Type: text/html\r\nETag: "v1"\r\n', HTML); return;
    case '/app/encoded': text('Content-Type: text/html\r\nContent-Encoding: br\r\n', HTML); return;
    case '/app/notransform': text('Content-Type: text/html\r\nCache-Control: public, no-transform\r\n', HTML); return;
    case '/app/stream/sync': {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
      const first = 'first piece of a stream\n';
      socket.write(`${first.length.toString(16)}\r\n${first}\r\n`);
      releaseStream = () => {
        const second = 'second piece\n'.repeat(50);
        socket.end(`${second.length.toString(16)}\r\n${second}\r\n0\r\n\r\n`);
      };
      return;
    }
    case '/app/big/x': {
      bigSent = 0;
      bigDone = false;
      bigClosed = false;
      socket.once('close', () => { bigClosed = true; });
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BIG_BYTES}\r\nConnection: close\r\n\r\n`);
      let pos = 0;
      const pump = () => {
        while (pos < BIG_BYTES && !socket.destroyed) {
          const piece = BIG.subarray(pos, pos + 65536);
          pos += piece.length;
          const ok = socket.write(piece, () => { bigSent += piece.length; });
          if (!ok) { socket.once('drain', pump); return; }
        }
        if (pos >= BIG_BYTES) socket.end(() => { bigDone = true; });
      };
      pump();
      return;
    }
    default: text('Content-Type: text/plain\r\n', 'unknown');
  }
}

D.before(async () => {
  backend = await startBackend();
  const bport = (backend.address() as net.AddressInfo).port;
  // The smallest config a lighttpd user writes, plus conditions for the cases below.
  server = await startLighttpdConfig((d) => `server.document-root = "${d}/www"
server.modules = ( "mod_deflate", "mod_proxy", "mod_compress", "mod_accesslog" )
accesslog.filename = "${d}/access.log"
accesslog.format = "%s %U %{ratio}e"
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain", ".png" => "image/png" )
deflate.mimetypes = ( "text/" )
$HTTP["url"] =~ "^/off/" { deflate.mimetypes = ( ) }
$HTTP["url"] =~ "^/gzonly/" { deflate.allowed-encodings = ( "gzip" ) }
$HTTP["url"] =~ "^/cached/" { deflate.cache-dir = "${d}/cache/" }
$HTTP["url"] =~ "^/old/" {
  compress.filetype = ( "text/plain" )
  compress.allowed-encodings = ( "gzip", "deflate" )
  compress.cache-dir = "${d}/oldcache"
}
$HTTP["url"] =~ "^/app/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${bport} ) ) )
  deflate.compression-level = 1
}
$HTTP["url"] =~ "^/app/(stream|big)/" { server.stream-response-body = 2 }
`, {
    prefix: 'deflate',
    files: {
      'www/a.html': HTML,
      'www/b.txt': TEXT,
      'www/small.html': '<p>small</p>',
      'www/pic.png': HTML,
      'www/off/a.html': HTML,
      'www/gzonly/a.html': HTML,
      'www/cached/a.html': HTML,
      'www/cached/big.txt': TEXT.repeat(30),
      'www/old/a.txt': TEXT,
      'www/old/a.html': HTML,
    },
  });
  ({ dir, port, proc } = server);
});

D.after(async () => {
  try {
    await server?.stop();
    assert.not.match(proc?.stderr ?? '', STACK_LINE, 'no stack trace in the error log');
  } finally {
    backend?.close();
  }
});

async function get(target: string, headers = '', opts: { method?: string; version?: '1.0' | '1.1' } = {}): Promise<RawResponse> {
  const method = opts.method ?? 'GET';
  const version = opts.version ?? '1.1';
  const res = await server!.request(`${method} ${target} HTTP/${version}\r\nHost: example\r\n${headers}\r\n`, { untilClose: true, headRequests: [method === 'HEAD'] });
  assert.ok(res.complete, `${target}: the whole response`);
  return res;
}

const gz = 'Accept-Encoding: gzip, deflate, br\r\n';

function decode(res: RawResponse): string {
  const ce = res.header('content-encoding');
  const body = res.body;
  if (ce === 'gzip' || ce === 'x-gzip') return zlib.gunzipSync(body).toString();
  if (ce === 'deflate') return zlib.inflateSync(body).toString();
  if (ce === 'br') return zlib.brotliDecompressSync(body).toString();
  assert.is(ce, undefined, 'a coding this test knows');
  return body.toString();
}

D('the client\'s codings, the server\'s order: br first by default, then gzip, x-gzip, deflate', async () => {
  const cases: Array<[string, string]> = [
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'x-gzip'],
    ['deflate', 'deflate'],
    ['deflate;q=1, gzip;q=0.1', 'gzip'],
    ['GZIP', 'gzip'],
  ];
  for (const [ae, coding] of cases) {
    const res = await get('/a.html', `Accept-Encoding: ${ae}\r\n`);
    assert.is(res.status, 200);
    assert.is(res.header('content-encoding'), coding, ae);
    assert.is(res.header('vary'), 'Accept-Encoding');
    assert.ok(res.body.length < HTML.length / 4, 'smaller on the wire');
    assert.is(decode(res), HTML, ae);
  }
});

D('a whole small file goes out with the Content-Length of its compressed body and an ETag per coding', async () => {
  const plain = await get('/a.html');
  const etag = plain.header('etag')!;
  assert.match(etag, /^"[^"]+"$/);
  const res = await get('/a.html', 'Accept-Encoding: gzip\r\n');
  assert.is(res.header('content-length'), String(res.body.length));
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.header('etag'), `${etag.slice(0, -1)}-gzip"`);
  const br = await get('/a.html', 'Accept-Encoding: br\r\n');
  assert.is(br.header('etag'), `${etag.slice(0, -1)}-br"`);
});

D('the access log\'s %{ratio}e: the compressed size in percent of the original, as lighttpd sets it', async () => {
  const res = await get('/b.txt?ratio', 'Accept-Encoding: gzip\r\n');
  assert.is(decode(res), TEXT);
  const log = path.join(dir, 'access.log');
  await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('200 /b.txt '), 5000, 20, 'the access log line');
  const line = fs.readFileSync(log, 'utf8').split('\n').find((l) => l.startsWith('200 /b.txt '))!;
  const ratio = Number(line.split(' ')[2]);
  assert.ok(ratio > 0 && ratio < 50, line);
});

D('q=0 refuses a coding; identity, * or nothing acceptable gets the body as it is, with Vary', async () => {
  assert.is((await get('/a.html', 'Accept-Encoding: gzip;q=0, br\r\n')).header('content-encoding'), 'br');
  for (const ae of ['gzip;q=0', 'identity', '*', 'compress, zstd', 'br;q=0.000, gzip; q=0']) {
    const res = await get('/a.html', `Accept-Encoding: ${ae}\r\n`);
    assert.is(res.header('content-encoding'), undefined, ae);
    assert.is(res.header('content-length'), String(HTML.length), ae);
    assert.is(res.header('vary'), 'Accept-Encoding', ae);
    assert.is(res.body.toString(), HTML);
  }
  const none = await get('/a.html');
  assert.is(none.header('content-encoding'), undefined);
  assert.is(none.header('vary'), 'Accept-Encoding', 'the response varies even for a client that sent none');
});

D('never compressed: HEAD, a range, small bodies, other types, a turned-off location', async () => {
  const head = await get('/a.html', gz, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.header('content-encoding'), undefined, 'HEAD: lighttpd sends the identity head');
  assert.is(head.header('content-length'), String(HTML.length));
  const range = await get('/a.html', `${gz}Range: bytes=0-9\r\n`);
  assert.is(range.status, 206);
  assert.is(range.header('content-encoding'), undefined);
  assert.is(range.body.toString(), HTML.slice(0, 10));
  const small = await get('/small.html', gz);
  assert.is(small.header('content-encoding'), undefined);
  assert.is(small.header('vary'), undefined, 'under deflate.min-compress-size nothing varies');
  assert.is(small.body.toString(), '<p>small</p>');
  const png = await get('/pic.png', gz);
  assert.is(png.header('content-encoding'), undefined);
  assert.is(png.header('vary'), undefined);
  const off = await get('/off/a.html', gz);
  assert.is(off.header('content-encoding'), undefined);
  assert.is(off.body.toString(), HTML);
  const gzonly = await get('/gzonly/a.html', 'Accept-Encoding: br, deflate, gzip\r\n');
  assert.is(gzonly.header('content-encoding'), 'gzip', 'deflate.allowed-encodings = ( "gzip" )');
});

D('If-None-Match with the compressed ETag: 304 with that ETag; with the plain one the file\'s own 304', async () => {
  const etag = (await get('/a.html', 'Accept-Encoding: gzip\r\n')).header('etag')!;
  const res = await get('/a.html', `Accept-Encoding: gzip\r\nIf-None-Match: "nope", ${etag}\r\n`);
  assert.is(res.status, 304);
  assert.is(res.header('etag'), etag);
  assert.is(res.header('content-encoding'), undefined);
  assert.is(res.body.length, 0);
  // The br client does not have the gzip representation.
  const other = await get('/a.html', `Accept-Encoding: br\r\nIf-None-Match: ${etag}\r\n`);
  assert.is(other.status, 200);
  assert.is(other.header('content-encoding'), 'br');
  const plainTag = (await get('/a.html')).header('etag')!;
  const plain = await get('/a.html', `Accept-Encoding: gzip\r\nIf-None-Match: ${plainTag}\r\n`);
  assert.is(plain.status, 304);
  assert.is(plain.header('etag'), plainTag);
});

D('a larger file is streamed compressed: chunked for HTTP/1.1, close-delimited for HTTP/1.0', async () => {
  const big = TEXT.repeat(30);
  fs.writeFileSync(path.join(dir, 'www', 'big.txt'), big);
  const v11 = await get('/big.txt', 'Accept-Encoding: gzip\r\n');
  assert.is(v11.header('content-encoding'), 'gzip');
  assert.ok(v11.chunked);
  assert.is(decode(v11), big);
  const v10 = await get('/big.txt', 'Accept-Encoding: gzip\r\n', { version: '1.0' });
  assert.is(v10.version, 'HTTP/1.0');
  assert.is(v10.header('content-length'), undefined);
  assert.is(v10.header('transfer-encoding'), undefined);
  assert.is(decode(v10), big);
  const small10 = await get('/a.html', 'Accept-Encoding: deflate\r\nConnection: keep-alive\r\n', { version: '1.0' });
  assert.is(small10.header('content-length'), String(small10.body.length), 'a whole body keeps HTTP/1.0 keep-alive possible');
  assert.is(decode(small10), HTML);
});

D('keep-alive: pipelined compressed responses come out whole and in order', async () => {
  const one = `GET /big.txt HTTP/1.1\r\nHost: example\r\nAccept-Encoding: gzip\r\n\r\n`;
  const two = `GET /a.html HTTP/1.1\r\nHost: example\r\nAccept-Encoding: br\r\n\r\n`;
  // No half-close here: a client that sent its FIN gets its first answer with Connection: close.
  const r = await rawExchange({ port, send: one + two + one, expectResponses: 3, timeoutMs: 10_000 });
  assert.is(r.responses.length, 3);
  const big = fs.readFileSync(path.join(dir, 'www', 'big.txt'), 'utf8');
  assert.is(decode(r.responses[0]!), big);
  assert.is(decode(r.responses[1]!), HTML);
  assert.is(decode(r.responses[2]!), big);
});

D('deflate.cache-dir: the first answer fills the cache, the next ones replay it with a Content-Length', async () => {
  const first = await get('/cached/big.txt', 'Accept-Encoding: gzip\r\n');
  assert.is(first.header('content-encoding'), 'gzip');
  const expected = TEXT.repeat(30);
  assert.is(decode(first), expected);
  const etag = first.header('etag')!;
  const name = path.join(dir, 'cache', dir, 'www', 'cached', `big.txt-${etag.slice(1, -1)}`);
  await waitFor(() => fs.existsSync(name), 5000, 20, `the cache file ${name}`);
  assert.equal(zlib.gunzipSync(fs.readFileSync(name)).toString(), expected);
  // Mark the cache file: the next answer must come from it.
  const marked = zlib.gzipSync('from the cache');
  fs.writeFileSync(name, marked);
  const second = await get('/cached/big.txt', 'Accept-Encoding: gzip\r\n');
  assert.is(second.header('content-length'), String(marked.length));
  assert.is(decode(second), 'from the cache');
  assert.is(second.header('etag'), etag);
  // No temporary files are left beside it.
  assert.equal(fs.readdirSync(path.dirname(name)).filter((f) => f.includes('.txt-') && !f.endsWith('-gzip')), []);
  // Another coding is another entry.
  const br = await get('/cached/big.txt', 'Accept-Encoding: br\r\n');
  assert.is(decode(br), expected);
  await waitFor(() => fs.existsSync(name.replace(/-gzip$/, '-br')), 5000, 20, 'the br cache file');
});

D('proxied: a backend response with Content-Length is compressed, its length dropped', async () => {
  const res = await get('/app/cl', 'Accept-Encoding: gzip\r\n');
  assert.is(res.status, 200);
  assert.is(res.header('content-encoding'), 'gzip');
  assert.is(res.header('vary'), 'Accept-Encoding');
  assert.is(decode(res), HTML);
  const v10 = await get('/app/cl', 'Accept-Encoding: br\r\n', { version: '1.0' });
  assert.is(decode(v10), HTML);
});

D('proxied: a backend ETag gets the coding too; If-None-Match with it is 304 for GET, 412 with no body for POST', async () => {
  const res = await get('/app/etag', 'Accept-Encoding: gzip\r\n');
  assert.is(res.header('etag'), '"v1-gzip"');
  assert.is(decode(res), HTML);
  const cond = await get('/app/etag', 'Accept-Encoding: gzip\r\nIf-None-Match: "v1-gzip"\r\n');
  assert.is(cond.status, 304);
  assert.is(cond.body.length, 0);
  const post = await get('/app/etag', 'Accept-Encoding: gzip\r\nIf-None-Match: "v1-gzip"\r\nContent-Length: 0\r\n', { method: 'POST' });
  assert.is(post.status, 412);
  assert.is(post.header('content-length'), '0');
  assert.is(post.header('content-encoding'), undefined);
  assert.is(post.body.length, 0);
});

D('proxied: Content-Encoding from the backend and Cache-Control: no-transform are left alone', async () => {
  const enc = await get('/app/encoded', gz);
  assert.is(enc.header('content-encoding'), 'br');
  assert.is(enc.body.toString(), HTML, 'the backend\'s bytes as they are');
  const nt = await get('/app/notransform', gz);
  assert.is(nt.header('content-encoding'), undefined);
  assert.is(nt.header('vary'), undefined);
  assert.is(nt.body.toString(), HTML);
});

/** The body bytes of a chunked response read so far (the head removed, chunk framing dropped). */
function dechunkPartial(bytes: Buffer): Buffer {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let pos = headEnd + 4;
  for (;;) {
    const eol = bytes.indexOf('\r\n', pos);
    if (eol < 0) break;
    const size = parseInt(bytes.toString('latin1', pos, eol), 16);
    if (!(size > 0) || eol + 2 + size > bytes.length) break;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

const gunzipPartial = (b: Buffer) => {
  try { return zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(); } catch { return ''; }
};

D('proxied and streamed (server.stream-response-body = 2): each piece is flushed to the client as it comes', async () => {
  const c = await connectRaw(port);
  try {
    await c.write('GET /app/stream/sync HTTP/1.1\r\nHost: example\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
    await c.readUntil(() => gunzipPartial(dechunkPartial(c.received)).includes('first piece'), 5000, 'the first piece, decompressible, before the backend sent the rest');
    releaseStream();
    assert.ok(await c.waitClose(5000));
    const res = parseResponses(c.received, 0, { end: 'closed' }).responses[0]!;
    assert.ok(res.complete);
    assert.is(res.header('content-encoding'), 'gzip');
    assert.is(decode(res), `first piece of a stream\n${'second piece\n'.repeat(50)}`);
  } finally {
    c.destroy();
  }
});

D('a slow client: lantern stops reading the backend instead of buffering the compressed body; then it all arrives', async () => {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  try {
    await withTimeout(new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); }), 5000, 'connect');
    socket.pause();
    socket.write('GET /app/big/x HTTP/1.1\r\nHost: example\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
    // Wait until the backend cannot send more (unchanged for a while), bounded.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(() => {
      if (bigSent !== last) { last = bigSent; stableSince = Date.now(); }
      return bigSent > 0 && Date.now() - stableSince > 500;
    }, 20_000, 50, 'the backend to be held back');
    assert.not.ok(bigDone, `the backend is held back (${bigSent} of ${BIG_BYTES} bytes out)`);
    // What is out sits in kernel socket buffers (a few MiB each way) and the compressor's own.
    assert.ok(bigSent < (BIG_BYTES * 3) / 4, `at most a bounded part of the body left the backend: ${bigSent}`);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.resume();
    await withTimeout(ended, 30_000, 'the whole response');
    const res = parseResponses(Buffer.concat(chunks), 0, { end: 'closed' }).responses[0]!;
    assert.ok(res.complete);
    assert.is(res.header('content-encoding'), 'gzip');
    assert.is(crypto.createHash('sha256').update(zlib.gunzipSync(res.body)).digest('hex'), BIG_SHA);
  } finally {
    socket.destroy();
  }
});

D('a client that goes away mid-body: the backend is let go, and lantern serves on', async () => {
  const socket = net.connect({ port, host: '127.0.0.1' });
  try {
    await withTimeout(new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); }), 5000, 'connect');
    socket.write('GET /app/big/x HTTP/1.1\r\nHost: example\r\nAccept-Encoding: br\r\n\r\n');
    await withTimeout(new Promise<void>((resolve) => socket.once('data', () => resolve())), 10_000, 'the first bytes');
    socket.destroy();
    await waitFor(() => bigClosed, 10_000, 20, 'the backend connection to be closed');
    assert.not.ok(bigDone, 'the backend did not have to send it all');
  } finally {
    socket.destroy();
  }
  const res = await get('/a.html', 'Accept-Encoding: gzip\r\n');
  assert.is(decode(res), HTML);
});

D('mod_compress (listed with mod_deflate) and the old compress.* keys work, with a warning per old key', async () => {
  const res = await get('/old/a.txt', 'Accept-Encoding: br, deflate\r\n');
  assert.is(res.header('content-encoding'), 'deflate', 'compress.allowed-encodings');
  assert.is(decode(res), TEXT);
  const html = await get('/old/a.html', gz);
  assert.is(html.header('content-encoding'), undefined, 'compress.filetype = ( "text/plain" )');
  assert.ok(fs.statSync(path.join(dir, 'oldcache')).isDirectory(), 'compress.cache-dir is made at start');
  const conf = path.join(dir, 'lighttpd.conf');
  assert.match(proc!.stderr, `${conf}:11: DEPRECATED: compress.filetype replaced with deflate.mimetypes`);
  assert.match(proc!.stderr, `${conf}:13: DEPRECATED: compress.cache-dir replaced with deflate.cache-dir`);
});

D('bad config stops the start with the file, line and key', async () => {
  // One start (each costs seconds); the other checks are unit tests of the option checks.
  const cases: Array<[string, RegExp]> = [
    ['deflate.compression-level = 12', /lighttpd\.conf:3: deflate\.compression-level: compression-level must be between 1 and 9/],
  ];
  const d3 = makeTempDir('deflate-bad');
  try {
    for (const [line, re] of cases) {
      const conf = path.join(d3, 'lighttpd.conf');
      fs.writeFileSync(conf, `server.document-root = "${d3}"\nserver.modules = ( "mod_deflate" )\n${line}\n`);
      const r = await runLantern(['-t', '-f', conf], { cwd: d3 });
      assert.is.not(r.code, 0, line);
      assert.match(r.stderr, re, line);
      assert.not.match(r.stderr, STACK_LINE, line);
    }
  } finally {
    removeDir(d3);
  }
});

D.run();

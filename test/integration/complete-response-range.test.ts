// Integration tests of Range on complete responses (core/request.ts end(), core/http1/range.ts),
// as lighttpd 1.4's http_range_rfc7233 answers every complete 200 to an HTTP/1.1 GET or HEAD
// when server.range-requests is enabled: an SSI page, a directory listing and CGI answers, served
// from a lighttpd.conf; and the framing of CGI answers (plugins/proxy-core/response-relay.ts): one
// that ends before its head has to go out has Content-Length, one that goes on streams.
// The CGI tests report themselves skipped when perl is not installed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { connectRaw, type RawResponse } from '../helpers/raw-client.js';
import { skipUnless, which } from '../helpers/wait.js';

const R = suite('complete-response-range');
const PERL = which('perl');
const perl = skipUnless(R, PERL !== null, 'perl not installed');

/** A script that prints its answer and closes its output: the answer is complete at once. */
const PL = (body: string) => `#!${PERL ?? '/usr/bin/perl'}\nuse strict; use warnings; $| = 1;\n${body}\nclose STDOUT;\n`;

const PAGE = 'A'.repeat(100) + '<!--#echo var="DOCUMENT_URI" -->' + 'B'.repeat(100) + '\n';
/** PAGE as mod_ssi renders it. */
const RENDERED = 'A'.repeat(100) + '/page.shtml' + 'B'.repeat(100) + '\n';
const CGI_BODY = 'abcdefghijklmnopqrstuvwxyz0123456789\n';

const FILES: Record<string, string> = {
  'www/page.shtml': PAGE,
  'www/norange/page.shtml': PAGE,
  'www/cond/page.shtml': PAGE,
  'www/listed/one.txt': 'one\n',
  'www/cgi/whole.pl': PL(`print "Content-Type: text/plain\\r\\n\\r\\n${CGI_BODY.replace('\n', '\\n')}";`),
  'www/cgi/etag.pl': PL(`print "Content-Type: text/plain\\r\\nETag: \\"v1\\"\\r\\n\\r\\n${CGI_BODY.replace('\n', '\\n')}";`),
  'www/cgi/encoded.pl': PL(`print "Content-Type: text/plain\\r\\nContent-Encoding: x-test\\r\\n\\r\\n${CGI_BODY.replace('\n', '\\n')}";`),
  'www/cgi/none.pl': PL(`print "Content-Type: text/plain\\r\\nAccept-Ranges: none\\r\\n\\r\\n${CGI_BODY.replace('\n', '\\n')}";`),
  'www/cgi/stream.pl': `#!${PERL ?? '/usr/bin/perl'}\n$| = 1;\nprint "Content-Type: text/plain\\r\\n\\r\\nfirst part\\n";\nselect(undef, undef, undef, 0.3);\nprint "second part\\n";\n`,
};

let server: LighttpdConfigServer | undefined;

R.before(async () => {
  server = await startLighttpdConfig((d) => `
server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
server.modules = ( "mod_dirlisting", "mod_ssi", "mod_cgi" )
mimetype.assign = ( ".txt" => "text/plain" )
ssi.extension = ( ".shtml" )
$HTTP["url"] =^ "/listed/" { dir-listing.activate = "enable" }
$HTTP["url"] =^ "/norange/" { server.range-requests = "disable" }
$HTTP["url"] =^ "/cond/" { ssi.conditional-requests = "enable" }
$HTTP["url"] =^ "/cgi/" { cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" ) }
`, { prefix: 'complete-range', files: FILES });
});

R.after(async () => {
  await server?.stop();
});

const get = (target: string, extra = '', method = 'GET') => `${method} ${target} HTTP/1.1\r\nHost: range.test\r\n${extra}\r\n`;
const request = (send: string, head = false) => server!.request(send, { headRequests: [head] });

/** The parts of a multipart/byteranges body: each part's fields and bytes. */
function multipartParts(res: RawResponse): Array<{ fields: string; body: string }> {
  const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(res.header('content-type') ?? '')?.[1];
  assert.ok(boundary, `a multipart/byteranges type: ${res.header('content-type')}`);
  const text = res.body.toString('latin1');
  assert.ok(text.startsWith(`--${boundary}\r\n`), 'the body starts with the first delimiter (lighttpd)');
  assert.ok(text.endsWith(`\r\n--${boundary}--\r\n`), 'the body ends with the closing delimiter');
  return text.slice(0, -`\r\n--${boundary}--\r\n`.length).split(`--${boundary}\r\n`).slice(1).map((part) => {
    const at = part.indexOf('\r\n\r\n');
    return { fields: part.slice(0, at), body: part.slice(at + 4).replace(/\r\n$/, '') };
  });
}

R('an SSI page: 200 with Accept-Ranges: bytes and its length', async () => {
  const res = await request(get('/page.shtml'));
  assert.is(res.status, 200);
  assert.is(res.header('accept-ranges'), 'bytes');
  assert.is(res.header('content-length'), String(RENDERED.length));
  assert.is(res.body.toString(), RENDERED);
});

R('an SSI page, one range: 206 with Content-Range and those bytes', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=98-112\r\n'));
  assert.is(res.status, 206);
  assert.is(res.header('content-range'), `bytes 98-112/${RENDERED.length}`);
  assert.is(res.header('content-length'), '15');
  assert.is(res.header('accept-ranges'), 'bytes');
  assert.is(res.header('content-type'), 'text/html');
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.body.toString(), RENDERED.slice(98, 113));
});

R('an SSI page, a suffix range', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=-5\r\n'));
  assert.is(res.status, 206);
  assert.is(res.header('content-range'), `bytes ${RENDERED.length - 5}-${RENDERED.length - 1}/${RENDERED.length}`);
  assert.is(res.body.toString(), RENDERED.slice(-5));
});

R('an SSI page, several ranges: multipart/byteranges in the client\'s order, exact Content-Length', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=200-204, 0-3\r\n'));
  assert.is(res.status, 206);
  assert.is(res.header('content-range'), undefined);
  assert.is(res.header('content-length'), String(res.body.length));
  const parts = multipartParts(res);
  assert.equal(parts, [
    { fields: `Content-Type: text/html\r\nContent-Range: bytes 200-204/${RENDERED.length}`, body: RENDERED.slice(200, 205) },
    { fields: `Content-Type: text/html\r\nContent-Range: bytes 0-3/${RENDERED.length}`, body: RENDERED.slice(0, 4) },
  ]);
});

R('an SSI page, an unsatisfiable range: 416, the plain error page', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=5000-\r\n'));
  assert.is(res.status, 416);
  assert.is(res.header('content-type'), 'text/html');
  assert.is(res.header('content-range'), undefined);
  assert.match(res.body.toString(), /416 Range Not Satisfiable/);
});

R('another unit than bytes is ignored: 200, the whole page', async () => {
  const res = await request(get('/page.shtml', 'Range: items=0-1\r\n'));
  assert.is(res.status, 200);
  assert.is(res.body.toString(), RENDERED);
});

R('If-Range: the page\'s ETag or Last-Modified gives 206, another validator the whole page (200)', async () => {
  const full = await request(get('/cond/page.shtml'));
  const etag = full.header('etag');
  const lastModified = full.header('last-modified');
  assert.ok(etag !== undefined && lastModified !== undefined, 'ssi.conditional-requests sends validators');
  const byTag = await request(get('/cond/page.shtml', `Range: bytes=0-1\r\nIf-Range: ${etag}\r\n`));
  assert.is(byTag.status, 206);
  assert.is(byTag.body.toString(), 'AA');
  const byDate = await request(get('/cond/page.shtml', `Range: bytes=0-1\r\nIf-Range: ${lastModified}\r\n`));
  assert.is(byDate.status, 206);
  const otherTag = await request(get('/cond/page.shtml', 'Range: bytes=0-1\r\nIf-Range: "not-it"\r\n'));
  assert.is(otherTag.status, 200);
  assert.is(otherTag.body.toString(), RENDERED.replace('/page.shtml', '/cond/page.shtml'));
  const otherDate = await request(get('/cond/page.shtml', 'Range: bytes=0-1\r\nIf-Range: Mon, 01 Jan 2001 00:00:00 GMT\r\n'));
  assert.is(otherDate.status, 200);
  assert.is(otherDate.header('accept-ranges'), 'bytes');
});

R('HEAD: Accept-Ranges and the length, a Range ignored', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=0-1\r\n', 'HEAD'), true);
  assert.is(res.status, 200);
  assert.is(res.header('accept-ranges'), 'bytes');
  assert.is(res.header('content-length'), String(RENDERED.length));
  assert.is(res.header('content-range'), undefined);
  assert.is(res.body.length, 0);
});

R('HTTP/1.0: no Accept-Ranges, a Range ignored (lighttpd)', async () => {
  const res = await request('GET /page.shtml HTTP/1.0\r\nRange: bytes=0-1\r\n\r\n');
  assert.is(res.status, 200);
  assert.is(res.header('accept-ranges'), undefined);
  assert.is(res.body.toString(), RENDERED);
});

R('server.range-requests = "disable": no Accept-Ranges, a Range ignored', async () => {
  const res = await request(get('/norange/page.shtml', 'Range: bytes=0-1\r\n'));
  assert.is(res.status, 200);
  assert.is(res.header('accept-ranges'), undefined);
  assert.is(res.body.toString(), RENDERED.replace('/page.shtml', '/norange/page.shtml'));
});

R('another method than GET or HEAD: no Accept-Ranges, a Range ignored', async () => {
  const res = await request(get('/page.shtml', 'Range: bytes=0-1\r\nContent-Length: 0\r\n', 'POST'));
  assert.is(res.status, 200);
  assert.is(res.header('accept-ranges'), undefined);
  assert.is(res.body.toString(), RENDERED);
});

R('a directory listing: Accept-Ranges, and a range of the page', async () => {
  const full = await request(get('/listed/'));
  assert.is(full.status, 200);
  assert.is(full.header('accept-ranges'), 'bytes');
  const part = await request(get('/listed/', 'Range: bytes=10-29\r\n'));
  assert.is(part.status, 206);
  assert.is(part.header('content-range'), `bytes 10-29/${full.body.length}`);
  assert.is(part.body.toString('latin1'), full.body.toString('latin1').slice(10, 30));
});

perl('a complete CGI answer: Content-Length, not chunked, Accept-Ranges', async () => {
  const res = await request(get('/cgi/whole.pl'));
  assert.is(res.status, 200);
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.header('content-length'), String(CGI_BODY.length));
  assert.is(res.header('accept-ranges'), 'bytes');
  assert.is(res.body.toString(), CGI_BODY);
});

perl('a complete CGI answer, HEAD: Content-Length of the body a GET gets', async () => {
  const res = await request(get('/cgi/whole.pl', '', 'HEAD'), true);
  assert.is(res.status, 200);
  assert.is(res.header('transfer-encoding'), undefined);
  assert.is(res.header('content-length'), String(CGI_BODY.length));
  assert.is(res.header('accept-ranges'), 'bytes');
});

perl('a complete CGI answer, HTTP/1.0: Content-Length, no Accept-Ranges', async () => {
  const res = await request('GET /cgi/whole.pl HTTP/1.0\r\nRange: bytes=0-1\r\n\r\n');
  assert.is(res.status, 200);
  assert.is(res.header('content-length'), String(CGI_BODY.length));
  assert.is(res.header('accept-ranges'), undefined);
  assert.is(res.body.toString(), CGI_BODY);
});

perl('a complete CGI answer, one range and several', async () => {
  const one = await request(get('/cgi/whole.pl', 'Range: bytes=3-5\r\n'));
  assert.is(one.status, 206);
  assert.is(one.header('content-range'), `bytes 3-5/${CGI_BODY.length}`);
  assert.is(one.body.toString(), 'def');
  const unsatisfiable = await request(get('/cgi/whole.pl', 'Range: bytes=100-\r\n'));
  assert.is(unsatisfiable.status, 416);
});

perl('a CGI answer with its own ETag: If-Range compares with it', async () => {
  const match = await request(get('/cgi/etag.pl', 'Range: bytes=0-2\r\nIf-Range: "v1"\r\n'));
  assert.is(match.status, 206);
  assert.is(match.body.toString(), 'abc');
  const other = await request(get('/cgi/etag.pl', 'Range: bytes=0-2\r\nIf-Range: "v2"\r\n'));
  assert.is(other.status, 200);
  assert.is(other.body.toString(), CGI_BODY);
});

perl('a CGI answer with a Content-Encoding or Accept-Ranges: none: the Range is ignored', async () => {
  const encoded = await request(get('/cgi/encoded.pl', 'Range: bytes=0-2\r\n'));
  assert.is(encoded.status, 200);
  assert.is(encoded.header('accept-ranges'), undefined);
  assert.is(encoded.body.toString(), CGI_BODY);
  const none = await request(get('/cgi/none.pl', 'Range: bytes=0-2\r\n'));
  assert.is(none.status, 200);
  assert.is(none.header('accept-ranges'), 'none');
  assert.is(none.body.toString(), CGI_BODY);
});

perl('a CGI that streams: its first part reaches the client before the script ends, chunked', async () => {
  const client = await connectRaw(server!.port);
  try {
    await client.write(get('/cgi/stream.pl'));
    const first = await client.readUntil((b) => b.includes('first part'), 10_000, 'the first part');
    const text = first.toString('latin1');
    assert.not.match(text, /second part/, 'the first part came alone');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nTransfer-Encoding: chunked\r\n/i);
    assert.not.match(text, /\r\nContent-Length:/i);
    assert.not.match(text, /\r\nAccept-Ranges:/i);
    const rest = await client.readUntil((b) => b.includes('0\r\n\r\n'), 10_000, 'the end of the answer');
    assert.match(rest.toString('latin1'), /second part/);
  } finally {
    client.destroy();
  }
});

R.run();

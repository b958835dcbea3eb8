// mod_secdownload from the smallest lighttpd config that names it, run as a harness runs lighttpd
// (`lantern -D -f lighttpd.conf`, the listening socket inherited as fd 3). Tokens are made here
// with node:crypto as lighttpd's docs make them (PHP: md5($secret . $f . $hex_time)): md5,
// hmac-sha1, hmac-sha256, hash-querystr, path-segments; 403 for a bad token, 410 Gone for an
// expired or future timestamp, a URL of another shape left to the rest (404), no climbing out of
// secdownload.document-root, 500 when the secret is missing, HTTP/1.0 and HTTP/1.1 clients.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';

const T = suite('mod_secdownload');
const SECRET = 'verysecret';

let server: LighttpdConfigServer | undefined;
let dir = '';
let proc: LanternProcess | undefined;

const CGI_SCRIPT = [
  "printf 'Content-Type: text/plain\\r\\n\\r\\n'",
  'printf "DOCUMENT_ROOT=%s\\nSCRIPT_FILENAME=%s\\n" "$DOCUMENT_ROOT" "$SCRIPT_FILENAME"',
  '',
].join('\n');

T.before(async () => {
  server = await startLighttpdConfig((d) => `
server.document-root = "${d}/htdocs"
server.modules = ( "mod_secdownload", "mod_cgi" )
mimetype.assign = ( ".txt" => "text/plain" )
secdownload.secret = "${SECRET}"
secdownload.document-root = "${d}/protected/"
secdownload.uri-prefix = "/dl/"
secdownload.timeout = 120
secdownload.algorithm = "md5"
cgi.assign = ( ".sh" => "/bin/sh" )
$HTTP["host"] == "sha1.test" { secdownload.algorithm = "hmac-sha1" }
$HTTP["host"] == "sha256.test" {
  secdownload.algorithm = "hmac-sha256"
  secdownload.hash-querystr = "enable"
}
$HTTP["host"] == "segments.test" {
  secdownload.algorithm = "hmac-sha256"
  secdownload.path-segments = 1
}
$HTTP["host"] == "nosecret.test" { secdownload.secret = "" }
$HTTP["host"] == "debug.test" { debug.log-request-handling = "enable" }
`, {
    prefix: 'secdownload',
    files: {
      'htdocs/index.html': 'public index',
      'htdocs/f.txt': 'public f',
      'protected/f.txt': 'protected f',
      'protected/album/a.txt': 'album a',
      'protected/album/b.txt': 'album b',
      'protected/other/a.txt': 'other a',
      'protected/env.sh': CGI_SCRIPT,
      'secret.txt': 'outside every root',
    },
  });
  ({ dir, proc } = server);
});

T.after(async () => {
  await server?.stop();
});

async function get(target: string, host = 'md5.test', version: '1.0' | '1.1' = '1.1'): Promise<RawResponse> {
  const res = await server!.request(`GET ${target} HTTP/${version}\r\nHost: ${host}\r\n\r\n`);
  assert.is(res.version, `HTTP/${version}`);
  return res;
}

const hexTime = (offsetSecs = 0) => Math.floor(Date.now() / 1000 + offsetSecs).toString(16);

/** The documented PHP: '/dl/' . md5($secret . $f . $t) . '/' . $t . $f */
function md5Url(f: string, t = hexTime()): string {
  return `/dl/${crypto.createHash('md5').update(SECRET + f + t).digest('hex')}/${t}${f}`;
}

/** base64url(HMAC(secret, "/" . $t . $f [. "?" . $query])) */
function hmacUrl(hash: 'sha1' | 'sha256', f: string, opts: { t?: string; signed?: string; query?: string } = {}): string {
  const t = opts.t ?? hexTime();
  const signed = opts.signed ?? `/${t}${f}${opts.query ? `?${opts.query}` : ''}`;
  const mac = crypto.createHmac(hash, SECRET).update(signed).digest('base64url');
  return `/dl/${mac}/${t}${f}${opts.query ? `?${opts.query}` : ''}`;
}

T('md5: a valid URL serves the file from secdownload.document-root, to HTTP/1.1 and HTTP/1.0', async () => {
  for (const version of ['1.1', '1.0'] as const) {
    const res = await get(md5Url('/f.txt'), 'md5.test', version);
    assert.is(res.status, 200, version);
    assert.is(res.body.toString(), 'protected f');
    assert.is(res.header('content-type'), 'text/plain');
  }
  assert.is((await get('/f.txt')).body.toString(), 'public f', 'the rest of the site keeps server.document-root');
});

T('hmac-sha1 and hmac-sha256 tokens', async () => {
  const sha1 = await get(hmacUrl('sha1', '/album/a.txt'), 'sha1.test');
  assert.is(sha1.status, 200);
  assert.is(sha1.body.toString(), 'album a');
  const sha256 = await get(hmacUrl('sha256', '/album/b.txt'), 'sha256.test');
  assert.is(sha256.status, 200);
  assert.is(sha256.body.toString(), 'album b');
  // A token of one algorithm is not one of another (its length differs: the URL is not secure-shaped).
  assert.is((await get(hmacUrl('sha1', '/f.txt'), 'sha256.test')).status, 404);
});

T('a bad token → 403: another path, another secret, one character changed', async () => {
  const t = hexTime();
  const good = md5Url('/f.txt', t);
  const mac = good.split('/')[2]!;
  assert.is((await get(`/dl/${mac}/${t}/album/a.txt`)).status, 403, 'another path');
  const otherSecret = crypto.createHash('md5').update('guess' + '/f.txt' + t).digest('hex');
  assert.is((await get(`/dl/${otherSecret}/${t}/f.txt`)).status, 403, 'another secret');
  const flipped = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
  const res = await get(`/dl/${flipped}/${t}/f.txt`, 'md5.test', '1.0');
  assert.is(res.status, 403);
  assert.not.match(res.body.toString(), /protected f/);
  const notHex = 'g'.repeat(32);
  assert.is((await get(`/dl/${notHex}/${t}/f.txt`)).status, 403, 'base64url but not hex for md5');
});

T('an expired or future timestamp → 410 Gone, checked before the token (as lighttpd)', async () => {
  assert.is((await get(md5Url('/f.txt', hexTime(-1800)))).status, 410);
  assert.is((await get(md5Url('/f.txt', hexTime(+1800)))).status, 410);
  assert.is((await get(hmacUrl('sha256', '/f.txt', { t: hexTime(-1800) }), 'sha256.test', '1.0')).status, 410);
  assert.is((await get(`/dl/${'0'.repeat(32)}/${hexTime(-1800)}/f.txt`)).status, 410);
  // Within the window either way.
  assert.is((await get(md5Url('/f.txt', hexTime(-60)))).status, 200);
  assert.is((await get(md5Url('/f.txt', hexTime(+60)))).status, 200);
});

T('a URL of another shape under the prefix is left to the rest of the server (404 here)', async () => {
  const t = hexTime();
  const mac = md5Url('/f.txt', t).split('/')[2]!;
  for (const target of ['/dl/f.txt', '/dl/', `/dl/${mac}`, `/dl/${mac}/${t}`, `/dl/${mac}/xyz/f.txt`, `/dl/${mac.slice(1)}/${t}/f.txt`, `/dl/${mac}/${'1'.repeat(17)}/f.txt`]) {
    assert.is((await get(target)).status, 404, target);
  }
});

T('hash-querystr: the query is signed; another query or none → 403', async () => {
  const t = hexTime();
  const url = hmacUrl('sha256', '/f.txt', { t, query: 'user=7' });
  assert.is((await get(url, 'sha256.test')).status, 200);
  assert.is((await get(url.replace('user=7', 'user=8'), 'sha256.test')).status, 403);
  assert.is((await get(url.replace('?user=7', ''), 'sha256.test')).status, 403);
  // Without a query the path alone is signed.
  assert.is((await get(hmacUrl('sha256', '/f.txt', { t }), 'sha256.test')).status, 200);
});

T('path-segments = 1: one token opens every file below the first segment, nothing else', async () => {
  const t = hexTime();
  const mac = crypto.createHmac('sha256', SECRET).update(`/${t}/album`).digest('base64url');
  const a = await get(`/dl/${mac}/${t}/album/a.txt`, 'segments.test');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'album a');
  assert.is((await get(`/dl/${mac}/${t}/album/b.txt`, 'segments.test')).body.toString(), 'album b');
  assert.is((await get(`/dl/${mac}/${t}/other/a.txt`, 'segments.test')).status, 403);
});

T('no climbing out of secdownload.document-root: dot segments are resolved before the check', async () => {
  const t = hexTime();
  for (const rel of ['/../secret.txt', '/%2e%2e/secret.txt', '/album/../../secret.txt']) {
    // Signed as the client sent it: the server signs and serves the normalised path only.
    const mac = crypto.createHash('md5').update(SECRET + rel + t).digest('hex');
    const res = await get(`/dl/${mac}/${t}${rel}`);
    assert.ok(res.status === 403 || res.status === 404, `${rel}: ${res.status}`);
    assert.not.match(res.body.toString(), /outside every root/, rel);
  }
});

T('a CGI script under the prefix sees secdownload.document-root', async () => {
  const res = await get(md5Url('/env.sh'));
  assert.is(res.status, 200);
  assert.match(res.body.toString(), `DOCUMENT_ROOT=${dir}/protected/\n`);
  assert.match(res.body.toString(), `SCRIPT_FILENAME=${dir}/protected/env.sh\n`);
});

T('without a secret: 500 under the prefix and an error-log line; the rest of the site is served', async () => {
  const res = await get(md5Url('/f.txt'), 'nosecret.test');
  assert.is(res.status, 500);
  assert.not.match(res.body.toString(), /protected f/);
  assert.not.match(res.body.toString(), STACK_LINE);
  await proc!.waitOutput('stderr', /secdownload.*secdownload\.secret has to be set/, 5000);
  assert.is((await get('/f.txt', 'nosecret.test')).body.toString(), 'public f');
});

T('debug.log-request-handling logs an invalid token', async () => {
  const t = hexTime();
  await get(`/dl/${'0'.repeat(32)}/${t}/f.txt`, 'debug.test');
  await proc!.waitOutput('stderr', new RegExp(`mac invalid: /dl/0{32}/${t}/f\\.txt`), 5000);
  assert.not.match(proc!.stderr, STACK_LINE);
});

T('a bad value stops the start with file:line and the key', async () => {
  const conf = path.join(dir, 'bad.conf');
  fs.writeFileSync(conf, `server.document-root = "${dir}/htdocs"\nserver.modules = ( "mod_secdownload" )\nsecdownload.uri-prefix = "/dl/"\nsecdownload.algorithm = "sha512"\n`);
  const r = await runLantern(['-t', '-f', conf], { cwd: dir });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /bad\.conf:4: secdownload\.algorithm: expected one of "md5", "hmac-sha1", "hmac-sha256", got "sha512"/);
  assert.not.match(r.stderr, STACK_LINE);
});

T.run();

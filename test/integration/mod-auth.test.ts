// Integration tests of plugins/auth and plugins/authn-file (lighttpd 1.4.69 mod_auth and
// mod_authn_file) from the smallest lighttpd config: server.modules = ( "mod_auth" ) alone, the
// file backend loaded as lighttpd does. Password files are made by Apache's htpasswd and
// htdigest (apache2-utils), never by lantern; Digest answers are computed here with node:crypto.
// Covers Basic over every htpasswd hash, Digest MD5/SHA-256/-sess with qop=auth, stale and
// forged nonces, require rules, malformed headers (400), a missing password file (500, named in
// the error log), files changed while running, auth.cache, auth.require inside a condition,
// REMOTE_USER/AUTH_TYPE in a perl CGI script's environment and in the access log's %u, and bad
// config refused at start with file:line and the key.
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which } from '../helpers/wait.js';

const A = suite('mod-auth');
const TOOLS = which('htpasswd') !== null && which('htdigest') !== null;
const PERL = which('perl');
const test = skipUnless(A, TOOLS, 'htpasswd or htdigest (apache2-utils) not installed');
const perl = skipUnless(A, TOOLS && PERL !== null, 'perl or apache2-utils not installed');

/** Users of the htpasswd file, one per hash format htpasswd writes: [user, password, htpasswd flag]. */
const HTPASSWD_USERS: Array<[string, string, string]> = [
  ['alice', 'wonder land', '-B'], // bcrypt
  ['bob', 'hunter2', '-m'], // $apr1$
  ['carol', 'pässwörd', '-5'], // SHA-512 crypt
  ['dave', 'sha1pw', '-s'], // {SHA}
  ['erin', 'des8char', '-d'], // DES crypt
  ['frank', 'sha256pw', '-2'], // SHA-256 crypt
];

let server: LighttpdConfigServer | undefined;
let proc: LanternProcess | null = null;
/** The -tt runs of the last test, started in `before` so that they overlap the server's start. */
let configChecks: Promise<Array<{ code: number | null; out: string; file: string }>> | null = null;
let dir = '';

const htpasswd = (file: string, user: string, password: string, flag: string, create = false) =>
  execFileSync('htpasswd', [create ? '-cb' : '-b', flag, file, user, password], { stdio: 'ignore' });
const htdigest = (file: string, realm: string, user: string, password: string, create = false) =>
  execFileSync('htdigest', create ? ['-c', file, realm, user] : [file, realm, user], { input: `${password}\n${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });

const PL = (body: string) => `#!${PERL ?? '/usr/bin/perl'}\nuse strict; use warnings; $| = 1;\n${body}\n`;

function config(d: string): string {
  return `server.modules = ( "mod_auth", "mod_cgi", "mod_accesslog" )
server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
accesslog.filename = "${d}/access.log"
accesslog.format = "%u %>s %U"
cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" )
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "${d}/htpasswd"
auth.backend.htdigest.userfile = "${d}/htdigest"
auth.backend.plain.userfile = "${d}/plain"
auth.require = ( "/basic/" => ( "method" => "basic", "realm" => "Basic Realm", "require" => "valid-user" ),
                 "/users/" => ( "method" => "basic", "realm" => "Users", "require" => "user=alice|user=carol" ),
                 "/cgi/" => ( "method" => "basic", "realm" => "CGI", "require" => "valid-user" ),
                 "/digest/" => ( "method" => "digest", "realm" => "Digest Realm", "require" => "valid-user" ),
                 "/hdbasic/" => ( "method" => "basic", "realm" => "Digest Realm", "require" => "valid-user" ),
                 "/sha/" => ( "method" => "digest", "realm" => "SHA Realm", "require" => "user=zoe", "algorithm" => "SHA-256|MD5", "nonce-secret" => "s3cret" ),
                 "/ext/" => ( "method" => "extern", "realm" => "ext", "require" => "valid-user" ),
                 "/missing/" => ( "method" => "basic", "realm" => "M", "require" => "valid-user" ),
                 "/cached/" => ( "method" => "basic", "realm" => "C", "require" => "valid-user" ),
                 "/changing/" => ( "method" => "basic", "realm" => "Ch", "require" => "valid-user" ) )
$HTTP["url"] =^ "/digest/" { auth.backend = "htdigest" }
$HTTP["url"] =^ "/hdbasic/" { auth.backend = "htdigest" }
$HTTP["url"] =^ "/sha/" { auth.backend = "plain" }
$HTTP["url"] =^ "/missing/" { auth.backend.htpasswd.userfile = "${d}/no-such-dir/htpasswd" }
$HTTP["url"] =^ "/cached/" {
  auth.backend.htpasswd.userfile = "${d}/htpasswd-cached"
  auth.cache = ( "max-age" => "600" )
}
$HTTP["url"] =^ "/changing/" { auth.backend.htpasswd.userfile = "${d}/htpasswd-changing" }
$HTTP["host"] == "private.test" {
  auth.require = ( "/" => ( "method" => "basic", "realm" => "Private", "require" => "user=bob" ) )
}
`;
}

A.before(async () => {
  if (!TOOLS) return;
  configChecks = Promise.all([
    checkConfig('server.modules = ( "mod_auth" )\nauth.backend = "plain"\nauth.require = ( "/" => ( "method" => "basic", "require" => "valid-user" ) )\n'),
    checkConfig('server.modules = ( "mod_auth" )\n\nauth.backend = "ldap"\n'),
    checkConfig('server.modules = ( "mod_authn_file" )\nauth.backend = "plain"\nauth.backend.plain.userfile = "pw"\nauth.require = ( "/" => ( "method" => "digest", "realm" => "r", "require" => "valid-user" ) )\n'),
  ]);
  configChecks.catch(() => {}); // awaited by its test
  const files: Record<string, string> = {
    'www/open.html': 'open\n',
    'plain': 'zoe:zebra stripes\n# a comment\nyan:yak\n',
  };
  for (const p of ['basic', 'users', 'digest', 'hdbasic', 'sha', 'ext', 'missing', 'cached', 'changing']) files[`www/${p}/index.html`] = `${p} page\n`;
  files['www/cgi/env.pl'] = PL('print "Content-Type: text/plain\\r\\n\\r\\n"; print "$_=", ($ENV{$_} // "(unset)"), "\\n" for qw(REMOTE_USER AUTH_TYPE);');
  server = await startLighttpdConfig(config, {
    prefix: 'mod-auth',
    files,
    prepare(d) {
      fs.chmodSync(path.join(d, 'www/cgi/env.pl'), 0o755);
      const pw = path.join(d, 'htpasswd');
      HTPASSWD_USERS.forEach(([user, password, flag], i) => htpasswd(pw, user, password, flag, i === 0));
      htdigest(path.join(d, 'htdigest'), 'Digest Realm', 'dan', 'digest pw', true);
      htdigest(path.join(d, 'htdigest'), 'Other Realm', 'dan', 'other pw');
      htpasswd(path.join(d, 'htpasswd-cached'), 'kim', 'first', '-m', true);
      htpasswd(path.join(d, 'htpasswd-changing'), 'lee', 'before', '-m', true);
    },
  });
  ({ dir, proc } = server);
});

A.after(async () => {
  await server?.stop();
});

async function request(head: string, isHead = false): Promise<RawResponse> {
  return server!.request(head, { headRequests: [isHead] });
}
const basic = (user: string, password: string) => `Authorization: Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}\r\n`;
const get11 = (target: string, extra = '', host = 'auth.test') => request(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`);
const get10 = (target: string, extra = '') => request(`GET ${target} HTTP/1.0\r\n${extra}\r\n`);
const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');

/** The auth-params of each `WWW-Authenticate: Digest ...` field of a response. */
function digestChallenges(res: RawResponse): Array<Record<string, string>> {
  return res.headerAll('www-authenticate').filter((v) => v.startsWith('Digest ')).map((v) => {
    const out: Record<string, string> = {};
    for (const m of v.slice(7).matchAll(/([a-z]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) out[m[1]!] = m[2] ?? m[3]!;
    return out;
  });
}

interface DigestClient {
  user: string; password: string; realm: string; nonce: string; uri: string; method?: string;
  algorithm?: 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess'; qop?: string | null; cnonce?: string; nc?: string;
}

/** The Authorization field a Digest client sends (RFC 7616 §3.4.1), computed here. */
function digestAuthorization(c: DigestClient): string {
  const algorithm = c.algorithm ?? 'MD5';
  const h = (s: string) => createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(s, 'utf8').digest('hex');
  const cnonce = c.cnonce ?? 'f2b4c6d8e0a1';
  const nc = c.nc ?? '00000001';
  const qop = c.qop === undefined ? 'auth' : c.qop;
  let ha1 = h(`${c.user}:${c.realm}:${c.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = h(`${c.method ?? 'GET'}:${c.uri}`);
  const response = qop === null ? h(`${ha1}:${c.nonce}:${ha2}`) : h(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  const fields = [`username="${c.user}"`, `realm="${c.realm}"`, `nonce="${c.nonce}"`, `uri="${c.uri}"`, `algorithm=${algorithm}`, `response="${response}"`];
  if (qop !== null) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Authorization: Digest ${fields.join(', ')}\r\n`;
}

/** A fresh challenge from `target`, and its first Digest challenge's params. */
async function challenge(target: string): Promise<{ res: RawResponse; params: Array<Record<string, string>> }> {
  const res = await get11(target);
  assert.is(res.status, 401);
  return { res, params: digestChallenges(res) };
}

test('no credentials: 401 with lighttpd\'s Basic challenge, to HTTP/1.1 and HTTP/1.0 clients; open paths need none', async () => {
  for (const res of [await get11('/basic/'), await get10('/basic/')]) {
    assert.is(res.status, 401);
    assert.equal(res.headerAll('www-authenticate'), ['Basic realm="Basic Realm", charset="UTF-8"']);
    assert.is(res.header('content-type'), 'text/html');
    assert.match(res.body.toString(), /401/);
  }
  assert.is((await get10('/basic/')).version, 'HTTP/1.0');
  const open = await get11('/open.html');
  assert.is(open.status, 200);
  assert.is(open.body.toString(), 'open\n');
  const head = await request('HEAD /basic/ HTTP/1.1\r\nHost: a\r\n\r\n', true);
  assert.is(head.status, 401);
  assert.is(head.body.length, 0);
});

test('Basic: every htpasswd hash format (bcrypt, apr1, SHA-512/256 crypt, SHA-1, DES) lets its user in', async () => {
  for (const [user, password] of HTPASSWD_USERS) {
    const res = await get11('/basic/', basic(user, password));
    assert.is(res.status, 200, `${user} (${password})`);
    assert.is(res.body.toString(), 'basic page\n');
  }
  const r10 = await get10('/basic/', basic('bob', 'hunter2'));
  assert.is(r10.status, 200);
  assert.is(r10.version, 'HTTP/1.0');
});

test('Basic: a wrong password or an unknown user gets 401 with the challenge, and the connection closes', async () => {
  for (const [user, password] of [['alice', 'wrong'], ['bob', 'hunter2 '], ['erin', 'des8chaX'], ['nobody', 'x'], ['', '']]) {
    const res = await get11('/basic/', basic(user!, password!));
    assert.is(res.status, 401, `${user}:${password}`);
    assert.is(res.header('www-authenticate'), 'Basic realm="Basic Realm", charset="UTF-8"');
    assert.is(res.header('connection'), 'close');
  }
  assert.match(errorLog(), /password doesn't match for \/basic\/ username: nobody IP: 127\.0\.0\.1/);
});

test('Basic: require user=alice|user=carol lets them in and refuses bob (401, as lighttpd)', async () => {
  assert.is((await get11('/users/', basic('alice', 'wonder land'))).status, 200);
  assert.is((await get11('/users/', basic('carol', 'pässwörd'))).status, 200, 'a UTF-8 password');
  const bob = await get11('/users/', basic('bob', 'hunter2'));
  assert.is(bob.status, 401);
  assert.is(bob.header('www-authenticate'), 'Basic realm="Users", charset="UTF-8"');
  assert.match(errorLog(), /user bob is not allowed/);
});

test('Basic: malformed credentials get 400, another scheme gets the challenge, never a crash', async () => {
  const bad = [
    'Authorization: Basic !!!!\r\n',
    `Authorization: Basic ${Buffer.from('no-colon').toString('base64')}\r\n`,
    'Authorization: Basic a\r\n',
    'Authorization: Basic \r\n',
  ];
  for (const h of bad) assert.is((await get11('/basic/', h)).status, h.trim().endsWith('Basic') ? 401 : 400, h);
  for (const h of ['Authorization: Bearer abc\r\n', 'Authorization: Basic\r\n', `Authorization: Basic ${'QUFB'.repeat(400)}\r\n`]) {
    const res = await get11('/basic/', h);
    assert.is(res.status, 401, h.slice(0, 40));
    assert.is(res.header('www-authenticate'), 'Basic realm="Basic Realm", charset="UTF-8"');
  }
  assert.is((await get11('/basic/', `authorization: bAsIc ${Buffer.from('bob:hunter2').toString('base64')}\r\n`)).status, 200, 'the scheme is case-insensitive');
  assert.not.match(errorLog(), STACK_LINE);
  assert.match(errorLog(), /missing ':' in no-colon/);
});

test('Basic against an htdigest file: the HA1 of the realm checks the password', async () => {
  assert.is((await get11('/hdbasic/', basic('dan', 'digest pw'))).status, 200);
  assert.is((await get11('/hdbasic/', basic('dan', 'other pw'))).status, 401, 'the entry of another realm does not count');
});

test('Digest MD5 (htdigest file, qop=auth): the challenge, a good answer, and RFC 2069 without qop', async () => {
  const { res, params } = await challenge('/digest/');
  assert.is(params.length, 1);
  const c = params[0]!;
  assert.is(c.realm, 'Digest Realm');
  assert.is(c.algorithm, 'MD5');
  assert.is(c.qop, 'auth');
  assert.is(c.charset, 'UTF-8');
  assert.match(c.nonce!, /^[0-9a-f]+:[0-9a-f]{8}:[0-9a-f]{64}$/);
  assert.ok(Math.abs(parseInt(c.nonce!, 16) - Date.now() / 1000) < 60, 'the nonce starts with the time');
  assert.not.ok(c.stale);
  assert.match(res.header('www-authenticate')!, /^Digest realm="Digest Realm", charset="UTF-8", algorithm=MD5, nonce="[^"]+", qop="auth"$/);
  const client = { user: 'dan', password: 'digest pw', realm: 'Digest Realm', nonce: c.nonce!, uri: '/digest/?q=1' };
  const ok = await get11('/digest/?q=1', digestAuthorization(client));
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'digest page\n');
  assert.is(ok.header('authentication-info'), undefined, 'no nextnonce for a young nonce');
  assert.is((await get10('/digest/?q=1', digestAuthorization({ ...client, nc: '00000002' }))).status, 200, 'HTTP/1.0');
  assert.is((await get11('/digest/?q=1', digestAuthorization({ ...client, qop: null }))).status, 200, 'no qop');
  assert.is((await get11('/digest/?q=1', digestAuthorization({ ...client, algorithm: 'MD5-sess' }))).status, 200, 'MD5-sess');
  const head = await request(`HEAD /digest/?q=1 HTTP/1.1\r\nHost: a\r\n${digestAuthorization({ ...client, method: 'HEAD' })}\r\n`, true);
  assert.is(head.status, 200, 'the method is part of the digest');
});

test('Digest: wrong password, unknown user, other realm → 401 with a new challenge; broken fields → 400', async () => {
  const { params } = await challenge('/digest/');
  const client = { user: 'dan', password: 'digest pw', realm: 'Digest Realm', nonce: params[0]!.nonce!, uri: '/digest/' };
  for (const c of [{ ...client, password: 'nope' }, { ...client, user: 'eve' }, { ...client, realm: 'Other Realm', password: 'other pw' }]) {
    const res = await get11('/digest/', digestAuthorization(c));
    assert.is(res.status, 401, JSON.stringify(c));
    assert.is(digestChallenges(res).length, 1);
  }
  assert.match(errorLog(), /digest: auth failed for dan: wrong password, IP: 127\.0\.0\.1/);
  const status = async (h: string) => (await get11('/digest/', h)).status;
  assert.is(await status(digestAuthorization({ ...client, uri: '/digest/other' })), 400, 'uri of another request');
  assert.is(await status('Authorization: Digest username="dan", realm="Digest Realm", uri="/digest/"\r\n'), 400, 'missing nonce and response');
  assert.is(await status(digestAuthorization({ ...client }).replace(/response="[0-9a-f]+"/, 'response="xyz"')), 400, 'response not hex');
  assert.is(await status(digestAuthorization({ ...client, qop: 'auth-int' })), 400, 'auth-int');
  assert.is(await status('Authorization: Digest username="dan, realm=\r\n'), 400, 'unterminated quote');
  assert.is(await status(digestAuthorization({ ...client, algorithm: 'SHA-256' })), 401, 'an algorithm not offered');
  assert.is(await status('Authorization: Basic ZGFuOmRpZ2VzdCBwdw==\r\n'), 401, 'Basic where Digest is required');
  assert.not.match(errorLog(), STACK_LINE);
});

test('Digest: an expired nonce gets stale=true; a forged one (bad MAC) gets a plain 401', async () => {
  const { params } = await challenge('/digest/');
  const [, rnd, mac] = params[0]!.nonce!.split(':');
  const old = `${(Math.floor(Date.now() / 1000) - 3600).toString(16)}:${rnd}:${mac}`;
  const client = { user: 'dan', password: 'digest pw', realm: 'Digest Realm', nonce: old, uri: '/digest/' };
  const stale = await get11('/digest/', digestAuthorization(client));
  assert.is(stale.status, 401);
  const sc = digestChallenges(stale);
  assert.is(sc.length, 1);
  assert.is(sc[0]!.stale, 'true');
  assert.match(stale.header('www-authenticate')!, /, stale=true$/);
  // The client answers the fresh nonce without asking the user again.
  assert.is((await get11('/digest/', digestAuthorization({ ...client, nonce: sc[0]!.nonce! }))).status, 200);
  const future = `${(Math.floor(Date.now() / 1000) + 3600).toString(16)}:${rnd}:${mac}`;
  assert.is(digestChallenges(await get11('/digest/', digestAuthorization({ ...client, nonce: future })))[0]!.stale, 'true', 'from the future');
  const forged = `${Math.floor(Date.now() / 1000).toString(16)}:${rnd}:${'0'.repeat(64)}`;
  const res = await get11('/digest/', digestAuthorization({ ...client, nonce: forged }));
  assert.is(res.status, 401);
  assert.is(digestChallenges(res)[0]!.stale, undefined);
  assert.match(errorLog(), /digest: nonce mismatch/);
});

test('Digest SHA-256|MD5 (plain file): two challenges, SHA-256 first; both algorithms and -sess pass; require user=zoe', async () => {
  const { params } = await challenge('/sha/');
  assert.equal(params.map((p) => p.algorithm), ['SHA-256', 'MD5']);
  assert.equal(params.map((p) => p.realm), ['SHA Realm', 'SHA Realm']);
  const base = { user: 'zoe', password: 'zebra stripes', realm: 'SHA Realm', uri: '/sha/' };
  for (const [i, algorithm] of [[0, 'SHA-256'], [1, 'MD5'], [0, 'SHA-256-sess']] as const) {
    const res = await get11('/sha/', digestAuthorization({ ...base, nonce: params[i]!.nonce!, algorithm }));
    assert.is(res.status, 200, algorithm);
    assert.is(res.body.toString(), 'sha page\n');
  }
  assert.is((await get11('/sha/', digestAuthorization({ ...base, nonce: params[0]!.nonce!, algorithm: 'SHA-256', password: 'zebra' }))).status, 401);
  const yan = await get11('/sha/', digestAuthorization({ ...base, user: 'yan', password: 'yak', nonce: params[0]!.nonce!, algorithm: 'SHA-256' }));
  assert.is(yan.status, 401, 'a right password, but require names zoe only');
  assert.is((await get11('/sha/', basic('zoe', 'zebra stripes'))).status, 401, 'Basic where Digest is required');
});

test('Digest with "nonce-secret": a nonce in its last minute is accepted and a nextnonce is offered', async () => {
  // The nonce format is documented (docs/modules.md): hex time, 8 hex random, HMAC-SHA-256 under the secret.
  const ts = (Math.floor(Date.now() / 1000) - 570).toString(16);
  const nonce = `${ts}:0badcafe:${createHmac('sha256', 's3cret').update(`${ts}:0badcafe`).digest('hex')}`;
  const res = await get11('/sha/', digestAuthorization({ user: 'zoe', password: 'zebra stripes', realm: 'SHA Realm', uri: '/sha/', nonce, algorithm: 'SHA-256' }));
  assert.is(res.status, 200);
  assert.match(res.header('authentication-info') ?? '', /^nextnonce="[0-9a-f]+:[0-9a-f]{8}:[0-9a-f]{64}"$/);
  const next = /nextnonce="([^"]+)"/.exec(res.header('authentication-info')!)![1]!;
  const again = await get11('/sha/', digestAuthorization({ user: 'zoe', password: 'zebra stripes', realm: 'SHA Realm', uri: '/sha/', nonce: next, algorithm: 'SHA-256' }));
  assert.is(again.status, 200, 'the nextnonce works');
  assert.is(again.header('authentication-info'), undefined);
});

perl('REMOTE_USER and AUTH_TYPE reach a CGI script (perl)', async () => {
  const res = await get11('/cgi/env.pl', basic('carol', 'pässwörd'));
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'REMOTE_USER=carol\nAUTH_TYPE=Basic\n');
  const denied = await get11('/cgi/env.pl', basic('carol', 'x'));
  assert.is(denied.status, 401, 'the script does not run without credentials');
});

test('the access log\'s %u shows the authenticated user, "-" for a refused request', async () => {
  await get11('/basic/?log=1', basic('frank', 'sha256pw'));
  await get11('/basic/?log=2');
  const { params } = await challenge('/digest/');
  await get11('/digest/', digestAuthorization({ user: 'dan', password: 'digest pw', realm: 'Digest Realm', nonce: params[0]!.nonce!, uri: '/digest/' }));
  const log = path.join(dir, 'access.log');
  const has = (line: string) => fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').includes(line);
  await waitFor(() => has('dan 200 /digest/'), 8000, 50, 'the access log lines');
  assert.ok(has('frank 200 /basic/'));
  assert.ok(has('- 401 /basic/'));
});

test('a missing password file: 500, and the error log names the file; other paths still work', async () => {
  const res = await get11('/missing/', basic('alice', 'wonder land'));
  assert.is(res.status, 500);
  assert.match(errorLog(), new RegExp(`auth\\.backend\\.htpasswd\\.userfile "${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/no-such-dir/htpasswd": cannot read it \\(ENOENT\\)`));
  assert.is((await get11('/missing/')).status, 401, 'no credentials: the challenge, as before any lookup');
  assert.is((await get11('/basic/', basic('alice', 'wonder land'))).status, 200);
});

test('a password file changed while running is read again', async () => {
  const file = path.join(dir, 'htpasswd-changing');
  assert.is((await get11('/changing/', basic('lee', 'before'))).status, 200);
  htpasswd(file, 'lee', 'after', '-m');
  htpasswd(file, 'new', 'user', '-m');
  assert.is((await get11('/changing/', basic('lee', 'before'))).status, 401);
  assert.is((await get11('/changing/', basic('lee', 'after'))).status, 200);
  assert.is((await get11('/changing/', basic('new', 'user'))).status, 200);
});

test('auth.cache: a checked password is remembered (a change in the file shows after max-age)', async () => {
  const file = path.join(dir, 'htpasswd-cached');
  assert.is((await get11('/cached/', basic('kim', 'first'))).status, 200);
  htpasswd(file, 'kim', 'second', '-m');
  assert.is((await get11('/cached/', basic('kim', 'first'))).status, 200, 'from the cache');
  assert.is((await get11('/cached/', basic('kim', 'wrong'))).status, 401, 'a wrong password is never taken from the cache');
  assert.is((await get11('/cached/', basic('kim', 'second'))).status, 200, 'not cached yet: the file says yes');
});

test('auth.require inside a condition ($HTTP["host"]) replaces the global list for that host', async () => {
  const res = await get11('/open.html', '', 'private.test');
  assert.is(res.status, 401);
  assert.is(res.header('www-authenticate'), 'Basic realm="Private", charset="UTF-8"');
  assert.is((await get11('/open.html', basic('bob', 'hunter2'), 'private.test')).status, 200);
  assert.is((await get11('/open.html', basic('alice', 'wonder land'), 'private.test')).status, 401);
  assert.is((await get11('/basic/', basic('bob', 'hunter2'), 'private.test')).status, 200, 'the host\'s own list protects /');
});

test('method "extern" without a REMOTE_USER from elsewhere: 401 without a challenge', async () => {
  const res = await get11('/ext/', basic('alice', 'wonder land'));
  assert.is(res.status, 401);
  assert.is(res.header('www-authenticate'), undefined);
});

test('mod_auth alone loads the file backend with lighttpd\'s warning; the server kept running', async () => {
  assert.match(errorLog(), /please add "mod_authn_file" to server\.modules/);
  assert.is(proc!.status, null);
});

/** lantern -tt on a config (the plugins are created, as at a real start); its exit code and output. */
async function checkConfig(body: string): Promise<{ code: number | null; out: string; file: string }> {
  const d = makeTempDir('mod-auth-conf', { 'pw': 'u:x\n' });
  try {
    const file = path.join(d, 'lighttpd.conf');
    fs.writeFileSync(file, `server.document-root = "${d}"\n${body}`);
    const r = await runLantern(['-tt', '-f', file], { cwd: d });
    return { code: r.code, out: r.stdout + r.stderr, file };
  } finally {
    removeDir(d);
  }
}

test('bad config stops the start with file:line and the key; mod_authn_file alone brings mod_auth', async () => {
  const [noRealm, ldap, onlyAuthn] = await configChecks!;
  assert.is.not(noRealm.code, 0);
  assert.match(noRealm.out, new RegExp(`${noRealm.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: auth\\.require: "/": the realm field is missing`));
  assert.is.not(ldap.code, 0);
  assert.match(ldap.out, /lighttpd\.conf:4: auth\.backend: not supported: "ldap"/);
  for (const r of [noRealm, ldap]) assert.not.match(r.out, STACK_LINE);
  assert.is(onlyAuthn.code, 0, onlyAuthn.out);
  assert.match(onlyAuthn.out, /Syntax OK/);
});

A.run();

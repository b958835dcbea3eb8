// Drop-in check (issue "Drop-in lighttpd"): a lighttpd 1.4 test-setup config that loads every
// module lantern supports, written as lighttpd's own docs write them, passes `lantern -tt` without a
// warning and runs under `lantern -D` with its socket inherited as fd 3, as a harness starts it;
// each module shows in an answer, requests half-close as such harnesses do, and PHP and CGI
// sources are never served as files.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { runLantern } from '../helpers/spawn-lantern.js';
import { skipUnless, which } from '../helpers/wait.js';

const T = suite('lighttpd config with every module');

const PHP_CGI = which('php-cgi');
const PERL = which('perl');
const HTPASSWD = which('htpasswd');
const test = skipUnless(T, PHP_CGI !== null && PERL !== null && HTPASSWD !== null, 'php-cgi, perl or htpasswd not installed');

const MODULES = [
  'mod_extforward', 'mod_access', 'mod_alias', 'mod_auth', 'mod_authn_file', 'mod_setenv', 'mod_expire',
  'mod_rewrite', 'mod_redirect', 'mod_simple_vhost', 'mod_evhost', 'mod_userdir', 'mod_secdownload',
  'mod_ssi', 'mod_webdav', 'mod_fastcgi', 'mod_scgi', 'mod_proxy', 'mod_cgi', 'mod_status', 'mod_deflate',
  'mod_dirlisting', 'mod_indexfile', 'mod_staticfile', 'mod_accesslog',
];

let server: LighttpdConfigServer | undefined;
let dir = '';
let conf = '';

function config(root: string): string {
  return `# A test setup's lighttpd.conf, every module loaded.
server.modules = (
${MODULES.map((m) => `\t"${m}",`).join('\n')}
)
server.systemd-socket-activation = "enable"
server.document-root = "${root}/www"
server.errorlog = "${root}/error.log"
server.pid-file = "${root}/lighttpd.pid"
server.tag = "lighttpd/1.4.69"
index-file.names = ( "index.php", "index.html" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain", ".css" => "text/css" )
static-file.exclude-extensions = ( ".php", ".pl", ".fcgi" )
accesslog.filename = "${root}/access.log"
extforward.forwarder = ( "127.0.0.1" => "trust" )
url.access-deny = ( "~", ".inc" )
alias.url = ( "/aliased/" => "${root}/elsewhere/" )
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "${root}/htpasswd"
auth.require = ( "/private/" => ( "method" => "basic", "realm" => "test", "require" => "valid-user" ) )
setenv.add-response-header = ( "X-Setenv" => "on" )
setenv.add-environment = ( "APP_ENV" => "test" )
expire.url = ( "/static/" => "access plus 1 hours" )
url.rewrite-once = ( "^/pretty/(.*)$" => "/static/$1" )
url.redirect = ( "^/old/(.*)$" => "/static/$1" )
userdir.path = "public_html"
userdir.basepath = "${root}/home"
secdownload.secret = "s3cr3t"
secdownload.document-root = "${root}/protected"
secdownload.uri-prefix = "/dl/"
secdownload.algorithm = "md5"
secdownload.timeout = 60
ssi.extension = ( ".shtml" )
$HTTP["url"] =~ "^/dav($|/)" {
\twebdav.activate = "enable"
\twebdav.is-readonly = "enable"
}
fastcgi.server = ( ".php" => ( ( "bin-path" => "${PHP_CGI}", "socket" => "${root}/php.sock", "max-procs" => 1,
\t"bin-environment" => ( "PHP_FCGI_CHILDREN" => "1" ) ) ) )
cgi.assign = ( ".pl" => "${PERL}" )
status.status-url = "/server-status"
deflate.mimetypes = ( "text/" )
deflate.allowed-encodings = ( "gzip" )
$HTTP["host"] == "vhost.test" {
\tsimple-vhost.server-root = "${root}/vhosts/"
\tsimple-vhost.default-host = "default.test"
\tsimple-vhost.document-root = "htdocs"
}
`;
}

T.before(async () => {
  if (PHP_CGI === null || PERL === null || HTPASSWD === null) return;
  server = await startLighttpdConfig(config, {
    prefix: 'all-modules',
    files: {
      'www/index.html': 'home\n',
      'www/info.php': '<?php echo "php ", getenv("APP_ENV"), "\\n";',
      'www/env.pl': '#!/usr/bin/perl\nprint "Content-Type: text/plain\\r\\n\\r\\nperl $ENV{APP_ENV}\\n";\n',
      'www/static/a.css': 'body { color: red; }\n'.repeat(40),
      'www/private/secret.txt': 'secret\n',
      'www/page.shtml': 'ssi <!--#echo var="DOCUMENT_URI" -->\n',
      'www/dav/file.txt': 'dav\n',
      'www/notes.inc': 'never served\n',
      'elsewhere/a.txt': 'aliased\n',
      'home/alice/public_html/index.html': 'alice home\n',
      'vhosts/default.test/htdocs/index.html': 'default vhost\n',
    },
    prepare(d) {
      fs.chmodSync(path.join(d, 'www/env.pl'), 0o755);
      const made = execFileSync(HTPASSWD, ['-nbB', 'alice', 'pw'], { encoding: 'latin1' });
      fs.writeFileSync(path.join(d, 'htpasswd'), made);
    },
  });
  ({ dir, conf } = server);
});

T.after(async () => {
  await server?.stop();
});

async function req(target: string, extra = '', version = '1.1'): Promise<RawResponse> {
  const host = version === '1.1' && !/^Host:/im.test(extra) ? 'Host: test\r\n' : '';
  return server!.request(`GET ${target} HTTP/${version}\r\n${host}${extra}\r\n`);
}

test('lantern -tt accepts it without a single warning', async () => {
  const r = await runLantern(['-tt', '-f', conf], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
});

test('PHP and CGI scripts run (never served as source), with setenv\'s environment', async () => {
  const php = await req('/info.php');
  assert.is(php.status, 200);
  assert.is(php.body.toString(), 'php test\n');
  const perl = await req('/env.pl', '', '1.0');
  assert.is(perl.status, 200);
  assert.is(perl.body.toString(), 'perl test\n');
  assert.is(perl.header('X-Setenv'), 'on');
});

test('auth, access, alias, rewrite, redirect, expire, deflate, ssi, userdir, vhost, webdav, status answer', async () => {
  assert.is((await req('/private/secret.txt')).status, 401);
  const auth = await req('/private/secret.txt', `Authorization: Basic ${Buffer.from('alice:pw').toString('base64')}\r\n`);
  assert.is(auth.status, 200);
  assert.is(auth.body.toString(), 'secret\n');
  assert.is((await req('/notes.inc', '', '1.0')).status, 403);
  assert.is((await req('/aliased/a.txt')).body.toString(), 'aliased\n');
  const pretty = await req('/pretty/a.css');
  assert.is(pretty.status, 200);
  assert.match(pretty.header('Cache-Control') ?? '', /max-age=3600/);
  const old = await req('/old/a.css');
  assert.is(old.status, 301);
  assert.match(old.header('Location') ?? '', /\/static\/a\.css$/);
  const gz = await req('/static/a.css', 'Accept-Encoding: gzip\r\n');
  assert.is(gz.header('Content-Encoding'), 'gzip');
  assert.is(gunzipSync(gz.body).toString(), 'body { color: red; }\n'.repeat(40));
  assert.is((await req('/page.shtml')).body.toString(), 'ssi /page.shtml\n');
  assert.is((await req('/~alice/')).body.toString(), 'alice home\n');
  assert.is((await req('/', 'Host: vhost.test\r\n')).body.toString(), 'default vhost\n');
  const dav = await rawExchange({ port: server!.port, send: 'PROPFIND /dav/file.txt HTTP/1.1\r\nHost: test\r\nDepth: 0\r\nContent-Length: 0\r\n\r\n', halfClose: true, expectResponses: 1, timeoutMs: 10_000 });
  assert.is(dav.responses[0]?.status, 207);
  const status = await req('/server-status?auto', '', '1.0');
  assert.is(status.status, 200);
  assert.match(status.body.toString(), /Total Accesses: \d+/);
});

T.run();

// mod_access and mod_alias from the smallest lighttpd config that names them, run as a harness
// runs lighttpd (`lantern -D -f lighttpd.conf`, the listening socket inherited as fd 3):
// url.access-deny / url.access-allow on the URL path (again after an index file was chosen),
// inside conditions; alias.url prefixes in config order, the `/prefix..` traversal guard, index
// files and directory redirects in the aliased directory, and the CGI environment of an aliased
// script (DOCUMENT_ROOT is the alias target, as lighttpd's basedir).
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type GetOptions, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { runLantern, STACK_LINE, type LanternProcess, type RunResult } from '../helpers/spawn-lantern.js';

const T = suite('mod-access-alias');

let server: LighttpdConfigServer | undefined;
let dir = '';
let proc: LanternProcess | undefined;
/** `lantern -t` on a bad config, run while the server starts (each start compiles the sources). */
let badConfigRun: Promise<RunResult> | undefined;

const CGI_SCRIPT = [
  "printf 'Content-Type: text/plain\\r\\n\\r\\n'",
  'printf "DOCUMENT_ROOT=%s\\nSCRIPT_FILENAME=%s\\nSCRIPT_NAME=%s\\nPATH_INFO=%s\\n" "$DOCUMENT_ROOT" "$SCRIPT_FILENAME" "$SCRIPT_NAME" "$PATH_INFO"',
  '',
].join('\n');

T.before(async () => {
  server = await startLighttpdConfig((d) => `
server.document-root = "${d}/htdocs"
server.modules = ( "mod_access", "mod_alias", "mod_cgi" )
mimetype.assign = ( ".txt" => "text/plain", ".html" => "text/html" )
index-file.names = ( "index.php", "index.html" )
url.access-deny = ( "~", ".inc" )
alias.url = ( "/files" => "${d}/files/",
              "/docs/" => "${d}/manual/",
              "/icon.txt" => "${d}/misc/icon.txt",
              "/cgi/" => "${d}/scripts/" )
cgi.assign = ( ".sh" => "/bin/sh" )
$HTTP["url"] =~ "^/private/" { url.access-deny = ( "" ) }
$HTTP["url"] =^ "/only-txt/" { url.access-allow = ( ".txt" ) }
$HTTP["url"] =^ "/deny-php/" { url.access-deny = ( ".php" ) }
$HTTP["host"] == "other.test" { alias.url = ( "/files" => "${d}/other/" ) }
`, {
    prefix: 'access-alias',
    files: {
      'htdocs/a.txt': 'plain a',
      'htdocs/page.html': '<p>page</p>',
      'htdocs/backup.txt~': 'editor backup',
      'htdocs/config.inc': 'secret include',
      'htdocs/private/x.txt': 'private x',
      'htdocs/only-txt/a.txt': 'only txt a',
      'htdocs/only-txt/b.html': 'only txt b',
      'htdocs/deny-php/index.php': '<?php echo "source"; ?>',
      'htdocs/deny-php/page.txt': 'deny-php page',
      'files/a.txt': 'aliased a',
      'files/index.html': 'aliased index',
      'files/x.inc': 'aliased include',
      'files/sub/b.txt': 'aliased sub b',
      'secret.txt': 'outside every root',
      'manual/intro.txt': 'manual intro',
      'misc/icon.txt': 'one file aliased',
      'other/a.txt': 'other host a',
      'scripts/env.sh': CGI_SCRIPT,
    },
    prepare(d) {
      const bad = path.join(d, 'bad.conf');
      fs.writeFileSync(bad, `server.document-root = "${d}/htdocs"\nserver.modules = ( "mod_access", "mod_alias" )\nalias.url = ( "/a" => "/tmp/a", "/a/b" => "/tmp/b" )\n`);
      badConfigRun = runLantern(['-t', '-f', bad], { cwd: d });
    },
  });
  ({ dir, proc } = server);
});

T.after(async () => {
  await server?.stop();
});

/** One request, HTTP/1.1 by default, the client half-closing after it. */
const get = (target: string, opts?: GetOptions): Promise<RawResponse> => server!.get(target, opts);

T('url.access-deny: paths ending in a denied suffix get 403, others are served', async () => {
  const ok = await get('/a.txt');
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'plain a');
  for (const target of ['/backup.txt~', '/config.inc', '/config%2einc', '/config.inc?x=1']) {
    const res = await get(target);
    assert.is(res.status, 403, target);
    assert.not.match(res.body.toString(), /secret|backup/, target);
  }
  // The query is not part of the path that is matched.
  assert.is((await get('/a.txt?file=x.inc')).status, 200);
  // Case-sensitive, as lighttpd without server.force-lowercase-filenames: nothing by that name.
  assert.is((await get('/config.INC')).status, 404);
});

T('an HTTP/1.0 client gets the same answers', async () => {
  const denied = await get('/config.inc', { version: '1.0' });
  assert.is(denied.version, 'HTTP/1.0');
  assert.is(denied.status, 403);
  const ok = await get('/files/a.txt', { version: '1.0' });
  assert.is(ok.version, 'HTTP/1.0');
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'aliased a');
});

T('url.access-deny = ( "" ) in a $HTTP["url"] condition refuses everything below it', async () => {
  assert.is((await get('/private/x.txt')).status, 403);
  assert.is((await get('/private/')).status, 403);
  assert.is((await get('/private/missing')).status, 403);
});

T('url.access-allow: only the listed suffixes are served, whatever url.access-deny says', async () => {
  const ok = await get('/only-txt/a.txt');
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'only txt a');
  assert.is((await get('/only-txt/b.html')).status, 403);
  // The directory itself ends in "/", not ".txt" (lighttpd's rule too).
  assert.is((await get('/only-txt/')).status, 403);
});

T('the path an index file gives is checked again: /dir/ → /dir/index.php denied', async () => {
  const res = await get('/deny-php/');
  assert.is(res.status, 403);
  assert.not.match(res.body.toString(), /source/);
  assert.is((await get('/deny-php/page.txt')).status, 200);
});

T('alias.url: a prefix is served from its target', async () => {
  const a = await get('/files/a.txt');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'aliased a');
  assert.is(a.header('content-type'), 'text/plain');
  assert.is((await get('/files/sub/b.txt')).body.toString(), 'aliased sub b');
  assert.is((await get('/docs/intro.txt')).body.toString(), 'manual intro');
  const icon = await get('/icon.txt');
  assert.is(icon.status, 200);
  assert.is(icon.body.toString(), 'one file aliased');
  // Not aliased: compared case-sensitively; "/docs" does not start with "/docs/".
  assert.is((await get('/FILES/a.txt')).status, 404);
  assert.is((await get('/docs')).status, 404);
});

T('alias.url: the index file and the directory redirect work in the aliased directory', async () => {
  const index = await get('/files/');
  assert.is(index.status, 200);
  assert.is(index.body.toString(), 'aliased index');
  const redirect = await get('/files?x=1');
  assert.is(redirect.status, 301);
  assert.is(redirect.header('location'), '/files/?x=1');
});

T('alias.url: /prefix.. and /prefix../x never leave the target (403)', async () => {
  for (const target of ['/files../secret.txt', '/files..', '/files%2e%2e/secret.txt', '/files./a.txt']) {
    const res = await get(target);
    assert.is(res.status, 403, target);
    assert.not.match(res.body.toString(), /outside every root/, target);
  }
  // A dot segment is resolved before matching: /files/../secret.txt is /secret.txt of the docroot.
  assert.is((await get('/files/../secret.txt')).status, 404);
});

T('mod_access matches the URL path, not the aliased file', async () => {
  assert.is((await get('/files/x.inc')).status, 403);
});

T('alias.url set in a $HTTP["host"] condition replaces the global one', async () => {
  const res = await get('/files/a.txt', { host: 'other.test' });
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'other host a');
});

T('an aliased CGI script sees the alias target as DOCUMENT_ROOT and its own file as SCRIPT_FILENAME', async () => {
  const res = await get('/cgi/env.sh/extra/path');
  assert.is(res.status, 200, res.body.toString());
  const env = Object.fromEntries(res.body.toString().trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  assert.equal(env, {
    DOCUMENT_ROOT: `${dir}/scripts/`,
    SCRIPT_FILENAME: `${dir}/scripts/env.sh`,
    SCRIPT_NAME: '/cgi/env.sh',
    PATH_INFO: '/extra/path',
  });
});

T('the refusals and redirects above wrote no error (nor a stack) to the error log', async () => {
  assert.not.match(proc!.stderr, STACK_LINE);
  assert.not.match(proc!.stderr, /\((access|alias|userdir|cgi)\)|threw|error/i);
});

T('bad config stops the start with file:line and the key (lantern -t)', async () => {
  // The other bad values are checked in-process by test/unit/plugins/alias and access.
  const r = await badConfigRun!;
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /bad\.conf:3: alias\.url: "\/a\/b" will never match as "\/a" matched first/);
  assert.not.match(r.stderr, STACK_LINE);
});

T.run();

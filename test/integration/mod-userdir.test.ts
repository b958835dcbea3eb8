// mod_userdir from the smallest lighttpd config that names it, run as a harness runs lighttpd
// (`lantern -D -f lighttpd.conf`, the listening socket inherited as fd 3): /~user/ from the home
// directory in the passwd file (NSS_WRAPPER_PASSWD names a test passwd file, as under
// nss_wrapper), the 301 of /~user, excluded and included users, userdir.active in a condition,
// userdir.basepath with letterhomes, and the CGI environment of a script in a user directory.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type GetOptions, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import type { RawResponse } from '../helpers/raw-client.js';
import { STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';

const T = suite('mod-userdir');

let server: LighttpdConfigServer | undefined;
let dir = '';
let proc: LanternProcess | undefined;

const CGI_SCRIPT = [
  "printf 'Content-Type: text/plain\\r\\n\\r\\n'",
  'printf "DOCUMENT_ROOT=%s\\nSCRIPT_FILENAME=%s\\nSCRIPT_NAME=%s\\n" "$DOCUMENT_ROOT" "$SCRIPT_FILENAME" "$SCRIPT_NAME"',
  '',
].join('\n');

T.before(async () => {
  server = await startLighttpdConfig((d) => `
server.document-root = "${d}/htdocs"
server.modules = ( "mod_userdir", "mod_cgi" )
mimetype.assign = ( ".txt" => "text/plain", ".html" => "text/html" )
userdir.path = "public_html"
userdir.exclude-user = ( "root" )
cgi.assign = ( ".sh" => "/bin/sh" )
$HTTP["host"] == "off.test" { userdir.active = "disable" }
$HTTP["host"] == "only.test" { userdir.include-user = ( "eva" ) }
$HTTP["host"] == "base.test" {
  userdir.basepath = "${d}/homes"
  userdir.letterhomes = "enable"
}
`, {
    prefix: 'userdir',
    files: {
      'htdocs/index.html': 'site index',
      'htdocs/~root/r.txt': 'docroot file named ~root',
      'home/jan/public_html/index.html': 'jan index',
      'home/jan/public_html/a.txt': 'jan a',
      'home/jan/public_html/env.sh': CGI_SCRIPT,
      'home/jan/private.txt': 'outside public_html',
      'home/eva/public_html/e.txt': 'eva e',
      'home/root/public_html/r.txt': 'root r',
      'home/nodir/other.txt': 'no public_html here',
      'homes/j/jan/public_html/b.txt': 'letterhome jan b',
    },
    prepare(d) {
      // The passwd file NSS_WRAPPER_PASSWD names: the homes are in the temp dir.
      fs.writeFileSync(path.join(d, 'passwd'), [
        `root:x:0:0:root:${d}/home/root:/bin/sh`,
        `jan:x:1000:1000:Jan:${d}/home/jan:/bin/sh`,
        `eva:x:1001:1001:Eva:${d}/home/eva:/bin/sh`,
        `nodir:x:1002:1002::${d}/home/nodir:/bin/sh`,
        '',
      ].join('\n'));
    },
    env: (d) => ({ NSS_WRAPPER_PASSWD: path.join(d, 'passwd') }),
  });
  ({ dir, proc } = server);
});

T.after(async () => {
  await server?.stop();
});

/** One request, HTTP/1.1 by default, the client half-closing after it. */
const get = (target: string, opts?: GetOptions): Promise<RawResponse> => server!.get(target, opts);

T('/~user/file is served from the public_html of the home in the passwd file', async () => {
  const a = await get('/~jan/a.txt');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'jan a');
  assert.is(a.header('content-type'), 'text/plain');
  assert.is((await get('/%7Ejan/a.txt')).body.toString(), 'jan a', 'an encoded ~ is the same path');
  assert.is((await get('/~eva/e.txt')).body.toString(), 'eva e');
  // Only public_html is served; a dot segment cannot climb out of it (it is resolved first).
  assert.is((await get('/~jan/private.txt')).status, 404);
  assert.is((await get('/~jan/../home/jan/private.txt')).status, 404);
});

T('/~user/ gets the index file of the user directory; an HTTP/1.0 client too', async () => {
  const r = await get('/~jan/');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'jan index');
  const old = await get('/~jan/', { version: '1.0' });
  assert.is(old.version, 'HTTP/1.0');
  assert.is(old.status, 200);
  assert.is(old.body.toString(), 'jan index');
});

T('/~user without the slash → 301 to /~user/ (query kept), for any name, as lighttpd', async () => {
  const r = await get('/~jan?x=1');
  assert.is(r.status, 301);
  assert.is(r.header('location'), '/~jan/?x=1');
  assert.is(r.body.length, 0);
  const old = await get('/~jan', { version: '1.0' });
  assert.is(old.version, 'HTTP/1.0');
  assert.is(old.status, 301);
  assert.is(old.header('location'), '/~jan/');
  assert.is((await get('/~nobody')).status, 301);
});

T('unknown users, users without the directory, /~ and /~/: served from the document root (404)', async () => {
  for (const target of ['/~nobody/', '/~nodir/other.txt', '/~', '/~/', '/~/a.txt']) {
    assert.is((await get(target)).status, 404, target);
  }
});

T('userdir.exclude-user: the path stays under the document root', async () => {
  const r = await get('/~root/r.txt');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'docroot file named ~root');
});

T('userdir.include-user in a condition: only those users are mapped', async () => {
  assert.is((await get('/~eva/e.txt', { host: 'only.test' })).body.toString(), 'eva e');
  assert.is((await get('/~jan/a.txt', { host: 'only.test' })).status, 404);
});

T('userdir.active = "disable" in a condition: nothing is mapped, not even the redirect', async () => {
  assert.is((await get('/~jan/a.txt', { host: 'off.test' })).status, 404);
  assert.is((await get('/~jan', { host: 'off.test' })).status, 404);
});

T('userdir.basepath with letterhomes: basepath/j/jan/public_html; ".." is never a user', async () => {
  const r = await get('/~jan/b.txt', { host: 'base.test' });
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'letterhome jan b');
  assert.is((await get('/~jan/a.txt', { host: 'base.test' })).status, 404);
  assert.is((await get('/~../homes/j/jan/public_html/b.txt', { host: 'base.test' })).status, 404);
});

T('a CGI script in a user directory: DOCUMENT_ROOT is that directory', async () => {
  const res = await get('/~jan/env.sh');
  assert.is(res.status, 200, res.body.toString());
  const env = Object.fromEntries(res.body.toString().trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  assert.equal(env, {
    DOCUMENT_ROOT: `${dir}/home/jan/public_html`,
    SCRIPT_FILENAME: `${dir}/home/jan/public_html/env.sh`,
    SCRIPT_NAME: '/~jan/env.sh',
  });
});

T('the refusals and redirects above wrote no error (nor a stack) to the error log', async () => {
  assert.not.match(proc!.stderr, STACK_LINE);
  assert.not.match(proc!.stderr, /\((access|alias|userdir|cgi)\)|threw|error/i);
});

T.run();

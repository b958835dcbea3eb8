// Integration tests of plugins/dirlisting: the listing page, its escaping and filters, and 403 when off.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';

const D = suite('dirlisting');
let lt: LanternHandle;

D.before(async () => {
  lt = await startLantern(`
server.document-root = "%DIR%"
mimetype.assign = ( ".txt" => "text/plain" )
dir-listing.activate = "enable"
$HTTP["url"] =^ "/dots/" { dir-listing.hide-dotfiles = "disable" dir-listing.encoding = "utf-8" }
$HTTP["url"] =^ "/excl/" { dir-listing.exclude = ( "~$", "^tmp" ) }
$HTTP["url"] =^ "/notes/" { dir-listing.show-readme = "enable" dir-listing.hide-readme-file = "enable" dir-listing.show-header = "HEAD.txt" }
$HTTP["url"] =^ "/off/" { dir-listing.activate = "disable" }
$HTTP["url"] =^ "/alias/" { dir-listing.activate = "disable" }
$HTTP["url"] =^ "/alias/on/" { server.dir-listing = "enable" }
`, {
    files: {
      'list/<b>&"x': 'z', 'list/a.txt': '12345', 'list/.hidden': 'h', 'list/zdir/f': 'f', 'list/é.txt': 'u',
      'dots/.hidden': 'h', 'excl/keep.txt': 'k', 'excl/drop~': 'd', 'excl/tmpfile': 't',
      'notes/README.txt': 'read <me>', 'notes/HEAD.txt': 'head', 'notes/x.txt': 'x',
      'off/a.txt': 'a', 'withindex/index.html': 'the index', 'withindex/other.txt': 'o', 'alias/on/a.txt': 'a',
    },
  });
});
D.after(async () => { await lt?.stop(); });

async function get(target: string, method = 'GET'): Promise<RawResponse> {
  const r = await rawExchange({ port: lt.port, send: `${method} ${target} HTTP/1.1\r\nHost: t\r\n\r\n`, expectResponses: 1, headRequests: [method === 'HEAD'] });
  return r.responses[0]!;
}

D('a listing: HTML, escaped names, encoded links, directories first, parent link', async () => {
  const r = await get('/list/');
  assert.is(r.status, 200);
  // No dir-listing.encoding: lighttpd's plain text/html and no <meta charset>.
  assert.is(r.header('content-type'), 'text/html');
  assert.not.ok(r.body.toString('latin1').includes('<meta charset'));
  // With dir-listing.encoding: named in both, in lighttpd's spelling.
  const named = await get('/dots/');
  assert.is(named.header('content-type'), 'text/html;charset=utf-8');
  assert.ok(named.body.toString('latin1').includes('<meta charset="utf-8">'));
  const html = r.body.toString('utf8');
  assert.ok(html.includes('<title>Index of /list/</title>'));
  assert.ok(html.includes('<a href="%3Cb%3E&%22x">&lt;b&gt;&amp;&quot;x</a>'), 'escaped name and link');
  assert.not.ok(html.includes('<b>&"x'), 'raw name never appears');
  assert.ok(html.includes('<a href="%C3%A9.txt">é.txt</a>'));
  assert.ok(html.includes('<a href="../">'));
  assert.ok(html.indexOf('href="zdir/"') < html.indexOf('href="a.txt"'), 'directory before files');
  assert.match(html, /href="a\.txt">a\.txt<\/a><\/td><td class="m">\d{4}-\w{3}-\d\d \d\d:\d\d:\d\d<\/td><td class="s">5<\/td><td class="t">text\/plain<\/td>/);
  assert.is(Number(r.header('content-length')), r.body.length);
});

D('dotfiles are hidden unless dir-listing.hide-dotfiles is disabled', async () => {
  assert.not.ok((await get('/list/')).body.toString().includes('.hidden'));
  assert.ok((await get('/dots/')).body.toString().includes('href=".hidden"'));
});

D('dir-listing.exclude regexes', async () => {
  const html = (await get('/excl/')).body.toString();
  assert.ok(html.includes('keep.txt'));
  assert.not.ok(html.includes('drop~'));
  assert.not.ok(html.includes('tmpfile'));
});

D('readme and header are shown (escaped); a hidden readme is not listed', async () => {
  const html = (await get('/notes/')).body.toString();
  assert.ok(html.includes('<pre class="readme">read &lt;me&gt;</pre>'));
  assert.ok(html.includes('<pre class="header">head</pre>'));
  assert.not.ok(html.includes('href="README.txt"'));
  assert.ok(html.includes('href="HEAD.txt"'));
});

D('an index file wins over the listing', async () => {
  assert.is((await get('/withindex/')).body.toString(), 'the index');
});

D('listing disabled → 403; server.dir-listing enables it too', async () => {
  assert.is((await get('/off/')).status, 403);
  assert.is((await get('/alias/')).status, 403);
  assert.is((await get('/alias/on/')).status, 200);
});

D('HEAD: headers only; missing directory → 404; a file asked as a directory is the file (PATH_INFO)', async () => {
  const h = await get('/list/', 'HEAD');
  assert.is(h.status, 200);
  assert.is(h.body.length, 0);
  assert.ok(Number(h.header('content-length')) > 0);
  assert.is((await get('/nosuchdir/')).status, 404);
  assert.is((await get('/list/a.txt/')).status, 200, 'PATH_INFO "/" after a file, as lighttpd');
});

D('a directory created after the start is listed', async () => {
  fs.mkdirSync(path.join(lt.dir, 'late'));
  fs.writeFileSync(path.join(lt.dir, 'late', 'n.txt'), 'n');
  assert.ok((await get('/late/')).body.toString().includes('href="n.txt"'));
});

D.run();

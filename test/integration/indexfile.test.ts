// Integration tests of plugins/indexfile: which index a directory request gets, per config.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';

const I = suite('indexfile');
let lt: LanternHandle;

I.before(async () => {
  lt = await startLantern(`
server.document-root = "%DIR%"
mimetype.assign = ( ".html" => "text/html", ".htm" => "text/html", ".txt" => "text/plain" )
index-file.names = ( "index.html" )
$HTTP["url"] =^ "/ordered/" { index-file.names = ( "index.htm", "index.html" ) }
$HTTP["url"] =^ "/old/" { server.indexfiles = ( "default.txt" ) }
$HTTP["url"] =^ "/app/" { index-file.names = ( "missing.html", "/front.txt" ) }
$HTTP["url"] =^ "/none/" { index-file.names = () }
`, {
    files: {
      'index.html': 'root index', 'sub/index.html': 'sub index', 'ordered/index.html': 'html', 'ordered/index.htm': 'htm',
      'old/default.txt': 'old name', 'old/index.html': 'not this', 'front.txt': 'front controller',
      'none/index.html': 'hidden', 'app/x/page.txt': 'p',
    },
  });
  fs.mkdirSync(path.join(lt.dir, 'noindex'));
});
I.after(async () => { await lt?.stop(); });

async function get(target: string): Promise<RawResponse> {
  const r = await rawExchange({ port: lt.port, send: `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`, expectResponses: 1 });
  return r.responses[0]!;
}

I('the default name is index.html, in the root and in sub-directories', async () => {
  const r = await get('/');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'root index');
  assert.is(r.header('content-type'), 'text/html');
  assert.is((await get('/sub/')).body.toString(), 'sub index');
  assert.is((await get('/sub/?q=1')).body.toString(), 'sub index');
});

I('index-file.names are tried in order', async () => {
  assert.is((await get('/ordered/')).body.toString(), 'htm');
});

I('server.indexfiles set later than index-file.names wins (one field in lighttpd)', async () => {
  assert.is((await get('/old/')).body.toString(), 'old name');
});

I('a name starting with "/" is a URL path from the document root', async () => {
  const r = await get('/app/x/');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'front controller');
  assert.is(r.header('content-type'), 'text/plain');
});

I('no index → 403 (listing off); an empty list disables index files', async () => {
  assert.is((await get('/noindex/')).status, 403);
  assert.is((await get('/none/')).status, 403);
});

I('a request without the trailing slash is redirected first', async () => {
  const r = await get('/sub');
  assert.is(r.status, 301);
  assert.is(r.header('location'), '/sub/');
});

I('the native config syntax gives the same behaviour', async () => {
  const native = await startLantern('{ "server.document-root": "%DIR%", "index-file.names": ["start.txt"] }', {
    syntax: 'native', files: { 'start.txt': 'native start', 'index.html': 'not this' },
  });
  try {
    const r = await rawExchange({ port: native.port, send: 'GET / HTTP/1.1\r\nHost: t\r\n\r\n', expectResponses: 1 });
    assert.is(r.responses[0]!.body.toString(), 'native start');
  } finally {
    await native.stop();
  }
});

I.run();

// lighttpd 1.4.69's core keys, started as a harness starts lighttpd (a lighttpd.conf, the socket
// inherited on fd 3): error pages (server.errorfile-prefix, server.error-handler,
// server.error-handler-404, server.error-intercept), server.force-lowercase-filenames,
// server.follow-symlink, server.name, server.pid-file, server.breakagelog, server.username /
// server.groupname, and the keys a config may carry that are only checked (http-parseopts,
// feature-flags, debug.*).
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { ListeningSocket, refusingPort } from '../helpers/ports.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, runLantern, STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { withTimeout } from '../helpers/wait.js';

/** lighttpd 1.4.69's built-in error page (response.c http_response_static_errdoc), as Debian's lighttpd sends it. */
const lighttpdErrorPage = (statusLine: string) => `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${statusLine}</title>
 </head>
 <body>
  <h1>${statusLine}</h1>
 </body>
</html>
`;

/** A CGI script (run by /bin/sh) that prints the variables an error handler reads. */
const ENV_SCRIPT = (status: string) => `printf '${status}Content-Type: text/plain\\r\\n\\r\\n'
printf 'status=%s uri=%s redirect=%s method=%s query=%s name=%s\\n' "$REDIRECT_STATUS" "$REQUEST_URI" "$REDIRECT_URI" "$REQUEST_METHOD" "$QUERY_STRING" "$SERVER_NAME"
`;

const FILES: Record<string, string> = {
  'www/file.txt': 'plain file\n',
  'www/low/readme.txt': 'lower-case file\n',
  'www/other/readme.txt': 'other lower-case file\n',
  'www/sub/a.txt': 'in sub\n',
  'www/handler.sh': ENV_SCRIPT(''),
  'www/nf-handler.sh': ENV_SCRIPT(''),
  'www/nf-403.sh': ENV_SCRIPT('Status: 403\\r\\n'),
  'www/env.sh': ENV_SCRIPT(''),
  'www/noname/env.sh': ENV_SCRIPT(''),
  'www/fail.sh': 'printf \'Status: 500\\r\\nContent-Type: text/plain\\r\\n\\r\\nbackend secret\\n\'\n',
  'www/gone.sh': 'printf \'Status: 410\\r\\nContent-Type: text/plain\\r\\n\\r\\nbackend gone\\n\'\n',
  'www/err.sh': 'echo "oops-on-stderr" >&2\nprintf \'Content-Type: text/plain\\r\\n\\r\\nok\\n\'\n',
  'errors/status-404.html': '<p>custom 404 page</p>\n',
};

function config(dir: string, refusedPort: number): string {
  return `# the smallest config a lighttpd user writes for these keys
server.modules = ( "mod_cgi", "mod_proxy" )
server.document-root = "${dir}/www"
server.errorlog = "${dir}/error.log"
server.breakagelog = "${dir}/breakage.log"
server.pid-file = "${dir}/lantern.pid"
server.errorfile-prefix = "${dir}/errors/status-"
server.name = "name.example"
server.feature-flags = ( "server.h2proto" => "disable", "server.graceful-restart-bg" => "enable" )
server.http-parseopts = ( "header-strict" => "enable", "host-strict" => "enable", "url-path-2f-decode" => "enable" )
server.max-request-field-size = 8192
debug.log-timeouts = "disable"
debug.log-state-handling = "disable"
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )
cgi.assign = ( ".sh" => "/bin/sh" )

$HTTP["url"] =~ "^/gen/" {
  server.error-handler = "/handler.sh"
}
$HTTP["url"] =~ "^/nf/" {
  server.error-handler-404 = "/nf-handler.sh"
}
$HTTP["url"] =~ "^/nf2/" {
  server.error-handler-404 = "/nf-403.sh"
}
$HTTP["url"] =~ "^/st/" {
  server.error-handler = "/file.txt"
}
$HTTP["url"] =~ "^/st4/" {
  server.error-handler-404 = "/file.txt"
}
$HTTP["url"] =~ "^/down/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${refusedPort} ) ) )
  server.error-handler = "/file.txt"
}
$HTTP["url"] =~ "^/down2/" {
  proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${refusedPort} ) ) )
}
$HTTP["url"] =~ "^/loop/" {
  server.error-handler = "/loop/missing-handler"
}
$HTTP["url"] =~ "^/sub/" {
  dir-listing.activate = "enable"
}
$HTTP["url"] =~ "^/noname/" {
  server.name = ""
}
$HTTP["url"] =~ "^/low/" {
  server.force-lowercase-filenames = "enable"
}
$HTTP["url"] =~ "^/nolink/" {
  server.follow-symlink = "disable"
}
$HTTP["url"] =~ "^/icpt/" {
  server.error-intercept = "enable"
  cgi.assign = ( ".sh" => "/bin/sh" )
}
$HTTP["url"] =~ "^/icpth/" {
  server.error-intercept = "enable"
  server.error-handler = "/handler.sh"
}
`;
}

const Core = suite('core-compat');

let server: LighttpdConfigServer | undefined;
let dir = '';
let port = 0;
let proc: LanternProcess | undefined;
let refused: { port: number; close(): void } | undefined;

Core.before(async () => {
  refused = await refusingPort();
  const refusedPort = refused.port;
  server = await startLighttpdConfig((d) => config(d, refusedPort), {
    prefix: 'core-compat',
    files: FILES,
    prepare(d) {
      fs.symlinkSync('file.txt', path.join(d, 'www', 'link.txt'));
      fs.mkdirSync(path.join(d, 'www', 'nolink'));
      fs.symlinkSync('../file.txt', path.join(d, 'www', 'nolink', 'link.txt'));
      fs.symlinkSync('../sub', path.join(d, 'www', 'nolink', 'dir'));
      fs.writeFileSync(path.join(d, 'www', 'nolink', 'real.txt'), 'real\n');
      for (const sub of ['icpt', 'icpth']) {
        fs.mkdirSync(path.join(d, 'www', sub));
        fs.copyFileSync(path.join(d, 'www', 'fail.sh'), path.join(d, 'www', sub, 'fail.sh'));
        fs.copyFileSync(path.join(d, 'www', 'gone.sh'), path.join(d, 'www', sub, 'gone.sh'));
      }
    },
  });
  ({ dir, port, proc } = server);
});

Core.after(async () => {
  await server?.stop(() => {
    assert.not.ok(fs.existsSync(path.join(dir, 'lantern.pid')), 'server.pid-file is removed at exit');
  });
});

const statusLine = (res: RawResponse) => `${res.version} ${res.status} ${res.reason}`;

/** One request, answered and closed: the client half-closes after it, as harnesses do. */
async function ask(method: string, target: string, opts: { version?: '1.0' | '1.1'; host?: string | null; body?: string } = {}): Promise<RawResponse> {
  const version = opts.version ?? '1.1';
  const host = opts.host === undefined ? 'localhost' : opts.host;
  const body = opts.body ?? '';
  const send = `${method} ${target} HTTP/${version}\r\n${host === null ? '' : `Host: ${host}\r\n`}` +
    `${body ? `Content-Length: ${body.length}\r\n` : ''}${version === '1.1' ? 'Connection: close\r\n' : ''}\r\n${body}`;
  return server!.request(send, { headRequests: [method === 'HEAD'], timeoutMs: 5000 });
}

Core('server.errorfile-prefix: <prefix>404.html is the body of a 404, for HTTP/1.0 and HTTP/1.1', async () => {
  for (const version of ['1.0', '1.1'] as const) {
    const res = await ask('GET', '/missing.txt', { version });
    assert.is(statusLine(res), `HTTP/${version} 404 Not Found`);
    assert.is(res.header('content-type'), 'text/html', 'from mimetype.assign');
    assert.is(res.body.toString(), FILES['errors/status-404.html']);
    assert.is(res.header('content-length'), String(FILES['errors/status-404.html']!.length));
  }
});

Core('without <prefix><status>.html: lighttpd\'s built-in page, byte for byte', async () => {
  const res = await ask('GET', '/nolink/link.txt', { version: '1.0' });
  assert.is(statusLine(res), 'HTTP/1.0 403 Forbidden');
  assert.is(res.header('content-type'), 'text/html');
  assert.is(res.body.toString(), lighttpdErrorPage('403 Forbidden'));
  assert.is(res.header('content-length'), '341');
});

Core('server.follow-symlink = "disable": a link to a file or on the way is 403; real files and links elsewhere are served', async () => {
  assert.is((await ask('GET', '/nolink/dir/a.txt')).status, 403);
  const real = await ask('GET', '/nolink/real.txt');
  assert.is(real.status, 200);
  assert.is(real.body.toString(), 'real\n');
  const link = await ask('GET', '/link.txt');
  assert.is(link.status, 200, 'enabled (the default) elsewhere');
  assert.is(link.body.toString(), 'plain file\n');
});

Core('server.force-lowercase-filenames: the path below the docroot is lowercased, only where enabled', async () => {
  const res = await ask('GET', '/LOW/README.TXT');
  assert.is(res.status, 404, 'the condition sees the URL as sent: /LOW/ is not ^/low/');
  const low = await ask('GET', '/low/README.TXT');
  assert.is(low.status, 200);
  assert.is(low.body.toString(), 'lower-case file\n');
  assert.is((await ask('GET', '/other/README.TXT')).status, 404, 'not lowercased elsewhere');
});

Core('server.error-handler: a CGI handler answers with its own status and REDIRECT_STATUS, REQUEST_URI, REDIRECT_URI', async () => {
  for (const version of ['1.0', '1.1'] as const) {
    const res = await ask('GET', '/gen/missing.txt?x=1', { version });
    assert.is(statusLine(res), `HTTP/${version} 200 OK`, 'lighttpd 1.4.69 sends a backend handler\'s own status');
    assert.is(res.header('content-type'), 'text/plain');
    assert.is(res.body.toString(), 'status=404 uri=/gen/missing.txt?x=1 redirect=/handler.sh method=GET query= name=name.example\n');
  }
  const post = await ask('POST', '/gen/missing.txt', { body: 'a=1' });
  assert.is(post.status, 200);
  assert.match(post.body.toString(), /^status=404 uri=\/gen\/missing.txt redirect=\/handler.sh method=GET /, 'the handler runs as a GET');
  const head = await ask('HEAD', '/gen/missing.txt');
  assert.is(head.status, 200);
  assert.is(head.body.length, 0, 'HEAD: no body');
});

Core('keep-alive: requests pipelined after one that went through the error handler are answered in order', async () => {
  const send = 'GET /gen/missing.txt HTTP/1.1\r\nHost: localhost\r\n\r\n' +
    'GET /st/missing HTTP/1.1\r\nHost: localhost\r\n\r\n' +
    'GET /file.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
  const r = await rawExchange({ port, send, halfClose: true, expectResponses: 3, timeoutMs: 5000 });
  assert.equal(r.responses.map((x) => x.status), [200, 404, 200], r.raw.toString('latin1').slice(0, 600));
  assert.match(r.responses[0]!.body.toString(), /^status=404 /);
  assert.is(r.responses[1]!.body.toString(), 'plain file\n');
  assert.is(r.responses[2]!.body.toString(), 'plain file\n');
});

Core('server.error-handler with a static file: the file with the original status', async () => {
  for (const version of ['1.0', '1.1'] as const) {
    const res = await ask('GET', '/st/missing', { version });
    assert.is(statusLine(res), `HTTP/${version} 404 Not Found`);
    assert.is(res.header('content-type'), 'text/plain');
    assert.is(res.body.toString(), 'plain file\n');
  }
  const head = await ask('HEAD', '/st/missing');
  assert.is(head.status, 404);
  assert.is(head.header('content-length'), '11');
  assert.is(head.body.length, 0);
});

Core('server.error-handler-404: the handler\'s own status; a static page\'s 200 stays 200', async () => {
  const res = await ask('GET', '/nf/missing.txt');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'status=404 uri=/nf/missing.txt redirect=/nf-handler.sh method=GET query= name=name.example\n');
  const post = await ask('POST', '/nf/missing.txt', { body: 'a=1' });
  assert.match(post.body.toString(), /method=POST/, 'the method is kept');
  const forbidden = await ask('GET', '/nf2/missing.txt');
  assert.is(forbidden.status, 403, 'a CGI handler answering 403 keeps it');
  assert.match(forbidden.body.toString(), /^status=404 /);
  const page = await ask('GET', '/st4/missing');
  assert.is(page.status, 200);
  assert.is(page.body.toString(), 'plain file\n');
});

Core('a backend that refuses: 503 through server.error-handler (a static file), else the built-in 503 page', async () => {
  const res = await ask('GET', '/down/x');
  assert.is(res.status, 503);
  assert.is(res.body.toString(), 'plain file\n');
  const plain = await ask('GET', '/down2/x', { version: '1.0' });
  assert.is(statusLine(plain), 'HTTP/1.0 503 Service Unavailable');
  assert.is(plain.body.toString(), lighttpdErrorPage('503 Service Unavailable'));
});

Core('error handler loops are bounded: an error in the handler gets the errorfile with the original status', async () => {
  const res = await ask('GET', '/loop/missing.txt');
  assert.is(res.status, 404);
  assert.is(res.body.toString(), FILES['errors/status-404.html']);
});

Core('server.error-intercept: a backend\'s error body is replaced (built-in page), or goes to the error handler; off, it passes', async () => {
  const plain = await ask('GET', '/fail.sh');
  assert.is(plain.status, 500);
  assert.is(plain.body.toString(), 'backend secret\n', 'without error-intercept the backend\'s body is sent');
  for (const version of ['1.0', '1.1'] as const) {
    const res = await ask('GET', '/icpt/fail.sh', { version });
    assert.is(statusLine(res), `HTTP/${version} 500 Internal Server Error`);
    assert.is(res.header('content-type'), 'text/html');
    assert.is(res.body.toString(), lighttpdErrorPage('500 Internal Server Error'));
  }
  const gone = await ask('GET', '/icpth/gone.sh?q=2');
  assert.is(gone.status, 410);
  assert.is(gone.body.toString(), 'status=410 uri=/icpth/gone.sh?q=2 redirect=/handler.sh method=GET query= name=name.example\n', 'with error-intercept the original status stays');
});

Core('server.name is SERVER_NAME for CGI, with or without Host (lighttpd 1.4.69); without it, the Host without its port', async () => {
  const noHost = await ask('GET', '/env.sh', { version: '1.0', host: null });
  assert.is(noHost.status, 200);
  assert.match(noHost.body.toString(), / name=name\.example\n$/);
  const withHost = await ask('GET', '/env.sh', { host: 'www.example.org:8080' });
  assert.match(withHost.body.toString(), / name=name\.example\n$/);
  const other = await ask('GET', '/noname/env.sh', { host: 'www.example.org:8080' });
  assert.match(other.body.toString(), / name=www\.example\.org\n$/, 'server.name empty in this block');
});

Core('server.breakagelog: a CGI script\'s stderr goes there, not to the error log', async () => {
  const res = await ask('GET', '/err.sh');
  assert.is(res.status, 200);
  const file = path.join(dir, 'breakage.log');
  await withTimeout((async () => {
    while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('oops-on-stderr'))) await new Promise((r) => setTimeout(r, 20));
  })(), 5000, 'the stderr line in server.breakagelog');
  assert.is(fs.readFileSync(file, 'utf8'), 'oops-on-stderr\n', 'the script\'s bytes, as lighttpd hands it the file as stderr');
  assert.not.match(fs.readFileSync(path.join(dir, 'error.log'), 'utf8'), /oops-on-stderr/);
});

Core('server.max-request-field-size (8192 here) limits the whole head, as lighttpd: over it 431', async () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-Filler-${i}: ${'a'.repeat(1000)}\r\n`).join('');
  const small = await rawExchange({ port, send: `GET /file.txt HTTP/1.1\r\nHost: localhost\r\n${fields(6)}Connection: close\r\n\r\n`, halfClose: true, expectResponses: 1, timeoutMs: 5000 });
  assert.is(small.responses[0]?.status, 200, 'about 6 KiB of fields');
  const big = await rawExchange({ port, send: `GET /file.txt HTTP/1.1\r\nHost: localhost\r\n${fields(9)}Connection: close\r\n\r\n`, halfClose: true, expectResponses: 1, timeoutMs: 5000 });
  assert.is(big.responses[0]?.status, 431, 'about 9 KiB of fields, each under the limit');
});

Core('server.compat-module-load: staticfile, indexfile and dirlisting work without being listed', async () => {
  const file = await ask('GET', '/file.txt');
  assert.is(file.status, 200);
  assert.is(file.body.toString(), 'plain file\n');
  const listing = await ask('GET', '/sub/');
  assert.is(listing.status, 200);
  assert.match(listing.body.toString(), /a\.txt/);
});

Core('server.pid-file holds the pid once listening; the extra keys start without a warning', async () => {
  assert.is(fs.readFileSync(path.join(dir, 'lantern.pid'), 'utf8'), `${proc!.pid}\n`);
  assert.is(proc!.stderr, '', 'no warning for feature-flags, http-parseopts, debug.*');
  assert.not.match(fs.readFileSync(path.join(dir, 'error.log'), 'utf8'), STACK_LINE, 'no stack trace in the error log');
});

Core('bad values stop the start with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['server.http-parseopts = ( "url-unknown" => "enable" )', /lighttpd\.conf:2:.*server\.http-parseopts.*unrecognized key "url-unknown"/],
    ['server.http-parseopts = ( "header-strict" => "maybe" )', /lighttpd\.conf:2:.*server\.http-parseopts.*header-strict/],
    ['server.http-parseopts = ( "url-path-2f-decode" => "enable", "url-path-2f-reject" => "enable" )', /lighttpd\.conf:2:.*conflicting/],
    ['server.error-intercept = "sometimes"', /lighttpd\.conf:2:.*server\.error-intercept/],
    ['server.error-handler = "error.php"', /lighttpd\.conf:2:.*server\.error-handler.*local URI/],
  ];
  // In parallel: each -t run is a Node start, and they do not depend on each other.
  await Promise.all(cases.map(async ([line, re]) => {
    const d = makeTempDir('core-compat-bad', { 'lighttpd.conf': `server.document-root = "/tmp"\n${line}\n` });
    try {
      const r = await runLantern(['-t', '-f', path.join(d, 'lighttpd.conf')], { cwd: d });
      assert.is(r.code, 1, `${line}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re, line);
      assert.not.match(r.stderr, STACK_LINE);
    } finally {
      removeDir(d);
    }
  }));
});

Core.run();

// server.username / server.groupname: only root can change user; this machine's tests run as root.
const Users = suite('core-compat: server.username');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

Users('started as root with server.username = "nobody": the process runs as nobody once listening', async () => {
  if (!isRoot) { console.log('# skipped: not root'); return; }
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'nobody');
  if (!passwd) { console.log('# skipped: no user nobody'); return; }
  const site = await startLighttpdConfig((d) => `server.document-root = "${d}/www"\nserver.username = "nobody"\n`, {
    prefix: 'core-compat-user',
    files: { 'www/index.html': 'hi\n' },
    prepare: (d) => fs.chmodSync(d, 0o755),
  });
  const p = site.proc;
  try {
    const r = await site.request('GET /index.html HTTP/1.0\r\n\r\n', { timeoutMs: 5000 });
    assert.is(r.status, 200, 'still serving after the change');
    const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
    const uid = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    const gid = /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    assert.equal(uid?.slice(1), [passwd[2], passwd[2], passwd[2]], 'real, effective and saved uid');
    assert.equal(gid?.slice(1), [passwd[3], passwd[3], passwd[3]], 'its primary group');
  } finally {
    await site.stop();
  }
});

Users('an unknown server.username stops the start, naming the key\'s line', async () => {
  if (!isRoot) { console.log('# skipped: not root'); return; }
  const d = makeTempDir('core-compat-user', { 'lighttpd.conf': 'server.document-root = "/tmp"\nserver.username = "no-such-user-here"\n' });
  const socket = await ListeningSocket.open();
  try {
    const r = await runLantern(['-D', '-f', path.join(d, 'lighttpd.conf')], { cwd: d, sockets: [socket] });
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /lighttpd\.conf:2: can't find username no-such-user-here/);
  } finally {
    removeDir(d);
  }
});

Users.run();

// Integration tests of plugins/accesslog: exact line formats, per-block files, pipes, SIGHUP reopen, escaping.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, type RawExchangeResult } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const L = suite('accesslog');
let lt: LanternHandle;
let logs = '';
const CUSTOM = '%s|%b|%O|%I|%m|%U|%q|%H|%k|%X|%{Content-Type}o|%D|%{X-Test}i|%{begin:sec}t';

L.before(async () => {
  lt = await startLantern(`
server.modules = ( "mod_accesslog" )
server.document-root = "%DIR%"
server.errorlog = "%DIR%/logs/error.log"
mimetype.assign = ( ".txt" => "text/plain" )
accesslog.filename = "%DIR%/logs/access.log"
$HTTP["url"] =^ "/custom/" { accesslog.format = "${CUSTOM}" }
$HTTP["url"] =^ "/other/" { accesslog.filename = "%DIR%/logs/other.log" }
$HTTP["url"] =^ "/piped/" { accesslog.filename = "|cat >> %DIR%/logs/pipe.log" }
$HTTP["url"] =^ "/json/" { accesslog.escaping = "json" accesslog.format = "\\"%{User-Agent}i\\"" }
$HTTP["url"] =^ "/sys/" { accesslog.use-syslog = "enable" }
`, {
    files: {
      'logs/.keep': '', 'a.txt': 'hello\n', 'custom/c.txt': 'c', 'other/o.txt': 'o', 'piped/p.txt': 'p', 'json/j.txt': 'j',
    },
  });
  logs = path.join(lt.dir, 'logs');
});
L.after(async () => { await lt?.stop(); });

function flush(): void {
  const api = lt.server.host.plugins.get('accesslog')?.instance?.api as { flush(): void } | undefined;
  assert.ok(api, 'accesslog exposes flush()');
  api!.flush();
}
const readLog = (name: string) => (fs.existsSync(path.join(logs, name)) ? fs.readFileSync(path.join(logs, name), 'latin1') : '');
const lastLine = (name: string) => readLog(name).trimEnd().split('\n').pop() ?? '';

async function send(bytes: string, expect = 1, head = false): Promise<RawExchangeResult> {
  return rawExchange({ port: lt.port, send: Buffer.from(bytes, 'latin1'), expectResponses: expect, headRequests: [head], timeoutMs: 5000 });
}

L('the default format, line for line (lighttpd\'s %h %V %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i")', async () => {
  await send('GET /a.txt?x=1 HTTP/1.1\r\nHost: Example.TEST\r\nReferer: http://ref/\r\nUser-Agent: t"ua\\\xe9\r\n\r\n');
  flush();
  const line = lastLine('access.log');
  const m = /^127\.0\.0\.1 example\.test - \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] "GET \/a\.txt\?x=1 HTTP\/1\.1" 200 6 "http:\/\/ref\/" "t\\"ua\\\\\\xE9"$/.exec(line);
  assert.ok(m, `line: ${JSON.stringify(line)}`);
  const [, dd, mon, yyyy, hh, mi, ss, sign, oh, om] = m!;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(mon!);
  const offsetMin = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const logged = Date.UTC(Number(yyyy), month, Number(dd), Number(hh), Number(mi), Number(ss)) - offsetMin * 60_000;
  assert.ok(Math.abs(Date.now() - logged) < 5000, `timestamp ${new Date(logged).toISOString()} is now`);
});

L('a custom format: sizes, method, path, query, protocol, keep-alive count and status, headers, timing', async () => {
  const req1 = 'GET /custom/c.txt?q=2 HTTP/1.1\r\nHost: t\r\nX-Test: xt\r\n\r\n';
  const req2 = 'HEAD /custom/c.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
  const r = await send(req1 + req2, 2);
  assert.is(r.responses.length, 2);
  flush();
  const lines = readLog('access.log').trimEnd().split('\n').slice(-2);
  const f1 = lines[0]!.split('|');
  const f2 = lines[1]!.split('|');
  const wire1 = r.responses[0]!.raw.length;
  assert.equal(f1.slice(0, 11), ['200', '1', String(wire1), String(req1.length), 'GET', '/custom/c.txt', 'q=2', 'HTTP/1.1', '0', '+', 'text/plain']);
  assert.match(f1[11]!, /^\d+$/);
  assert.is(f1[12], 'xt');
  assert.ok(Math.abs(Number(f1[13]) - Date.now() / 1000) < 5, 'request start, in seconds');
  assert.equal(f2.slice(0, 11), ['200', '0', String(r.raw.length - wire1), String(req2.length), 'HEAD', '/custom/c.txt', '', 'HTTP/1.1', '1', '-', 'text/plain']);
  assert.is(f2[12], '-');
});

L('errors are logged, including requests refused before routing', async () => {
  await send('GET /nope HTTP/1.1\r\nHost: t\r\n\r\n');
  flush();
  assert.match(lastLine('access.log'), /"GET \/nope HTTP\/1\.1" 404 \d+ "-" "-"$/);
  await send('TRACE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n');
  flush();
  assert.match(lastLine('access.log'), /"TRACE \/a\.txt HTTP\/1\.1" 405 \d+ "-" "-"$/);
});

L('a condition block with another accesslog.filename logs to its own file', async () => {
  const before = readLog('access.log');
  await send('GET /other/o.txt HTTP/1.1\r\nHost: t\r\n\r\n');
  flush();
  assert.match(lastLine('other.log'), /"GET \/other\/o\.txt HTTP\/1\.1" 200 1 /);
  assert.is(readLog('access.log'), before);
});

L('a piped logger ("|cat >> file") gets the lines', async () => {
  await send('GET /piped/p.txt HTTP/1.1\r\nHost: t\r\n\r\n');
  await waitFor(() => readLog('pipe.log').includes('"GET /piped/p.txt HTTP/1.1" 200 1 '), 3000, 10, 'the line in pipe.log');
});

L('SIGHUP (server.reopenLogs) after a rename: new lines go to the new file', async () => {
  await send('GET /a.txt?before HTTP/1.1\r\nHost: t\r\n\r\n');
  flush();
  fs.renameSync(path.join(logs, 'access.log'), path.join(logs, 'access.log.1'));
  lt.server.reopenLogs();
  await send('GET /a.txt?after HTTP/1.1\r\nHost: t\r\n\r\n');
  flush();
  assert.ok(readLog('access.log.1').includes('?before'));
  assert.not.ok(readLog('access.log.1').includes('?after'));
  assert.ok(readLog('access.log').includes('?after'));
  assert.not.ok(readLog('access.log').includes('?before'));
});

L('lines are flushed by the once-a-second tick without an explicit flush', async () => {
  await send('GET /a.txt?tick HTTP/1.1\r\nHost: t\r\n\r\n');
  await waitFor(() => readLog('access.log').includes('?tick'), 3000, 20, 'the tick flush');
});

L('accesslog.escaping = "json" keeps non-ASCII bytes and escapes quotes', async () => {
  await send('GET /json/j.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: a"\xc3\xa9\r\n\r\n');
  flush();
  assert.is(lastLine('access.log'), '"a\\"\xc3\xa9"');
});

L('accesslog.use-syslog is accepted with a warning in the error log', async () => {
  await waitFor(() => readLog('error.log').includes('accesslog.use-syslog is not supported'), 2000, 10, 'the warning');
});

L('a bad accesslog.format stops the start, naming the file and line', async () => {
  let err: unknown;
  try {
    const bad = await startLantern('server.modules = ( "mod_accesslog" )\naccesslog.filename = "/dev/null"\naccesslog.format = "%h %Z"\n');
    await bad.stop();
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /lighttpd\.conf:3: accesslog\.format: unknown format specifier %Z/);
});

L.run();

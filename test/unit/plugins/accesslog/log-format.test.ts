// Unit tests of plugins/accesslog/log-format.ts: specifier parsing and rendering of lighttpd formats.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeJson } from '../../../../plugins/accesslog/log-escape.js';
import { DEFAULT_FORMAT, maskAddress, parseFormat, renderLine, type LogRecord } from '../../../../plugins/accesslog/log-format.js';

const T = suite('accesslog/log-format');
const savedTz = process.env.TZ;
T.before(() => { process.env.TZ = 'UTC'; });
T.after(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const START = Date.UTC(2024, 0, 5, 3, 4, 9, 250);
function record(over: Partial<LogRecord> = {}): LogRecord {
  const req: Record<string, string> = { referer: 'http://r/', 'user-agent': 'UA "quoted"\n', cookie: 'a=1; sid=abc ; z=2' };
  const res: Record<string, string> = { 'content-type': 'text/plain' };
  return {
    remoteAddr: '192.0.2.7', remotePort: 40000, localAddr: '127.0.0.1', localPort: 8080,
    method: 'GET', targetOrig: '/a%20b?q=1', target: '/a%20b?q=1', query: 'q=1', protocol: 'HTTP/1.1',
    status: 200, bodyBytesOut: 5, wireBytesOut: 120, bytesIn: 80,
    requestHeader: (n) => req[n.toLowerCase()], responseHeader: (n) => res[n.toLowerCase()],
    env: (n) => (n === 'REMOTE_USER' ? 'alice' : undefined),
    authority: 'example.org', serverName: 'srv', filename: '/srv/a b', connStatus: '+', keepAliveCount: 2,
    startMs: START, endMs: START + 1234.5,
    ...over,
  };
}
const line = (fmt: string, over?: Partial<LogRecord>) => renderLine(parseFormat(fmt), record(over));

T('the default format', () => {
  assert.is(line(DEFAULT_FORMAT),
    '192.0.2.7 example.org alice [05/Jan/2024:03:04:10 +0000] "GET /a%20b?q=1 HTTP/1.1" 200 5 "http://r/" "UA \\"quoted\\"\\n"');
});

T('addresses, ports, names, protocol, request parts', () => {
  assert.is(line('%a %{mask}a %A %p %{remote}p %v %V %H %m %U %q %s %>s %<s %f %k %X %l %%'),
    '192.0.2.7 192.0.2.0 127.0.0.1 8080 40000 srv example.org HTTP/1.1 GET /a%20b q=1 200 200 200 /srv/a b 2 + - %');
});

T('bytes: - when nothing at all was sent', () => {
  assert.is(line('%b %B %O %I'), '5 5 120 80');
  assert.is(line('%b %O', { bodyBytesOut: 0, wireBytesOut: 0 }), '- -');
  assert.is(line('%b', { bodyBytesOut: 0, wireBytesOut: 100 }), '0');
});

T('headers, cookies, env, missing values', () => {
  assert.is(line('%{Content-Type}o|%{X-None}i|%{sid}C|%{nope}C|%{REMOTE_USER}e|%u|%{X}e'), 'text/plain|-|abc|-|alice|alice|-');
});

T('times and durations', () => {
  assert.is(line('%{%Y-%m-%dT%H:%M:%S}t'), '2024-01-05T03:04:10');
  assert.is(line('%{begin:%H:%M:%S}t'), '03:04:09');
  assert.is(line('%{begin:sec}t %{begin:msec}t %{begin:msec_frac}t'), `${Math.floor(START / 1000)} ${START} 250`);
  assert.is(line('%T %{ms}T %{us}T %D %{ns}T'), '1 1235 1234500 1234500 1234500000');
});

T('backslash escapes in the format string are processed', () => {
  assert.is(line('%s\\t%m\\n'), '200\tGET\n');
});

T('json escaping', () => {
  assert.is(renderLine(parseFormat('"%{User-Agent}i"'), record(), escapeJson), '"UA \\"quoted\\"\\n"');
});

T('unknown specifiers and bad parameters are errors', () => {
  for (const bad of ['%Z', '%{x', '%{fortnight}T', '%{nothing}t', '%{bad}a', '%{x}p', 'end %']) {
    assert.throws(() => parseFormat(bad), undefined, bad);
  }
});

T('mask', () => {
  assert.is(maskAddress('10.1.2.3'), '10.1.2.0');
  assert.is(maskAddress('2001:db8:1:2:3:4:5:6'), '2001:db8:1::');
});

T.run();

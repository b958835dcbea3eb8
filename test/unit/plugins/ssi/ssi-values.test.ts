// Unit tests of plugins/ssi/ssi-values.ts, strftime.ts and include-target.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveIncludeTarget } from '../../../../plugins/ssi/include-target.js';
import {
  encodeValue, formatSize, percentDecode, printenvListing, queryStringUnescaped, utf8Bytes,
} from '../../../../plugins/ssi/ssi-values.js';
import { DEFAULT_TIMEFMT, strftime } from '../../../../plugins/ssi/strftime.js';

const T = suite('ssi/values');

T('echo encodings: none, entity, url', () => {
  assert.is(encodeValue('<a href="x">&\'', 'none'), '<a href="x">&\'');
  assert.is(encodeValue('<a href="x">&\'', 'entity'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  assert.is(encodeValue('a b/é~', 'url'), 'a%20b%2F%C3%A9~'.replace('%C3%A9', '%E9'));
  assert.is(encodeValue(utf8Bytes('é'), 'url'), '%C3%A9');
});

T('QUERY_STRING_UNESCAPED: decoded, shell characters escaped', () => {
  assert.is(queryStringUnescaped('a=1%20b&c=%3Bx'), 'a=1 b\\&c=\\;x');
  assert.is(queryStringUnescaped('%zz%4'), '%zz%4');
  assert.is(percentDecode('%41%42c'), 'ABc');
});

T('sizefmt: bytes, or abbrev as lighttpd divides', () => {
  assert.is(formatSize(123456, false), '123456');
  assert.is(formatSize(1000, true), '1000 B');
  assert.is(formatSize(1024, true), '1024 B');
  assert.is(formatSize(2047, true), '1 kB');
  assert.is(formatSize(5 * 1024 * 1024, true), '5 MB');
});

T('printenv: sorted, values entity-encoded', () => {
  assert.is(printenvListing([new Map([['b', '2'], ['a', '<1>']]), new Map([['Z', 'z']])]), 'a=&lt;1&gt;\nb=2\nZ=z\n');
});

T('strftime: the C conversions, GMT', () => {
  const ms = Date.UTC(2024, 1, 29, 13, 5, 9); // Thursday
  assert.is(strftime(DEFAULT_TIMEFMT, ms, false), 'Thu, 29 Feb 2024 13:05:09 GMT');
  assert.is(strftime('%A %B %e %j %I%p %y %C %u %w %s %% %Q', ms, false), `Thursday February 29 060 01PM 24 20 4 4 ${ms / 1000} % %Q`);
  assert.is(strftime('%F %R %D %z', ms, false), '2024-02-29 13:05 02/29/24 +0000');
});

T('include targets: file= stays inside the document root', () => {
  const doc = { physicalPath: '/srv/www/sub/page.shtml', uriPath: '/sub/page.shtml' };
  assert.equal(resolveIncludeTarget('file', 'part.html', doc, '/srv/www'), { ok: true, physicalPath: '/srv/www/sub/part.html', uriPath: '' });
  assert.equal(resolveIncludeTarget('file', '../top.html', doc, '/srv/www'), { ok: true, physicalPath: '/srv/www/top.html', uriPath: '' });
  assert.equal(resolveIncludeTarget('file', 'a%20b.html', doc, '/srv/www/'), { ok: true, physicalPath: '/srv/www/sub/a b.html', uriPath: '' });
  for (const v of ['../../etc/passwd', '/etc/passwd', '%2e%2e/%2e%2e/etc/passwd', '..', '', 'a%00b', '%ff']) {
    assert.is(resolveIncludeTarget('file', v, doc, '/srv/www').ok, false, v);
  }
});

T('include targets: virtual= is a URL path, relative or absolute, never above "/"', () => {
  const doc = { physicalPath: '/srv/www/sub/page.shtml', uriPath: '/sub/page.shtml' };
  assert.equal(resolveIncludeTarget('virtual', 'x.html', doc, '/srv/www'), { ok: true, physicalPath: '/srv/www/sub/x.html', uriPath: '/sub/x.html' });
  assert.equal(resolveIncludeTarget('virtual', '/x.html?q=1', doc, '/srv/www'), { ok: true, physicalPath: '/srv/www/x.html', uriPath: '/x.html' });
  assert.equal(resolveIncludeTarget('virtual', '../../../../etc/passwd', doc, '/srv/www'), { ok: true, physicalPath: '/srv/www/etc/passwd', uriPath: '/etc/passwd' });
  assert.is(resolveIncludeTarget('virtual', '/dir/', doc, '/srv/www').ok, false);
  // Served through an alias: neighbours are found next to the document, not under the root.
  const aliased = { physicalPath: '/opt/docs/page.shtml', uriPath: '/docs/page.shtml' };
  assert.equal(resolveIncludeTarget('virtual', 'n.html', aliased, '/srv/www'), { ok: true, physicalPath: '/opt/docs/n.html', uriPath: '/docs/n.html' });
  assert.equal(resolveIncludeTarget('virtual', '/other/n.html', aliased, '/srv/www'), { ok: true, physicalPath: '/srv/www/other/n.html', uriPath: '/other/n.html' });
});

T.run();

// Unit tests of plugins/webdav/destination.ts: which Destination values are accepted and where they land.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveDestination, type DestinationSource } from '../../../../plugins/webdav/destination.js';

const T = suite('webdav/destination');
const src: DestinationSource = { scheme: 'http', host: 'example.org:8080', urlPath: '/dav/a.txt', physicalPath: '/srv/www/dav/a.txt', docRoot: '/srv/www' };

T('an absolute URI on the same host, and a path-absolute value', () => {
  assert.equal(resolveDestination('http://example.org:8080/dav/b%20c.txt?q=1', src), { ok: true, urlPath: '/dav/b c.txt', physicalPath: '/srv/www/dav/b c.txt' });
  assert.equal(resolveDestination('/dav/sub/x', src), { ok: true, urlPath: '/dav/sub/x', physicalPath: '/srv/www/dav/sub/x' });
  assert.equal(resolveDestination('HTTP://user@EXAMPLE.org:8080/dav/u', src), { ok: true, urlPath: '/dav/u', physicalPath: '/srv/www/dav/u' });
});

T('a default port matches the authority without it', () => {
  const s = { ...src, host: 'example.org' };
  assert.ok(resolveDestination('http://example.org:80/dav/b', s).ok);
});

T('another host → 502; another scheme, no path, missing → 400', () => {
  assert.equal(resolveDestination('http://other.example/dav/b', src), { ok: false, status: 502, reason: 'Destination on another host (other.example)' });
  assert.is((resolveDestination('https://example.org:8080/dav/b', src) as { status: number }).status, 400);
  assert.is((resolveDestination('http://example.org:8080', src) as { status: number }).status, 400);
  assert.is((resolveDestination(undefined, src) as { status: number }).status, 400);
  assert.is((resolveDestination('dav/b', src) as { status: number }).status, 400);
  assert.is((resolveDestination('/dav/%zz', src) as { status: number }).status, 400);
  assert.is((resolveDestination('/dav/%00', src) as { status: number }).status, 400);
});

T('dot segments and encoded slashes never leave the root', () => {
  const r = resolveDestination('/dav/../../../etc/passwd', src);
  assert.equal(r, { ok: true, urlPath: '/etc/passwd', physicalPath: '/srv/www/etc/passwd' });
  const e = resolveDestination('/dav/%2e%2e%2f%2e%2e%2fx', src);
  assert.equal(e, { ok: true, urlPath: '/x', physicalPath: '/srv/www/x' });
});

T('the source\'s alias mapping carries over to the destination', () => {
  const aliased = { ...src, physicalPath: '/data/share/a.txt' };
  assert.is((resolveDestination('/dav/sub/b.txt', aliased) as { physicalPath: string }).physicalPath, '/data/share/sub/b.txt');
});

T.run();

// Unit tests of plugins/staticfile/mime-type.ts: mimetype.assign longest-suffix matching.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import { contentTypeFor, DEFAULT_CONTENT_TYPE } from '../../../../plugins/staticfile/mime-type.js';

const T = suite('staticfile/mime-type');
const assign = new ConfigHash([
  ['.gz', 'application/gzip'],
  ['.tar.gz', 'application/x-tgz'],
  ['.html', 'text/html; charset=utf-8'],
  ['README', 'text/plain'],
  ['.css', 'text/css'],
  ['.css', 'text/css; charset=utf-8'],
]);

T('longest suffix wins, case-insensitively', () => {
  assert.is(contentTypeFor('/srv/a.tar.gz', assign), 'application/x-tgz');
  assert.is(contentTypeFor('/srv/a.gz', assign), 'application/gzip');
  assert.is(contentTypeFor('/srv/INDEX.HTML', assign), 'text/html; charset=utf-8');
  assert.is(contentTypeFor('/srv/README', assign), 'text/plain');
});

T('later duplicates win; the value is used verbatim', () => {
  assert.is(contentTypeFor('x.css', assign), 'text/css; charset=utf-8');
});

T('no match → application/octet-stream; "" is a catch-all', () => {
  assert.is(contentTypeFor('/srv/a.bin', assign), DEFAULT_CONTENT_TYPE);
  assert.is(contentTypeFor('/srv/a.bin', undefined), DEFAULT_CONTENT_TYPE);
  assert.is(contentTypeFor('/srv/a.bin', new ConfigHash([['', 'text/plain'], ['.bin', 'x/bin']])), 'x/bin');
  assert.is(contentTypeFor('/srv/a.zzz', new ConfigHash([['', 'text/plain'], ['.bin', 'x/bin']])), 'text/plain');
});

T('only the base name is matched, not directories', () => {
  assert.is(contentTypeFor('/srv/x.html/file', assign), DEFAULT_CONTENT_TYPE);
});

T.run();

// Unit tests of plugins/staticfile/etag.ts: ETag construction and entity-tag list parsing (RFC 9110 §8.8.3).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeETag, parseETag, parseETagList, strongMatch, weakMatch } from '../../../../plugins/staticfile/etag.js';

const T = suite('staticfile/etag');
const ST = { ino: 255, size: 16, mtimeMs: 1000.5 };

T('makeETag uses the selected parts, quoted', () => {
  assert.is(makeETag(ST, { inode: true, size: true, mtime: true }), '"ff-10-f4434"');
  assert.is(makeETag(ST, { inode: false, size: true, mtime: false }), '"10"');
  assert.is(makeETag(ST, { inode: false, size: false, mtime: false }), null);
});

T('a different mtime or size gives a different tag', () => {
  const f = { inode: true, size: true, mtime: true };
  assert.is.not(makeETag(ST, f), makeETag({ ...ST, mtimeMs: 1000.6 }, f));
  assert.is.not(makeETag(ST, f), makeETag({ ...ST, size: 17 }, f));
});

T('parseETagList reads *, lists, weak tags and skips junk', () => {
  assert.is(parseETagList(' * '), '*');
  assert.equal(parseETagList('"a", W/"b",,"c,d"'), [
    { weak: false, opaque: '"a"' }, { weak: true, opaque: '"b"' }, { weak: false, opaque: '"c,d"' },
  ]);
  assert.equal(parseETagList('junk, "x"'), [{ weak: false, opaque: '"x"' }]);
  assert.equal(parseETagList('"unterminated'), []);
});

T('parseETag accepts one tag only', () => {
  assert.equal(parseETag('W/"x"'), { weak: true, opaque: '"x"' });
  assert.is(parseETag('"a" "b"'), null);
  assert.is(parseETag('x'), null);
});

T('strong and weak comparison (RFC 9110 §8.8.3.2 table)', () => {
  const w1 = { weak: true, opaque: '"1"' };
  const w2 = { weak: true, opaque: '"2"' };
  const s1 = { weak: false, opaque: '"1"' };
  assert.not.ok(strongMatch(w1, w1));
  assert.ok(weakMatch(w1, w1));
  assert.not.ok(strongMatch(w1, w2));
  assert.not.ok(weakMatch(w1, w2));
  assert.not.ok(strongMatch(w1, s1));
  assert.ok(weakMatch(w1, s1));
  assert.ok(strongMatch(s1, s1));
});

T.run();

// Unit tests of plugins/staticfile/url-encode.ts: percent-encoding of paths and segments (RFC 3986 §2.1, §3.3).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePathSegment, encodeUrlPath } from '../../../../plugins/staticfile/url-encode.js';

const T = suite('staticfile/url-encode');

T('segments: reserved and unsafe characters are encoded, UTF-8 bytes too', () => {
  assert.is(encodePathSegment('<b>&"x'), '%3Cb%3E&%22x');
  assert.is(encodePathSegment('a b?#%'), 'a%20b%3F%23%25');
  assert.is(encodePathSegment('a:b'), 'a%3Ab');
  assert.is(encodePathSegment('é'), '%C3%A9');
  assert.is(encodePathSegment("ok-._~!$'()*+,;=@"), "ok-._~!$'()*+,;=@");
});

T('paths keep their slashes and decode back to the same string', () => {
  const p = '/dir with space/ünï/x?y';
  assert.is(encodeUrlPath(p), '/dir%20with%20space/%C3%BCn%C3%AF/x%3Fy');
  assert.is(decodeURIComponent(encodeUrlPath(p)), p);
});

T.run();

// Unit tests of plugins/staticfile/http-date.ts: the three HTTP-date formats (RFC 9110 §5.6.7).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHttpDate, parseHttpDate } from '../../../../plugins/staticfile/http-date.js';

const T = suite('staticfile/http-date');
const SEC_1994 = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;

T('parses IMF-fixdate, RFC 850 and asctime to the same second', () => {
  assert.is(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), SEC_1994);
  assert.is(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), SEC_1994);
  assert.is(parseHttpDate('Sun Nov  6 08:49:37 1994'), SEC_1994);
});

T('formats IMF-fixdate and round-trips', () => {
  const ms = Date.UTC(2024, 1, 29, 23, 59, 58, 999);
  assert.is(formatHttpDate(ms), 'Thu, 29 Feb 2024 23:59:58 GMT');
  assert.is(parseHttpDate(formatHttpDate(ms)), Math.floor(ms / 1000));
});

T('rejects what is not an HTTP-date', () => {
  for (const bad of [
    '', 'yesterday', '1994-11-06T08:49:37Z', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 24:00:00 GMT', 'Xyz, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT', 'Sun, 06 Foo 1994 08:49:37 GMT',
  ]) assert.is(parseHttpDate(bad), null, JSON.stringify(bad));
});

T('RFC 850 two-digit years more than 50 years ahead are in the past', () => {
  const now = new Date().getUTCFullYear();
  const ahead = (now + 60) % 100;
  const got = parseHttpDate(`Monday, 01-Jan-${String(ahead).padStart(2, '0')} 00:00:00 GMT`);
  assert.ok(got !== null);
  const year = new Date(got! * 1000).getUTCFullYear();
  assert.ok(year <= now && year > now - 100, `year ${year}`);
});

T.run();

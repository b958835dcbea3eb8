// Unit tests of plugins/accesslog/strftime.ts: the strftime subset in local time (TZ fixed per test).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { strftime, utcOffset } from '../../../../plugins/accesslog/strftime.js';

const T = suite('accesslog/strftime');
const savedTz = process.env.TZ;
const MS = Date.UTC(2024, 0, 5, 3, 4, 9);

T.after(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

T('Common Log Format time in UTC', () => {
  process.env.TZ = 'UTC';
  assert.is(strftime('[%d/%b/%Y:%H:%M:%S %z]', MS), '[05/Jan/2024:03:04:09 +0000]');
});

T('a zone with a half-hour offset', () => {
  process.env.TZ = 'Asia/Kolkata';
  assert.is(strftime('%Y-%m-%d %T %z', MS), '2024-01-05 08:34:09 +0530');
  assert.is(utcOffset(new Date(MS)), '+0530');
  process.env.TZ = 'America/New_York';
  assert.is(strftime('%H %z', MS), '22 -0500');
});

T('the other conversions', () => {
  process.env.TZ = 'UTC';
  assert.is(strftime('%a %A %b %B %e %j %I %p %y %F %R %s %u %w %%', MS),
    `Fri Friday Jan January  5 005 03 AM 24 2024-01-05 03:04 ${MS / 1000} 5 5 %`);
  assert.is(strftime('%Q stays', MS), '%Q stays');
});

T.run();

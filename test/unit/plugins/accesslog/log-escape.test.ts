// Unit tests of plugins/accesslog/log-escape.ts: no log injection, lighttpd's escape forms.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { escapeDefault, escapeJson, utf8Bytes } from '../../../../plugins/accesslog/log-escape.js';

const T = suite('accesslog/log-escape');

T('default: quotes, backslashes, control and non-ASCII bytes', () => {
  assert.is(escapeDefault('plain text'), 'plain text');
  assert.is(escapeDefault('a"b\\c'), 'a\\"b\\\\c');
  assert.is(escapeDefault('x\r\ny\t\x00\x1b\x7f'), 'x\\r\\ny\\t\\x00\\x1B\\x7F');
  assert.is(escapeDefault('\xc3\xa9'), '\\xC3\\xA9');
});

T('json: control characters as \\u00HH, non-ASCII kept', () => {
  assert.is(escapeJson('a"\n\x01\xc3\xa9'), 'a\\"\\n\\u0001\xc3\xa9');
});

T('property: escaped output has no line break, no bare quote, only printable ASCII', () => {
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }).map((a) => String.fromCharCode(...a));
  fc.assert(fc.property(bytes, (s) => {
    const e = escapeDefault(s);
    if (/[^\x20-\x7e]/.test(e)) return false;
    // Every `"` is preceded by an odd run of backslashes (it is escaped).
    for (let i = 0; i < e.length; i++) {
      if (e[i] !== '"') continue;
      let n = 0;
      for (let j = i - 1; j >= 0 && e[j] === '\\'; j--) n++;
      if (n % 2 === 0) return false;
    }
    return true;
  }));
});

T('utf8Bytes turns Unicode into its UTF-8 byte string', () => {
  assert.is(utf8Bytes('/srv/é'), '/srv/\xc3\xa9');
  assert.is(utf8Bytes('ascii'), 'ascii');
});

T.run();

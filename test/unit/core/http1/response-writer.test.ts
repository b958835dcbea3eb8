// Tests for core/http1/response-writer.ts: RFC 9112 §4 status line and fields, response splitting (G7).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LanternError } from '../../../../core/errors.js';
import { checkName, checkValue, formatResponseHead, isFieldName, isFieldValue } from '../../../../core/http1/response-writer.js';

const ResponseWriter = suite('response-writer');

function throwsInternal(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, LanternError);
    assert.is((err as LanternError).code, 'LT_ERR_INTERNAL');
    assert.is((err as LanternError).status, 500);
    return;
  }
  assert.unreachable('expected a LanternError');
}

ResponseWriter('status line with the standard reason, fields in order, empty line', () => {
  assert.is(
    formatResponseHead(1, 200, ['Content-Type', 'text/plain', 'Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n',
  );
  assert.is(formatResponseHead(0, 404, []), 'HTTP/1.0 404 Not Found\r\n\r\n');
  assert.is(formatResponseHead(1, 599, []), 'HTTP/1.1 599 Unknown\r\n\r\n');
});

ResponseWriter('the version follows the request (HTTP/1.0 answered as 1.0)', () => {
  assert.match(formatResponseHead(0, 200, []), /^HTTP\/1\.0 200 OK\r\n/);
  assert.match(formatResponseHead(1, 200, []), /^HTTP\/1\.1 200 OK\r\n/);
});

ResponseWriter('a custom reason, possibly empty', () => {
  assert.is(formatResponseHead(1, 200, [], 'Fine'), 'HTTP/1.1 200 Fine\r\n\r\n');
  assert.is(formatResponseHead(1, 200, [], ''), 'HTTP/1.1 200 \r\n\r\n');
});

ResponseWriter('obs-text in a value is kept as latin1', () => {
  const head = formatResponseHead(1, 200, ['X-Name', 'caf\xe9']);
  assert.is(Buffer.from(head, 'latin1').includes(Buffer.from([0x63, 0x61, 0x66, 0xe9])), true);
});

ResponseWriter('G7 CR, LF or NUL in a value → throws (the caller answers 500)', () => {
  throwsInternal(() => formatResponseHead(1, 302, ['Location', '/a\r\nSet-Cookie: x=1']));
  throwsInternal(() => formatResponseHead(1, 200, ['X', 'a\nb']));
  throwsInternal(() => formatResponseHead(1, 200, ['X', 'a\rb']));
  throwsInternal(() => formatResponseHead(1, 200, ['X', 'a\x00b']));
  throwsInternal(() => formatResponseHead(1, 200, ['X', 'snow\u2603']));
});

ResponseWriter('G7 a name that is not a token → throws', () => {
  for (const name of ['', 'X\r\nY', 'X Y', 'X:', 'X\x00', 'caf\xe9']) throwsInternal(() => formatResponseHead(1, 200, [name, 'v']));
});

ResponseWriter('G7 a reason with CR/LF, an odd header list or a bad status → throws', () => {
  throwsInternal(() => formatResponseHead(1, 200, [], 'OK\r\nX: y'));
  throwsInternal(() => formatResponseHead(1, 200, ['X']));
  throwsInternal(() => formatResponseHead(1, 99, []));
  throwsInternal(() => formatResponseHead(1, 1000, []));
  throwsInternal(() => formatResponseHead(1, 200.5, []));
});

ResponseWriter('isFieldName / isFieldValue say what checkName / checkValue throw for', () => {
  for (const n of ['X-A', 'etag', "!#$%&'*+-.^_`|~09az"]) { assert.ok(isFieldName(n), n); checkName(n); }
  for (const n of ['', 'a b', 'a:b', 'a\r\nb', 'a\0', 'caf\u00e9']) { assert.not.ok(isFieldName(n), JSON.stringify(n)); throwsInternal(() => checkName(n)); }
  for (const v of ['', 'a b', 'tab\there', 'caf\u00e9']) { assert.ok(isFieldValue(v), JSON.stringify(v)); checkValue(v, 'v'); }
  for (const v of ['a\rb', 'a\nb', 'a\0b', '\u20ac']) { assert.not.ok(isFieldValue(v), JSON.stringify(v)); throwsInternal(() => checkValue(v, 'v')); }
  assert.not.ok(isFieldValue(42 as unknown as string));
});

ResponseWriter.run();

// Unit tests of response hop-by-hop stripping and X-Sendfile lookup (plugins/proxy-core/response-fields.ts; D13).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fieldsKeptForFile, stripHopByHop, xSendfilePath } from '../../../../plugins/proxy-core/response-fields.js';

const T = suite('proxy-core/response-fields');

T('nothing to strip: the same array comes back (no copy)', () => {
  const h = ['Content-Type', 'text/plain', 'Content-Length', '5', 'Trailer', 'X-T'];
  assert.is(stripHopByHop(h, false), h);
});

T('hop-by-hop fields and the ones Connection names go; case-insensitive', () => {
  const h = ['Connection', 'close, X-Hop', 'KEEP-ALIVE', 'timeout=5', 'x-hop', '1', 'Transfer-Encoding', 'chunked',
    'TE', 'trailers', 'Upgrade', 'websocket', 'Proxy-Connection', 'close', 'X-Keep', 'k'];
  assert.equal(stripHopByHop(h, false), ['X-Keep', 'k']);
});

T('the usual Connection: keep-alive goes, in place (the list is the parser\'s own), fields in order', () => {
  const h = ['Server', 'nginx', 'Content-Type', 'text/plain', 'Connection', 'Keep-Alive', 'Content-Length', '6'];
  const out = stripHopByHop(h, false);
  assert.is(out, h);
  assert.equal(out, ['Server', 'nginx', 'Content-Type', 'text/plain', 'Content-Length', '6']);
});

T('Connection options are not field names; a listed name goes whatever its case', () => {
  assert.equal(stripHopByHop(['Connection', ' close ,\tUPGRADE, keep-alive ', 'Close', 'x', 'X-A', '1'], false), ['Close', 'x', 'X-A', '1']);
  assert.equal(stripHopByHop(['Connection', 'x-a', 'X-A', '1', 'x-ab', '2'], false), ['x-ab', '2']);
});

T('a tunnelled 101 keeps Upgrade', () => {
  assert.equal(stripHopByHop(['Upgrade', 'websocket', 'Connection', 'upgrade', 'Sec-WebSocket-Accept', 'x'], true),
    ['Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'x']);
});

T('X-Sendfile and X-LIGHTTPD-send-file', () => {
  assert.is(xSendfilePath(['X-Sendfile', '/a']), '/a');
  assert.is(xSendfilePath(['x-lighttpd-send-file', '/b']), '/b');
  assert.is(xSendfilePath(['X-Other', '/c']), null);
});

T('fields the file describes itself are dropped for X-Sendfile; the backend\'s Content-Type stays (lighttpd)', () => {
  assert.equal(fieldsKeptForFile(['X-Sendfile', '/a', 'Content-Type', 't', 'Content-Length', '9', 'ETag', '"e"',
    'Content-Disposition', 'inline', 'Set-Cookie', 'a=1']), ['Content-Type', 't', 'Content-Disposition', 'inline', 'Set-Cookie', 'a=1']);
});

T.run();

// Unit tests of plugins/webdav/preconditions.ts: If-Match, If-None-Match, If-Unmodified-Since for writing methods.
import type fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '../../../../core/request.js';
import { makeETag } from '../../../../plugins/staticfile/etag.js';
import { preconditionFails } from '../../../../plugins/webdav/preconditions.js';

const T = suite('webdav/preconditions');
const flags = { inode: true, mtime: true, size: true };
const st = { ino: 7, size: 3, mtimeMs: Date.UTC(2024, 0, 1, 12, 0, 0) } as unknown as fs.Stats;
const tag = makeETag(st, flags)!;
const req = (h: Record<string, string>): Request => ({ header: (n: string) => h[n.toLowerCase()] }) as unknown as Request;

T('no conditional field: never fails', () => {
  assert.is(preconditionFails(req({}), null, flags, 'ENOENT'), false);
});

T('If-Match: the current tag or * passes; another tag or a missing resource fails', () => {
  assert.is(preconditionFails(req({ 'if-match': tag }), st, flags), false);
  assert.is(preconditionFails(req({ 'if-match': '*' }), st, flags), false);
  assert.is(preconditionFails(req({ 'if-match': '"other"' }), st, flags), true);
  assert.is(preconditionFails(req({ 'if-match': `W/${tag}` }), st, flags), true, 'strong comparison');
  assert.is(preconditionFails(req({ 'if-match': '*' }), null, flags, 'ENOENT'), true);
});

T('If-None-Match: * or the tag on an existing resource fails; a missing one passes', () => {
  assert.is(preconditionFails(req({ 'if-none-match': '*' }), st, flags), true);
  assert.is(preconditionFails(req({ 'if-none-match': `W/${tag}` }), st, flags), true, 'weak comparison');
  assert.is(preconditionFails(req({ 'if-none-match': '"other"' }), st, flags), false);
  assert.is(preconditionFails(req({ 'if-none-match': '*' }), null, flags, 'ENOENT'), false);
  assert.is(preconditionFails(req({ 'if-none-match': '*' }), null, flags, 'EACCES'), true, 'not clearly absent');
});

T('entity-tag fields are ignored when ETags are off', () => {
  assert.is(preconditionFails(req({ 'if-match': '"other"' }), st, null), false);
});

T('If-Unmodified-Since: modified later or missing fails', () => {
  assert.is(preconditionFails(req({ 'if-unmodified-since': 'Mon, 01 Jan 2024 12:00:00 GMT' }), st, flags), false);
  assert.is(preconditionFails(req({ 'if-unmodified-since': 'Mon, 01 Jan 2024 11:59:59 GMT' }), st, flags), true);
  assert.is(preconditionFails(req({ 'if-unmodified-since': 'Mon, 01 Jan 2024 12:00:00 GMT' }), null, flags, 'ENOENT'), true);
});

T.run();

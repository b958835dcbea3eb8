// RequestBody: buffering before a reader, back-pressure, and the high-water pause.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestBody, type BodySource } from '../../../core/request-body.js';

const B = suite('request-body');

function source() {
  const calls: string[] = [];
  const src: BodySource = {
    bodyReadStarted: () => calls.push('started'),
    pauseBody: () => calls.push('pause'),
    resumeBody: () => calls.push('resume'),
  };
  return { src, calls };
}

B('bytes that arrive before a reader are delivered in order, then end', () => {
  const { src } = source();
  const body = new RequestBody(src, 6);
  body.push(Buffer.from('abc'));
  body.push(Buffer.from('def'));
  body.end([]);
  const got: string[] = [];
  let ended = false;
  body.read({ data: (c) => { got.push(c.toString()); }, end: () => { ended = true; }, error: () => {} });
  assert.equal(got, ['abc', 'def']);
  assert.ok(ended);
});

B('a reader that starts after the high-water pause lifts it (no stall)', () => {
  const { src, calls } = source();
  const body = new RequestBody(src, -1);
  body.push(Buffer.alloc(70 * 1024));
  assert.equal(calls, ['pause'], 'paused at the high-water mark while nobody reads');
  let bytes = 0;
  body.read({ data: (c) => { bytes += c.length; }, end: () => {}, error: () => {} });
  assert.is(bytes, 70 * 1024);
  assert.equal(calls, ['pause', 'started', 'resume'], 'resumed once the reader took the bytes');
});

B('a reader returning false pauses; resume() continues', () => {
  const { src, calls } = source();
  const body = new RequestBody(src, -1);
  const got: string[] = [];
  let accept = false;
  body.read({ data: (c) => { got.push(c.toString()); return accept; }, end: () => got.push('END'), error: () => {} });
  body.push(Buffer.from('1'));
  body.push(Buffer.from('2'));
  body.end([]);
  assert.equal(got, ['1']);
  assert.ok(calls.includes('pause'));
  accept = true;
  body.resume();
  assert.equal(got, ['1', '2', 'END']);
});

B('a failed body reports the error once', () => {
  const { src } = source();
  const body = new RequestBody(src, 10);
  const errors: string[] = [];
  body.read({ data: () => {}, end: () => errors.push('end'), error: (e) => errors.push(e.message) });
  body.fail(new Error('gone'));
  body.fail(new Error('again'));
  assert.equal(errors, ['gone']);
});

B.run();

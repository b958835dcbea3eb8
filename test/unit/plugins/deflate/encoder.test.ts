// plugins/deflate encoders: each coding's bytes decode with the matching decoder (gzip RFC 1952,
// deflate as the zlib format RFC 1950, brotli), whole and streamed; with sync flush each piece
// written can be decoded before the end; the cache file is kept only for a whole body.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Coding } from '../../../../plugins/deflate/accept-encoding.js';
import { cacheFileName, teeToCache } from '../../../../plugins/deflate/cache-file.js';
import { compressStream, compressWhole, type EncoderSpec } from '../../../../plugins/deflate/encoder.js';
import { resolveSettings } from '../../../../plugins/deflate/settings.js';
import { withTimeout } from '../../../helpers/wait.js';

const E = suite('deflate encoders');

const BODY = Buffer.from('<p>some text to compress</p>\n'.repeat(500));
const decoders: Record<Coding, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gunzipSync(b), 'x-gzip': (b) => zlib.gunzipSync(b), deflate: (b) => zlib.inflateSync(b), br: (b) => zlib.brotliDecompressSync(b),
};

const spec = (coding: Coding, values: Array<[string, unknown]> = []): EncoderSpec => ({
  coding,
  settings: resolveSettings({ values: new Map(values as Array<[string, never]>), locs: new Map() }),
  contentType: 'text/html',
  sizeHint: BODY.length,
});

function collect(z: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  z.on('data', (b: Buffer) => parts.push(b));
  return withTimeout(new Promise<Buffer>((resolve, reject) => { z.on('end', () => resolve(Buffer.concat(parts))); z.on('error', reject); }), 5000, 'the compressed stream');
}

E('whole and streamed output of each coding decodes to the body', async () => {
  for (const coding of ['gzip', 'x-gzip', 'deflate', 'br'] as const) {
    const whole = compressWhole(spec(coding), BODY);
    assert.ok(whole.length < BODY.length / 5, coding);
    assert.ok(decoders[coding](whole).equals(BODY), `${coding} whole`);
    const z = compressStream(spec(coding));
    const out = collect(z);
    z.write(BODY.subarray(0, 5000));
    z.end(BODY.subarray(5000));
    assert.ok(decoders[coding](await out).equals(BODY), `${coding} streamed`);
  }
});

E('deflate.compression-level and deflate.params reach the encoder', () => {
  const fast = compressWhole(spec('gzip', [['deflate.compression-level', 1]]), BODY);
  const best = compressWhole(spec('gzip', [['deflate.compression-level', 9]]), BODY);
  assert.ok(fast.length !== best.length, 'levels 1 and 9 differ');
  assert.ok(zlib.gunzipSync(fast).equals(BODY));
});

E('sync flush (server.stream-response-body 2): a piece decodes before the stream ends', async () => {
  for (const coding of ['gzip', 'br'] as const) {
    const z = compressStream(spec(coding, [['server.stream-response-body', 2]]));
    const got = withTimeout(new Promise<Buffer>((resolve) => z.once('data', resolve)), 5000, 'flushed output');
    z.write(Buffer.from('first piece'));
    const first = await got;
    const text = coding === 'br'
      ? zlib.brotliDecompressSync(first, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }).toString()
      : zlib.gunzipSync(first, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
    assert.is(text, 'first piece', coding);
    z.destroy();
  }
});

E('the cache file: kept (renamed into place) only when the whole body went through', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-deflate-cache-'));
  try {
    const name = cacheFileName(dir, '/www/a.html', '"abc/1-gzip"')!;
    assert.is(name, `${dir}/www/a.html-abc~1-gzip`);
    assert.is(cacheFileName(dir, '/www/a.html', 'W/"weak-gzip"'), null);
    const whole = compressStream(spec('gzip'));
    teeToCache(whole, name, BODY.length, (m) => assert.unreachable(m));
    const out = collect(whole);
    whole.end(BODY);
    await out;
    assert.ok(zlib.gunzipSync(fs.readFileSync(name)).equals(BODY));
    fs.rmSync(name);
    const short = compressStream(spec('gzip'));
    teeToCache(short, name, BODY.length + 1, () => {});
    const out2 = collect(short);
    short.end(BODY);
    await out2;
    assert.not.ok(fs.existsSync(name), 'a body shorter than the file is not kept');
    const gone = compressStream(spec('gzip'));
    teeToCache(gone, name, BODY.length, () => {});
    gone.write(BODY.subarray(0, 100));
    const closed = withTimeout(new Promise((r) => gone.once('close', r)), 5000, 'close');
    gone.destroy();
    await closed;
    assert.equal(fs.readdirSync(path.dirname(name)), [], 'nothing left behind by a destroyed stream');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

E.run();

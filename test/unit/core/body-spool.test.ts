// body-spool: a request body in memory up to a threshold, then in an unlinked temp file; limits,
// upload-dir fallback, client errors, dispose and back-pressure. Driven through a real RequestBody
// whose connection side is a recording stand-in that only pushes while the body is not paused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import fsp, { open, unlink, type FileHandle } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { RequestBody, type BodySource } from '../../../core/request-body.js';
import { LanternError } from '../../../core/errors.js';
import { spoolBody, SPOOL_PIECE_BYTES, type SpooledBody, type SpoolOptions } from '../../../core/body-spool.js';
import { waitFor, withTimeout } from '../../helpers/wait.js';

const WAIT_MS = 10_000;

interface Ctx { dir: string }
const S = suite<Ctx>('body-spool', { dir: '' });

S.before.each((ctx) => { ctx.dir = mkdtempSync(path.join(os.tmpdir(), 'lantern-spool-')); });
S.after.each((ctx) => {
  chmodSync(ctx.dir, 0o700);
  for (const name of readdirSync(ctx.dir)) chmodSync(path.join(ctx.dir, name), 0o700);
  rmSync(ctx.dir, { recursive: true, force: true });
});

/** The connection side of a RequestBody: records calls and tells the feeder when to push. */
class FakeConnection extends EventEmitter implements BodySource {
  calls: string[] = [];
  paused = false;
  /** The spool promise settled: stop feeding (a rejected body stays paused). */
  settled = false;
  bodyReadStarted(): void { this.calls.push('started'); }
  pauseBody(): void { this.calls.push('pause'); this.paused = true; this.emit('pause'); }
  resumeBody(): void { this.calls.push('resume'); this.paused = false; this.emit('resume'); }
  watch<T>(p: Promise<T>): Promise<T> {
    const settle = () => { this.settled = true; this.emit('settled'); };
    p.then(settle, settle);
    return p;
  }
}

/** The first of `names` that `emitter` emits, with a hard timeout. */
function nextEvent(emitter: EventEmitter, names: string[], what: string): Promise<string> {
  let cleanup = () => {};
  const p = new Promise<string>((resolve) => {
    const handlers = names.map((name) => {
      const h = () => resolve(name);
      emitter.once(name, h);
      return [name, h] as const;
    });
    cleanup = () => { for (const [name, h] of handlers) emitter.off(name, h); };
  });
  return withTimeout(p, WAIT_MS, what).finally(cleanup);
}

/** Pushes `data` in `chunkBytes` pieces as a connection would: never while paused. */
async function feed(body: RequestBody, conn: FakeConnection, data: Buffer, chunkBytes: number, end: string[] | null = []): Promise<void> {
  for (let at = 0; at < data.length; at += chunkBytes) {
    while (conn.paused && !conn.settled) await nextEvent(conn, ['resume', 'settled'], `resume at byte ${at}`);
    if (conn.settled) return;
    body.push(data.subarray(at, at + chunkBytes));
  }
  if (end) body.end(end);
}

/** Open fds of this process that point into `dir` (Linux /proc; deleted files included). */
function fdsInto(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + path.sep)) n++;
    } catch {
      // The fd of the readdir itself is gone by now.
    }
  }
  return n;
}

async function readAll(spooled: SpooledBody): Promise<{ bytes: Buffer; pieces: number; largest: number }> {
  const parts: Buffer[] = [];
  let largest = 0;
  const reading = (async () => {
    for await (const piece of spooled.reader()) {
      parts.push(piece);
      largest = Math.max(largest, piece.length);
    }
  })();
  await withTimeout(reading, WAIT_MS, 'reading the spooled body back');
  return { bytes: Buffer.concat(parts), pieces: parts.length, largest };
}

function opts(dir: string, over: Partial<SpoolOptions> = {}): SpoolOptions {
  return { memoryBytes: 64 * 1024, maxBytes: 0, dirs: [dir], ...over };
}

async function rejection(p: Promise<unknown>, what: string): Promise<Error> {
  const err = await withTimeout(p.then(() => null, (e: unknown) => e as Error), WAIT_MS, what);
  if (!err) throw new Error(`${what}: expected a rejection`);
  return err;
}

S('a small body stays in memory: no file ever appears in the upload dir', async ({ dir }) => {
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const data = randomBytes(1000);
  const p = conn.watch(spoolBody(body, opts(dir)));
  await feed(body, conn, data, 300, ['x-checksum', 'abc']);
  const spooled = await withTimeout(p, WAIT_MS, 'spool');
  assert.is(spooled.inFile, false);
  assert.is(spooled.length, 1000);
  assert.equal(spooled.trailers, ['x-checksum', 'abc']);
  assert.equal(readdirSync(dir), []);
  assert.is(fdsInto(dir), 0);
  assert.not.ok(conn.calls.includes('pause'), 'never paused');
  const back = await readAll(spooled);
  assert.ok(back.bytes.equals(data));
  assert.is(back.pieces, 1, 'the small chunks come back as one piece');
  await spooled.dispose();
});

S('a body of exactly memoryBytes stays in memory; one byte more goes to a file', async ({ dir }) => {
  for (const [size, inFile] of [[4096, false], [4097, true]] as const) {
    const conn = new FakeConnection();
    const body = new RequestBody(conn, -1);
    const data = randomBytes(size);
    const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 4096 })));
    await feed(body, conn, data, 1024);
    const spooled = await withTimeout(p, WAIT_MS, `spool of ${size}`);
    assert.is(spooled.inFile, inFile, `${size} bytes`);
    assert.ok((await readAll(spooled)).bytes.equals(data));
    await spooled.dispose();
  }
});

S('a 5 MiB body goes to an unlinked temp file and reads back byte-exact twice', async ({ dir }) => {
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const data = randomBytes(5 * 1024 * 1024);
  const p = conn.watch(spoolBody(body, opts(dir)));
  await withTimeout(feed(body, conn, data, 16 * 1024, ['x-t', '1']), WAIT_MS, 'feeding 5 MiB');
  const spooled = await withTimeout(p, WAIT_MS, 'spool');
  assert.is(spooled.inFile, true);
  assert.is(spooled.length, data.length);
  assert.equal(spooled.trailers, ['x-t', '1']);
  assert.ok(conn.calls.includes('pause'), 'the client was paused during file writes');
  assert.equal(readdirSync(dir), [], 'the temp file is not in the directory');
  assert.is(fdsInto(dir), 1, 'but its fd is open');
  const first = await readAll(spooled);
  const second = await readAll(spooled);
  assert.ok(first.bytes.equals(data), 'first read');
  assert.ok(second.bytes.equals(data), 'second read (a retry replays it)');
  assert.ok(first.largest <= SPOOL_PIECE_BYTES, `pieces ≤ ${SPOOL_PIECE_BYTES}`);
  await spooled.dispose();
  assert.is(fdsInto(dir), 0, 'dispose closed the fd');
});

S('a declared length above memoryBytes goes to a file from the first byte', async ({ dir }) => {
  const conn = new FakeConnection();
  const data = randomBytes(3000);
  const body = new RequestBody(conn, data.length);
  const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 2048 })));
  body.push(data.subarray(0, 100));
  assert.ok(conn.paused, 'the first chunk already waits for the file');
  await feed(body, conn, data.subarray(100), 700);
  const spooled = await withTimeout(p, WAIT_MS, 'spool');
  assert.is(spooled.inFile, true);
  assert.ok((await readAll(spooled)).bytes.equals(data));
  await spooled.dispose();
});

S('maxBytes exceeded mid-body → LT_ERR_BODY_TOO_LARGE, the fd is closed, the client stays paused', async ({ dir }) => {
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 1024, maxBytes: 100_000 })));
  await feed(body, conn, randomBytes(200_000), 4096);
  const err = await rejection(p, 'spool rejection');
  assert.instance(err, LanternError);
  assert.is((err as LanternError).code, 'LT_ERR_BODY_TOO_LARGE');
  assert.is((err as LanternError).status, 413);
  assert.is(fdsInto(dir), 0, 'the temp file was closed before the rejection');
  assert.equal(readdirSync(dir), []);
  assert.ok(conn.paused, 'the client is not read any further');
});

S('a declared length above maxBytes is refused before reading (no 100 Continue)', async ({ dir }) => {
  const conn = new FakeConnection();
  const body = new RequestBody(conn, 5000);
  const err = await rejection(spoolBody(body, opts(dir, { maxBytes: 4999 })), 'spool rejection');
  assert.is((err as LanternError).code, 'LT_ERR_BODY_TOO_LARGE');
  assert.not.ok(conn.calls.includes('started'), 'the body read never started');
  assert.not.ok(body.reading);
});

S('a directory where the file cannot be created → the next one is used', async ({ dir }) => {
  const missing = path.join(dir, 'missing');
  const notADir = path.join(dir, 'plain-file');
  writeFileSync(notADir, '');
  const bad = [missing, notADir];
  if (process.getuid?.() !== 0) { // root writes anywhere: a read-only dir only counts for others
    const readOnly = path.join(dir, 'read-only');
    mkdirSync(readOnly, 0o500);
    bad.push(readOnly);
  }
  const good = path.join(dir, 'good');
  mkdirSync(good);
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const data = randomBytes(10_000);
  const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 1000, dirs: [...bad, good] })));
  await feed(body, conn, data, 1500);
  const spooled = await withTimeout(p, WAIT_MS, 'spool');
  assert.is(spooled.inFile, true);
  assert.is(fdsInto(good), 1, 'the file is in the usable dir');
  assert.equal(readdirSync(good), []);
  assert.ok((await readAll(spooled)).bytes.equals(data));
  await spooled.dispose();
  assert.is(fdsInto(dir), 0);
});

S('no usable directory → LT_ERR_INTERNAL naming each directory and why', async ({ dir }) => {
  const missing = path.join(dir, 'missing');
  const notADir = path.join(dir, 'plain-file');
  writeFileSync(notADir, '');
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 10, dirs: [missing, notADir] })));
  await feed(body, conn, randomBytes(100), 50);
  const err = await rejection(p, 'spool rejection');
  assert.is((err as LanternError).code, 'LT_ERR_INTERNAL');
  assert.match(err.message, 'server.upload-dirs');
  assert.match(err.message, `${missing}: ENOENT`);
  assert.match(err.message, `${notADir}: ENOTDIR`);
  assert.is(fdsInto(dir), 0);

  const conn2 = new FakeConnection();
  const body2 = new RequestBody(conn2, -1);
  const p2 = conn2.watch(spoolBody(body2, opts(dir, { memoryBytes: 10, dirs: [] })));
  await feed(body2, conn2, randomBytes(100), 50);
  assert.match((await rejection(p2, 'spool rejection')).message, 'server.upload-dirs is empty');
});

S('a client error mid-body rejects the spool and closes the fd', async ({ dir }) => {
  for (const memoryBytes of [1 << 20, 1024]) {
    const conn = new FakeConnection();
    const body = new RequestBody(conn, 1 << 19);
    const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes })));
    await feed(body, conn, randomBytes(8192), 1024, null);
    body.fail(new Error('client went away'));
    const err = await rejection(p, 'spool rejection');
    assert.is(err.message, 'client went away', `memoryBytes ${memoryBytes}`);
    assert.is(fdsInto(dir), 0, `memoryBytes ${memoryBytes}: fd closed`);
  }
});

S('a client error while the temp file is being opened: the file is closed once it opens', async ({ dir }) => {
  // Hold fs.promises.open (the named import follows once builtin exports are re-synced).
  const originalOpen = fsp.open;
  let opened: FileHandle | null = null;
  let releaseOpen = () => {};
  const gate = new Promise<void>((release) => { releaseOpen = release; });
  fsp.open = (async (...args: Parameters<typeof fsp.open>) => {
    const handle = await originalOpen(...args);
    opened = handle;
    await gate;
    return handle;
  }) as typeof fsp.open;
  syncBuiltinESMExports();
  try {
    const conn = new FakeConnection();
    const body = new RequestBody(conn, -1);
    const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 10 })));
    body.push(randomBytes(100)); // over memoryBytes: the open starts
    await waitFor(() => opened !== null, WAIT_MS, 5, 'the temp file open');
    body.fail(new Error('reset while opening'));
    assert.is((await rejection(p, 'spool rejection')).message, 'reset while opening');
    assert.is(fdsInto(dir), 1, 'the file is still being opened');
    releaseOpen();
    await waitFor(() => opened!.fd === -1, WAIT_MS, 5, 'the late temp file to be closed');
    assert.is(fdsInto(dir), 0);
    assert.equal(readdirSync(dir), []);
  } finally {
    fsp.open = originalOpen;
    syncBuiltinESMExports();
  }
});

S('an empty body resolves at once, in memory', async ({ dir }) => {
  const conn = new FakeConnection();
  const spooled = await withTimeout(spoolBody(new RequestBody(conn, 0), opts(dir)), WAIT_MS, 'spool');
  assert.is(spooled.length, 0);
  assert.is(spooled.inFile, false);
  assert.is(await spooled.reader().next(), null);
  await spooled.dispose();
});

S('dispose closes the fd, is idempotent, and later reads reject', async ({ dir }) => {
  const conn = new FakeConnection();
  const body = new RequestBody(conn, -1);
  const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 0 })));
  await feed(body, conn, randomBytes(5000), 1000);
  const spooled = await withTimeout(p, WAIT_MS, 'spool');
  const reader = spooled.reader();
  assert.is((await withTimeout(reader.next(), WAIT_MS, 'first piece'))?.length, 5000);
  assert.is(fdsInto(dir), 1);
  await withTimeout(Promise.all([spooled.dispose(), spooled.dispose()]), WAIT_MS, 'dispose');
  await withTimeout(spooled.dispose(), WAIT_MS, 'dispose again');
  assert.is(fdsInto(dir), 0);
  assert.match((await rejection(spooled.reader().next(), 'read after dispose')).message, 'disposed');
});

S('back-pressure: the client is paused while a file write is pending and resumed after', async ({ dir }) => {
  // Hold every FileHandle write until the test releases it.
  const probePath = path.join(dir, 'probe');
  const probe = await open(probePath, 'w');
  type WriteV = (this: FileHandle, ...args: unknown[]) => Promise<unknown>;
  const proto = Object.getPrototypeOf(probe) as { writev: WriteV };
  await probe.close();
  await unlink(probePath);
  const original = proto.writev;
  const held = new EventEmitter();
  const releases: Array<() => void> = [];
  proto.writev = function (this: FileHandle, ...args: unknown[]) {
    return new Promise<void>((release) => { releases.push(release); held.emit('write'); })
      .then(() => original.apply(this, args));
  };
  try {
    const conn = new FakeConnection();
    const body = new RequestBody(conn, -1);
    const data = randomBytes(3200);
    const p = conn.watch(spoolBody(body, opts(dir, { memoryBytes: 1024 })));
    const firstWrite = nextEvent(held, ['write'], 'the first write');
    body.push(data.subarray(0, 800));
    assert.equal(conn.calls, ['started'], 'under memoryBytes: no pause');
    body.push(data.subarray(800, 1600));
    assert.equal(conn.calls, ['started', 'pause'], 'paused when the file is needed');
    await firstWrite;
    assert.ok(conn.paused, 'still paused while the write is pending');
    const resumed = nextEvent(conn, ['resume'], 'resume after the first write');
    releases.shift()!();
    await resumed;
    assert.equal(conn.calls, ['started', 'pause', 'resume']);

    body.push(data.subarray(1600, 2400)); // under one write batch (memoryBytes): gathered
    assert.not.ok(conn.paused);
    const secondWrite = nextEvent(held, ['write'], 'the second write');
    body.push(data.subarray(2400, 3200));
    assert.ok(conn.paused, 'paused again for the second write');
    await secondWrite;
    const resumed2 = nextEvent(conn, ['resume'], 'resume after the second write');
    releases.shift()!();
    await resumed2;
    body.end([]);
    const spooled = await withTimeout(p, WAIT_MS, 'spool');
    assert.is(releases.length, 0, 'no other write');
    assert.equal(conn.calls, ['started', 'pause', 'resume', 'pause', 'resume']);
    assert.ok((await readAll(spooled)).bytes.equals(data));
    await spooled.dispose();
  } finally {
    proto.writev = original;
  }
});

S.run();

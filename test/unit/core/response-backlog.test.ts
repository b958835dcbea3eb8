// Unit tests of core/response-backlog.ts: the bytes a slow client has not taken, in memory then a
// temp file, sent in order as the client drains; the source paused over the cap and resumed under
// half of it; the end (with trailers) only after everything; nothing left open after an abort or
// a temp file that cannot be made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseBacklog, type BacklogOptions } from '../../../core/response-backlog.js';
import type { Request } from '../../../core/request.js';
import { waitFor } from '../../helpers/wait.js';

const T = suite('core/response-backlog');

/** A client that takes `room` bytes per drain; write() says false once it is full. */
class FakeClient {
  got: Buffer[] = [];
  ended = false;
  trailers: unknown = undefined;
  finished = false;
  aborted = false;
  room: number;
  private used = 0;
  private drains: Array<() => void> = [];
  private aborts: Array<() => void> = [];
  constructor(room: number) { this.room = room; }
  write(chunk: Buffer): boolean {
    this.got.push(Buffer.from(chunk));
    this.used += chunk.length;
    return this.used < this.room;
  }
  end(_body: unknown, trailers?: unknown): void { this.ended = true; this.finished = true; this.trailers = trailers; }
  onDrain(cb: () => void): void { this.drains.push(cb); }
  onAbort(cb: () => void): void { this.aborts.push(cb); }
  abort(): void { this.aborted = true; this.finished = true; for (const cb of this.aborts.splice(0)) cb(); }
  /** The client read everything it had: room again. */
  drain(): void { this.used = 0; for (const cb of this.drains.splice(0)) cb(); }
  get bytes(): Buffer { return Buffer.concat(this.got); }
}

let dir = '';
T.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-backlog-')); });
T.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function backlog(client: FakeClient, over: Partial<BacklogOptions> = {}) {
  const events = { room: 0, spilled: 0, errors: [] as string[] };
  const b = new ResponseBacklog(client as unknown as Request, {
    memoryBytes: 1024, maxFileBytes: 1 << 20, dirs: [dir],
    onRoom: () => { events.room++; }, onSpill: (n) => { events.spilled += n; }, onError: (e) => { events.errors.push(e.message); },
    ...over,
  });
  return { b, events };
}

const piece = (i: number, n = 500) => Buffer.alloc(n, 97 + (i % 26));

T('a client that keeps up gets each chunk at once, nothing held', () => {
  const c = new FakeClient(1 << 30);
  const { b, events } = backlog(c);
  for (let i = 0; i < 10; i++) assert.ok(b.push(piece(i)));
  assert.is(b.held, 0);
  assert.is(c.got.length, 10);
  b.end();
  assert.ok(c.ended);
  assert.is(events.spilled, 0);
});

T('a slow client gets every byte in order, from memory and then the temp file; the end waits for them', async () => {
  const c = new FakeClient(700);
  const { b, events } = backlog(c);
  const sent: Buffer[] = [];
  for (let i = 0; i < 40; i++) { const p = piece(i); sent.push(p); b.push(p); }
  b.end(['X-Trailer', 'v']);
  assert.not.ok(c.ended, 'not before the held bytes');
  await waitFor(() => events.spilled > 0, 2000, 5, 'a spill to the temp file');
  for (let i = 0; i < 200 && !c.ended; i++) {
    c.drain();
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(c.ended, 'ended once everything went out');
  assert.equal(c.trailers, ['X-Trailer', 'v']);
  assert.ok(c.bytes.equals(Buffer.concat(sent)), 'the same bytes, in order');
  // 1000 bytes went straight out (the second write filled the client), 1000 waited in memory.
  assert.is(events.spilled, 40 * 500 - 1000 - 1000);
});

T('over the cap the source is told to pause, and told again when half of it has gone out', async () => {
  const c = new FakeClient(100);
  const { b, events } = backlog(c, { memoryBytes: 1000, maxFileBytes: 0 });
  assert.ok(b.push(piece(0, 200)), 'written through');
  let ok = true;
  for (let i = 1; i < 10 && ok; i++) ok = b.push(piece(i, 200));
  assert.not.ok(ok, 'memory only: over 1000 bytes the source pauses');
  assert.is(events.room, 0);
  c.room = 1 << 30;
  c.drain();
  await waitFor(() => events.room === 1, 1000, 5, 'room again');
});

T('a client that goes away: the backlog is dropped and its temp file closed', async () => {
  const c = new FakeClient(100);
  const { b, events } = backlog(c, { memoryBytes: 100 });
  for (let i = 0; i < 20; i++) b.push(piece(i));
  await waitFor(() => events.spilled > 0, 2000, 5, 'a spill');
  const before = fs.readdirSync('/proc/self/fd').length;
  c.abort();
  await waitFor(() => fs.readdirSync('/proc/self/fd').length < before, 2000, 5, 'the temp file closed');
  assert.is(b.held, 0);
  assert.not.ok(c.ended);
});

T('a temp file that cannot be made: the error is reported and the response aborted, not hung', async () => {
  const c = new FakeClient(100);
  const { b, events } = backlog(c, { memoryBytes: 100, dirs: [path.join(dir, 'missing', 'dir')] });
  for (let i = 0; i < 5; i++) b.push(piece(i));
  await waitFor(() => c.aborted, 2000, 5, 'the abort');
  assert.match(events.errors.join('\n'), /cannot create a response body temp file in server\.upload-dirs/);
});

T.run();

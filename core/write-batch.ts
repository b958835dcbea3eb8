// Small writes leave together once per turn of the event loop, as nginx and HAProxy do: handle
// every socket that is ready, then send. A response head or a proxied request head written while
// the loop works through one batch of ready sockets is held (the socket is corked) and sent right
// after that batch, from setImmediate (the check phase, which follows the poll phase; a pending
// immediate keeps the next poll from blocking, so nothing waits for new I/O).
//
// Why: on a loaded 2-core machine, a peer (the backend, the client) that is woken for every
// single write sleeps and wakes again between writes, and every wake-up is paid in kernel time on
// both sides. Measured with a raw relay slowed to lantern's pace: sending per turn instead of per
// write cut the relay's kernel time per request from ~24 to ~18 us and the backend's and client's
// CPU per request by a third. Large writes (a body streaming through) are not held: they go at
// once, after whatever the socket already holds, so back-pressure reads as before.
import type { Socket } from 'node:net';

/** Writes up to this size wait for the end of the turn; larger ones go at once. */
export const BATCH_MAX_BYTES = 16 * 1024;

/** An owner of a socket whose small writes may be held until the end of the turn. */
export interface BatchedWriter {
  readonly socket: Socket;
  /** The socket is corked by the batch (set and cleared here only). */
  batched: boolean;
}

let waiting: BatchedWriter[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const list = waiting;
  waiting = [];
  for (let i = 0; i < list.length; i++) flushBatched(list[i]!);
}

/**
 * Write `data` to be sent at the end of this turn of the event loop, with the other small writes
 * made meanwhile. Returns socket.write()'s answer (false: wait for 'drain').
 */
export function batchWrite(w: BatchedWriter, data: Buffer | string, encoding?: BufferEncoding): boolean {
  const s = w.socket;
  if (!w.batched) {
    w.batched = true;
    s.cork();
    waiting.push(w);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushAll);
    }
  }
  return encoding === undefined ? s.write(data) : s.write(data, encoding);
}

/** Send what the batch holds for this socket now: before a large write, a close or a hand-over. */
export function flushBatched(w: BatchedWriter): void {
  if (!w.batched) return;
  w.batched = false;
  if (!w.socket.destroyed) w.socket.uncork();
}

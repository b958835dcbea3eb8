// Small writes leave together once per turn of the event loop, as nginx and HAProxy do: handle
// every socket that is ready, then send. A response head or a proxied request head written while
// the loop works through one batch of ready sockets is held here (not with Node's cork, whose
// uncork path costs more than the write) and sent right after that batch, from setImmediate
// (core/turn.ts: the check phase, which follows the poll phase; a pending immediate keeps the
// next poll from blocking, so nothing waits for new I/O).
//
// Why: on a loaded 2-core machine, a peer (the backend, the client) that is woken for every
// single write sleeps and wakes again between writes, and every wake-up is paid in kernel time on
// both sides. Measured with a raw relay slowed to lantern's pace: sending per turn instead of per
// write cut the relay's kernel time per request from ~24 to ~18 us and the backend's and client's
// CPU per request by a third. At most BATCH_MAX_BYTES is held per socket and turn, nothing is
// held for a socket that already queues unsent bytes, and larger writes (a body streaming
// through) go at once after what is held: back-pressure reads as before.
/** What a batched writer writes to: a socket, or any byte pipe that behaves as one (a process's stdin). */
export interface BatchSocket {
  readonly writableLength: number;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  write(data: Buffer | string, encoding?: BufferEncoding): boolean;
}
import { atTurnEnd, scheduleTurnEnd } from './turn.js';

/** Writes up to this size wait for the end of the turn; larger ones go at once. */
export const BATCH_MAX_BYTES = 16 * 1024;

/** An owner of a socket whose small writes may be held until the end of the turn. */
export interface BatchedWriter<S extends BatchSocket = BatchSocket> {
  readonly socket: S;
  /** The first piece held for the end of the turn (a string is latin1), or null; managed here. */
  held: Buffer | string | null;
  /** Further pieces held in the same turn (pipelined answers, chunk framing), or null; managed here. */
  heldMore: Array<Buffer | string> | null;
  /** Bytes held: never more than BATCH_MAX_BYTES, so holding cannot hide a slow peer. */
  heldBytes: number;
}

let waiting: BatchedWriter[] = [];

function flushAll(): void {
  if (waiting.length === 0) return;
  const list = waiting;
  waiting = [];
  for (let i = 0; i < list.length; i++) flushBatched(list[i]!);
}

atTurnEnd(flushAll);

function send(s: BatchSocket, piece: Buffer | string): boolean {
  return typeof piece === 'string' ? s.write(piece, 'latin1') : s.write(piece);
}

/**
 * Write `data` (a string is written as latin1) to leave at the end of this turn of the event
 * loop, with the other small writes made meanwhile. Returns what socket.write() would: true while
 * the socket holds nothing unsent, else its own answer (false: wait for 'drain'). Every write to
 * the socket must come through here or call flushBatched() first, or the order breaks.
 */
export function batchWrite(w: BatchedWriter, data: Buffer | string): boolean {
  const s = w.socket;
  if (s.writableLength > 0 || w.heldBytes + data.length > BATCH_MAX_BYTES) {
    // The peer is not taking bytes, or a turn's worth is held already: no (more) holding, the
    // socket's queue and its answer decide.
    flushBatched(w);
    return send(s, data);
  }
  w.heldBytes += data.length;
  if (w.held === null) {
    w.held = data;
    waiting.push(w);
    scheduleTurnEnd();
  } else {
    (w.heldMore ??= []).push(data);
  }
  return true;
}

/** Send what is held for this socket now: before a large or direct write, an end, a close, a hand-over. */
export function flushBatched(w: BatchedWriter): void {
  const first = w.held;
  if (first === null) return;
  const more = w.heldMore;
  w.held = null;
  w.heldMore = null;
  w.heldBytes = 0;
  const s = w.socket;
  if (s.destroyed) return;
  if (more === null) {
    send(s, first);
    return;
  }
  s.cork();
  send(s, first);
  for (let i = 0; i < more.length; i++) send(s, more[i]!);
  s.uncork();
}

// The end of one turn of the event loop, and the clock read once per turn.
//
// lantern works in turns, as nginx does: the poll phase hands over every ready socket, and the
// work they cause (requests parsed, responses built) is finished off in one place afterwards, a
// setImmediate in the check phase that follows the poll. Two things live on that:
// - small writes held for the end of the turn (core/write-batch.ts), and
// - the time: Date.now() and performance.now() cost ~50 ns each, a proxied request wanted four of
//   them, and none needs more precision than "when this turn began". nginx caches its time per
//   loop iteration (ngx_time_update) for the same reason; $request_time is measured with it.
// The clocks are read on first use in a turn and forgotten when the turn ends (the check phase;
// timer callbacks that run before it share the value), so a value is at most one loop iteration
// old: under load about a millisecond, idle a single callback. Code that needs the exact time (a
// timer deciding whether a deadline passed) reads Date.now() itself.

let scheduled = false;
/** Turns ended so far: tells whether two moments are in the same turn (no poll between them). */
let turnsEnded = 0;
/** Date.now() of this turn, or -1 when not read yet in this turn. */
let wallMs = -1;
/** performance.now() of this turn, or -1. */
let monoMs = -1;
/** Work to do at the end of each turn: fixed at load time (write-batch's flush), never per request. */
const endOfTurn: Array<() => void> = [];

function endTurn(): void {
  scheduled = false;
  turnsEnded++;
  wallMs = -1;
  monoMs = -1;
  for (let i = 0; i < endOfTurn.length; i++) endOfTurn[i]!();
}

/** Make sure the end of this turn runs (one shared setImmediate). */
export function scheduleTurnEnd(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(endTurn);
}

/** Run `fn` at the end of every turn that scheduled one. For modules, at load time. */
export function atTurnEnd(fn: () => void): void {
  endOfTurn.push(fn);
}

/**
 * This turn's number. Two calls that return the same number had no turn end (and so no poll
 * of the sockets) between them, provided something scheduled this turn's end (turnNowMs() does).
 */
export function turnNumber(): number {
  return turnsEnded;
}

/** Date.now() as of this turn (ms since the epoch): for timestamps, idle times, deadlines. */
export function turnNowMs(): number {
  if (wallMs < 0) {
    wallMs = Date.now();
    scheduleTurnEnd();
  }
  return wallMs;
}

/** performance.now() as of this turn (monotonic ms): for durations. */
export function turnMonotonicMs(): number {
  if (monoMs < 0) {
    monoMs = performance.now();
    scheduleTurnEnd();
  }
  return monoMs;
}

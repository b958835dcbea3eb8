// core/turn.ts: the clocks are read once per turn of the event loop and forgotten at its end;
// work registered with atTurnEnd() runs once at the end of every turn that scheduled one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { atTurnEnd, scheduleTurnEnd, turnMonotonicMs, turnNowMs } from '../../../core/turn.js';
import { withTimeout } from '../../helpers/wait.js';

const T = suite('turn');

/** Spin until the real clock has moved on by at least `ms` (no timers: this stays in one turn). */
function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the point is to stay in this turn */ }
}

/**
 * Resolves after this turn has ended. An immediate, not a timer: a timer added from a timer
 * callback can fire in the same timers phase, before the turn's end (the check phase) has run;
 * immediates run in order, so this one follows the end of the turn scheduled before it.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

T('within one turn, both clocks keep the value of their first read', () => {
  const wall = turnNowMs();
  const mono = turnMonotonicMs();
  busyWait(5);
  assert.is(turnNowMs(), wall);
  assert.is(turnMonotonicMs(), mono);
  assert.ok(Math.abs(wall - Date.now()) < 1000, 'a wall clock');
});

T('a later turn reads the clocks again', async () => {
  const wall = turnNowMs();
  const mono = turnMonotonicMs();
  busyWait(5);
  await withTimeout(nextTurn(), 2000, 'next turn');
  assert.ok(turnNowMs() >= wall + 5, 'wall clock moved');
  assert.ok(turnMonotonicMs() >= mono + 5, 'monotonic clock moved');
});

T('end-of-turn work runs once per scheduled turn, not per schedule call', async () => {
  let runs = 0;
  atTurnEnd(() => { runs++; });
  scheduleTurnEnd();
  scheduleTurnEnd();
  assert.is(runs, 0, 'not before the turn ends');
  await withTimeout(nextTurn(), 2000, 'check phase');
  assert.is(runs, 1);
  await withTimeout(new Promise<void>((resolve) => setTimeout(resolve, 5)), 2000, 'later turns');
  assert.is(runs, 1, 'turns that scheduled nothing run nothing');
});

T.run();

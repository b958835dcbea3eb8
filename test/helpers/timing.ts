// A time bound for the property tests that guard against slow algorithms (catastrophic
// backtracking, quadratic scans). One call can be stalled by a garbage collection or a busy
// machine (CI runs two test files at once on two cores); a slow algorithm is slow every time.

import * as assert from 'uvu/assert';

/**
 * Runs `fn`; when it took `limitMs` or more, runs it up to twice more, and fails when even the
 * fastest run reached the limit. `fn` must give the same result each time; its last result is
 * returned.
 */
export function withinTime<T>(fn: () => T, limitMs: number, what: string): T {
  let best = Infinity;
  let result!: T;
  for (let attempt = 0; attempt < 3 && best >= limitMs; attempt++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < limitMs, `${what} took ${best.toFixed(1)} ms (the fastest of 3; limit ${limitMs} ms)`);
  return result;
}

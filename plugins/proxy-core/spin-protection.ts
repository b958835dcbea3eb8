// Spin protection for supervised children (design.md §3 "Unified process spawning"): how a death is answered.
// The one copy of the restart rule: the spawner and demo-app's supervised processes use it.

/** The knobs of the rule. */
export interface SpinPolicy {
  /** A child that lived at least this long had a "stable" run: the count of quick deaths starts over. Default 10 000 ms. */
  stableRunMs: number;
  /** First restart delay; doubled after each quick death in a row, capped at `maxRestartDelayMs`. Default 100 ms. */
  restartDelayMs: number;
  /** Cap of the restart delay. Default 5000 ms. */
  maxRestartDelayMs: number;
  /** Give up after this many quick deaths in a row. Default 5. */
  maxQuickDeaths: number;
}

export const DEFAULT_SPIN_POLICY: Readonly<SpinPolicy> = Object.freeze({
  stableRunMs: 10_000,
  restartDelayMs: 100,
  maxRestartDelayMs: 5000,
  maxQuickDeaths: 5,
});

/** What to do after a death. */
export type RestartDecision = { restart: true; delayMs: number } | { restart: false };

/**
 * Quick deaths in a row back off exponentially (delay, 2×delay, 4×delay … capped) and, past
 * `maxQuickDeaths`, stop the restarts; a stable run resets the count. `state` is the child's
 * counter, updated in place.
 */
export function decideRestart(state: { quickDeaths: number }, livedMs: number, policy: SpinPolicy): RestartDecision {
  if (livedMs >= policy.stableRunMs) state.quickDeaths = 0;
  state.quickDeaths++;
  if (state.quickDeaths > policy.maxQuickDeaths) return { restart: false };
  const delayMs = Math.min(policy.restartDelayMs * 2 ** (state.quickDeaths - 1), policy.maxRestartDelayMs);
  return { restart: true, delayMs };
}

// Unit tests of plugins/demo-app/supervised-process.ts: the spin-protection rule and the ports option.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePorts } from '../../../../plugins/demo-app/index.js';
import { decideRestart } from '../../../../plugins/demo-app/supervised-process.js';

const T = suite('demo-app/supervised-process');
const OPTS = { stableRunMs: 10_000, restartDelayMs: 100, maxRestartDelayMs: 1000, maxQuickDeaths: 5 };

T('quick deaths back off 100, 200, 400, 800, then capped, and stop after maxQuickDeaths', () => {
  const state = { quickDeaths: 0 };
  const delays = [1, 2, 3, 4, 5].map(() => decideRestart(state, 50, OPTS));
  assert.equal(delays, [100, 200, 400, 800, 1000].map((delayMs) => ({ restart: true, delayMs })));
  assert.equal(decideRestart(state, 50, OPTS), { restart: false });
});

T('a stable run resets the count', () => {
  const state = { quickDeaths: 0 };
  for (let i = 0; i < 4; i++) decideRestart(state, 10, OPTS);
  assert.equal(decideRestart(state, 10_000, OPTS), { restart: true, delayMs: 100 });
  assert.is(state.quickDeaths, 1);
});

T('parsePorts: integers and numeric strings; errors for anything else', () => {
  assert.equal(parsePorts([8081, '8082']), [8081, 8082]);
  assert.equal(parsePorts(8081), [8081]);
  assert.equal(parsePorts([]), []);
  assert.match(parsePorts([0]) as string, /expected a list of TCP ports/);
  assert.match(parsePorts([70000]) as string, /expected a list of TCP ports/);
  assert.match(parsePorts(['80a']) as string, /expected a list of TCP ports/);
  assert.match(parsePorts([1, 1]) as string, /listed twice/);
});

T.run();

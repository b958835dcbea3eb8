// Case cgi's look inside lantern (bench/cases/cgi.ts), not a peer: preloaded with
// `node --import <this file> bin/lantern ...`, it wraps child_process.spawn and adds up the time
// spent inside it (the event loop is blocked there: libuv forks the Node process and waits until
// the child has exec'd). On each SIGUSR2 it appends one JSON line, the totals so far,
// { spawns, insideUs, atUs } (atUs: this process's monotonic clock), to the file named by
// LANTERN_BENCH_SPAWN_STATS; the bench takes the difference of two lines around a measured run.
// lantern itself is not changed: its `import { spawn } from 'node:child_process'` sees the
// wrapper through syncBuiltinESMExports().
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const file = process.env.LANTERN_BENCH_SPAWN_STATS;
if (file) {
  const spawn = childProcess.spawn;
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let spawns = 0;
  let insideUs = 0;
  childProcess.spawn = function timedSpawn(...args) {
    const t0 = nowUs();
    try {
      return spawn.apply(this, args);
    } finally {
      insideUs += nowUs() - t0;
      spawns++;
    }
  };
  syncBuiltinESMExports();
  process.on('SIGUSR2', () => fs.appendFileSync(file, `${JSON.stringify({ spawns, insideUs, atUs: nowUs() })}\n`));
}

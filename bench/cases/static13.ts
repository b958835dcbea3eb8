// Case static13: a 13-byte static file over keep-alive, lantern vs a bare node:http server that
// answers the same bytes (the core's per-request cost against Node's own HTTP stack).
import path from 'node:path';
import { freePort } from '../processes.js';
import { ROOT, writeLanternStaticConf } from './fixtures.js';
import { launch } from './launch.js';
import { fmt, fmtRatio, type CaseReport } from './report.js';
import { adopt, stopTargets, type Target } from './targets.js';
import { errorsOf, medianOf, sameRoundRatio, wrkRounds, type LoadOptions } from './wrk-rounds.js';

export async function runStatic13(dir: string, opts: LoadOptions): Promise<CaseReport> {
  const lantern: Target = { name: 'lantern', port: await freePort() };
  const nodeHttp: Target = { name: 'node:http', port: await freePort() };
  const conf = writeLanternStaticConf(dir, lantern.port);
  adopt(lantern, await launch(process.execPath, [path.join(ROOT, 'bin/lantern'), '-D', '-f', conf], lantern.port));
  adopt(nodeHttp, await launch(process.execPath, [path.join(ROOT, 'bench/peers/node-http.mjs'), String(nodeHttp.port)], nodeHttp.port));
  const targets = [lantern, nodeHttp];
  try {
    const results = await wrkRounds('static13', targets, '/hello.txt', opts);
    const base = results.get('node:http')!;
    return {
      title: `case static13: 13-byte static file, keep-alive, wrk -t1 -c${opts.connections} -d${opts.durationSec}s, ${opts.rounds} interleaved rounds, medians`,
      header: ['target', 'req/s', 'p99 ms', 'errors', 'ratio to node:http'],
      rows: targets.map((t) => {
        const rs = results.get(t.name)!;
        if (t.failure && !rs.some(Boolean)) return [t.name, t.failure, '', '', ''];
        return [t.name, fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(errorsOf(rs)), fmtRatio(sameRoundRatio(rs, base, 'rps'))];
      }),
      notes: [],
    };
  } finally {
    await stopTargets(targets);
  }
}

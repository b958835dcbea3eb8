// Case 100m (issue 4): the origin's 100 MiB file through each proxy, to a client reading as fast
// as it can and to one reading at 20 MB/s. A streaming proxy's memory must not grow with the
// body: goal, peak RSS rise <= 40 MB. What a buffering proxy spills to disk for the slow client
// (lantern with server.stream-response-body 0, nginx's proxy_buffering) is reported beside it.
import { median } from '../wrk.js';
import { HUNDRED_MIB_BYTES } from './fixtures.js';
import { download, type DownloadResult } from './download-client.js';
import { watchProcess, type WatchResult } from './process-watch.js';
import { fmt, verdict, type CaseReport } from './report.js';
import { usable, type Target } from './targets.js';

export const SLOW_RATE_BYTES_PER_SEC = 20e6;
const RSS_GOAL_BYTES = 40e6;
const MB = 1e6;

export interface LargeBodyOptions {
  rounds: number;
  /** Fast downloads per target per round (the slow one is one per round). */
  fastDownloads: number;
}

interface Sample { transfer: DownloadResult; watch: WatchResult }
type ClientKind = 'fast' | '20 MB/s';

function timeoutMsFor(kind: ClientKind): number {
  // Twice the time the slow client needs, plus slack; a fast transfer of 100 MiB takes < 5 s.
  return kind === 'fast' ? 60_000 : Math.ceil((HUNDRED_MIB_BYTES / SLOW_RATE_BYTES_PER_SEC) * 2000) + 30_000;
}

async function transfer(t: Target, kind: ClientKind): Promise<Sample> {
  const done = watchProcess(t.pid!);
  const result = await download(t.port, '/100m.bin', {
    timeoutMs: timeoutMsFor(kind),
    ...(kind === 'fast' ? {} : { rateBytesPerSec: SLOW_RATE_BYTES_PER_SEC }),
  });
  const watch = done();
  if (!result.error && result.status !== 200) result.error = `status ${result.status}`;
  if (!result.error && result.bytes !== HUNDRED_MIB_BYTES) result.error = `${result.bytes} bytes instead of ${HUNDRED_MIB_BYTES}`;
  return { transfer: result, watch };
}

function logLine(round: number, t: Target, kind: ClientKind, s: Sample): string {
  const rate = (s.transfer.bytes / MB) / (s.transfer.ms / 1000);
  const rise = (s.watch.peakRssBytes - s.watch.baselineRssBytes) / MB;
  const outcome = s.transfer.error ? `error: ${s.transfer.error}` : `${fmt(rate, 0)} MB/s`;
  return `100m round ${round} ${t.name.padEnd(11)} ${kind.padEnd(7)} ${outcome}  RSS +${fmt(rise, 1)} MB  disk writes ${fmt(s.watch.diskWriteBytes, 0)} B\n`;
}

/** Run the fast and slow downloads in interleaved rounds and report memory and disk use. */
export async function runHundredMib(targets: Target[], opts: LargeBodyOptions): Promise<CaseReport> {
  const samples = new Map<string, Sample[]>(targets.flatMap((t) => [[`${t.name} fast`, []], [`${t.name} 20 MB/s`, []]]));
  for (let round = 1; round <= opts.rounds; round++) {
    const k = (round - 1) % Math.max(targets.length, 1);
    for (const t of [...targets.slice(k), ...targets.slice(0, k)]) {
      const kinds: ClientKind[] = [...Array<ClientKind>(opts.fastDownloads).fill('fast'), '20 MB/s'];
      for (const kind of kinds) {
        if (!usable(t)) break;
        const s = await transfer(t, kind);
        samples.get(`${t.name} ${kind}`)!.push(s);
        process.stdout.write(logLine(round, t, kind, s));
      }
    }
  }
  const header = ['target', 'client', 'complete', 'MB/s (median)', 'peak RSS rise MB (max)', 'disk write bytes (max)', 'files opened', 'goal <= 40 MB RSS'];
  const rows: string[][] = [];
  for (const t of targets) {
    for (const kind of ['fast', '20 MB/s'] as const) {
      const ss = samples.get(`${t.name} ${kind}`)!;
      if (ss.length === 0) { rows.push([t.name, kind, t.failure ?? 'not measured', '', '', '', '', '']); continue; }
      const ok = ss.filter((s) => !s.transfer.error);
      const rates = ok.map((s) => (s.transfer.bytes / MB) / (s.transfer.ms / 1000));
      const rise = Math.max(...ss.map((s) => s.watch.peakRssBytes - s.watch.baselineRssBytes));
      const writes = Math.max(...ss.map((s) => s.watch.diskWriteBytes));
      const files = [...new Set(ss.flatMap((s) => s.watch.newFiles))];
      const errors = [...new Set(ss.flatMap((s) => (s.transfer.error ? [s.transfer.error] : [])))];
      // A transfer that did not complete says nothing about memory: no verdict then.
      const measured = ok.length === ss.length && Number.isFinite(rise) && Number.isFinite(writes);
      const meets = measured ? rise <= RSS_GOAL_BYTES : undefined;
      rows.push([
        t.name, kind,
        `${ok.length}/${ss.length}${errors.length ? ` (${errors.join('; ')})` : ''}`,
        rates.length ? fmt(median(rates), 0) : 'n/a',
        fmt(rise / MB, 1),
        fmt(writes, 0),
        files.length ? `${files.length}: ${files.slice(0, 2).join(', ')}${files.length > 2 ? ', ...' : ''}` : 'none',
        verdict(meets),
      ]);
    }
  }
  return {
    title: `case 100m: 100 MiB static file through each proxy; per round ${opts.fastDownloads} fast download(s) and one at ${SLOW_RATE_BYTES_PER_SEC / MB} MB/s per target, ${opts.rounds} interleaved rounds; RSS of the proxy process sampled every 50 ms (/proc/<pid>/status), disk writes from /proc/<pid>/io`,
    header,
    rows,
    notes: [
      'the goal is for lantern; the other rows show what the peers do with the same transfer',
      'disk writes: response bytes a buffering proxy keeps in a temp file for a client slower than its origin (lantern: server.stream-response-body 0, the default; nginx: proxy_buffering), so that the origin connection is free early',
    ],
  };
}

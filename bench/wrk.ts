// Run wrk against a URL and read its summary (requests/s, latency percentiles).
import { execFile } from 'node:child_process';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  transferPerSec: string;
}

export function runWrk(url: string, opts: { threads: number; connections: number; durationSec: number }): Promise<WrkResult> {
  const args = [`-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.durationSec}s`, '--latency', url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (opts.durationSec + 30) * 1000 }, (err, stdout) => {
      if (err) { reject(new Error(`wrk failed: ${err.message}`)); return; }
      resolve(parseWrk(stdout));
    });
  });
}

/** wrk's summary with the timeouts apart (`errors`: non-2xx + connect, read and write errors) and the request count. */
export interface WrkCounts extends WrkResult { timeouts: number; requests: number }

/**
 * `wrk -t1 -cN -dS --latency --timeout T url`: a response slower than T counts as a timeout, not
 * as a latency, and is reported apart from the other errors (the gateway cases' p99 goals).
 */
export function runWrkCounted(url: string, opts: { connections: number; durationSec: number; timeoutSec: number }): Promise<WrkCounts> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.durationSec}s`, '--latency', '--timeout', `${opts.timeoutSec}s`, url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (opts.durationSec + 30) * 1000 }, (err, stdout) => {
      if (err) { reject(new Error(`wrk failed: ${err.message.split('\n')[0]}`)); return; }
      const base = parseWrk(stdout);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const [connect, read, write, timeouts] = sock ? sock.slice(1, 5).map(Number) : [0, 0, 0, 0];
      const requests = Number(/(\d+) requests in /.exec(stdout)?.[1] ?? 0);
      resolve({ ...base, errors: non2xx + connect + read + write, timeouts, requests });
    });
  });
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60000;
  return n;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(out);
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = Number(errs?.[1] ?? 0) + (sock ? Number(sock[1]) + Number(sock[3]) + Number(sock[4]) : 0);
  return {
    rps,
    p50Ms: p50 ? toMs(p50[1], p50[2]) : NaN,
    p99Ms: p99 ? toMs(p99[1], p99[2]) : NaN,
    errors,
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '',
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

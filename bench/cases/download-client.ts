// The 100 MiB case's HTTP clients: one that reads as fast as it can, and one that reads at a
// fixed rate through a token bucket, pausing the socket when the bucket is empty so the
// server sees TCP back-pressure (a slow client, as a phone on a poor link is).
import http from 'node:http';

export interface DownloadResult {
  status: number;
  bytes: number;
  ms: number;
  error?: string;
}

/** Bucket size: a burst of at most this many bytes above the rate. */
const BURST_BYTES = 64 * 1024;

/**
 * GET `urlPath` from 127.0.0.1:`port` and read the whole body, at most `rateBytesPerSec` when
 * given. Always resolves, by `timeoutMs` at the latest (then with `error`).
 */
export function download(port: number, urlPath: string, opts: { rateBytesPerSec?: number; timeoutMs: number }): Promise<DownloadResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let bytes = 0;
    let status = 0;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ status, bytes, ms: performance.now() - started, ...(error ? { error } : {}) });
    };
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      const rate = opts.rateBytesPerSec;
      let tokens = BURST_BYTES;
      let last = performance.now();
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!rate) return;
        const now = performance.now();
        tokens = Math.min(BURST_BYTES, tokens + ((now - last) / 1000) * rate) - chunk.length;
        last = now;
        if (tokens < 0) {
          res.pause();
          setTimeout(() => res.resume(), Math.ceil((-tokens / rate) * 1000));
        }
      });
      res.on('end', () => finish());
      res.on('error', (err) => finish(err.message));
      res.on('close', () => finish(res.complete ? undefined : 'connection closed before the end of the body'));
    });
    req.on('error', (err) => finish(err.message));
    const deadline = setTimeout(() => { req.destroy(); finish(`no complete body in ${opts.timeoutMs} ms`); }, opts.timeoutMs);
  });
}

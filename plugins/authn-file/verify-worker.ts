// The worker thread of verify-pool.ts: checks one htpasswd password at a time, off the server's
// event loop. Messages in: { id, password, hash } (password as a byte string); out: { id, ok }.
import { parentPort } from 'node:worker_threads';
import { verifyHtpasswd } from './password-hash.js';

interface Job { id: number; password: string; hash: string }

parentPort!.on('message', (job: Job) => {
  let ok = false;
  try { ok = verifyHtpasswd(job.password, job.hash); } catch { ok = false; }
  parentPort!.postMessage({ id: job.id, ok });
});

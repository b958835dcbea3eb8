// Start and stop the processes a bench case compares, with bounded waits: a target that cannot
// start is reported as "failed to start: <first stderr line>" and the run goes on without it.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A started target, or why it could not be started. */
export type Launch =
  | { ok: true; child: ChildProcess; pid: number; stderrTail(): string }
  | { ok: false; reason: string };

const STDERR_KEEP_BYTES = 8192;
const POLL_MS = 50;
const STOP_GRACE_MS = 5000;

/** Every child still running, so an interrupted bench leaves nothing behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => { for (const c of running) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { for (const c of running) c.kill('SIGKILL'); process.exit(130); });
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => { sock.destroy(); resolve(false); });
  });
}

/** How long a target may take to listen (15 s), and its environment (the bench's own). */
export interface LaunchOptions { timeoutMs?: number; env?: NodeJS.ProcessEnv }

/**
 * Spawn `cmd args` and wait until 127.0.0.1:`port` accepts a connection, the child exits, or
 * `timeoutMs` passes (then the child is killed). stderr is always drained (a full pipe would
 * block the child) and its first 8 KiB kept for the failure message.
 */
export async function launch(cmd: string, args: string[], port: number, opts: LaunchOptions = {}): Promise<Launch> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  let stderr = '';
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
  } catch (err) {
    return { ok: false, reason: `failed to start: ${(err as Error).message}` };
  }
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < STDERR_KEEP_BYTES) stderr += d.toString('utf8'); });
  let exited: string | undefined;
  child.once('error', (err) => { exited = err.message; });
  child.once('exit', (code, signal) => { exited ??= `exited with ${signal ?? code}`; running.delete(child); });
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  running.add(child);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited === undefined && await connects(port)) break;
    if (exited !== undefined || Date.now() > deadline) {
      const why = exited ?? `nothing listens on ${port} after ${timeoutMs} ms`;
      await stop(child);
      // 'exit' may come before the last stderr bytes are read; 'close' comes after them.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      return { ok: false, reason: `failed to start: ${firstLine(stderr) || why}` };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { ok: true, child, pid: child.pid!, stderrTail: () => stderr.slice(-512) };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child is gone (or 7 s at most). */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const done = setTimeout(resolve, STOP_GRACE_MS + 2000);
    child.once('exit', () => { clearTimeout(done); resolve(); });
    child.kill('SIGTERM');
    setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, STOP_GRACE_MS).unref();
  });
}

/** Whether a launched child is still alive (a target that died mid-run is skipped after). */
export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

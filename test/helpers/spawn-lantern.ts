// Test helper: runs bin/lantern as a child process (LANTERN_FROM_SOURCE=1, so the TypeScript
// sources are what runs), waits until it listens, collects its output and stops it by signal.
//
// Every wait has a hard timeout. Each test kills what it spawned in a `finally` with `kill()`;
// as a safety net every child still alive when the test process exits is SIGKILLed too.
import { spawn, execFileSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Stream } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { TimeoutError, withTimeout } from './wait.js';

/** The repository root (two folders above test/helpers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The launcher the tests run, exactly as a user would. */
export const LANTERN_BIN = path.join(REPO_ROOT, 'bin', 'lantern');

/** How long a lantern child may take to start listening (tsx compiles the sources on start). */
export const START_TIMEOUT_MS = 30_000;

export interface SpawnLanternOptions {
  /** Working directory of the child (tests use a fresh temp dir). */
  cwd: string;
  /** Added to process.env; LANTERN_FROM_SOURCE=1 is always set. */
  env?: NodeJS.ProcessEnv;
  /**
   * Run through this command instead of `node` directly; `bin/lantern` and the args follow it.
   * E.g. a wrapper that sets up socket activation and then execs the rest.
   */
  wrapper?: string[];
  /** stdio[0] of the child: 'ignore' (default), 'pipe', or a socket/stream with a file descriptor (-1). */
  stdin?: 'ignore' | 'pipe' | Stream | number;
  /** Extra file descriptors from 3 up (e.g. a listening socket for LISTEN_FDS). */
  extraFds?: Array<number | net.Server | net.Socket>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LanternProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the child has exited and its pipes are closed. */
  readonly exited: Promise<ExitStatus>;
  /** The child's exit status if it already exited, else null. */
  readonly status: ExitStatus | null;
  /** Waits until stdout or stderr (as named) matches `re`; rejects on exit or timeout. */
  waitOutput(stream: 'stdout' | 'stderr', re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Waits for the exit; rejects with a TimeoutError after `ms`. */
  waitExit(ms?: number): Promise<ExitStatus>;
  /** Sends `signal` and resolves with the exit code (null if a signal killed it). */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<number | null>;
  /** SIGKILL the child and its children (for `finally`); never throws. */
  kill(): void;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) killTree(child.pid);
});

/** The direct children of `pid` (worker processes), read through pgrep. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/** `pid` and all its descendants, parents first. */
function processTree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(processTree)];
}

/**
 * SIGKILL a process and every descendant. All are stopped (SIGSTOP) first, so that a parent
 * still alive while its children die (a php-cgi master) cannot start new ones that outlive it.
 */
function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  const tree = processTree(pid);
  for (const p of tree) { try { process.kill(p, 'SIGSTOP'); } catch { /* already gone */ } }
  for (const p of tree) { try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ } }
}

/** A port that was free a moment ago on `host` (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address() as net.AddressInfo;
      server.close(() => resolve(addr.port));
    });
  });
}

/** A fresh temp directory; `files` (relative path → content) are written into it. */
export function makeTempDir(prefix: string, files: Record<string, string | Buffer> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lantern-${prefix}-`));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** Starts `bin/lantern args...`; resolves at once (use waitListening / waitOutput to wait). */
export function spawnLantern(args: string[], opts: SpawnLanternOptions): LanternProcess {
  const extra = opts.extraFds ?? [];
  const stdio = [opts.stdin ?? 'ignore', 'pipe', 'pipe', ...extra] as StdioOptions;
  const argv = [...(opts.wrapper ?? []), process.execPath, LANTERN_BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, DEBUG: '', ...opts.env, LANTERN_FROM_SOURCE: '1' },
    stdio,
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  let status: ExitStatus | null = null;
  const listeners = new Set<() => void>();
  const notify = () => { for (const l of [...listeners]) l(); };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; notify(); });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; notify(); });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      status = { code, signal };
      notify();
      resolve(status);
    });
    child.once('error', (err) => {
      stderr += `spawn error: ${err.message}\n`;
      live.delete(child);
      status = { code: null, signal: null };
      notify();
      resolve(status);
    });
  });
  const describe = () => `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

  const proc: LanternProcess = {
    child,
    pid: child.pid ?? -1,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    get status() { return status; },
    waitOutput(stream, re, ms = START_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (stream === 'stdout' ? stdout : stderr).match(re);
          if (m) { done(); resolve(m); return; }
          if (status) { done(); reject(new Error(`lantern exited (${JSON.stringify(status)}) before ${stream} matched ${re}${describe()}`)); }
        };
        const timer = setTimeout(() => { done(); reject(new TimeoutError(`timed out after ${ms} ms waiting for ${stream} to match ${re}${describe()}`)); }, ms);
        const done = () => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    waitExit(ms = START_TIMEOUT_MS) {
      return withTimeout(exited, ms, `lantern (pid ${child.pid}) to exit${describe()}`);
    },
    async stop(signal = 'SIGTERM', ms = START_TIMEOUT_MS) {
      if (status === null) child.kill(signal);
      return (await proc.waitExit(ms)).code;
    },
    kill() {
      if (status === null) killTree(child.pid);
    },
  };
  return proc;
}

/** Target of waitListening: a TCP address or a unix socket path. */
export type ListenTarget = { port: number; host?: string } | { path: string };

/**
 * Polls a connect to `target` until it is accepted (a listening socket emits no event we could
 * wait on from outside); rejects if the child exits first or after `ms`.
 */
export async function waitListening(proc: LanternProcess, target: ListenTarget, ms = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.status) throw new Error(`lantern exited (${JSON.stringify(proc.status)}) before listening\n--- stderr ---\n${proc.stderr}`);
    if (await canConnect(target)) return;
    if (Date.now() >= deadline) {
      throw new TimeoutError(`timed out after ${ms} ms waiting for lantern to listen on ${JSON.stringify(target)}\n--- stderr ---\n${proc.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function canConnect(target: ListenTarget, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? net.connect({ path: target.path }) : net.connect({ port: target.port, host: target.host ?? '127.0.0.1' });
    const finish = (ok: boolean) => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => finish(false), ms);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Spawns lantern and waits until it listens on `target`; kills it if that fails. */
export async function startLanternProcess(args: string[], target: ListenTarget, opts: SpawnLanternOptions): Promise<LanternProcess> {
  const proc = spawnLantern(args, opts);
  try {
    await waitListening(proc, target);
    return proc;
  } catch (err) {
    proc.kill();
    throw err;
  }
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs a lantern command that exits by itself (-v, -t, -p...), killing it after `ms`. */
export async function runLantern(args: string[], opts: SpawnLanternOptions & { timeoutMs?: number }): Promise<RunResult> {
  const proc = spawnLantern(args, opts);
  try {
    const status = await proc.waitExit(opts.timeoutMs ?? START_TIMEOUT_MS);
    return { ...status, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    proc.kill();
  }
}

/** A stack trace line (`    at fn (file:1:2)`): user-facing errors must never show one. */
export const STACK_LINE = /^\s+at /m;

/**
 * A third-party plugin for child-process tests, written into `<dir>/plugins/probe/` (pass that
 * folder with `-m`; load it with `server.modules = ( "mod_probe" )`). It shows from outside what
 * happened inside the server: create() leaves `probe.marker` (or throws with `probe.fail`);
 * every response carries `X-Probe-Pid` (which worker answered); with `probe.log-requests` each
 * request and each SIGHUP writes an error-log line (`probe: request /x`, `probe: sighup <pid>`).
 */
export function writeProbePlugin(dir: string): string {
  const pluginDir = path.join(dir, 'plugins');
  fs.mkdirSync(path.join(pluginDir, 'probe'), { recursive: true });
  fs.writeFileSync(path.join(pluginDir, 'probe', 'index.mjs'), `import fs from 'node:fs';
export default {
  id: 'probe',
  options: {
    'probe.marker': { type: 'string', default: '', doc: 'A file create() writes.' },
    'probe.fail': { type: 'boolean', default: false, doc: 'Make create() throw.' },
    'probe.log-requests': { type: 'boolean', default: false, doc: 'Log each request and SIGHUP to the error log.' },
  },
  create(ctx) {
    if (ctx.global['probe.fail']) throw new Error('probe refuses to start');
    if (ctx.global['probe.marker']) fs.writeFileSync(ctx.global['probe.marker'], String(process.pid));
    ctx.hooks.responseStart.tap(ctx.id, (req) => req.setResponseHeader('X-Probe-Pid', String(process.pid)));
    if (ctx.global['probe.log-requests']) {
      ctx.hooks.requestDone.tap(ctx.id, (req) => ctx.logError('probe: request ' + req.target));
      ctx.hooks.sighup.tap(ctx.id, () => ctx.logError('probe: sighup ' + process.pid));
    }
  },
};
`);
  return pluginDir;
}

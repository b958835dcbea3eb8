// Test helper: runs bin/lantern as a child process (LANTERN_FROM_SOURCE=1, so the TypeScript
// sources are what runs), waits until it listens, collects its output and stops it by signal.
//
// Ports: a test whose subject is not lantern's own bind hands lantern a ListeningSocket
// (test/helpers/ports.ts) by socket activation, so the port is lantern's from before it starts
// (startLanternProcess with the socket as target). A test of the bind itself uses
// startLanternBinding, which tries again with new ports when another process took one first.
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
import { ListeningSocket } from './ports.js';
import { TimeoutError, withTimeout } from './wait.js';

/** Moved to ./ports.js (with its window explained); re-exported for the tests that import it from here. */
export { freePort } from './ports.js';

/** The repository root (two folders above test/helpers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The launcher the tests run, exactly as a user would. */
export const LANTERN_BIN = path.join(REPO_ROOT, 'bin', 'lantern');

/** How long a lantern child may take to start listening (tsx compiles the sources on start). */
export const START_TIMEOUT_MS = 30_000;

export interface SpawnLanternOptions {
  /** Working directory of the child (tests use a fresh temp dir). */
  cwd: string;
  /** Added to process.env; LANTERN_FROM_SOURCE=1 is set, unless `bin` is given. */
  env?: NodeJS.ProcessEnv;
  /**
   * The launcher to run, default this checkout's bin/lantern, from its TypeScript sources.
   * Another one (an installed package's) runs as it would for a user: without LANTERN_FROM_SOURCE.
   */
  bin?: string;
  /**
   * Run through this command instead of `node` directly; `bin/lantern` and the args follow it.
   * E.g. a wrapper that sets up socket activation and then execs the rest.
   */
  wrapper?: string[];
  /** stdio[0] of the child: 'ignore' (default), 'pipe', or a socket/stream with a file descriptor (-1). */
  stdin?: 'ignore' | 'pipe' | Stream | number;
  /** Extra file descriptors from 3 up (e.g. a listening socket for LISTEN_FDS). */
  extraFds?: Array<number | net.Server | net.Socket>;
  /**
   * Listening sockets handed over by socket activation (sd_listen_fds(3)): on fds 3, 4... in this
   * order, with LISTEN_FDS = their count and LISTEN_PID = "parent:<this pid>" (lighttpd's form;
   * the child is node itself, so its parent is this process). This process's copies are closed
   * once the child has them. Not with `wrapper` (the parent would be the wrapper) or `extraFds`.
   */
  sockets?: ListeningSocket[];
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
  const sockets = opts.sockets ?? [];
  let child: ChildProcess;
  try {
    if (sockets.length > 0 && (opts.wrapper !== undefined || (opts.extraFds ?? []).length > 0)) {
      throw new Error('spawnLantern: `sockets` cannot be combined with `wrapper` or `extraFds`');
    }
    const extra = sockets.length > 0 ? sockets.map((s) => s.fd) : opts.extraFds ?? [];
    const stdio = [opts.stdin ?? 'ignore', 'pipe', 'pipe', ...extra] as StdioOptions;
    const activation = sockets.length > 0 ? { LISTEN_FDS: String(sockets.length), LISTEN_PID: `parent:${process.pid}` } : {};
    const argv = [...(opts.wrapper ?? []), process.execPath, opts.bin ?? LANTERN_BIN, ...args];
    const env: NodeJS.ProcessEnv = { ...process.env, DEBUG: '', ...opts.env, ...activation, LANTERN_FROM_SOURCE: '1' };
    if (opts.bin !== undefined) delete env.LANTERN_FROM_SOURCE;
    child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env, stdio });
  } finally {
    // spawn() returns once the child has its copies (or failed): from here on only it accepts.
    for (const s of sockets) s.close();
  }
  return childHandle(child, 'lantern', START_TIMEOUT_MS);
}

/**
 * The handle of a server child (lantern, or another server a test compares it with): its output
 * so far, its exit, waits with a hard timeout, stop and kill (of its whole process tree, also
 * when the test process itself exits). `name` and `waitMs` are for messages and default waits.
 */
export function childHandle(child: ChildProcess, name: string, waitMs: number): LanternProcess {
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
  const describe = () => `\n--- ${name} stdout ---\n${stdout}\n--- ${name} stderr ---\n${stderr}`;

  const proc: LanternProcess = {
    child,
    pid: child.pid ?? -1,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    get status() { return status; },
    waitOutput(stream, re, ms = waitMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (stream === 'stdout' ? stdout : stderr).match(re);
          if (m) { done(); resolve(m); return; }
          if (status) { done(); reject(new Error(`${name} exited (${JSON.stringify(status)}) before ${stream} matched ${re}${describe()}`)); }
        };
        const timer = setTimeout(() => { done(); reject(new TimeoutError(`timed out after ${ms} ms waiting for ${name}'s ${stream} to match ${re}${describe()}`)); }, ms);
        const done = () => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    waitExit(ms = waitMs) {
      return withTimeout(exited, ms, `${name} (pid ${child.pid}) to exit${describe()}`);
    },
    async stop(signal = 'SIGTERM', ms = waitMs) {
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

/** How often the waits below look again at state that emits no event we could wait on. */
const POLL_MS = 25;

/**
 * Waits until lantern itself listens on `target`, for an address lantern binds (for a socket it
 * inherits, use waitAccepting). A listening socket emits no event we could wait on from outside,
 * so this polls: on TCP until /proc/net/tcp{,6} shows a listening socket on the port that is one of
 * the fds of lantern or its descendants (workers). Merely connecting is not proof: another process
 * that took the port would accept too. On a unix socket (a path in the test's own directory, which
 * nobody else binds) until a connect is accepted. Rejects if lantern exits first or after `ms`.
 */
export async function waitListening(proc: LanternProcess, target: ListenTarget, ms = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.status) throw new Error(`lantern exited (${JSON.stringify(proc.status)}) before listening on ${JSON.stringify(target)}\n--- stderr ---\n${proc.stderr}`);
    const owned = 'path' in target ? null : listensOn(proc.pid, target.port);
    if (owned ?? (await canConnect(target))) return;
    if (Date.now() >= deadline) {
      throw new TimeoutError(`timed out after ${ms} ms waiting for lantern to listen on ${JSON.stringify(target)}\n--- stderr ---\n${proc.stderr}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Whether `pid` or a descendant has a socket listening on TCP `port` (any address); null where
 * /proc/net/tcp cannot be read (not Linux).
 */
function listensOn(pid: number, port: number): boolean | null {
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = fs.readFileSync(table, 'latin1'); } catch { continue; }
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode: "0100007F:1F90 00000000:0000 0A ..."; 0A is LISTEN.
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && parseInt(cols[1]?.split(':')[1] ?? '', 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  if (!readable) return null;
  if (inodes.size === 0) return false;
  for (const p of processTree(pid)) {
    let fds: string[];
    try { fds = fs.readdirSync(`/proc/${p}/fd`); } catch { continue; }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${p}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return true;
      } catch { /* closed meanwhile */ }
    }
  }
  return false;
}

/**
 * Waits until lantern accepts on a socket it inherited (SpawnLanternOptions.sockets): connecting
 * proves nothing there, the kernel completes a connect to a listening socket at once and queues
 * it. So this connects once and half-closes: lantern closes a connection that ended without a
 * request, and its FIN can only come once lantern (or one of its workers) accepted. A reset
 * means the socket was closed unaccepted (lantern exited). Rejects on lantern's exit or after `ms`.
 */
export function waitAccepting(proc: LanternProcess, target: ListeningSocket | { port: number; host?: string }, ms = START_TIMEOUT_MS): Promise<void> {
  const where = `${target.host ?? '127.0.0.1'}:${target.port}`;
  const failure = (why: string) => new Error(`lantern ${why} before accepting on ${where}\n--- stderr ---\n${proc.stderr}`);
  return new Promise<void>((resolve, reject) => {
    const probe = net.connect({ port: target.port, host: target.host ?? '127.0.0.1' });
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      probe.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new TimeoutError(`timed out after ${ms} ms waiting for lantern to accept on ${where}\n--- stderr ---\n${proc.stderr}`)), ms);
    probe.once('connect', () => probe.end());
    // Flowing, so that 'end' comes (lantern sends nothing before its FIN).
    probe.resume();
    probe.once('end', () => finish());
    probe.once('error', (err: Error) => {
      // The socket was closed unaccepted: lantern is exiting; say how it ended, if it does soon.
      withTimeout(proc.exited, 5000, 'lantern to exit').then(
        (status) => finish(failure(`exited (${JSON.stringify(status)})`)),
        () => finish(failure(`reset the connection (${err.message})`)),
      );
    });
    void proc.exited.then((status) => finish(failure(`exited (${JSON.stringify(status)})`)));
  });
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

/**
 * Spawns lantern and waits until it serves `target`; kills it if that fails. A ListeningSocket
 * target is handed over by socket activation (added to `opts.sockets` when not there) and waited
 * for with waitAccepting; any other target is one lantern binds, waited for with waitListening.
 */
export async function startLanternProcess(args: string[], target: ListenTarget | ListeningSocket, opts: SpawnLanternOptions): Promise<LanternProcess> {
  const inherited = target instanceof ListeningSocket;
  const sockets = opts.sockets ?? [];
  const proc = spawnLantern(args, inherited && !sockets.includes(target) ? { ...opts, sockets: [target, ...sockets] } : opts);
  try {
    if (inherited) await waitAccepting(proc, target);
    else await waitListening(proc, target);
    return proc;
  } catch (err) {
    proc.kill();
    throw err;
  }
}

/** How many times startLanternBinding starts lantern before it gives up. */
const BIND_ATTEMPTS = 3;

/**
 * What startLanternBinding's `configure` returns: lantern's arguments, and the sockets it
 * inherits besides the ports it binds (made anew for each attempt: a spawn hands them over).
 */
export type BindingLaunch = string[] | { args: string[]; sockets: ListeningSocket[] };

/**
 * Starts lantern for a test of lantern's own bind (server.bind/server.port, $SERVER["socket"]),
 * which a handed-over socket would bypass. `configure(ports)` gets `count` ports that were free
 * on `host` a moment ago (port 0, closed again), writes the config and returns what to launch.
 * Another process may bind one of them before lantern does: then lantern exits with EADDRINUSE
 * and the start is tried again with new ports (up to BIND_ATTEMPTS starts). Resolves once lantern
 * itself listens on every port (waitListening).
 */
export async function startLanternBinding(
  count: number,
  configure: (ports: number[]) => BindingLaunch | Promise<BindingLaunch>,
  opts: Omit<SpawnLanternOptions, 'sockets'> & { host?: string },
): Promise<{ proc: LanternProcess; ports: number[] }> {
  const host = opts.host ?? '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    // One at a time, each still bound while the next is picked, so the ports differ.
    const held: net.Server[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const server = net.createServer();
        held.push(server);
        await withTimeout(new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port: 0, exclusive: true }, () => resolve());
        }), 5000, `a free port on ${host}`);
        ports.push((server.address() as net.AddressInfo).port);
      }
    } finally {
      await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
    const launch = await configure(ports);
    const proc = Array.isArray(launch)
      ? spawnLantern(launch, opts)
      : spawnLantern(launch.args, { ...opts, sockets: launch.sockets });
    try {
      for (const port of ports) await waitListening(proc, { port, host });
      return { proc, ports };
    } catch (err) {
      proc.kill();
      await withTimeout(proc.exited, 5000, `lantern (pid ${proc.pid}) to exit`);
      if (attempt >= BIND_ATTEMPTS || !/EADDRINUSE/.test(proc.stderr)) throw err;
      // Another process took a port between the pick and lantern's bind: new ports.
    }
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

// The one spawner for local backends (design.md §3 "Unified process spawning"; lighttpd 1.4.69 gw_backend.c
// gw_spawn_connection, gw_proc_*, gw_handle_trigger_host, gw_handle_waitpid_cb): listen socket as fd 0,
// environment whitelist, min/max procs, respawn with spin protection, SIGTERM → SIGKILL, reaping.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { checkSocket, clearStaleUnixSocket, formatSocket, probeListening, procSocket, withListenSocket, type SpawnSocket } from './spawn-socket.js';
import { DEFAULT_SPIN_POLICY, decideRestart, type SpinPolicy } from './spin-protection.js';

export interface SpawnSpec {
  /** lighttpd's bin-path: the program and its arguments in one string, split on spaces and tabs (no quoting). See `splitBinPath`. */
  binPath: string;
  /** bin-environment: added to the child's environment, over what bin-copy-environment copied. */
  env: Record<string, string>;
  /** bin-copy-environment: names copied from lantern's environment; when empty, all of it is copied (lighttpd). */
  copyEnv: string[];
  /** The configured socket; proc N listens on `path-N` (unix) or port + N (TCP). See `procSocket`. */
  socket: SpawnSocket;
  /** Procs at most (lighttpd default 4). */
  maxProcs: number;
  /** Procs started by start() and kept through idle periods; clamped to maxProcs (lighttpd default 4). */
  minProcs: number;
  /** `adapt()` adds a proc when every proc has more than this many active connections (lighttpd default 1). */
  maxLoadPerProc: number;
  /** `adapt()` stops a proc beyond minProcs idle this long (lighttpd default 60 s). */
  idleTimeoutMs: number;
  /** Signal that asks a child to stop (lighttpd kill-signal, default SIGTERM); SIGKILL follows after the grace time. */
  killSignal: NodeJS.Signals;
  /** listen(2) backlog of the socket given to the child (lighttpd default 1024). */
  listenBacklog: number;
  /** Working directory of the child. Default: the directory of the program, as lighttpd (fchdir to its dirname). */
  cwd?: string;
  /**
   * Run `/bin/sh -c "exec <binPath>"` instead of the split words: lighttpd does so for scgi.server
   * (and uwsgi, which goes through mod_scgi), not for fastcgi.server. Default false.
   */
  shellExec?: boolean;
}

export type ProcState = 'starting' | 'running' | 'external' | 'restarting' | 'failed' | 'stopped';

/** What adapt() tells its caller: a proc was added (serve it), or one is about to stop (stop using it). */
export interface AdaptListener {
  added(address: string): void;
  retiring(address: string): void;
}

/** One backend address the spawner looks after. */
export interface SpawnedProc {
  readonly id: number;
  /** proxy-core member syntax: `unix:/path-0`, `127.0.0.1:9000`, `[::1]:9000`. */
  readonly address: string;
  /** The running child's pid; null for an external listener, between runs, and once stopped. */
  readonly pid: number | null;
  /** 'external': something already listened there, nothing was spawned (lighttpd "won't spawn"). */
  readonly state: ProcState;
}

export interface SpawnerOptions {
  /** Error-log lines: deaths, give-ups, spawn failures, the children's stderr. */
  log(message: string): void;
  /** Trace: spawns, probes, the children's stdout. */
  debug(fmt: string, ...args: unknown[]): void;
  /** Restart backoff and give-up rule; defaults in DEFAULT_SPIN_POLICY. */
  spin?: Partial<SpinPolicy>;
  /** How long the "already listening?" connect may take. Default 1000 ms. */
  probeTimeoutMs?: number;
  /** Grace between killSignal and SIGKILL when adapt() retires an idle proc. Default 5000 ms. */
  retireGraceMs?: number;
}

/** A spawn that could not happen; the message is for the error log as it is (no stack needed). */
export class SpawnError extends Error {
  override name = 'SpawnError';
}

/**
 * lighttpd's parse_binpath: words separated by spaces or tabs, no quoting or escapes. lighttpd
 * turns two separators in a row into an empty argument; here runs of blanks are one separator.
 */
export function splitBinPath(binPath: string): string[] {
  return binPath.split(/[ \t]+/).filter((word) => word !== '');
}

/** The argv that is executed: the split words, or `/bin/sh -c "exec <binPath>"` with shellExec. */
export function childArgv(spec: Pick<SpawnSpec, 'binPath' | 'shellExec'>): string[] {
  const words = splitBinPath(spec.binPath);
  if (spec.shellExec) return ['/bin/sh', '-c', `exec ${spec.binPath}`];
  // execve(2) as lighttpd: no PATH search; a relative program is taken from lantern's cwd.
  return words.length === 0 ? [] : [path.resolve(words[0]!), ...words.slice(1)];
}

/**
 * The child's environment, as gw_spawn_connection builds it: bin-copy-environment's names that
 * are set (or, when that list is empty, the whole environment), then bin-environment over it,
 * then PHP_FCGI_CHILDREN=1 when still unset.
 */
export function buildChildEnv(spec: Pick<SpawnSpec, 'env' | 'copyEnv'>, parentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  const names = spec.copyEnv.length > 0 ? spec.copyEnv : Object.keys(parentEnv);
  for (const name of names) {
    const value = parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, spec.env);
  env.PHP_FCGI_CHILDREN ??= '1';
  return env;
}

/**
 * Connections one spawned proc serves at once. php-cgi with PHP_FCGI_CHILDREN=N > 0 is a master
 * that forks N workers which all accept on the socket: N. Any other program, and php-cgi with 0
 * (it serves alone), is counted as 1: a FastCGI/SCGI program on a listen socket handles one
 * connection at a time unless it says otherwise, and under-counting only queues requests in
 * proxy-core, where over-counting lets kept-alive idle connections pin every worker.
 */
export function procCapacity(childEnv: Record<string, string>): number {
  const n = Number(childEnv.PHP_FCGI_CHILDREN);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** php-cgi's own default for PHP_FCGI_MAX_REQUESTS. */
const PHP_DEFAULT_MAX_REQUESTS = 500;

/**
 * Requests after which a spawned proc closes a connection itself: php-cgi's workers exit after
 * PHP_FCGI_MAX_REQUESTS requests (500 when unset, none with 0), closing their connection right
 * after the last answer. A worker serves one kept-alive connection from its start, so lantern
 * retires its connection at that count rather than reuse it into the close. Infinity: no limit.
 */
export function procRequestsPerConnection(childEnv: Record<string, string>): number {
  const v = childEnv.PHP_FCGI_MAX_REQUESTS;
  if (v === undefined) return PHP_DEFAULT_MAX_REQUESTS;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : Infinity;
}

/**
 * For config validation at boot: a message when bin-path's program does not exist, is not a
 * regular file or is not executable (lighttpd's check at startup), else null. With shellExec a
 * program without a slash is looked up on PATH, as the shell will.
 */
export function checkBinPath(binPath: string, opts: { shellExec?: boolean } = {}): string | null {
  const program = splitBinPath(binPath)[0];
  if (program === undefined) return 'bin-path is empty';
  const candidates = opts.shellExec && !program.includes('/')
    ? (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '').map((dir) => path.join(dir, program))
    : [path.resolve(program)];
  let problem = `bin-path program "${program}" does not exist${opts.shellExec ? ' (nor on PATH)' : ''}`;
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) { problem = `bin-path program "${candidate}" is not a regular file`; continue; }
      accessSync(candidate, constants.X_OK);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES') problem = `bin-path program "${candidate}" is not executable by lantern`;
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') problem = `bin-path program "${candidate}": ${code ?? (err as Error).message}`;
    }
  }
  return problem;
}

/** Process groups: each child is spawned `detached` (setsid), so its pid is its group id. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty.
  }
}

/**
 * Whether any process of group `pgid` still runs. Zombies do not count: a grandchild orphaned
 * by a dead worker master is reaped by init, not by lantern, and may linger as a zombie for a
 * while. Outside Linux (no /proc) a zombie counts as alive.
 */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalGroup(pgid, 0);
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // proc(5): "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/**
 * Spawners with children, killed by one `process.on('exit')` hook (one hook for all of them, not
 * one listener each): the last resort when lantern exits without stop() having finished.
 */
const liveSpawners = new Set<Spawner>();
const killAllNow = () => {
  for (const spawner of liveSpawners) spawner.killNow();
};

const GROUP_POLL_MS = 10;
/** After SIGKILL a group is gone within milliseconds; this only bounds a wait that cannot end. */
const AFTER_KILL_WAIT_MS = 5000;

interface Proc {
  id: number;
  socket: SpawnSocket;
  address: string;
  state: ProcState;
  child: ChildProcess | null;
  /** Resolves when the current child has exited. */
  exited: Promise<void>;
  startedAtMs: number;
  spin: { quickDeaths: number };
  restartTimer: NodeJS.Timeout | null;
  /** lantern made the unix socket file and removes it when done. */
  ownsSocketFile: boolean;
  capacity: number;
  retiring: boolean;
}

export class Spawner {
  private readonly spec: SpawnSpec;
  private readonly opts: SpawnerOptions;
  private readonly spinPolicy: SpinPolicy;
  private readonly argv: string[];
  private readonly cwd: string;
  private readonly minProcs: number;
  private readonly table = new Map<number, Proc>();
  private stopping = false;

  constructor(spec: SpawnSpec, opts: SpawnerOptions) {
    if (!Number.isInteger(spec.maxProcs) || spec.maxProcs < 1) throw new SpawnError(`max-procs must be at least 1, got ${spec.maxProcs}`);
    const last = procSocket(spec.socket, spec.maxProcs - 1);
    const problem = checkSocket(spec.socket) ?? checkSocket(last);
    if (problem !== null) throw new SpawnError(problem);
    this.argv = childArgv(spec);
    if (this.argv.length === 0) throw new SpawnError('bin-path is empty');
    this.spec = spec;
    this.opts = opts;
    this.spinPolicy = { ...DEFAULT_SPIN_POLICY, ...opts.spin };
    // lighttpd: min-procs is clamped to max-procs.
    this.minProcs = Math.max(0, Math.min(spec.minProcs, spec.maxProcs));
    this.cwd = spec.cwd ?? path.dirname(path.resolve(splitBinPath(spec.binPath)[0]!));
  }

  /** The procs in use, by id. */
  get procs(): SpawnedProc[] {
    return [...this.table.values()].sort((a, b) => a.id - b.id).map((p) => ({ id: p.id, address: p.address, pid: p.child?.pid ?? null, state: p.state }));
  }

  /**
   * Connections the procs serve at once: the sum of `procCapacity` over the procs not 'failed'
   * or 'stopped' (1 for an external listener, whose workers lantern cannot know). proxy-core
   * caps its pool with it.
   */
  capacity(): number {
    let total = 0;
    for (const p of this.table.values()) if (p.state !== 'failed' && p.state !== 'stopped') total += p.capacity;
    return total;
  }

  /**
   * Starts minProcs procs (lighttpd starts min-procs; adapt() grows to max-procs). Rejects with a
   * SpawnError when one cannot be started (program missing or not executable, socket not
   * usable); what was already started is stopped first. A child that starts and then dies is
   * not an error here: it is respawned under spin protection.
   */
  async start(): Promise<SpawnedProc[]> {
    this.stopping = false;
    if (liveSpawners.size === 0) process.on('exit', killAllNow);
    liveSpawners.add(this);
    try {
      for (let id = 0; id < this.minProcs; id++) await this.launch(this.addProc(id));
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    return this.procs;
  }

  /** Adds one proc when fewer than maxProcs are in use; resolves with it, or null. */
  async grow(): Promise<SpawnedProc | null> {
    if (this.stopping || this.table.size >= this.spec.maxProcs) return null;
    let id = 0;
    while (this.table.has(id)) id++;
    const proc = this.addProc(id);
    try {
      await this.launch(proc);
    } catch (err) {
      this.opts.log((err as Error).message);
      this.table.delete(id);
      return null;
    }
    return this.procs.find((p) => p.id === id) ?? null;
  }

  /**
   * One step of lighttpd's adaptive spawning (gw_handle_trigger_host), for a once-a-second
   * trigger, only when minProcs < maxProcs: a proc is added when every proc has more than
   * maxLoadPerProc active connections; one proc beyond minProcs that lantern spawned, with no
   * active connection and unused for idleTimeoutMs, is stopped.
   */
  async adapt(loadOf: (address: string) => { active: number; lastUsedMs: number }, nowMs = Date.now(), on?: AdaptListener): Promise<void> {
    if (this.stopping || this.minProcs === this.spec.maxProcs) return;
    const live = [...this.table.values()].filter((p) => !p.retiring);
    if (live.length > 0 && live.every((p) => loadOf(p.address).active > this.spec.maxLoadPerProc)) {
      this.opts.debug('overload on %s: spawning another proc', this.spec.binPath);
      const added = await this.grow();
      if (added !== null) on?.added(added.address);
      return;
    }
    if (live.length <= this.minProcs) return;
    const idle = live.find((p) => {
      const load = loadOf(p.address);
      return p.child !== null && load.active === 0 && load.lastUsedMs < nowMs - this.spec.idleTimeoutMs;
    });
    if (!idle) return;
    this.opts.debug('idle-timeout reached: stopping %s (pid %d)', idle.address, idle.child?.pid);
    idle.retiring = true;
    on?.retiring(idle.address);
    this.clearRestart(idle);
    await this.terminate(idle, this.opts.retireGraceMs ?? 5000);
    this.removeSocketFile(idle);
    this.table.delete(idle.id);
  }

  /**
   * Sends killSignal to every child's process group, SIGKILL after `graceMs`, and resolves once
   * no process of any group runs; removes the unix socket files lantern made.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const p of this.table.values()) this.clearRestart(p);
    await Promise.all([...this.table.values()].map((p) => this.terminate(p, graceMs)));
    for (const p of this.table.values()) {
      this.removeSocketFile(p);
      p.state = 'stopped';
    }
    liveSpawners.delete(this);
    if (liveSpawners.size === 0) process.off('exit', killAllNow);
  }

  /**
   * Last resort when lantern's process exits without stop() having finished (the module's
   * `process.on('exit')` hook runs this; nothing asynchronous can happen there): SIGKILL to every
   * group, socket files removed. A SIGKILL of lantern itself runs nothing: the children survive it.
   */
  killNow(): void {
    this.stopping = true;
    for (const p of this.table.values()) {
      this.clearRestart(p);
      if (p.child?.pid !== undefined) signalGroup(p.child.pid, 'SIGKILL');
      this.removeSocketFile(p);
    }
  }

  private addProc(id: number): Proc {
    const socket = procSocket(this.spec.socket, id);
    const proc: Proc = {
      id, socket, address: formatSocket(socket), state: 'starting', child: null, exited: Promise.resolve(), startedAtMs: 0,
      spin: { quickDeaths: 0 }, restartTimer: null, ownsSocketFile: false, capacity: 1, retiring: false,
    };
    this.table.set(id, proc);
    return proc;
  }

  /** gw_spawn_connection: probe, then a fresh listen socket and a child with it as fd 0. */
  private async launch(proc: Proc): Promise<void> {
    proc.state = 'starting';
    if (await probeListening(proc.socket, this.opts.probeTimeoutMs ?? 1000)) {
      proc.state = 'external';
      proc.capacity = 1;
      proc.ownsSocketFile = false;
      this.opts.log(`${proc.address} is already listening: using it, not spawning ${this.spec.binPath}`);
      return;
    }
    if (proc.socket.kind === 'unix') clearStaleUnixSocket(proc.socket.path);
    const env = buildChildEnv(this.spec);
    const [file, ...args] = this.argv as [string, ...string[]];
    try {
      // Resolves once the child runs: withListenSocket adopts the promise `watch` returns.
      await withListenSocket(proc.socket, this.spec.listenBacklog, (fd) => {
        proc.ownsSocketFile = proc.socket.kind === 'unix';
        // Listeners are attached in this same tick: spawn() reports ENOENT/EACCES with an
        // 'error' event on the next tick.
        const child = spawn(file, args, { cwd: this.cwd, env, stdio: [fd, 'pipe', 'pipe'], detached: true });
        return this.watch(proc, child);
      });
    } catch (err) {
      this.removeSocketFile(proc);
      throw err instanceof SpawnError ? err : new SpawnError(`cannot start ${this.spec.binPath} on ${proc.address}: ${(err as Error).message}`);
    }
    proc.capacity = procCapacity(env);
    proc.state = 'running';
    this.opts.debug('spawned %s on %s: pid %d', this.spec.binPath, proc.address, proc.child?.pid);
  }

  /** Hooks up a new child; resolves once it runs, rejects with a SpawnError when it could not start. */
  private watch(proc: Proc, child: ChildProcess): Promise<void> {
    proc.child = child;
    proc.startedAtMs = Date.now();
    proc.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const label = () => `${this.spec.binPath} (pid ${child.pid}, ${proc.address})`;
    createInterface({ input: child.stderr! }).on('line', (line) => this.opts.log(`${label()}: ${line}`));
    createInterface({ input: child.stdout! }).on('line', (line) => this.opts.debug('%s: %s', label(), line));
    return new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        child.once('exit', (code, signal) => this.onExit(proc, child, code, signal));
        resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (proc.child === child) proc.child = null;
        const why = err.code === 'ENOENT' ? 'program not found' : err.code === 'EACCES' ? 'permission denied (not executable?)' : err.message;
        reject(new SpawnError(`cannot start ${this.spec.binPath} on ${proc.address}: ${why}${err.code ? ` (${err.code})` : ''}`));
      });
    });
  }

  /** gw_handle_waitpid_cb: log the death, clear the group's leftovers, restart under spin protection. */
  private onExit(proc: Proc, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.child !== child) return;
    proc.child = null;
    if (this.stopping || proc.retiring) return;
    const livedMs = Date.now() - proc.startedAtMs;
    // Workers of a dead master (php-cgi's PHP_FCGI_CHILDREN) would keep accepting on the old
    // socket: stop them. Any that ignore the signal and still listen make the respawn's probe
    // succeed on TCP (state 'external'); on a unix path the new socket replaces the old one.
    if (child.pid !== undefined) signalGroup(child.pid, this.spec.killSignal);
    const how = signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
    this.afterDeath(proc, livedMs, `${this.spec.binPath} (pid ${child.pid}, ${proc.address}) ${how} after ${livedMs} ms`);
  }

  private afterDeath(proc: Proc, livedMs: number, what: string): void {
    const decision = decideRestart(proc.spin, livedMs, this.spinPolicy);
    if (!decision.restart) {
      proc.state = 'failed';
      this.removeSocketFile(proc);
      this.opts.log(`${what}; it died ${proc.spin.quickDeaths - 1} times in a row within ${this.spinPolicy.stableRunMs} ms of starting: not restarting it`);
      return;
    }
    proc.state = 'restarting';
    this.opts.log(`${what}; restarting in ${decision.delayMs} ms`);
    proc.restartTimer = setTimeout(() => {
      proc.restartTimer = null;
      if (this.stopping || proc.retiring) return;
      this.launch(proc).catch((err: Error) => this.afterDeath(proc, 0, err.message));
    }, decision.delayMs);
  }

  /** killSignal to the group, SIGKILL after graceMs; resolves when no process of the group runs. */
  private async terminate(proc: Proc, graceMs: number): Promise<void> {
    const child = proc.child;
    const pgid = child?.pid;
    if (!child || pgid === undefined) return;
    signalGroup(pgid, this.spec.killSignal);
    if (await this.waitGone(proc, pgid, graceMs)) return;
    this.opts.log(`${this.spec.binPath} (pid ${pgid}, ${proc.address}) still running ${graceMs} ms after ${this.spec.killSignal}: SIGKILL to its process group`);
    signalGroup(pgid, 'SIGKILL');
    if (!(await this.waitGone(proc, pgid, AFTER_KILL_WAIT_MS))) {
      this.opts.log(`${this.spec.binPath} (pid ${pgid}, ${proc.address}): processes of its group still run after SIGKILL`);
    }
  }

  /** The leader's exit is an event; the rest of the group has none, so it is polled until the deadline. */
  private async waitGone(proc: Proc, pgid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
    const first = await Promise.race([proc.exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (first === 'timeout') return false;
    for (;;) {
      if (!groupAlive(pgid)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS));
    }
  }

  private clearRestart(proc: Proc): void {
    if (proc.restartTimer) clearTimeout(proc.restartTimer);
    proc.restartTimer = null;
  }

  private removeSocketFile(proc: Proc): void {
    if (!proc.ownsSocketFile || proc.socket.kind !== 'unix') return;
    proc.ownsSocketFile = false;
    try {
      unlinkSync(proc.socket.path);
    } catch {
      // Already gone.
    }
  }
}

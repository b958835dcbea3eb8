// One supervised child process (the shape of lighttpd gw_backend's spawner, design.md §3 "Unified
// process spawning"): start, wait until it says it listens, restart it when it dies with spin
// protection, stop it with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { decideRestart } from '../proxy-core/spin-protection.js';

export interface SupervisedProcessOptions {
  /** Program and arguments (argv[0] is the executable). */
  argv: readonly string[];
  cwd: string;
  /** A stdout line matching this means "ready"; every line is also passed to `onLine`. */
  readyPattern: RegExp;
  /** Error-log lines (crashes, give-ups, stderr of the child). */
  logError(message: string): void;
  /** Trace output for stdout lines and restarts. */
  debug(fmt: string, ...args: unknown[]): void;
  /** How long start() waits for the ready line. Default 5000 ms. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL delay on stop. Default 2000 ms. */
  killGraceMs?: number;
  /** A process that lived at least this long had a "stable" run: spin counting starts over. Default 10 000 ms. */
  stableRunMs?: number;
  /** First restart delay, doubled after each quick death, capped at maxRestartDelayMs. Default 100 ms. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** Give up after this many quick deaths in a row. Default 5. */
  maxQuickDeaths?: number;
}

export { decideRestart, type RestartDecision } from '../proxy-core/spin-protection.js';

export class SupervisedProcess {
  private readonly opts: Required<SupervisedProcessOptions>;
  private child: ChildProcess | null = null;
  private startedAtMs = 0;
  private readonly spin = { quickDeaths: 0 };
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Restarts so far (status, tests). */
  restarts = 0;
  /** Gave up restarting after too many quick deaths. */
  gaveUp = false;

  constructor(opts: SupervisedProcessOptions) {
    this.opts = {
      readyTimeoutMs: 5000, killGraceMs: 2000, stableRunMs: 10_000, restartDelayMs: 100,
      maxRestartDelayMs: 5000, maxQuickDeaths: 5, ...opts,
    };
  }

  /** The running child's pid, or undefined between runs. */
  get pid(): number | undefined { return this.child?.pid; }

  /** Spawn the child; resolves once it printed its ready line, died, or readyTimeoutMs passed. */
  start(): Promise<boolean> {
    this.stopping = false;
    return this.spawnChild();
  }

  private spawnChild(): Promise<boolean> {
    const [file, ...args] = this.opts.argv;
    const child = spawn(file, args, { cwd: this.opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAtMs = Date.now();
    const name = `${this.opts.argv.slice(1).join(' ')}`;
    child.stderr!.setEncoding('utf8');
    createInterface({ input: child.stderr! }).on('line', (line) => this.opts.logError(`${name} (pid ${child.pid}): ${line}`));
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.opts.logError(`${name} (pid ${child.pid}) did not report ready within ${this.opts.readyTimeoutMs} ms`);
        resolve(false);
      }, this.opts.readyTimeoutMs);
      const settle = (ok: boolean) => { clearTimeout(timer); resolve(ok); };
      createInterface({ input: child.stdout! }).on('line', (line) => {
        this.opts.debug('%s (pid %d): %s', name, child.pid, line);
        if (this.opts.readyPattern.test(line)) settle(true);
      });
      child.once('exit', () => settle(false));
      child.once('error', (err) => {
        this.opts.logError(`${name}: cannot start: ${err.message}`);
        settle(false);
      });
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    return ready;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = null;
    if (this.stopping) return;
    const name = this.opts.argv.slice(1).join(' ');
    const decision = decideRestart(this.spin, Date.now() - this.startedAtMs, this.opts);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!decision.restart) {
      this.gaveUp = true;
      this.opts.logError(`${name} (pid ${child.pid}) exited with ${how}; it died ${this.spin.quickDeaths - 1} times in a row within ${this.opts.stableRunMs} ms of starting: not restarting it`);
      return;
    }
    this.opts.logError(`${name} (pid ${child.pid}) exited with ${how}; restarting in ${decision.delayMs} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts++;
      void this.spawnChild();
    }, decision.delayMs);
  }

  /** SIGTERM, then SIGKILL after killGraceMs; resolves once the child is gone (reaped). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) { clearTimeout(this.restartTimer); this.restartTimer = null; }
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.opts.killGraceMs); });
    const first = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.opts.logError(`${this.opts.argv.slice(1).join(' ')} (pid ${child.pid}) ignored SIGTERM for ${this.opts.killGraceMs} ms: SIGKILL`);
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Last resort when the server process itself exits: no waiting is possible there. */
  killNow(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// The soak's child processes: lantern and the pool members. Each runs in its own process group
// (detached), so a kill reaches its helpers too (tsx's esbuild service); every child is tracked
// and SIGKILLed when the soak ends, however it ends (normal end, failure, Ctrl-C, an uncaught
// error). Every wait here has a hard timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LANTERN_BIN = path.join(ROOT, 'bin', 'lantern');
const BACKEND_SCRIPT = path.join(ROOT, 'bench', 'soak', 'backend.ts');

const live = new Set<ChildProcess>();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try { process.kill(-child.pid, signal); } catch { /* group gone */ }
  try { process.kill(child.pid, signal); } catch { /* gone */ }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILL every child still alive (and its group). Synchronous: safe in an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) {
    signalGroup(child, 'SIGCONT');
    signalGroup(child, 'SIGKILL');
  }
  live.clear();
}

/** Resolves when `child` has exited, or after `ms` (false then). */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, ms);
    const onExit = () => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

/** Keeps the last `max` characters written to a stream (a full pipe would block the child). */
class Tail {
  text = '';
  lines = 0;
  constructor(private readonly max = 16 * 1024) {}
  add(s: string): void {
    this.lines += s.split('\n').length - 1;
    this.text = (this.text + s).slice(-this.max);
  }
}

function spawnTracked(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): { child: ChildProcess; stdout: Tail; stderr: Tail } {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout!.setEncoding('utf8').on('data', (s: string) => stdout.add(s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.add(s));
  child.on('error', (err) => stderr.add(`spawn error: ${err.message}\n`));
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { child, stdout, stderr };
}

function connects(port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const finish = (ok: boolean) => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => finish(false), ms);
    sock.once('connect', () => finish(true));
    sock.once('error', () => finish(false));
  });
}

export interface LanternChild {
  child: ChildProcess;
  pid: number;
  port: number;
  stderr: Tail;
  stdout: Tail;
  alive(): boolean;
  exitStatus(): string;
  /** SIGTERM (graceful), then SIGKILL after `ms`; resolves with the exit code (null: killed by a signal). */
  stop(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }>;
}

/**
 * Starts `bin/lantern -D -i 60 -f conf` from the TypeScript sources (LANTERN_FROM_SOURCE=1) and
 * waits until `port` accepts connections (30 s at most: tsx compiles the sources first). `-i 60`
 * makes an orphaned lantern exit by itself once nobody has been connected for 60 s.
 */
export async function startLantern(conf: string, port: number, cwd: string): Promise<LanternChild> {
  const env = { ...process.env, DEBUG: '', LANTERN_FROM_SOURCE: '1' };
  const { child, stdout, stderr } = spawnTracked(process.execPath, [LANTERN_BIN, '-D', '-i', '60', '-f', conf], env, cwd);
  const status = () => (alive(child) ? 'running' : `exited with ${child.signalCode ?? child.exitCode}`);
  const deadline = Date.now() + 30_000;
  while (!(await connects(port))) {
    if (!alive(child) || Date.now() > deadline) {
      const why = alive(child) ? `nothing listens on ${port} after 30 s` : status();
      signalGroup(child, 'SIGKILL');
      throw new Error(`lantern did not start (${why})\n--- stderr ---\n${stderr.text}`);
    }
    await sleep(50);
  }
  return {
    child, pid: child.pid!, port, stderr, stdout,
    alive: () => alive(child),
    exitStatus: status,
    async stop(ms) {
      let forced = false;
      if (alive(child)) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, ms))) {
          forced = true;
          signalGroup(child, 'SIGKILL');
          await waitExit(child, 5000);
        }
      }
      signalGroup(child, 'SIGKILL'); // its helpers (esbuild), if any are left
      return { code: child.exitCode, signal: child.signalCode, forced };
    },
  };
}

export type MemberState = 'up' | 'down' | 'frozen' | 'starting';

/** One pool member: a backend process on a fixed port, killed and started again by the chaos loop. */
export class Member {
  state: MemberState = 'down';
  private child: ChildProcess | null = null;
  private lastStderr = '';

  constructor(readonly name: string, readonly port: number, private readonly rand: () => number) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Starts the backend process and waits (20 s at most) for its "listening" line. Each start
   * draws the server's keep-alive timeout (0.3-3 s) and how many requests a connection carries
   * (50-500, then the backend answers with Connection: close), so idle upstream connections are
   * closed under lantern's feet all the time.
   */
  async start(): Promise<boolean> {
    if (this.child && alive(this.child)) return true;
    this.state = 'starting';
    const keepAlive = 300 + Math.floor(this.rand() * 2700);
    const maxRequests = 50 + Math.floor(this.rand() * 450);
    const args = ['--import', 'tsx', BACKEND_SCRIPT, this.name, String(this.port), String(keepAlive), String(maxRequests)];
    const { child, stdout, stderr } = spawnTracked(process.execPath, args, { ...process.env, DEBUG: '' }, ROOT);
    this.child = child;
    const deadline = Date.now() + 20_000;
    while (!/^listening \d+$/m.test(stdout.text)) {
      if (!alive(child) || Date.now() > deadline) {
        this.lastStderr = stderr.text.trim().split('\n').slice(-3).join(' | ');
        signalGroup(child, 'SIGKILL');
        await waitExit(child, 5000);
        this.child = null;
        this.state = 'down';
        return false;
      }
      await sleep(20);
    }
    this.state = 'up';
    return true;
  }

  /** kill -9 (the whole process group), then wait (5 s at most) until it is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.state = 'down';
    if (!child) return;
    signalGroup(child, 'SIGKILL');
    await waitExit(child, 5000);
  }

  /** SIGSTOP: the port still accepts (the kernel's backlog) but nothing is answered. */
  freeze(): void {
    if (!this.child || this.state !== 'up') return;
    this.state = 'frozen';
    try { process.kill(this.child.pid!, 'SIGSTOP'); } catch { /* gone */ }
  }

  thaw(): void {
    if (!this.child || this.state !== 'frozen') return;
    try { process.kill(this.child.pid!, 'SIGCONT'); } catch { /* gone */ }
    this.state = 'up';
  }

  /** Exited without being killed by us (a crash of the backend itself). */
  crashed(): boolean {
    return this.child !== null && !alive(this.child);
  }

  startError(): string {
    return this.lastStderr;
  }
}

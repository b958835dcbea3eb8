// The `exec:` transport (design.md §3, "Below the protocol sits a transport"): a connection that
// is a process per request, as lighttpd's mod_cgi runs a CGI script. The request's environment
// (RFC 3875 §4.1, built by proxy-core) becomes the process's; the request body goes to its stdin,
// then EOF; its stdout is the response; its stderr goes to the error log, line by line, never to
// the client. proxy-core drives it like a socket (TransportStream), so the protocol above it
// frames bytes and nothing else.
//
// Ending a process: destroy() sends SIGTERM and, when it is still there after KILL_AFTER_MS,
// SIGKILL (lighttpd: cgi_pid_kill(SIGTERM), then the server's kill on shutdown). Every child is
// tracked until it is reaped, and stopAllProcesses() ends the rest at shutdown (checklist G10).
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { LanternError } from '../../core/errors.js';
import { writeBreakageLog } from '../../core/error-log.js';
import { launchProcess, stopLauncher, type LaunchedProcess } from './process-launcher.js';
import type { TransportDefinition, TransportOpenContext, TransportStream, UpstreamRequest } from './types.js';

/** After SIGTERM, how long a process has before SIGKILL. */
export const KILL_AFTER_MS = 2000;
/** A stderr line longer than this is logged in pieces. */
const STDERR_LINE_MAX = 4096;

/** Processes started and not yet reaped. */
const live = new Set<ProcessStream>();


function envValue(up: UpstreamRequest, name: string): string {
  for (const [k, v] of up.env) if (k === name) return v;
  return '';
}

/** The answer for a script that could not be started: 403 not executable, 404 missing, else 500. */
function spawnError(err: NodeJS.ErrnoException, script: string, program: string): LanternError {
  const what = program === '' ? `script ${script}` : `${program} ${script}`;
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new LanternError('LT_ERR_FORBIDDEN', `cannot execute ${what}: ${err.code} (not executable)`);
  }
  if (err.code === 'ENOENT' && program === '') return new LanternError('LT_ERR_NOT_FOUND', `cannot execute ${what}: no such file`);
  return new LanternError('LT_ERR_SCRIPT_FAILED', `cannot execute ${what}: ${err.code ?? err.message}`);
}

export class ProcessStream extends EventEmitter implements TransportStream {
  readonly child: LaunchedProcess;
  readonly script: string;
  private exited = false;
  private killTimer: NodeJS.Timeout | null = null;
  private stdinFailed = false;
  private stderrLine = '';
  private readonly logLine: (message: string) => void;
  destroyed = false;

  constructor(ctx: TransportOpenContext, program: string) {
    super();
    const up = ctx.request;
    if (up === null) throw new Error('the exec: transport needs the request (perRequest)');
    // A byte string: the script's file name as bytes; Node takes file names as UTF-8 strings.
    const scriptBytes = envValue(up, 'SCRIPT_FILENAME');
    const script = Buffer.from(scriptBytes, 'latin1').toString('utf8');
    this.script = script;
    this.logLine = (m) => ctx.log(`${script}: ${m}`);
    const file = program === '' ? script : program;
    // The working directory is the script's (lighttpd mod_cgi: chdir to the script's directory).
    this.child = launchProcess({ file, argv: program === '' ? [script] : [program, script], cwd: path.dirname(script), env: up.env });
    live.add(this);
    const child = this.child;
    child.once('spawn', () => {
      const stdin = child.stdin!;
      const stdout = child.stdout!;
      const stderr = child.stderr!;
      stdout.on('data', (chunk: Buffer) => ctx.onData(chunk));
      stdout.once('end', () => this.emit('end'));
      stdout.on('error', (err) => this.emit('error', err));
      // A script that exits or closes its stdin before taking the whole body: the rest is
      // dropped and its answer is still read (lighttpd: FDEVENT_HUP on the pipe to the CGI).
      stdin.on('error', (err: NodeJS.ErrnoException) => {
        if (this.stdinFailed) return;
        this.stdinFailed = true;
        this.emit('write-error', err);
      });
      stdin.on('drain', () => this.emit('drain'));
      stderr.setEncoding('utf8');
      stderr.on('data', (text: string) => this.stderr(text));
      stderr.on('error', () => { /* the process is gone: nothing more to log */ });
      stdout.resume();
      stderr.resume();
      // Ended before it started (the client went away): it goes now.
      if (this.destroyed) { this.closeStdio(); this.terminate(); return; }
      this.emit('connect');
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failed start reaches here with no pid; a failed kill is ignored.
      if (child.pid === undefined) {
        this.destroyed = true;
        this.emit('error', spawnError(err, script, program));
      }
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      if (this.killTimer !== null) { clearTimeout(this.killTimer); this.killTimer = null; }
      if (this.stderrLine !== '') {
        if (!writeBreakageLog(this.stderrLine)) this.logLine(this.stderrLine);
        this.stderrLine = '';
      }
      if (signal !== null && !this.destroyed) this.logLine(`terminated by ${signal}`);
      else if (code !== null && code !== 0 && code !== 255) this.logLine(`exited with status ${code}`);
    });
    child.once('close', () => {
      live.delete(this);
      this.emit('close', false);
    });
  }

  private stderr(text: string): void {
    let s = this.stderrLine + text;
    let nl: number;
    while ((nl = s.indexOf('\n')) >= 0) {
      const line = s.slice(0, nl).replace(/\r$/, '');
      // server.breakagelog takes a script's stderr when it is set (lighttpd mod_cgi's serrh).
      if (line !== '' && !writeBreakageLog(line)) this.logLine(line);
      s = s.slice(nl + 1);
    }
    while (s.length > STDERR_LINE_MAX) {
      if (!writeBreakageLog(s.slice(0, STDERR_LINE_MAX))) this.logLine(s.slice(0, STDERR_LINE_MAX));
      s = s.slice(STDERR_LINE_MAX);
    }
    this.stderrLine = s;
  }

  write(data: Buffer | string, encoding?: BufferEncoding): boolean {
    const stdin = this.child.stdin;
    if (stdin === null || this.stdinFailed || stdin.destroyed || stdin.writableEnded) return true;
    return typeof data === 'string' ? stdin.write(data, encoding ?? 'latin1') : stdin.write(data);
  }

  end(data?: Buffer): this {
    const stdin = this.child.stdin;
    if (stdin !== null && !this.stdinFailed && !stdin.destroyed && !stdin.writableEnded) {
      if (data === undefined) stdin.end();
      else stdin.end(data);
    }
    return this;
  }

  cork(): void { this.child.stdin?.cork(); }
  uncork(): void { this.child.stdin?.uncork(); }
  pause(): this { this.child.stdout?.pause(); return this; }
  resume(): this { this.child.stdout?.resume(); return this; }

  get writableLength(): number { return this.child.stdin?.writableLength ?? 0; }
  get writableNeedDrain(): boolean { return !this.stdinFailed && (this.child.stdin?.writableNeedDrain ?? false); }
  get readableEnded(): boolean { return this.child.stdout?.readableEnded ?? false; }
  get writable(): boolean { return !this.destroyed && !this.stdinFailed && (this.child.stdin?.writable ?? false); }

  /** End the process: SIGTERM now, SIGKILL if it is still there after KILL_AFTER_MS. Its pipes close at once. */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.closeStdio();
    this.terminate();
    return this;
  }

  private closeStdio(): void {
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
  }

  /** SIGTERM, then SIGKILL after KILL_AFTER_MS (once). */
  terminate(): void {
    if (this.exited || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    if (this.killTimer === null) {
      this.killTimer = setTimeout(() => {
        this.killTimer = null;
        if (!this.exited) {
          this.logLine(`still running ${KILL_AFTER_MS / 1000} s after SIGTERM: SIGKILL`);
          this.child.kill('SIGKILL');
        }
      }, KILL_AFTER_MS);
    }
  }
}

/** Shutdown: end every process still running and wait until all are reaped (checklist G10). */
export async function stopAllProcesses(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const p of live) {
    waits.push(new Promise<void>((resolve) => {
      p.once('close', () => resolve());
      p.destroy();
      p.terminate();
    }));
  }
  await Promise.all(waits);
  stopLauncher();
}

export const execTransport: TransportDefinition = {
  name: 'exec',
  perRequest: true,
  blamesMember: false,
  open(ctx) {
    const a = ctx.address;
    if (a.kind !== 'exec') throw new Error(`the exec transport cannot open ${a.kind} addresses`);
    return new ProcessStream(ctx, a.program);
  },
};

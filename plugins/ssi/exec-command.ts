// `<!--#exec cmd="..." -->` (only with ssi.exec enabled): the command runs through /bin/sh -c in
// the document's directory, its standard output is inserted, its standard error goes to the
// error log. Unlike lighttpd, which waits for the command and blocks the whole server, lantern
// waits asynchronously and serves other requests meanwhile.
import { spawn, type ChildProcess } from 'node:child_process';
import { Buffer } from 'node:buffer';

export interface CommandResult {
  stdout: Buffer;
  /** Standard error as text (for the error log), '' when none. */
  stderr: string;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** Set when the command could not be started. */
  spawnError?: string;
}

/** Standard error kept for the log. */
const STDERR_MAX_BYTES = 4096;

/**
 * After the shell exits, how long its output pipe may stay open (a background job of the command
 * holds it) before lantern stops reading: lighttpd waits for the shell only, too.
 */
const PIPE_GRACE_MS = 1000;

/** Signal the command's whole process group (the shell and what it started). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Run `cmd` with `/bin/sh -c` in `cwd` with `env`, in a process group of its own. `onCancel`
 * registers a callback run when the request goes away: the group then gets SIGTERM. Output past
 * `maxBytes` ends the group (SIGKILL): only the first `maxBytes` are kept.
 */
export function runShellCommand(cmd: string, cwd: string, env: NodeJS.ProcessEnv, maxBytes: number, onCancel: (cb: () => void) => void): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    let exitCode: number | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    let child: ChildProcess;
    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      resolve(r);
    };
    try {
      child = spawn('/bin/sh', ['-c', cmd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      finish({ stdout: Buffer.alloc(0), stderr: '', code: null, spawnError: (e as Error).message });
      return;
    }
    child.stdout!.on('data', (b: Buffer) => {
      if (outBytes >= maxBytes) return;
      outBytes += b.length;
      out.push(outBytes > maxBytes ? b.subarray(0, b.length - (outBytes - maxBytes)) : b);
      if (outBytes >= maxBytes) {
        killGroup(child, 'SIGKILL');
        finish({ stdout: Buffer.concat(out), stderr: err, code: null });
      }
    });
    child.stderr!.on('data', (b: Buffer) => { if (err.length < STDERR_MAX_BYTES) err += b.toString('utf8'); });
    child.on('error', (e) => finish({ stdout: Buffer.concat(out), stderr: err, code: null, spawnError: e.message }));
    child.on('exit', (code) => {
      exitCode = code;
      graceTimer = setTimeout(() => finish({ stdout: Buffer.concat(out), stderr: err.slice(0, STDERR_MAX_BYTES), code: exitCode }), PIPE_GRACE_MS);
      graceTimer.unref();
    });
    child.on('close', (code) => finish({ stdout: Buffer.concat(out), stderr: err.slice(0, STDERR_MAX_BYTES), code: code ?? exitCode }));
    onCancel(() => {
      if (settled) return;
      killGroup(child, 'SIGTERM');
    });
  });
}

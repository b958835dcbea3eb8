// `<!--#exec cmd="..." -->` (only with ssi.exec enabled): the command runs through /bin/sh -c in
// the document's directory, its standard output is inserted, its standard error goes to the
// error log. Unlike lighttpd, which waits for the command and blocks the whole server, lantern
// waits asynchronously and serves other requests meanwhile.
import { spawn } from 'node:child_process';
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
 * Run `cmd` with `/bin/sh -c` in `cwd` with `env`. `onCancel` registers a callback run when the
 * request goes away: the command is then sent SIGTERM.
 */
export function runShellCommand(cmd: string, cwd: string, env: NodeJS.ProcessEnv, onCancel: (cb: () => void) => void): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let err = '';
    let settled = false;
    const finish = (r: CommandResult) => { if (!settled) { settled = true; resolve(r); } };
    let child;
    try {
      child = spawn('/bin/sh', ['-c', cmd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      finish({ stdout: Buffer.alloc(0), stderr: '', code: null, spawnError: (e as Error).message });
      return;
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => { if (err.length < STDERR_MAX_BYTES) err += b.toString('utf8'); });
    child.on('error', (e) => finish({ stdout: Buffer.concat(out), stderr: err, code: null, spawnError: e.message }));
    child.on('close', (code) => finish({ stdout: Buffer.concat(out), stderr: err.slice(0, STDERR_MAX_BYTES), code }));
    onCancel(() => { if (!settled) child.kill('SIGTERM'); });
  });
}

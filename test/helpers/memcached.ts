// Test helper: a real memcached (1.6) on a port the kernel picks, for the memcached protocol tests.
//
// `-p -1` asks memcached for an ephemeral TCP port, and MEMCACHED_PORT_FILENAME names a file it
// writes the bound ports to ("TCP INET: 40123") once it listens; it writes a temporary file and
// renames it, so the file is complete when it appears. memcached's own tests (t/lib.pm) start it
// this way. No port is picked before memcached binds, so none can be taken in between.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canConnect } from './spawn-lantern.js';
import { waitFor, withTimeout } from './wait.js';

/** How long memcached may take to listen. */
const START_MS = 10_000;

export interface Memcached {
  child: ChildProcess;
  port: number;
  /** SIGKILLs memcached and waits for its exit; never throws. */
  stop(): Promise<void>;
}

/** Starts `binary -l 127.0.0.1 -p -1 -U 0 ...extraArgs` and resolves once it accepts connections. */
export async function startMemcached(binary: string, extraArgs: string[] = []): Promise<Memcached> {
  const portDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-memcached-'));
  const portFile = path.join(portDir, 'ports');
  const args = ['-l', '127.0.0.1', '-p', '-1', '-U', '0', ...extraArgs];
  // As root memcached refuses to start without -u.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = spawn(binary, args, { stdio: 'ignore', env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile } });
  let ended: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => { ended = `exited (${code ?? signal})`; resolve(); });
    child.once('error', (err) => { ended = `could not start: ${err.message}`; resolve(); });
  });
  const stop = async () => {
    if (ended === null) child.kill('SIGKILL');
    await withTimeout(exited, 5000, 'memcached to exit').catch(() => {});
  };
  try {
    let port = 0;
    // The port file is a file: it emits nothing, so it is polled.
    await waitFor(() => {
      if (ended !== null) throw new Error(`memcached ${args.join(' ')} ${ended} during its start`);
      const m = /^TCP INET: (\d+)$/m.exec(fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8') : '');
      if (m) port = Number(m[1]);
      return port > 0;
    }, START_MS, 20, `memcached to write its port to ${portFile}`);
    await waitFor(() => canConnect({ port }, 500), START_MS, 20, `memcached to accept on 127.0.0.1:${port}`);
    return { child, port, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    fs.rmSync(portDir, { recursive: true, force: true });
  }
}

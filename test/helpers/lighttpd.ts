// Test helper: runs the real lighttpd 1.4 (Debian's /usr/sbin/lighttpd) as a child, for tests that
// compare lantern with it. The listening socket is the test's, inherited through socket activation
// exactly as spawnLantern() hands it to lantern: fd 3, LISTEN_FDS=1 and LISTEN_PID="parent:<pid>"
// (lighttpd's network_socket_activation_from_env() accepts that form when the child's parent is
// that pid; node spawns lighttpd directly, so it is). The config must say
// `server.systemd-socket-activation = "enable"` and bind nothing else.
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import type { ListeningSocket } from './ports.js';
import { childHandle, type LanternProcess } from './spawn-lantern.js';

/** Where Debian installs lighttpd; LIGHTTPD_BIN overrides it. */
export const LIGHTTPD_BIN = process.env.LIGHTTPD_BIN ?? '/usr/sbin/lighttpd';

/** How long lighttpd may take to start or stop (it starts in milliseconds; this is the hard cap). */
const LIGHTTPD_WAIT_MS = 10_000;

/** Whether an executable lighttpd is installed (tests that need one skip themselves without it). */
export function lighttpdInstalled(): boolean {
  try {
    fs.accessSync(LIGHTTPD_BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `lighttpd -v`'s first line ("lighttpd/1.4.69 (ssl) - a light and fast webserver"), for messages. */
export function lighttpdVersion(): string {
  try {
    return execFileSync(LIGHTTPD_BIN, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch (err) {
    return `(${LIGHTTPD_BIN} -v failed: ${(err as Error).message})`;
  }
}

/**
 * Starts `lighttpd -D -f conf` serving `socket` (handed over, then closed here), with the same
 * handle as a lantern child (LanternProcess), so waitAccepting() and the tests' stop/kill work
 * unchanged. Resolves at once: wait with waitAccepting().
 */
export function spawnLighttpd(conf: string, socket: ListeningSocket, opts: { cwd: string; env?: NodeJS.ProcessEnv }): LanternProcess {
  let child: ChildProcess;
  try {
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', socket.fd];
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, LISTEN_FDS: '1', LISTEN_PID: `parent:${process.pid}` };
    child = spawn(LIGHTTPD_BIN, ['-D', '-f', conf], { cwd: opts.cwd, env, stdio });
  } finally {
    socket.close();
  }
  return childHandle(child, 'lighttpd', LIGHTTPD_WAIT_MS);
}

// A fresh php-cgi FastCGI pool for one measurement of case fastcgi, started the same way for every
// front end: `php-cgi -b <unix socket>` with PHP_FCGI_CHILDREN=4 (the parent forks 4 children;
// each serves one connection at a time) and PHP_FCGI_MAX_REQUESTS=0 (php-cgi's default, 500,
// would end a child and fork a new one mid-run; cgi_main.c reads 0 as "no limit"). The pool runs
// in its own process group (php-cgi signals its group on shutdown), is stopped by signalling that
// group, and /proc is then read to make sure no process of the group is left.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export const PHP_FCGI_CHILDREN = 4;

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;
const POLL_MS = 50;
const STDERR_KEEP_BYTES = 4096;

export interface PhpPool {
  child: ChildProcess;
  /** The parent's pid, also the process group's id. */
  pid: number;
  socket: string;
  stderr(): string;
}

/** What stopping a pool took: processes that needed SIGKILL, and any still alive after it. */
export interface PoolStop { killed: number; left: number[] }

/** Process groups of running pools, killed if the bench exits (or is interrupted) mid-case. */
const groups = new Set<number>();
process.once('exit', () => { for (const g of groups) killGroup(g, 'SIGKILL'); });

/** Where php-cgi is, or undefined. */
export function findPhpCgi(): string | undefined {
  return findBin('php-cgi', ['/usr/bin/php-cgi']);
}

/** Where lighttpd is, or undefined: Debian puts it in /usr/sbin, outside a user's PATH. */
export function findLighttpd(): string | undefined {
  return findBin('lighttpd', ['/usr/sbin/lighttpd']);
}

function findBin(name: string, fallbacks: string[]): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return fallbacks.find((f) => fs.existsSync(f));
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal); } catch { /* the group is gone */ }
}

/** Live (not zombie) processes whose process group is `pgid`, from /proc/<pid>/stat. */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try { stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') pids.push(Number(entry));
  }
  return pids;
}

function connects(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Start php-cgi on `socket` and wait until it accepts connections and its 4 children run, or
 * return why not (after stopping whatever started).
 */
export async function startPhpPool(phpCgi: string, socket: string): Promise<PhpPool | { failure: string }> {
  fs.rmSync(socket, { force: true });
  let stderr = '';
  let exited: string | undefined;
  const child = spawn(phpCgi, ['-b', socket], {
    env: { ...process.env, PHP_FCGI_CHILDREN: String(PHP_FCGI_CHILDREN), PHP_FCGI_MAX_REQUESTS: '0' },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < STDERR_KEEP_BYTES) stderr += d.toString('utf8'); });
  child.once('error', (err) => { exited ??= err.message; });
  child.once('exit', (code, signal) => { exited ??= `exited with ${signal ?? code}`; });
  if (child.pid === undefined) {
    await new Promise((r) => setImmediate(r));
    return { failure: `php-cgi failed to start: ${exited ?? 'no pid'}` };
  }
  const pool: PhpPool = { child, pid: child.pid, socket, stderr: () => stderr };
  groups.add(pool.pid);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited === undefined && fs.existsSync(socket) && await connects(socket)
      && groupMembers(pool.pid).length >= PHP_FCGI_CHILDREN + 1) return pool;
    if (exited !== undefined || Date.now() > deadline) {
      const why = exited ?? `not ready after ${START_TIMEOUT_MS} ms (${groupMembers(pool.pid).length} processes)`;
      await stopPhpPool(pool);
      return { failure: `php-cgi failed to start: ${stderr.trim().split('\n')[0] || why}` };
    }
    await sleep(POLL_MS);
  }
}

/** SIGTERM to the pool's group; SIGKILL to what is left after 5 s; then check that none is left. */
export async function stopPhpPool(pool: PhpPool): Promise<PoolStop> {
  const parentGone = new Promise<void>((r) => {
    if (pool.child.exitCode !== null || pool.child.signalCode !== null) r();
    else pool.child.once('exit', () => r());
  });
  killGroup(pool.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  await Promise.race([parentGone, sleep(STOP_GRACE_MS)]);
  while (groupMembers(pool.pid).length && Date.now() < deadline) await sleep(POLL_MS);
  let killed = 0;
  if (groupMembers(pool.pid).length) {
    killed = groupMembers(pool.pid).length;
    killGroup(pool.pid, 'SIGKILL');
    const killDeadline = Date.now() + 2000;
    while (groupMembers(pool.pid).length && Date.now() < killDeadline) await sleep(POLL_MS);
  }
  const left = groupMembers(pool.pid);
  if (!left.length) groups.delete(pool.pid);
  fs.rmSync(pool.socket, { force: true });
  return { killed, left };
}

// The CGI processes of case cgi, through Linux /proc (proc(5)): a front end's children (its
// running and unreaped scripts), the script processes still alive anywhere (found by the script's
// path in /proc/<pid>/cmdline: both front ends run `<perl> <document root>/hello.pl`), and a
// process's CPU time and its reaped children's (/proc/<pid>/stat utime, stime, cutime, cstime).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (sysconf(_SC_CLK_TCK), 100 on Linux). */
const CLOCK_TICKS_PER_SEC = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

interface Stat { state: string; ppid: number; utime: number; stime: number; cutime: number; cstime: number }

function readStat(pid: number | string): Stat | undefined {
  let text: string;
  try { text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields 14-17 are the times.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
}

function pids(): string[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
}

/** CPU seconds a process has used, and its reaped children (its scripts) have used. */
export interface CpuTimes { ownSec: number; childrenSec: number }

export function cpuTimes(pid: number): CpuTimes | undefined {
  const s = readStat(pid);
  if (!s) return undefined;
  return { ownSec: (s.utime + s.stime) / CLOCK_TICKS_PER_SEC, childrenSec: (s.cutime + s.cstime) / CLOCK_TICKS_PER_SEC };
}

/**
 * CPU times of a front end that starts its scripts through a long-lived helper of its own
 * (lantern's CGI launcher, a child that is not a script): the helper's own time counts as the
 * front end's, the scripts it reaped as scripts. Without such a helper, cpuTimes(pid).
 */
export function frontEndCpuTimes(pid: number, script: string): CpuTimes | undefined {
  const t = cpuTimes(pid);
  if (!t) return undefined;
  for (const child of childrenOf(pid)) {
    let args: string[];
    try { args = fs.readFileSync(`/proc/${child}/cmdline`, 'latin1').split('\0'); } catch { continue; }
    if (args.includes(script)) continue;
    const h = cpuTimes(child);
    if (h) { t.ownSec += h.ownSec; t.childrenSec += h.childrenSec; }
  }
  return t;
}

/** The children of `pid`, zombies (exited, not yet reaped) included. */
export function childrenOf(pid: number): number[] {
  return pids().filter((p) => readStat(p)?.ppid === pid).map(Number);
}

/** Live (not zombie) processes with `file` among their arguments. */
export function processesRunning(file: string): number[] {
  const found: number[] = [];
  for (const p of pids()) {
    let args: string[];
    try { args = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0'); } catch { continue; }
    const state = readStat(p)?.state;
    if (args.includes(file) && state !== undefined && state !== 'Z' && state !== 'X') found.push(Number(p));
  }
  return found;
}

/** Wait until `check()` returns no pids or `timeoutMs` passes; returns what is left. */
export async function waitUntilNone(check: () => number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = check();
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = check();
  }
  return left;
}

// server.errorlog: lighttpd's error log, a file (appended) or `|command`, reopened on SIGHUP.
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

/** `(plugin-id) ` at the start of a message. */
const SOURCE_TAG = /^\([a-z0-9][a-z0-9._-]*\) /;

export class ErrorLog {
  private readonly target: string;
  private fd: number | null = null;
  private pipe: ChildProcess | null = null;

  /** `target`: a path, `|command`, or '' for standard error. */
  constructor(target: string) {
    this.target = target;
    this.open();
  }

  private open(): void {
    if (this.target === '') return;
    if (this.target.startsWith('|')) {
      this.pipe = spawn('/bin/sh', ['-c', this.target.slice(1)], { stdio: ['pipe', 'ignore', 'inherit'] });
      this.pipe.stdin?.on('error', () => { /* the logger went away */ });
      return;
    }
    this.fd = fs.openSync(this.target, 'a');
  }

  /**
   * One line as lighttpd writes it: `2026-12-06 01:30:00: (source) message`. A message that
   * names its source already (a plugin's `(proxy-core) ...`) keeps it; others are the server's.
   */
  write(message: string): void {
    this.writeRaw(SOURCE_TAG.test(message) ? `${timestamp()}: ${message}\n` : `${timestamp()}: (lantern) ${message}\n`);
  }

  /** Bytes as they are, no timestamp (server.breakagelog takes a script's stderr unchanged). */
  writeRaw(line: string): void {
    if (this.pipe?.stdin?.writable) this.pipe.stdin.write(line);
    else if (this.fd !== null) {
      try { fs.writeSync(this.fd, line); } catch { /* disk full: nothing better to do */ }
    } else process.stderr.write(line);
  }

  /** SIGHUP: reopen the file (after log rotation). Pipes stay open, as in lighttpd. */
  reopen(): void {
    if (this.fd === null) return;
    const old = this.fd;
    this.fd = fs.openSync(this.target, 'a');
    fs.closeSync(old);
  }

  close(): void {
    if (this.fd !== null) { fs.closeSync(this.fd); this.fd = null; }
    if (this.pipe) { this.pipe.stdin?.end(); this.pipe = null; }
  }
}

function pad(n: number): string { return n < 10 ? `0${n}` : String(n); }

export function timestamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * server.breakagelog (lighttpd's serrh): where CGI scripts' stderr goes when it is set; one per
 * process, opened by the command line once the config is loaded.
 */
let breakageLog: ErrorLog | null = null;

/** Open server.breakagelog (`target` '' closes it: stderr lines go to the error log again). Throws when it cannot be opened. */
export function openBreakageLog(target: string): void {
  breakageLog?.close();
  breakageLog = null;
  if (target !== '') breakageLog = new ErrorLog(target);
}

/** SIGHUP: reopen server.breakagelog after log rotation. */
export function reopenBreakageLog(): void {
  try { breakageLog?.reopen(); } catch { /* the old file stays in use */ }
}

export function closeBreakageLog(): void {
  breakageLog?.close();
  breakageLog = null;
}

/**
 * A line of a CGI script's stderr to server.breakagelog, as the script wrote it (lighttpd hands
 * the file to the script as its stderr); false when none is set (the caller writes the error log).
 */
export function writeBreakageLog(line: string): boolean {
  if (breakageLog === null) return false;
  breakageLog.writeRaw(`${line}\n`);
  return true;
}

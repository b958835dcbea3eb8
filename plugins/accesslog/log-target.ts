// Where access log lines go (lighttpd fdlog): a file opened for append, buffered and flushed
// once a second, at 64 KiB, on SIGHUP (then reopened, for log rotation) and at shutdown; or
// `|command`, a shell whose stdin gets each line at once and which is restarted if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** Buffered bytes that force a flush before the next tick. */
export const FLUSH_BYTES = 64 * 1024;
/** Bytes queued to a slow piped logger before lines are dropped (memory stays bounded). */
export const PIPE_MAX_QUEUED_BYTES = 1024 * 1024;
/** A piped logger that died is restarted at most this often (spin protection). */
const PIPE_RESPAWN_MS = 5000;
/** How long close() waits for a piped logger to exit after its stdin is closed. */
const PIPE_EXIT_WAIT_MS = 2000;

export class LogTarget {
  /** The accesslog.filename value: a path or `|command`. */
  readonly name: string;
  /** Lines lost (logger dead or too slow, or a write error). */
  dropped = 0;
  private readonly onError: (msg: string) => void;
  private fd: number | null = null;
  private child: ChildProcess | null = null;
  private childDiedMs = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failing = false;
  private closed = false;

  constructor(name: string, onError: (msg: string) => void) {
    this.name = name;
    this.onError = onError;
  }

  get isPipe(): boolean {
    return this.name.startsWith('|');
  }

  /** Open the file or start the command. Throws when a file cannot be opened. */
  open(): void {
    if (this.isPipe) this.spawn();
    else this.fd = fs.openSync(this.name, 'a', 0o644);
  }

  /** Queue one line (a byte string ending in '\n'). */
  write(line: string): void {
    if (this.closed) return;
    const buf = Buffer.from(line, 'latin1');
    if (this.isPipe) {
      const stdin = this.child?.stdin;
      if (!stdin || !stdin.writable || stdin.writableLength > PIPE_MAX_QUEUED_BYTES) {
        this.dropped++;
        return;
      }
      stdin.write(buf);
      return;
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /**
   * Write what is buffered. Synchronous, like lighttpd's write(): at most 64 KiB once a second,
   * and it keeps rotation and shutdown ordering simple (nothing in flight to wait for).
   */
  flush(): void {
    if (this.isPipe) {
      if (!this.child && !this.closed && Date.now() - this.childDiedMs >= PIPE_RESPAWN_MS) this.spawn();
      return;
    }
    if (this.pendingBytes === 0 || this.fd === null) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(this.fd, data, off);
      this.failing = false;
    } catch (err) {
      this.dropped++;
      // One message per failure streak (a full disk would otherwise flood the error log).
      if (!this.failing) this.onError(`writing access log ${this.name} failed: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  /** SIGHUP: flush, then reopen the file by name (after logrotate moved it). Pipes stay. */
  reopen(): void {
    if (this.isPipe || this.closed) return;
    this.flush();
    try {
      const fd = fs.openSync(this.name, 'a', 0o644);
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = fd;
    } catch (err) {
      this.onError(`reopening access log ${this.name} failed, still writing the old file: ${(err as Error).message}`);
    }
  }

  /** Flush and close; a piped logger gets EOF and a moment to finish. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGTERM'); resolve(); }, PIPE_EXIT_WAIT_MS);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.stdin?.end();
    });
  }

  private spawn(): void {
    const child = spawn('/bin/sh', ['-c', this.name.slice(1)], { stdio: ['pipe', 'ignore', 'inherit'] });
    this.child = child;
    child.stdin.on('error', () => { /* EPIPE: the exit handler reports it */ });
    child.on('error', (err) => this.onError(`piped access log "${this.name}": ${err.message}`));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.childDiedMs = Date.now();
      if (!this.closed) this.onError(`piped access log "${this.name}" exited (${signal ?? code}); restarting within ${PIPE_RESPAWN_MS / 1000} s`);
    });
  }
}

// Response bytes a client has not taken yet (design.md §3 "Buffering protects the pool";
// lighttpd's server.stream-response-body 0 and 1, nginx's proxy_buffering): the source is read as
// fast as it sends, the bytes wait here (memory up to a threshold, then an unlinked temp file in
// server.upload-dirs, up to a cap) and go to the client as it drains. The first byte is never
// delayed: while the client keeps up every chunk is written straight through. A backend's
// connection is thus free once its response has been read, whatever the client's pace.
//
// Order: the memory queue is older than anything in the file. A chunk goes to the file when the
// file still holds unsent bytes (so it stays behind them) or when memory is full; the pump sends
// memory first, then the file.
import { Buffer } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { openTempFile } from './body-spool.js';
import type { HeaderList } from './http1/types.js';
import type { Request } from './request.js';

/** Bytes kept in memory before the temp file (nginx's proxy_buffers: 8 x 8k; lighttpd: 64 KiB). */
export const BACKLOG_MEMORY_BYTES = 64 * 1024;
/** One read from the temp file. */
const READ_PIECE_BYTES = 64 * 1024;
/**
 * Bytes handed to the temp file whose write has not completed: beyond this the source is paused
 * too, or a source faster than the disk would pile its chunks up in memory.
 */
const WRITE_AHEAD_BYTES = 1024 * 1024;

export interface BacklogOptions {
  /** Bytes kept in memory; beyond them the temp file. */
  memoryBytes: number;
  /** Most unsent bytes in the temp file; beyond them push() returns false (pause the source). 0: no file. */
  maxFileBytes: number;
  /** Where the temp file is made (server.upload-dirs). */
  dirs: readonly string[];
  /** After push() returned false: there is room again. */
  onRoom(): void;
  /** Bytes written to the temp file (for counters). */
  onSpill(bytes: number): void;
  /** The temp file failed (disk full...): the response cannot complete and was aborted. */
  onError(err: Error): void;
}

export class ResponseBacklog {
  private readonly req: Request;
  private readonly o: BacklogOptions;
  private readonly mem: Buffer[] = [];
  private memBytes = 0;
  private file: FileHandle | null = null;
  /** Bytes handed to the file (written or being written), bytes whose write completed, bytes sent from it. */
  private fileEnd = 0;
  private fileWritten = 0;
  private fileRead = 0;
  private writes: Promise<void> = Promise.resolve();
  private reading = false;
  private waitingDrain = false;
  private pumping = false;
  private full = false;
  private ended = false;
  private trailers: HeaderList | undefined;
  private closed = false;

  constructor(req: Request, o: BacklogOptions) {
    this.req = req;
    this.o = o;
    req.onAbort(() => this.close());
  }

  /** Bytes waiting for the client. */
  get held(): number { return this.memBytes + (this.fileEnd - this.fileRead); }

  /** The client's socket is full: wait for its drain before sending more. */
  blocked(): void {
    if (this.waitingDrain || this.closed) return;
    this.waitingDrain = true;
    this.req.onDrain(() => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  /** Send `chunk` after what the client has not taken yet; false: over the cap, pause the source. */
  push(chunk: Buffer): boolean {
    if (this.closed) return true;
    if (this.held === 0 && !this.waitingDrain) {
      if (!this.req.write(chunk)) this.blocked();
      return true;
    }
    if (this.fileEnd === this.fileRead && this.memBytes + chunk.length <= this.o.memoryBytes) {
      this.mem.push(chunk);
      this.memBytes += chunk.length;
    } else if (this.o.maxFileBytes > 0) {
      this.toFile(chunk);
    } else {
      this.mem.push(chunk);
      this.memBytes += chunk.length;
    }
    if (this.held > this.o.memoryBytes + this.o.maxFileBytes || this.fileEnd - this.fileWritten > WRITE_AHEAD_BYTES) this.full = true;
    return !this.full;
  }

  /** The source is done: the response ends (with `trailers`) once everything held is sent. */
  end(trailers?: HeaderList): void {
    if (this.closed) return;
    this.ended = true;
    this.trailers = trailers;
    this.pump();
  }

  private toFile(chunk: Buffer): void {
    const pos = this.fileEnd;
    this.fileEnd += chunk.length;
    this.writes = this.writes.then(async () => {
      if (this.closed) return;
      this.file ??= await openTempFile(this.o.dirs, 'response');
      if (this.closed) { await this.closeFile(); return; }
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await this.file.write(chunk, off, chunk.length - off, pos + off);
        off += bytesWritten;
      }
      this.fileWritten = pos + chunk.length;
      this.o.onSpill(chunk.length);
      this.checkRoom();
      this.pump();
    }).catch((err: unknown) => this.fail(err as Error));
  }

  /** Send what the client can take now: memory, then the file; end the response when all is sent. */
  private pump(): void {
    if (this.pumping || this.closed || this.waitingDrain) return;
    this.pumping = true;
    try {
      const req = this.req;
      while (this.mem.length > 0) {
        const b = this.mem.shift()!;
        this.memBytes -= b.length;
        if (!req.write(b)) { this.blocked(); this.checkRoom(); return; }
      }
      if (this.fileRead < this.fileWritten) { this.readFile(); return; }
      if (this.fileRead < this.fileEnd) return; // a write is in flight; it pumps when done
      this.checkRoom();
      if (this.ended) {
        this.closed = true;
        void this.closeFile();
        req.end(undefined, this.trailers);
      }
    } finally {
      this.pumping = false;
    }
  }

  private readFile(): void {
    if (this.reading) return;
    this.reading = true;
    const n = Math.min(READ_PIECE_BYTES, this.fileWritten - this.fileRead);
    const buf = Buffer.allocUnsafe(n);
    this.file!.read(buf, 0, n, this.fileRead).then(({ bytesRead }) => {
      this.reading = false;
      if (this.closed) return;
      if (bytesRead <= 0) throw new Error('the response temp file ended early');
      this.fileRead += bytesRead;
      this.checkRoom();
      if (!this.req.write(bytesRead === n ? buf : buf.subarray(0, bytesRead))) { this.blocked(); return; }
      this.pump();
    }).catch((err: unknown) => this.fail(err as Error));
  }

  /** Under half the cap (and half the write-ahead) again after being full: the source may go on. */
  private checkRoom(): void {
    if (!this.full || this.held > (this.o.memoryBytes + this.o.maxFileBytes) / 2) return;
    if (this.fileEnd - this.fileWritten > WRITE_AHEAD_BYTES / 2) return;
    this.full = false;
    this.o.onRoom();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.close();
    this.o.onError(err);
    if (!this.req.finished) this.req.abort();
  }

  /** The client went away (or the response failed): drop everything held. */
  close(): void {
    if (this.closed && this.file === null) return;
    this.closed = true;
    this.mem.length = 0;
    this.memBytes = 0;
    this.fileRead = this.fileEnd;
    void this.writes.then(() => this.closeFile());
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = null;
    if (f !== null) await f.close().catch(() => undefined);
  }
}

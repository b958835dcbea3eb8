// Sending file bytes to a client with back-pressure (design.md §2, checklist F3): read a chunk,
// write it, and when the socket is full wait for drain before reading more. Stops at once when
// the client goes away. The file handle is always closed, whatever happens.
import type { FileHandle } from 'node:fs/promises';
import type { Request } from '../../core/request.js';
import type { BodyPiece } from '../../core/http1/range.js';

/** Bytes read from the file per step: one socket high-water mark's worth. */
export const CHUNK_BYTES = 64 * 1024;

/** Thrown when the file got shorter than its stat said while it was being sent. */
export class FileShrankError extends Error {}

/**
 * Write `pieces` (literal buffers and file ranges) as the response body, then end the response.
 * The head (status, headers with Content-Length) must be set already with writeHead(). Resolves
 * when done or when the client went away; rejects on a read error (the caller aborts the
 * response: its head may be out already). Closes `fh` in every case.
 */
export async function sendPieces(req: Request, fh: FileHandle, pieces: BodyPiece[]): Promise<void> {
  const flow = new Backpressure(req);
  try {
    for (const piece of pieces) {
      if (flow.gone) return;
      if (Buffer.isBuffer(piece)) {
        if (!req.write(piece)) await flow.drain();
        continue;
      }
      let pos = piece.start;
      const end = piece.end + 1;
      while (pos < end) {
        if (flow.gone) return;
        const want = Math.min(CHUNK_BYTES, end - pos);
        // A fresh buffer per chunk: the socket keeps a reference until it has sent it.
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) throw new FileShrankError(`file ended at ${pos}, expected ${end}`);
        pos += bytesRead;
        if (flow.gone) return;
        if (!req.write(bytesRead === want ? buf : buf.subarray(0, bytesRead))) await flow.drain();
      }
    }
    if (!flow.gone) req.end();
  } finally {
    await fh.close();
  }
}

/** Waits for the socket to drain, or for the client to go away, whichever comes first. */
class Backpressure {
  private aborted = false;
  private wake: (() => void) | null = null;
  private readonly req: Request;

  constructor(req: Request) {
    this.req = req;
    // One abort listener for the whole transfer (not one per wait).
    req.onAbort(() => {
      this.aborted = true;
      this.resume();
    });
  }

  /** The client went away, or the response was ended or aborted by someone else. */
  get gone(): boolean {
    return this.aborted || this.req.finished;
  }

  drain(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.req.onDrain(() => this.resume());
    });
  }

  private resume(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }
}

// The soak's HTTP/1.1 client: raw sockets and its own response parser (never node:http, never
// lantern's parser), so that it sees exactly what lantern sent: a second response on a
// keep-alive connection, a truncated body, bytes nobody asked for. One request at a time per
// connection; every wait has a hard timeout.
import net from 'node:net';

export interface Response {
  status: number;
  /** Field names lower-cased; a repeated field keeps every value. */
  fields: Map<string, string[]>;
  body: Buffer;
  /** The response said Connection: close (or came framed by the close). */
  close: boolean;
}

export type Outcome =
  | { kind: 'answered'; res: Response; ms: number }
  /** The connection ended (FIN, RST, error) before the whole response arrived. */
  | { kind: 'closed'; ms: number; why: string; gotBytes: number }
  /** Nothing conclusive before the hard timeout: the request hangs. */
  | { kind: 'timeout'; ms: number; gotBytes: number }
  /** Bytes that are not HTTP/1.1. */
  | { kind: 'malformed'; ms: number; detail: string };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** Incremental parser of one response (1xx heads are skipped). */
export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private head: { status: number; fields: Map<string, string[]>; close: boolean } | null = null;
  private mode: 'length' | 'chunked' | 'eof' | 'none' = 'none';
  private remaining = 0;
  private parts: Buffer[] = [];
  private chunkState: 'size' | 'data' | 'data-crlf' | 'trailers' = 'size';

  constructor(private readonly headRequest = false) {}

  /** Bytes received so far for this response. */
  received = 0;

  /**
   * Feeds bytes; returns the response once complete (with the bytes that follow it), or
   * null (need more), or throws an Error with a description of malformed bytes.
   */
  push(data: Buffer): { res: Response; rest: Buffer } | null {
    this.received += data.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    for (;;) {
      if (!this.head) {
        const end = this.buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (this.buf.length > MAX_HEAD) throw new Error(`response head over ${MAX_HEAD} bytes`);
          return null;
        }
        const text = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(end + 4);
        const lines = text.split('\r\n');
        const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
        if (!m) throw new Error(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
        const status = Number(m[1]);
        const fields = new Map<string, string[]>();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          if (colon <= 0) throw new Error(`bad field line ${JSON.stringify(line.slice(0, 80))}`);
          const name = line.slice(0, colon).toLowerCase();
          const value = line.slice(colon + 1).trim();
          const list = fields.get(name);
          if (list) list.push(value); else fields.set(name, [value]);
        }
        if (status >= 100 && status < 200) continue; // interim response
        const conn = (fields.get('connection') ?? []).join(',').toLowerCase();
        this.head = { status, fields, close: /\bclose\b/.test(conn) };
        const te = (fields.get('transfer-encoding') ?? []).join(',').toLowerCase();
        const cl = fields.get('content-length');
        if (this.headRequest || status === 204 || status === 304) this.mode = 'none';
        else if (te) {
          if (!/(^|,)\s*chunked\s*$/.test(te)) throw new Error(`transfer-encoding ${te} without chunked last`);
          if (cl) throw new Error('both Transfer-Encoding and Content-Length');
          this.mode = 'chunked';
        } else if (cl) {
          if (cl.length > 1 && new Set(cl).size > 1) throw new Error(`conflicting Content-Length ${cl.join(', ')}`);
          if (!/^\d{1,15}$/.test(cl[0]!)) throw new Error(`bad Content-Length ${cl[0]}`);
          this.mode = 'length';
          this.remaining = Number(cl[0]);
        } else {
          this.mode = 'eof';
          this.head.close = true;
        }
        if (this.mode === 'none' || (this.mode === 'length' && this.remaining === 0)) return this.done();
      }
      if (this.mode === 'length') {
        const take = Math.min(this.remaining, this.buf.length);
        if (take > 0) { this.parts.push(this.buf.subarray(0, take)); this.buf = this.buf.subarray(take); this.remaining -= take; }
        return this.remaining === 0 ? this.done() : null;
      }
      if (this.mode === 'eof') {
        if (this.buf.length) { this.parts.push(this.buf); this.buf = Buffer.alloc(0); }
        return null;
      }
      // chunked
      for (;;) {
        if (this.chunkState === 'size') {
          const eol = this.buf.indexOf('\r\n');
          if (eol < 0) {
            if (this.buf.length > 1024) throw new Error('chunk size line too long');
            return null;
          }
          const line = this.buf.toString('latin1', 0, eol);
          const m = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line);
          if (!m) throw new Error(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          this.buf = this.buf.subarray(eol + 2);
          this.remaining = parseInt(m[1]!, 16);
          this.chunkState = this.remaining === 0 ? 'trailers' : 'data';
        } else if (this.chunkState === 'data') {
          const take = Math.min(this.remaining, this.buf.length);
          if (take > 0) { this.parts.push(this.buf.subarray(0, take)); this.buf = this.buf.subarray(take); this.remaining -= take; }
          if (this.remaining > 0) return null;
          this.chunkState = 'data-crlf';
        } else if (this.chunkState === 'data-crlf') {
          if (this.buf.length < 2) return null;
          if (this.buf[0] !== 13 || this.buf[1] !== 10) throw new Error('chunk data not followed by CRLF');
          this.buf = this.buf.subarray(2);
          this.chunkState = 'size';
        } else {
          const eol = this.buf.indexOf('\r\n');
          if (eol < 0) {
            if (this.buf.length > MAX_HEAD) throw new Error('trailer section too long');
            return null;
          }
          this.buf = this.buf.subarray(eol + 2);
          if (eol === 0) return this.done();
        }
      }
    }
  }

  /** The connection ended: a close-delimited body is complete now; anything else is cut short. */
  end(): Response | null {
    if (this.head && this.mode === 'eof') return this.done().res;
    return null;
  }

  private done(): { res: Response; rest: Buffer } {
    const h = this.head!;
    const res: Response = { status: h.status, fields: h.fields, body: Buffer.concat(this.parts), close: h.close };
    const rest = this.buf;
    this.head = null;
    this.parts = [];
    this.buf = Buffer.alloc(0);
    this.mode = 'none';
    this.chunkState = 'size';
    this.received = 0;
    return { res, rest };
  }
}

/** Connects to 127.0.0.1:port with a hard timeout; rejects with the error. */
export function connect(port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.setNoDelay(true);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.off('error', onError); resolve(socket); });
    const onError = (err: Error) => { clearTimeout(timer); socket.destroy(); reject(err); };
    socket.once('error', onError);
  });
}

/** What an outgoing request is: its head bytes, and its body as pieces (written in order, with optional pauses). */
export interface WireRequest {
  head: Buffer;
  /** Body pieces; a number is a pause in ms before the next piece. */
  body: Array<Buffer | number>;
}

/**
 * A keep-alive client connection carrying one request at a time. Bytes that arrive while no
 * request is outstanding are reported through `onUnsolicited` (a response nobody asked for:
 * a request answered twice, or a stray 408).
 */
export class ClientConn {
  closed = false;
  private parser: ResponseParser | null = null;
  private settle: ((o: Outcome) => void) | null = null;
  private started = 0;
  private leftover: Buffer = Buffer.alloc(0);

  constructor(readonly socket: net.Socket, private readonly onUnsolicited: (bytes: Buffer) => void) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onGone('FIN'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.onGone(err.code ?? err.message));
    socket.on('close', () => this.onGone('close'));
  }

  static async open(port: number, timeoutMs: number, onUnsolicited: (bytes: Buffer) => void): Promise<ClientConn> {
    return new ClientConn(await connect(port, timeoutMs), onUnsolicited);
  }

  /** Sends `req` and resolves with what came back; never rejects, never waits past `timeoutMs`. */
  request(req: WireRequest, timeoutMs: number): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ kind: 'closed', ms: 0, why: 'already closed', gotBytes: 0 });
    this.started = performance.now();
    this.parser = new ResponseParser();
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        const got = this.parser?.received ?? 0;
        finish({ kind: 'timeout', ms: performance.now() - this.started, gotBytes: got });
        this.destroy();
      }, timeoutMs);
      const finish = (o: Outcome) => {
        if (!this.settle) return;
        clearTimeout(timer);
        this.settle = null;
        this.parser = null;
        resolve(o);
      };
      this.settle = finish;
      void this.write(req);
    });
  }

  private async write(req: WireRequest): Promise<void> {
    const s = this.socket;
    const pieces: Array<Buffer | number> = [req.head, ...req.body];
    // Small requests leave in one write.
    if (pieces.every((p) => typeof p !== 'number')) {
      if (!s.destroyed) s.write(pieces.length === 1 ? req.head : Buffer.concat(pieces as Buffer[]));
      return;
    }
    for (const p of pieces) {
      if (s.destroyed || !this.settle) return;
      if (typeof p === 'number') { await new Promise((r) => setTimeout(r, p)); continue; }
      if (!s.write(p)) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, 10_000);
          function done() { clearTimeout(t); s.off('drain', done); s.off('close', done); resolve(); }
          s.once('drain', done);
          s.once('close', done);
        });
      }
    }
  }

  private onData(chunk: Buffer): void {
    if (!this.parser || !this.settle) {
      this.leftover = Buffer.concat([this.leftover, chunk]).subarray(0, 4096);
      this.onUnsolicited(chunk);
      return;
    }
    let r: ReturnType<ResponseParser['push']>;
    try {
      r = this.parser.push(chunk);
    } catch (err) {
      this.settle({ kind: 'malformed', ms: performance.now() - this.started, detail: (err as Error).message });
      this.destroy();
      return;
    }
    if (!r) return;
    const ms = performance.now() - this.started;
    const settle = this.settle;
    if (r.rest.length) this.onUnsolicited(r.rest);
    if (r.res.close) this.socket.end();
    settle({ kind: 'answered', res: r.res, ms });
    if (r.res.close) this.closed = true;
  }

  private onGone(why: string): void {
    const wasClosed = this.closed;
    this.closed = true;
    if (this.parser && this.settle) {
      const res = this.parser.end();
      const ms = performance.now() - this.started;
      if (res) this.settle({ kind: 'answered', res, ms });
      else this.settle({ kind: 'closed', ms, why, gotBytes: this.parser.received });
    }
    if (!wasClosed && why === 'FIN') this.socket.end();
    if (why === 'close') this.socket.destroy();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

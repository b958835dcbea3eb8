// Raw HTTP/1.x test client: writes literal bytes, reads responses framed per RFC 9112 §6.3 with test-side code.
//
// Two ways to use it:
// - `rawExchange()` sends everything, then collects responses until the server closes, enough
//   responses arrived, or a hard timeout. It rejects only when it cannot connect; a slow or
//   silent server shows as `timedOut`, a truncated body as `complete: false`. `rawRequest()` and
//   `rawRequests()` are the usual case of it: they fail the test unless the answers came.
// - `connectRaw()` gives a connection to drive step by step (send the head, wait for
//   `100 Continue`, send the body, ...). Each read has a hard timeout and rejects with a message
//   that shows the unread bytes.
// Responses are parsed by test/helpers/http-bytes.ts, never by the server's own parser.
import net from 'node:net';
import * as assert from 'uvu/assert';
import { ByteLog, parseResponseAt, parseResponses, type RawResponse } from './http-bytes.js';
import { TimeoutError } from './wait.js';

export type { RawResponse } from './http-bytes.js';

/** Outcome of `rawExchange()`. */
export interface RawExchangeResult {
  responses: RawResponse[];
  /** The server closed (FIN or RST) before the timeout and before we stopped reading. */
  closed: boolean;
  /**
   * The socket reported ECONNRESET/EPIPE. Only a hint: Linux reports an RST that follows
   * received data as a plain EOF, so false does not prove the server sent a FIN.
   */
  reset: boolean;
  /** Every byte received. */
  raw: Buffer;
  timedOut: boolean;
}

export interface RawExchangeOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A unix socket path to connect to instead of host:port. */
  path?: string;
  /** Pieces written in order; each is written once the previous one was flushed to the kernel. */
  send: string | Buffer | Array<string | Buffer>;
  /** Half-close (send FIN) after the last piece. */
  halfClose?: boolean;
  /** Hard cap on the whole exchange, default 5000 ms. */
  timeoutMs?: number;
  /** Stop as soon as this many final (non-1xx) responses are complete. */
  expectResponses?: number;
  /** Indexed by final response (= request) number: true when that request was a HEAD, so its response has no body. */
  headRequests?: boolean[];
}

type Target = { port?: number; host?: string; path?: string };

function connectSocket(target: Target): net.Socket {
  // allowHalfOpen: a server's FIN must not make us close our side by ourselves; tests decide.
  const socket = target.path
    ? net.connect({ path: target.path, allowHalfOpen: true })
    : net.connect({ port: target.port ?? 0, host: target.host ?? '127.0.0.1', allowHalfOpen: true });
  socket.setNoDelay(true);
  return socket;
}

const describe = (target: Target) => (target.path ? `unix:${target.path}` : `${target.host ?? '127.0.0.1'}:${target.port}`);

/** A short printable preview of bytes for error messages. */
function preview(bytes: Buffer): string {
  const shown = JSON.stringify(bytes.toString('latin1', 0, Math.min(bytes.length, 300)));
  return bytes.length > 300 ? `${shown}... (${bytes.length} bytes)` : shown;
}

const countFinals = (responses: RawResponse[]) => responses.filter((r) => r.status >= 200).length;
const toBuffer = (data: string | Buffer) => (typeof data === 'string' ? Buffer.from(data, 'latin1') : data);

/** Sends literal bytes and collects the responses; see `RawExchangeOptions`. */
export function rawExchange(opts: RawExchangeOptions): Promise<RawExchangeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pieces = (Array.isArray(opts.send) ? opts.send : [opts.send]).map(toBuffer);
  const headRequests = opts.headRequests ?? [];
  const socket = connectSocket(opts);
  const log = new ByteLog();
  const responses: RawResponse[] = [];
  let parsedTo = 0;
  let stopParsing = false;
  let connected = false;
  let closed = false;
  let reset = false;

  return new Promise<RawExchangeResult>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const settle = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Closed or timed out: what is left is read as final (a close-delimited body ends only on close).
      if (!stopParsing && (closed || timedOut)) {
        const end = closed ? 'closed' : 'stopped';
        responses.push(...parseResponses(log.view(), parsedTo, { finalsBefore: countFinals(responses), headRequests, end }).responses);
      }
      socket.destroy();
      resolve({ responses, closed, reset, raw: Buffer.from(log.view()), timedOut });
    };
    const timer = setTimeout(() => {
      if (connected) settle(true);
      else fail(new TimeoutError(`rawExchange: no connection to ${describe(opts)} within ${timeoutMs} ms`));
    }, timeoutMs);

    socket.on('connect', async () => {
      connected = true;
      for (const piece of pieces) {
        if (closed || settled) return;
        // Separate pieces leave in separate writes: wait for each flush before the next.
        const ok = await new Promise<boolean>((done) => socket.write(piece, (err) => done(!err)));
        if (!ok) return;
      }
      if (opts.halfClose && !closed && !settled) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      log.append(chunk);
      if (stopParsing || settled) return;
      const got = parseResponses(log.view(), parsedTo, { finalsBefore: countFinals(responses), headRequests });
      responses.push(...got.responses);
      parsedTo = got.end;
      stopParsing = got.stop;
      if (opts.expectResponses !== undefined && countFinals(responses) >= opts.expectResponses) settle(false);
    });
    socket.on('end', () => {
      closed = true;
      settle(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (!connected) {
        fail(new Error(`rawExchange: cannot connect to ${describe(opts)}: ${err.code ?? err.message}`));
        return;
      }
      closed = true;
      reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      settle(false);
    });
    socket.on('close', () => {
      if (!connected || settled) return;
      closed = true;
      settle(false);
    });
  });
}

/** What a raw request sends: literal bytes, or pieces written one after the other. */
export type RequestBytes = string | Buffer | Array<string | Buffer>;

/** Options of `rawRequest()` and `rawRequests()`. */
export interface RawRequestOptions {
  /**
   * Half-close (send FIN) after the request, as a harness's HTTP/1.0-style client does; default
   * true. A kept-alive connection (false) is read until the answers expected are all there.
   */
  halfClose?: boolean;
  /** Read until the server closes instead of stopping at the last answer expected. */
  untilClose?: boolean;
  /** Indexed by request: true for a HEAD, whose answer has no body. */
  headRequests?: boolean[];
  /** Hard cap on the whole exchange; default 10 000 ms (a lantern child under tsx on a loaded machine). */
  timeoutMs?: number;
}

/** `count` answers to `send` on one connection to 127.0.0.1:`port`, and a description for messages. */
async function exchangeFor(port: number, send: RequestBytes, count: number, opts: RawRequestOptions): Promise<{ r: RawExchangeResult; what: string }> {
  const r = await rawExchange({
    port,
    send,
    halfClose: opts.halfClose ?? true,
    expectResponses: opts.untilClose ? undefined : count,
    headRequests: opts.headRequests,
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  const first = Array.isArray(send) ? send[0] ?? '' : send;
  const line = toBuffer(first).toString('latin1').split('\r\n')[0];
  return { r, what: `${JSON.stringify(line)} (timed out: ${r.timedOut}, closed: ${r.closed}): ${preview(r.raw)}` };
}

/**
 * Sends `send` to 127.0.0.1:`port` and returns the first response to it (status, header fields,
 * body bytes with chunked framing removed); fails the test when none came within the timeout.
 */
export async function rawRequest(port: number, send: RequestBytes, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const { r, what } = await exchangeFor(port, send, 1, opts);
  assert.ok(r.responses[0], `a response to ${what}`);
  return r.responses[0]!;
}

/**
 * Sends `send` (requests one after the other, on one connection) and returns exactly `count`
 * responses; fails the test when another number came within the timeout.
 */
export async function rawRequests(port: number, send: RequestBytes, count: number, opts: RawRequestOptions = {}): Promise<RawResponse[]> {
  const { r, what } = await exchangeFor(port, send, count, opts);
  assert.is(r.responses.length, count, `responses to ${what}`);
  return r.responses;
}

/** A connection driven step by step; every read has a hard timeout. */
export interface RawConnection {
  readonly socket: net.Socket;
  /** The server closed (FIN or RST). */
  readonly closed: boolean;
  /**
   * The socket reported ECONNRESET/EPIPE. Only a hint: Linux reports an RST that follows
   * received data as a plain EOF, so false does not prove the server sent a FIN.
   */
  readonly reset: boolean;
  /** Every byte received so far. */
  readonly received: Buffer;
  /** Bytes received but not yet consumed by a read. */
  readonly unread: Buffer;
  /** Writes and resolves once the bytes are flushed to the kernel; rejects if the socket failed. */
  write(data: string | Buffer): Promise<void>;
  /** Half-closes (FIN) after optional last bytes; reading goes on. */
  end(data?: string | Buffer): Promise<void>;
  /** Waits until `predicate(unread)` holds, then consumes and returns all unread bytes. */
  readUntil(predicate: (unread: Buffer) => boolean, timeoutMs?: number, what?: string): Promise<Buffer>;
  /** Waits for the next whole response (1xx included) and consumes exactly its bytes. `head`: it answers a HEAD. */
  readResponse(timeoutMs?: number, opts?: { head?: boolean }): Promise<RawResponse>;
  /** True once the server has closed, false if it is still open after `timeoutMs` (never rejects). */
  waitClose(timeoutMs?: number): Promise<boolean>;
  destroy(): void;
}

/** Connects to 127.0.0.1:`port` (or `host`), or to a unix socket `{ path }`; rejects on refusal or after `timeoutMs`. */
export function connectRaw(port: number | { path: string }, host = '127.0.0.1', timeoutMs = 5000): Promise<RawConnection> {
  const target: Target = typeof port === 'number' ? { port, host } : { path: port.path };
  const socket = connectSocket(target);
  const log = new ByteLog();
  let cursor = 0;
  let connected = false;
  let closed = false;
  let reset = false;
  // Pending reads, re-checked on every socket event; each returns true when it has settled.
  const waiters = new Set<() => boolean>();
  const recheck = () => {
    for (const check of [...waiters]) if (check()) waiters.delete(check);
  };

  function waitUntil<T>(check: () => { value: T } | Error | null, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const outcome = check();
        if (outcome === null) return false;
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome.value);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; unread: ${preview(log.view(cursor))}`));
      }, timeoutMs);
      if (!attempt()) waiters.add(attempt);
    });
  }

  const connection: RawConnection = {
    socket,
    get closed() {
      return closed;
    },
    get reset() {
      return reset;
    },
    get received() {
      return Buffer.from(log.view());
    },
    get unread() {
      return Buffer.from(log.view(cursor));
    },
    write(data) {
      return new Promise<void>((resolve, reject) => {
        socket.write(toBuffer(data), (err) => (err ? reject(new Error(`raw write failed: ${err.message}`)) : resolve()));
      });
    },
    end(data) {
      return new Promise<void>((resolve) => {
        if (data === undefined) socket.end(resolve);
        else socket.end(toBuffer(data), resolve);
      });
    },
    readUntil(predicate, ms = 5000, what = 'readUntil predicate') {
      return waitUntil(
        () => {
          const unread = log.view(cursor);
          if (predicate(unread)) {
            cursor = log.length;
            return { value: Buffer.from(unread) };
          }
          return closed ? new Error(`connection closed before ${what}; unread: ${preview(unread)}`) : null;
        },
        ms,
        what,
      );
    },
    readResponse(ms = 5000, opts = {}) {
      return waitUntil(
        () => {
          const parsed = parseResponseAt(log.view(), cursor, { head: opts.head, end: closed ? 'closed' : undefined });
          if (parsed) {
            cursor = parsed.end;
            return { value: parsed.response };
          }
          return closed ? new Error(`connection closed before a whole response; unread: ${preview(log.view(cursor))}`) : null;
        },
        ms,
        'a response',
      );
    },
    waitClose(ms = 5000) {
      return waitUntil(() => (closed ? { value: true } : null), ms, 'the server to close').catch((err: unknown) => {
        if (err instanceof TimeoutError) return false;
        throw err;
      });
    },
    destroy() {
      socket.destroy();
    },
  };

  socket.on('data', (chunk: Buffer) => {
    log.append(chunk);
    recheck();
  });
  socket.on('end', () => {
    closed = true;
    recheck();
  });
  socket.on('close', () => {
    closed = true;
    recheck();
  });

  return new Promise<RawConnection>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`connectRaw: no connection to ${describe(target)} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      resolve(connection);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        clearTimeout(timer);
        reject(new Error(`connectRaw: cannot connect to ${describe(target)}: ${err.code ?? err.message}`));
        return;
      }
      reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      closed = true;
      recheck();
    });
  });
}

// Fake HTTP/1.x backends for proxy tests: answer literal bytes on cue, stall, close or reset, and record what arrived.
//
// Each accepted connection reads requests (framed per RFC 9112 §6.3 by test/helpers/http-bytes.ts)
// and answers them in order with what `script.respond` returns:
//   'HTTP/1.1 200 OK\r\n...'              literal bytes, then `script.then` (default 'keep')
//   ['HTTP/1.1 200 OK\r\n...', pause, 'rest'] pieces written one by one; `pause` waits for backend.release()
//   { chunks: [...], then: 'close' }     pieces, then keep the connection / close (FIN) / stall / reset (RST)
//   'stall' | 'close' | 'reset'          no answer: hang forever / FIN / RST
// `answerAfter` says when `respond` is called: once the whole request is in ('request', the
// default), once its head is in ('head'), or once N bytes arrived on the connection (a number:
// called once per connection, 0 = on accept). `respond` may be async, so a test can write
// through `conn.write()` and wait (e.g. for the body after a 100 Continue) before returning.
import net from 'node:net';
import { ByteLog, parseRequestAt, type RawRequest } from './http-bytes.js';
import { startFakeServer, type FakeHost } from './fake-server.js';
import { refusingPort } from './ports.js';

export type FakeRequest = RawRequest;

/** A point in a reply where writing waits for `backend.release()`. */
export interface FakePause {
  readonly pause: true;
}
export const pause: FakePause = Object.freeze({ pause: true as const });

/** What the connection does after a reply: read the next request, FIN, hang, or RST. */
export type FakeAfter = 'keep' | 'close' | 'stall' | 'reset';
export type FakePiece = string | Buffer | FakePause;
export type FakeReply = 'stall' | 'close' | 'reset' | string | Buffer | FakePiece[] | { chunks: FakePiece[]; then?: FakeAfter };

export interface FakeScript {
  /** Default: a 200 with body "ok" and Content-Length. */
  respond?: (req: FakeRequest, conn: FakeConnection) => FakeReply | Promise<FakeReply>;
  /** When `respond` is called; default 'request'. */
  answerAfter?: 'request' | 'head' | number;
  /** After a reply given as bytes or pieces; default 'keep'. */
  then?: FakeAfter;
  /** Listen on this unix socket instead of TCP. */
  path?: string;
  /** TCP host, default 127.0.0.1 (port is always 0). */
  host?: string;
}

export interface FakeConnection {
  readonly id: number;
  readonly socket: net.Socket;
  /** Every byte received on this connection. */
  readonly received: Buffer;
  /** Requests whose head arrived; each object is updated in place as its body arrives. */
  readonly requests: FakeRequest[];
  /** The peer closed (FIN) or reset its side. */
  readonly closedByPeer: boolean;
  /** The script ended (FIN) or reset this connection itself. */
  readonly closedByUs: boolean;
  /** The socket is fully closed. */
  readonly closed: boolean;
  /** Writes now, outside the scripted reply (e.g. a 100 Continue from an async `respond`). */
  write(data: string | Buffer): Promise<void>;
}

export interface FakeBackend {
  /** TCP port (0 for a unix socket). */
  readonly port: number;
  /** `127.0.0.1:port`, `[::1]:port` or `unix:/path`, ready for a backend address in a config. */
  readonly address: string;
  readonly connections: FakeConnection[];
  readonly connectionCount: number;
  /** Requests whose head arrived, over all connections. */
  readonly requestCount: number;
  /** Replies currently waiting at a `pause`. */
  readonly pausedReplies: number;
  /** Errors thrown by `respond` (the connection was destroyed). */
  readonly errors: unknown[];
  /** Lets `n` pauses go on; a release given before a reply reaches its pause is kept for it. */
  release(n?: number): void;
  /** Waits, event-driven, until `predicate(backend)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (backend: FakeBackend) => boolean, timeoutMs: number, what: string): Promise<void>;
  waitConnections(n: number, timeoutMs: number): Promise<void>;
  waitRequests(n: number, timeoutMs: number): Promise<void>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

const defaultReply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const isPause = (piece: FakePiece): piece is FakePause => typeof piece === 'object' && !Buffer.isBuffer(piece);

class Connection implements FakeConnection {
  readonly requests: FakeRequest[] = [];
  closedByPeer = false;
  closedByUs = false;
  closed = false;
  private readonly log = new ByteLog();
  private nextRequestAt = 0;
  private wake: () => void = () => {};

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly host: FakeHost,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.log.append(chunk);
      this.parseRequests();
      this.changed();
    });
    socket.on('end', () => {
      this.closedByPeer = true;
      this.changed();
    });
    socket.on('error', () => {
      // ECONNRESET and the like: the peer went away; 'close' follows.
      if (!this.closed) this.closedByPeer = true;
    });
    socket.on('close', () => {
      this.closed = true;
      this.changed();
    });
  }

  get received(): Buffer {
    return Buffer.from(this.log.view());
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      // Errors surface as the peer closing; a scripted reply simply stops.
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  /** Runs the script for this connection until it stops answering. */
  async serve(script: FakeScript): Promise<void> {
    const respond = script.respond ?? (() => defaultReply);
    const mode = script.answerAfter ?? 'request';
    if (typeof mode === 'number') {
      if (!(await this.until(() => this.log.length >= mode))) return this.peerGone();
      const req = this.requests[0] ?? emptyRequest();
      await this.perform(await respond(req, this), script.then);
      return;
    }
    for (let index = 0; ; index++) {
      const ready = () => {
        const req = this.requests[index];
        return req !== undefined && (mode === 'head' || req.complete);
      };
      if (!(await this.until(ready))) return this.peerGone();
      const after = await this.perform(await respond(this.requests[index], this), script.then);
      if (after !== 'keep' || this.socket.destroyed) return;
    }
  }

  private async perform(reply: FakeReply, defaultThen: FakeAfter = 'keep'): Promise<FakeAfter> {
    if (reply === 'stall') return 'stall';
    if (reply === 'close' || reply === 'reset') return this.finish(reply);
    const { chunks, then } =
      typeof reply === 'string' || Buffer.isBuffer(reply)
        ? { chunks: [reply], then: defaultThen }
        : Array.isArray(reply)
          ? { chunks: reply, then: defaultThen }
          : { chunks: reply.chunks, then: reply.then ?? defaultThen };
    for (const piece of chunks) {
      if (this.socket.destroyed) return 'close';
      if (isPause(piece)) await this.host.awaitRelease();
      else await this.write(piece);
    }
    return this.finish(then);
  }

  private finish(then: FakeAfter): FakeAfter {
    if (then === 'close' || then === 'reset') this.closedByUs = true;
    if (then === 'close') this.socket.end();
    else if (then === 'reset') this.socket.resetAndDestroy();
    return then;
  }

  /** The peer closed while we waited for its request: close our side too, as a keep-alive server does. */
  private peerGone(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  /** Resolves true once `condition` holds, false if the connection can no longer make it hold. */
  private async until(condition: () => boolean): Promise<boolean> {
    while (!condition()) {
      if (this.closed || this.closedByPeer) return condition();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return true;
  }

  private changed(): void {
    this.wake();
    this.host.changed();
  }

  private parseRequests(): void {
    const buf = this.log.view();
    for (;;) {
      const parsed = parseRequestAt(buf, this.nextRequestAt);
      if (!parsed) return;
      const index = this.requests.findIndex((r) => !r.complete);
      // The request being received is updated in place, so a `respond` that got it early sees its body grow.
      if (index === -1) this.requests.push(parsed.request);
      else Object.assign(this.requests[index], parsed.request);
      if (!parsed.request.complete) return;
      this.nextRequestAt = parsed.end;
    }
  }
}

function emptyRequest(): FakeRequest {
  const parsed = parseRequestAt(Buffer.from('\r\n\r\n'), 0);
  if (!parsed) throw new Error('unreachable: an empty head always parses');
  return { ...parsed.request, head: '', raw: Buffer.alloc(0) };
}

/** Starts a fake backend on 127.0.0.1 port 0 (or `script.path`); see the file comment for scripts. */
async function startFakeBackend(script: FakeScript = {}): Promise<FakeBackend> {
  const base = await startFakeServer<Connection>({
    name: 'fake backend', path: script.path, host: script.host,
    accept: (id, socket, host) => new Connection(id, socket, host),
    serve: (conn) => conn.serve(script),
  });
  const connections = base.connections;
  const backend: FakeBackend = {
    port: base.port,
    address: base.address,
    connections,
    errors: base.errors,
    get connectionCount() {
      return connections.length;
    },
    get requestCount() {
      return connections.reduce((sum, c) => sum + c.requests.length, 0);
    },
    get pausedReplies() {
      return base.pausedReplies;
    },
    release: (n) => base.release(n),
    waitFor: (predicate, timeoutMs, what) => base.waitFor(() => predicate(backend), timeoutMs, what,
      () => `${connections.length} connection(s), ${backend.requestCount} request(s), ${base.pausedReplies} paused`),
    waitConnections(n, timeoutMs) {
      return backend.waitFor((b) => b.connectionCount >= n, timeoutMs, `${n} connection(s)`);
    },
    waitRequests(n, timeoutMs) {
      return backend.waitFor((b) => b.requestCount >= n, timeoutMs, `${n} request head(s)`);
    },
    close: () => base.close(),
  };
  return backend;
}

/**
 * A port on 127.0.0.1 where nothing listens, held until the test process exits (refusingPort in
 * ports.ts): a port bound and closed again could be given to any later port-0 bind meanwhile,
 * such as a fake backend of this or a parallel test file, and the "down" member would answer.
 */
export async function refusedPort(): Promise<number> {
  return (await refusingPort()).port;
}

/** `fakeBackend(script)`, with `fakeBackend.refusedPort()` and the `fakeBackend.pause` marker. */
export const fakeBackend = Object.assign(startFakeBackend, { refusedPort, pause });

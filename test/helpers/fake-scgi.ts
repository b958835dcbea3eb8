// Fake SCGI / uwsgi backends for proxy tests: decode the netstring or uwsgi packet and the
// CONTENT_LENGTH body of each connection, record them, and answer literal bytes on cue, then
// close (FIN), stall or reset. One request per connection, as both protocols are spoken.
//
// `script.respond(req, conn)` returns the reply:
//   'Status: 200 OK\r\n\r\nhi'            literal bytes (latin1), then `script.then` (default 'close')
//   ['HTTP/1.1 200 OK\r\n', pause, 'rest'] pieces written one by one; `pause` waits for fake.release()
//   { chunks: [...], then: 'stall' }       pieces, then close (FIN) / stall (hang) / reset (RST)
//   'stall' | 'close' | 'reset'            no answer: hang / FIN / RST
// `answerAfter`: 'request' (default: head and whole body in) or 'head' (the head only).
// A malformed head is recorded in `conn.protocolError` and `fake.errors`, and the connection reset.
import net from 'node:net';
import { decodeScgiHead } from '../../plugins/proxy-backend-scgi/netstring.js';
import { decodeUwsgiPacket } from '../../plugins/proxy-backend-scgi/uwsgi-packet.js';
import { ByteLog } from './http-bytes.js';
import { pause, type FakePause } from './fake-backend.js';
import { startFakeServer, type FakeHost } from './fake-server.js';

export { pause };
export type FakeScgiProtocol = 'scgi' | 'uwsgi';
export type FakeScgiAfter = 'close' | 'stall' | 'reset';
export type FakeScgiPiece = string | Buffer | FakePause;
export type FakeScgiReply = 'stall' | 'close' | 'reset' | string | Buffer | FakeScgiPiece[] | { chunks: FakeScgiPiece[]; then?: FakeScgiAfter };

export interface FakeScgiScript {
  /** What the backend decodes; default 'scgi'. */
  protocol?: FakeScgiProtocol;
  /** Default: a CGI-style 200 "ok" (scgi) or an HTTP/1.1 200 "ok" (uwsgi). */
  respond?: (req: FakeScgiRequest, conn: FakeScgiConnection) => FakeScgiReply | Promise<FakeScgiReply>;
  /** When `respond` is called; default 'request'. */
  answerAfter?: 'request' | 'head';
  /** After a reply given as bytes or pieces; default 'close'. */
  then?: FakeScgiAfter;
  /** Listen on this unix socket instead of TCP. */
  path?: string;
  /** TCP host, default 127.0.0.1 (port is always 0). */
  host?: string;
}

/** One decoded request; `body` and `complete` are updated in place as the body arrives. */
export interface FakeScgiRequest {
  readonly protocol: FakeScgiProtocol;
  /** The variables in the order received. */
  readonly env: ReadonlyArray<readonly [string, string]>;
  readonly envMap: ReadonlyMap<string, string>;
  /** uwsgi modifier1 / modifier2 (0 for SCGI). */
  readonly modifier1: number;
  readonly modifier2: number;
  /** The netstring or packet exactly as received. */
  readonly headBytes: Buffer;
  /** CONTENT_LENGTH as a number (0 when missing). */
  readonly contentLength: number;
  /** Body bytes so far (at most contentLength). */
  readonly body: Buffer;
  /** The whole body arrived. */
  readonly complete: boolean;
  /** Bytes that came after the body. */
  readonly extraBytes: number;
  /** The peer closed (FIN) or reset its side of this request's connection. */
  readonly peerClosed: boolean;
}

export interface FakeScgiConnection {
  readonly id: number;
  readonly socket: net.Socket;
  /** Every byte received on this connection. */
  readonly received: Buffer;
  /** The request once its head is decoded, else null. */
  readonly request: FakeScgiRequest | null;
  /** Why the head could not be decoded, else null. */
  readonly protocolError: string | null;
  readonly closedByPeer: boolean;
  /** The script ended (FIN) or reset this connection itself. */
  readonly closedByUs: boolean;
  /** The socket is fully closed. */
  readonly closed: boolean;
  /** Writes now, outside the scripted reply. */
  write(data: string | Buffer): Promise<void>;
}

export interface FakeScgi {
  readonly protocol: FakeScgiProtocol;
  /** TCP port (0 for a unix socket). */
  readonly port: number;
  /** The unix socket path, or null for TCP. */
  readonly path: string | null;
  /** `127.0.0.1:port` or `unix:/path`, ready for a backend address in a config. */
  readonly address: string;
  readonly connections: FakeScgiConnection[];
  /** Requests whose head was decoded, in connection order. */
  readonly requests: FakeScgiRequest[];
  readonly connectionCount: number;
  /** Malformed heads and errors thrown by `respond`. */
  readonly errors: unknown[];
  /** Lets `n` pauses go on; a release given before a reply reaches its pause is kept for it. */
  release(n?: number): void;
  /** Waits, event-driven, until `predicate(fake)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (fake: FakeScgi) => boolean, timeoutMs: number, what: string): Promise<void>;
  waitConnections(n: number, timeoutMs: number): Promise<void>;
  /** Waits until `n` request heads were decoded. */
  waitForRequests(n: number, timeoutMs: number): Promise<void>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

const DEFAULT_REPLY: Record<FakeScgiProtocol, string> = {
  scgi: 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok',
  uwsgi: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok',
};
const isPause = (piece: FakeScgiPiece): piece is FakePause => typeof piece === 'object' && !Buffer.isBuffer(piece);

class Request implements FakeScgiRequest {
  readonly envMap: Map<string, string>;
  readonly contentLength: number;
  constructor(
    readonly protocol: FakeScgiProtocol,
    readonly env: Array<[string, string]>,
    readonly modifier1: number,
    readonly modifier2: number,
    readonly headBytes: Buffer,
    private readonly conn: Connection,
    private readonly bodyStart: number,
  ) {
    this.envMap = new Map(env);
    const cl = Number(this.envMap.get('CONTENT_LENGTH') ?? '0');
    this.contentLength = Number.isSafeInteger(cl) && cl >= 0 ? cl : 0;
  }
  get body(): Buffer {
    return Buffer.from(this.conn.log.view(this.bodyStart, this.bodyStart + this.contentLength));
  }
  get complete(): boolean {
    return this.conn.log.length - this.bodyStart >= this.contentLength;
  }
  get extraBytes(): number {
    return Math.max(0, this.conn.log.length - this.bodyStart - this.contentLength);
  }
  get peerClosed(): boolean {
    return this.conn.closedByPeer;
  }
}

class Connection implements FakeScgiConnection {
  readonly log = new ByteLog();
  request: Request | null = null;
  protocolError: string | null = null;
  closedByPeer = false;
  closedByUs = false;
  closed = false;
  private wake: () => void = () => {};

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly host: Host,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.log.append(chunk);
      if (this.request === null && this.protocolError === null) this.decodeHead();
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
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  async serve(script: FakeScgiScript): Promise<void> {
    const protocol = script.protocol ?? 'scgi';
    const respond = script.respond ?? (() => DEFAULT_REPLY[protocol]);
    const ready = () => this.request !== null && (script.answerAfter === 'head' || this.request.complete);
    if (!(await this.until(ready))) {
      if (!this.socket.destroyed) this.socket.end();
      return;
    }
    await this.perform(await respond(this.request!, this), script.then ?? 'close');
  }

  private decodeHead(): void {
    const buf = this.log.view();
    try {
      if (this.host.protocol === 'scgi') {
        const head = decodeScgiHead(buf);
        if (head) this.request = new Request('scgi', head.env, 0, 0, Buffer.from(buf.subarray(0, head.consumed)), this, head.consumed);
      } else {
        const packet = decodeUwsgiPacket(buf);
        if (packet) this.request = new Request('uwsgi', packet.env, packet.modifier1, packet.modifier2, Buffer.from(buf.subarray(0, packet.consumed)), this, packet.consumed);
      }
    } catch (err) {
      this.protocolError = (err as Error).message;
      this.host.errors.push(err);
      this.closedByUs = true;
      this.socket.resetAndDestroy();
    }
  }

  private async perform(reply: FakeScgiReply, defaultThen: FakeScgiAfter): Promise<void> {
    if (reply === 'stall') return;
    if (reply === 'close' || reply === 'reset') return this.finish(reply);
    const { chunks, then } =
      typeof reply === 'string' || Buffer.isBuffer(reply)
        ? { chunks: [reply], then: defaultThen }
        : Array.isArray(reply)
          ? { chunks: reply, then: defaultThen }
          : { chunks: reply.chunks, then: reply.then ?? defaultThen };
    for (const piece of chunks) {
      if (this.socket.destroyed) return;
      if (isPause(piece)) await this.host.awaitRelease();
      else await this.write(piece);
    }
    this.finish(then);
  }

  private finish(then: FakeScgiAfter): void {
    if (then === 'stall' || this.socket.destroyed) return;
    this.closedByUs = true;
    if (then === 'close') this.socket.end();
    else this.socket.resetAndDestroy();
  }

  /** Resolves true once `condition` holds, false if the connection can no longer make it hold. */
  private async until(condition: () => boolean): Promise<boolean> {
    while (!condition()) {
      if (this.closed || this.closedByPeer || this.protocolError !== null) return condition();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return true;
  }

  private changed(): void {
    this.wake();
    this.host.changed();
  }
}

/** The fake-wide state a connection reports to. */
interface Host extends FakeHost {
  readonly protocol: FakeScgiProtocol;
  readonly errors: unknown[];
}

/** Starts a fake SCGI or uwsgi backend on 127.0.0.1 port 0 (or `script.path`); see the file comment. */
export async function startFakeScgi(script: FakeScgiScript = {}): Promise<FakeScgi> {
  const protocol = script.protocol ?? 'scgi';
  const errors: unknown[] = [];
  const base = await startFakeServer<Connection>({
    name: `fake ${protocol} backend`, path: script.path, host: script.host, errors,
    accept: (id, socket, host) => new Connection(id, socket, { protocol, errors, changed: host.changed, awaitRelease: host.awaitRelease }),
    serve: (conn) => conn.serve(script),
  });
  const connections = base.connections;
  const fake: FakeScgi = {
    protocol,
    port: base.port,
    path: base.path,
    address: base.address,
    connections,
    errors,
    get requests() {
      return connections.flatMap((c) => (c.request === null ? [] : [c.request]));
    },
    get connectionCount() {
      return connections.length;
    },
    release: (n) => base.release(n),
    waitFor: (predicate, timeoutMs, what) => base.waitFor(() => predicate(fake), timeoutMs, what,
      () => `${connections.length} connection(s), ${fake.requests.length} request(s), ${errors.length} error(s)`),
    waitConnections(n, timeoutMs) {
      return fake.waitFor((f) => f.connectionCount >= n, timeoutMs, `${n} connection(s)`);
    },
    waitForRequests(n, timeoutMs) {
      return fake.waitFor((f) => f.requests.length >= n, timeoutMs, `${n} request head(s)`);
    },
    close: () => base.close(),
  };
  return fake;
}

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
import {
  FakeConnectionBase, pause, type FakeConnectionBasics, type FakePiece, type FakeReplyOf, type FakeScriptOf,
} from './fake-connection.js';
import { listenerBasics, startFakeServer, type FakeHost, type FakeListenerBasics } from './fake-server.js';

export { pause };
export type FakeScgiProtocol = 'scgi' | 'uwsgi';
export type FakeScgiAfter = 'close' | 'stall' | 'reset';
export type FakeScgiPiece = FakePiece;
export type FakeScgiReply = FakeReplyOf<FakeScgiAfter>;

/** Default reply: a CGI-style 200 "ok" (scgi) or an HTTP/1.1 200 "ok" (uwsgi). */
export interface FakeScgiScript extends FakeScriptOf<FakeScgiRequest, FakeScgiConnection, FakeScgiAfter, 'request' | 'head'> {
  /** What the backend decodes; default 'scgi'. */
  protocol?: FakeScgiProtocol;
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

export interface FakeScgiConnection extends FakeConnectionBasics {
  /** The request once its head is decoded, else null. */
  readonly request: FakeScgiRequest | null;
  /** Why the head could not be decoded, else null. */
  readonly protocolError: string | null;
}

export interface FakeScgi extends FakeListenerBasics<FakeScgi, FakeScgiConnection> {
  readonly protocol: FakeScgiProtocol;
  /** The unix socket path, or null for TCP. */
  readonly path: string | null;
  /** Requests whose head was decoded, in connection order. */
  readonly requests: FakeScgiRequest[];
  readonly connectionCount: number;
  /** Malformed heads and errors thrown by `respond`. */
  readonly errors: unknown[];
  /** Waits until `n` request heads were decoded. */
  waitForRequests(n: number, timeoutMs: number): Promise<void>;
}

const DEFAULT_REPLY: Record<FakeScgiProtocol, string> = {
  scgi: 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok',
  uwsgi: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok',
};

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

class Connection extends FakeConnectionBase implements FakeScgiConnection {
  request: Request | null = null;
  protocolError: string | null = null;

  constructor(
    id: number,
    socket: net.Socket,
    host: FakeHost,
    private readonly protocol: FakeScgiProtocol,
    /** The fake's errors, where a malformed head goes too. */
    private readonly errors: unknown[],
  ) {
    super(id, socket, host);
  }

  serve(script: FakeScgiScript): Promise<void> {
    const respond = script.respond ?? (() => DEFAULT_REPLY[this.protocol]);
    return this.answerRequests({
      requests: () => (this.request === null ? [] : [this.request]),
      ready: (req) => script.answerAfter === 'head' || req.complete,
      once: true,
      respond: (req) => respond(req, this),
      then: script.then ?? 'close',
    });
  }

  protected override get undecodable(): boolean {
    return this.protocolError !== null;
  }

  protected decode(): void {
    if (this.request !== null || this.protocolError !== null) return;
    const buf = this.log.view();
    try {
      if (this.protocol === 'scgi') {
        const head = decodeScgiHead(buf);
        if (head) this.request = new Request('scgi', head.env, 0, 0, Buffer.from(buf.subarray(0, head.consumed)), this, head.consumed);
      } else {
        const packet = decodeUwsgiPacket(buf);
        if (packet) this.request = new Request('uwsgi', packet.env, packet.modifier1, packet.modifier2, Buffer.from(buf.subarray(0, packet.consumed)), this, packet.consumed);
      }
    } catch (err) {
      this.protocolError = (err as Error).message;
      this.errors.push(err);
      this.finish('reset');
    }
  }
}

/** Starts a fake SCGI or uwsgi backend on 127.0.0.1 port 0 (or `script.path`); see the file comment. */
export async function startFakeScgi(script: FakeScgiScript = {}): Promise<FakeScgi> {
  const protocol = script.protocol ?? 'scgi';
  const errors: unknown[] = [];
  const base = await startFakeServer<Connection>({
    name: `fake ${protocol} backend`, path: script.path, host: script.host, errors,
    accept: (id, socket, host) => new Connection(id, socket, host, protocol, errors),
    serve: (conn) => conn.serve(script),
  });
  const connections = base.connections;
  const fake: FakeScgi = {
    ...listenerBasics(base, () => fake,
      () => `${connections.length} connection(s), ${fake.requests.length} request(s), ${errors.length} error(s)`),
    protocol,
    path: base.path,
    get requests() {
      return connections.flatMap((c) => (c.request === null ? [] : [c.request]));
    },
    get connectionCount() {
      return connections.length;
    },
    waitForRequests(n, timeoutMs) {
      return fake.waitFor((f) => f.requests.length >= n, timeoutMs, `${n} request head(s)`);
    },
  };
  return fake;
}

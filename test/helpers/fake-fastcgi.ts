// Fake FastCGI 1.0 backends for proxy tests: decode the records that arrive, record each request
// (role, flags, params, stdin, ABORT_REQUEST), and answer with literal records on cue.
//
// Each accepted connection decodes records (plugins/proxy-backend-fastcgi/record.ts) and answers
// its requests in order with what `script.respond` returns, as test/helpers/fake-backend.ts does:
//   fcgiResponse('Status: 200\r\n\r\nok')  literal bytes (here: STDOUT, empty STDOUT, END_REQUEST), then `script.then`
//   [bytes, pause, bytes]                  pieces written one by one; `pause` waits for fake.release()
//   { chunks: [...], then: 'close' }       pieces, then keep the connection / close (FIN) / stall / reset (RST)
//   'stall' | 'close' | 'reset'            no answer: hang forever / FIN / RST
// Builders: fcgiRecord() (any type, id and padding), fcgiStdout(), fcgiStderr(), fcgiEndRequest(),
// fcgiResponse() (a whole answer, STDOUT cut into records of a chosen size) and splitBytes() (pieces
// cut at any offsets: inside headers, content or padding).
// `answerAfter` says when `respond` is called: once the request's PARAMS and STDIN streams ended
// ('request', the default), once PARAMS ended ('params'), or once N bytes arrived on the
// connection (a number: called once per connection, 0 = on accept).
import net from 'node:net';
import { decodeParams } from '../../plugins/proxy-backend-fastcgi/params.js';
import {
  FCGI_ABORT_REQUEST, FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_HEADER_LEN, FCGI_KEEP_CONN, FCGI_MAX_CONTENT_BYTES,
  FCGI_PARAMS, FCGI_REQUEST_COMPLETE, FCGI_STDERR, FCGI_STDIN, FCGI_STDOUT, FCGI_VERSION_1, RecordDecoder,
  type FcgiRecord,
} from '../../plugins/proxy-backend-fastcgi/record.js';
import { pause, type FakeAfter, type FakePause } from './fake-backend.js';
import { startFakeServer, type FakeHost } from './fake-server.js';

export { pause };

/** One request as the fake saw it; updated in place as its records arrive. */
export interface FakeFastcgiRequest {
  requestId: number;
  /** BEGIN_REQUEST role: 1 responder, 2 authorizer, 3 filter. */
  role: number;
  flags: number;
  /** FCGI_KEEP_CONN was set. */
  keepConn: boolean;
  /** Name-value pairs in the order received (decoded once the empty PARAMS record came). */
  params: Array<[string, string]>;
  /** The same pairs by name (the last one wins). */
  env: Map<string, string>;
  paramsComplete: boolean;
  /** STDIN bytes so far. */
  stdin: Buffer;
  /** Number of non-empty STDIN records. */
  stdinRecords: number;
  stdinComplete: boolean;
  /** PARAMS and STDIN both ended. */
  complete: boolean;
  /** FCGI_ABORT_REQUEST came for it. */
  aborted: boolean;
}

export type FakeFastcgiPiece = string | Buffer | FakePause;
export type FakeFastcgiReply =
  | 'stall' | 'close' | 'reset' | string | Buffer | FakeFastcgiPiece[] | { chunks: FakeFastcgiPiece[]; then?: FakeAfter };

export interface FakeFastcgiScript {
  /** Default: fcgiResponse('Content-Type: text/plain\r\n\r\nok') for the request's id. */
  respond?: (req: FakeFastcgiRequest, conn: FakeFastcgiConnection) => FakeFastcgiReply | Promise<FakeFastcgiReply>;
  /** When `respond` is called; default 'request'. */
  answerAfter?: 'request' | 'params' | number;
  /** After a reply given as bytes or pieces; default 'keep'. */
  then?: FakeAfter;
  /** Listen on this unix socket instead of TCP. */
  path?: string;
  /** TCP host, default 127.0.0.1 (port is always 0). */
  host?: string;
}

export interface FakeFastcgiConnection {
  readonly id: number;
  readonly socket: net.Socket;
  /** Every byte received on this connection. */
  readonly received: Buffer;
  /** Every record received, in order (content copied). */
  readonly records: FcgiRecord[];
  /** Requests whose BEGIN_REQUEST arrived. */
  readonly requests: FakeFastcgiRequest[];
  /** Why the bytes received are not FastCGI, or null. */
  readonly decodeError: string | null;
  readonly closedByPeer: boolean;
  readonly closedByUs: boolean;
  readonly closed: boolean;
  /** Writes now, outside the scripted reply. */
  write(data: string | Buffer): Promise<void>;
}

export interface FakeFastcgi {
  /** TCP port (0 for a unix socket). */
  readonly port: number;
  /** The unix socket path, or null. */
  readonly path: string | null;
  /** `127.0.0.1:port` or `unix:/path`, for a backend address in a config. */
  readonly address: string;
  readonly connections: FakeFastcgiConnection[];
  /** Requests whose BEGIN_REQUEST arrived, over all connections, in arrival order per connection. */
  readonly requests: FakeFastcgiRequest[];
  readonly pausedReplies: number;
  /** Errors thrown by `respond` (the connection was destroyed). */
  readonly errors: unknown[];
  /** Lets `n` pauses go on; a release given before a reply reaches its pause is kept for it. */
  release(n?: number): void;
  /** Waits, event-driven, until `predicate(fake)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (fake: FakeFastcgi) => boolean, timeoutMs: number, what: string): Promise<void>;
  waitConnections(n: number, timeoutMs: number): Promise<void>;
  /** Waits until `n` requests have begun (BEGIN_REQUEST arrived). */
  waitForRequests(n: number, timeoutMs: number): Promise<void>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

// --- Record builders ---

const bytes = (data: string | Buffer): Buffer => (typeof data === 'string' ? Buffer.from(data, 'latin1') : data);

/** One record, written by hand (§3.3): any type, id and padding (0-255 bytes of `0x00`), content ≤ 65 535 bytes. */
export function fcgiRecord(type: number, requestId: number, content: string | Buffer = '', paddingBytes?: number): Buffer {
  const c = bytes(content);
  if (c.length > FCGI_MAX_CONTENT_BYTES) throw new RangeError(`record content of ${c.length} bytes`);
  const pad = paddingBytes ?? (8 - (c.length % 8)) % 8;
  const out = Buffer.alloc(FCGI_HEADER_LEN + c.length + pad);
  out[0] = FCGI_VERSION_1;
  out[1] = type;
  out.writeUInt16BE(requestId, 2);
  out.writeUInt16BE(c.length, 4);
  out[6] = pad;
  c.copy(out, FCGI_HEADER_LEN);
  return out;
}

/** STDOUT records carrying `data` (`recordBytes` each, default 65 535); '' gives the empty terminator. */
export function fcgiStdout(data: string | Buffer, opts: { requestId?: number; recordBytes?: number; paddingBytes?: number } = {}): Buffer {
  return stream(FCGI_STDOUT, data, opts);
}

/** STDERR records carrying `data`; '' gives the empty terminator. */
export function fcgiStderr(data: string | Buffer, opts: { requestId?: number; recordBytes?: number; paddingBytes?: number } = {}): Buffer {
  return stream(FCGI_STDERR, data, opts);
}

function stream(type: number, data: string | Buffer, o: { requestId?: number; recordBytes?: number; paddingBytes?: number }): Buffer {
  const b = bytes(data);
  const id = o.requestId ?? 1;
  if (b.length === 0) return fcgiRecord(type, id, b, o.paddingBytes ?? 0);
  const size = Math.min(o.recordBytes ?? FCGI_MAX_CONTENT_BYTES, FCGI_MAX_CONTENT_BYTES);
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; at += size) out.push(fcgiRecord(type, id, b.subarray(at, at + size), o.paddingBytes));
  return Buffer.concat(out);
}

/** END_REQUEST (§5.5) with the application's status and the protocol status (default REQUEST_COMPLETE). */
export function fcgiEndRequest(appStatus = 0, protocolStatus = FCGI_REQUEST_COMPLETE, requestId = 1): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(appStatus >>> 0, 0);
  body[4] = protocolStatus;
  return fcgiRecord(FCGI_END_REQUEST, requestId, body);
}

/**
 * A whole answer: optional STDERR text, `cgiOutput` (a CGI header block and body) as STDOUT records
 * of `recordBytes`, the empty STDOUT record, then END_REQUEST.
 */
export function fcgiResponse(
  cgiOutput: string | Buffer,
  opts: { requestId?: number; recordBytes?: number; paddingBytes?: number; stderr?: string; appStatus?: number; protocolStatus?: number } = {},
): Buffer {
  const id = opts.requestId ?? 1;
  const parts = [];
  if (opts.stderr !== undefined) parts.push(fcgiStderr(opts.stderr, { requestId: id }));
  if (bytes(cgiOutput).length > 0) parts.push(fcgiStdout(cgiOutput, opts));
  parts.push(fcgiStdout('', { requestId: id }), fcgiEndRequest(opts.appStatus ?? 0, opts.protocolStatus ?? FCGI_REQUEST_COMPLETE, id));
  return Buffer.concat(parts);
}

/** `data` cut at the given offsets: `splitBytes(b, 3, 9)` → b[0,3), b[3,9), b[9,end). */
export function splitBytes(data: string | Buffer, ...offsets: number[]): Buffer[] {
  const b = bytes(data);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    pieces.push(b.subarray(from, at));
    from = at;
  }
  pieces.push(b.subarray(from));
  return pieces.filter((p) => p.length > 0);
}

/** `data` in pieces of `every` bytes. */
export function splitEvery(data: string | Buffer, every: number): Buffer[] {
  const b = bytes(data);
  const pieces: Buffer[] = [];
  for (let at = 0; at < b.length; at += every) pieces.push(b.subarray(at, at + every));
  return pieces;
}

// --- The server ---

const isPause = (piece: FakeFastcgiPiece): piece is FakePause => typeof piece === 'object' && !Buffer.isBuffer(piece);

function newRequest(requestId: number, content: Buffer): FakeFastcgiRequest {
  const flags = content.length >= 3 ? content[2]! : 0;
  return {
    requestId, role: content.length >= 2 ? content.readUInt16BE(0) : 0, flags, keepConn: (flags & FCGI_KEEP_CONN) !== 0,
    params: [], env: new Map(), paramsComplete: false, stdin: Buffer.alloc(0), stdinRecords: 0, stdinComplete: false,
    complete: false, aborted: false,
  };
}

class Connection implements FakeFastcgiConnection {
  readonly requests: FakeFastcgiRequest[] = [];
  readonly records: FcgiRecord[] = [];
  decodeError: string | null = null;
  closedByPeer = false;
  closedByUs = false;
  closed = false;
  private readonly chunks: Buffer[] = [];
  private readonly decoder = new RecordDecoder();
  /** PARAMS bytes per request id until the stream ends. */
  private readonly paramBytes = new Map<number, Buffer[]>();
  private wake: () => void = () => {};

  constructor(readonly id: number, readonly socket: net.Socket, private readonly host: FakeHost) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      try {
        for (const r of this.decoder.push(chunk)) this.onRecord({ ...r, content: Buffer.from(r.content) });
        this.decodeError = this.decoder.error;
      } catch (err) {
        this.decodeError = `bad PARAMS: ${(err as Error).message}`;
      }
      this.changed();
    });
    socket.on('end', () => { this.closedByPeer = true; this.changed(); });
    // ECONNRESET and the like: the peer went away; 'close' follows.
    socket.on('error', () => { if (!this.closed) this.closedByPeer = true; });
    socket.on('close', () => { this.closed = true; this.changed(); });
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes(data), () => resolve());
    });
  }

  private onRecord(r: FcgiRecord): void {
    this.records.push(r);
    if (r.type === FCGI_BEGIN_REQUEST) { this.requests.push(newRequest(r.requestId, r.content)); return; }
    // The newest request with that id (ids are reused once a request ended).
    let req: FakeFastcgiRequest | undefined;
    for (let i = this.requests.length - 1; i >= 0 && !req; i--) if (this.requests[i]!.requestId === r.requestId) req = this.requests[i];
    if (!req) return;
    if (r.type === FCGI_ABORT_REQUEST) req.aborted = true;
    else if (r.type === FCGI_PARAMS && !req.paramsComplete) {
      const got = this.paramBytes.get(r.requestId) ?? [];
      if (r.content.length > 0) { got.push(r.content); this.paramBytes.set(r.requestId, got); return; }
      this.paramBytes.delete(r.requestId);
      req.params = decodeParams(Buffer.concat(got));
      req.env = new Map(req.params);
      req.paramsComplete = true;
    } else if (r.type === FCGI_STDIN && !req.stdinComplete) {
      if (r.content.length === 0) req.stdinComplete = true;
      else { req.stdin = Buffer.concat([req.stdin, r.content]); req.stdinRecords++; }
    }
    req.complete = req.paramsComplete && req.stdinComplete;
  }

  async serve(script: FakeFastcgiScript): Promise<void> {
    const respond = script.respond ?? ((req) => fcgiResponse('Content-Type: text/plain\r\n\r\nok', { requestId: req.requestId }));
    const mode = script.answerAfter ?? 'request';
    if (typeof mode === 'number') {
      if (!(await this.until(() => this.received.length >= mode))) return this.peerGone();
      await this.perform(await respond(this.requests[0] ?? newRequest(1, Buffer.alloc(0)), this), script.then);
      return;
    }
    for (let index = 0; ; index++) {
      const ready = () => {
        const req = this.requests[index];
        return req !== undefined && (mode === 'params' ? req.paramsComplete : req.complete);
      };
      if (!(await this.until(ready))) return this.peerGone();
      const after = await this.perform(await respond(this.requests[index]!, this), script.then);
      if (after !== 'keep' || this.socket.destroyed) return;
    }
  }

  private async perform(reply: FakeFastcgiReply, defaultThen: FakeAfter = 'keep'): Promise<FakeAfter> {
    if (reply === 'stall') return 'stall';
    if (reply === 'close' || reply === 'reset') return this.finish(reply);
    const { chunks, then } =
      typeof reply === 'string' || Buffer.isBuffer(reply) ? { chunks: [reply], then: defaultThen }
      : Array.isArray(reply) ? { chunks: reply, then: defaultThen }
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
    // Only a TCP socket can send an RST; a unix socket is simply destroyed.
    else if (then === 'reset' && this.socket.remoteAddress === undefined) this.socket.destroy();
    else if (then === 'reset') this.socket.resetAndDestroy();
    return then;
  }

  /** The peer closed while we waited for its request: close our side too. */
  private peerGone(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  /** Resolves true once `condition` holds, false if the connection can no longer make it hold. */
  private async until(condition: () => boolean): Promise<boolean> {
    while (!condition()) {
      if (this.closed || this.closedByPeer || this.decodeError !== null) return condition();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return true;
  }

  private changed(): void {
    this.wake();
    this.host.changed();
  }
}

/** Starts a fake FastCGI backend on 127.0.0.1 port 0 (or `script.path`); see the file comment for scripts. */
export async function startFakeFastcgi(script: FakeFastcgiScript = {}): Promise<FakeFastcgi> {
  const base = await startFakeServer<Connection>({
    name: 'fake FastCGI backend', path: script.path, host: script.host,
    accept: (id, socket, host) => new Connection(id, socket, host),
    serve: (conn) => conn.serve(script),
  });
  const connections = base.connections;
  const fake: FakeFastcgi = {
    port: base.port,
    path: base.path,
    address: base.address,
    connections,
    errors: base.errors,
    get requests() {
      return connections.flatMap((c) => c.requests);
    },
    get pausedReplies() {
      return base.pausedReplies;
    },
    release: (n) => base.release(n),
    waitFor: (predicate, timeoutMs, what) => base.waitFor(() => predicate(fake), timeoutMs, what,
      () => `${connections.length} connection(s), ${fake.requests.length} request(s), ${base.pausedReplies} paused`),
    waitConnections(n, timeoutMs) {
      return fake.waitFor((f) => f.connections.length >= n, timeoutMs, `${n} connection(s)`);
    },
    waitForRequests(n, timeoutMs) {
      return fake.waitFor((f) => f.requests.length >= n, timeoutMs, `${n} request(s) begun`);
    },
    close: () => base.close(),
  };
  return fake;
}

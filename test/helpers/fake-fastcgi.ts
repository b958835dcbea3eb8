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
import { decodeParams } from '../../plugins/proxy-backend-fastcgi/params.js';
import {
  FCGI_ABORT_REQUEST, FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_HEADER_LEN, FCGI_KEEP_CONN, FCGI_MAX_CONTENT_BYTES,
  FCGI_PARAMS, FCGI_REQUEST_COMPLETE, FCGI_STDERR, FCGI_STDIN, FCGI_STDOUT, FCGI_VERSION_1, RecordDecoder,
  type FcgiRecord,
} from '../../plugins/proxy-backend-fastcgi/record.js';
import {
  FakeConnectionBase, pause, type FakeAfter, type FakeConnectionBasics, type FakePiece, type FakeReplyOf,
  type FakeScriptOf,
} from './fake-connection.js';
import { listenerBasics, startFakeServer, type FakeListenerBasics } from './fake-server.js';

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

export type FakeFastcgiPiece = FakePiece;
export type FakeFastcgiReply = FakeReplyOf<FakeAfter>;

/** Default reply: fcgiResponse('Content-Type: text/plain\r\n\r\nok') for the request's id. */
export type FakeFastcgiScript = FakeScriptOf<FakeFastcgiRequest, FakeFastcgiConnection, FakeAfter, 'request' | 'params' | number>;

export interface FakeFastcgiConnection extends FakeConnectionBasics {
  /** Every record received, in order (content copied). */
  readonly records: FcgiRecord[];
  /** Requests whose BEGIN_REQUEST arrived. */
  readonly requests: FakeFastcgiRequest[];
  /** Why the bytes received are not FastCGI, or null. */
  readonly decodeError: string | null;
}

export interface FakeFastcgi extends FakeListenerBasics<FakeFastcgi, FakeFastcgiConnection> {
  /** The unix socket path, or null. */
  readonly path: string | null;
  /** Requests whose BEGIN_REQUEST arrived, over all connections, in arrival order per connection. */
  readonly requests: FakeFastcgiRequest[];
  readonly pausedReplies: number;
  /** Waits until `n` requests have begun (BEGIN_REQUEST arrived). */
  waitForRequests(n: number, timeoutMs: number): Promise<void>;
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

function newRequest(requestId: number, content: Buffer): FakeFastcgiRequest {
  const flags = content.length >= 3 ? content[2]! : 0;
  return {
    requestId, role: content.length >= 2 ? content.readUInt16BE(0) : 0, flags, keepConn: (flags & FCGI_KEEP_CONN) !== 0,
    params: [], env: new Map(), paramsComplete: false, stdin: Buffer.alloc(0), stdinRecords: 0, stdinComplete: false,
    complete: false, aborted: false,
  };
}

class Connection extends FakeConnectionBase implements FakeFastcgiConnection {
  readonly requests: FakeFastcgiRequest[] = [];
  readonly records: FcgiRecord[] = [];
  decodeError: string | null = null;
  private readonly decoder = new RecordDecoder();
  /** PARAMS bytes per request id until the stream ends. */
  private readonly paramBytes = new Map<number, Buffer[]>();

  protected decode(chunk: Buffer): void {
    try {
      for (const r of this.decoder.push(chunk)) this.onRecord({ ...r, content: Buffer.from(r.content) });
      this.decodeError = this.decoder.error;
    } catch (err) {
      this.decodeError = `bad PARAMS: ${(err as Error).message}`;
    }
  }

  protected override get undecodable(): boolean {
    return this.decodeError !== null;
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

  serve(script: FakeFastcgiScript): Promise<void> {
    const respond = script.respond ?? ((req) => fcgiResponse('Content-Type: text/plain\r\n\r\nok', { requestId: req.requestId }));
    const mode = script.answerAfter ?? 'request';
    return this.answerRequests({
      requests: () => this.requests,
      ready: (req) => (mode === 'params' ? req.paramsComplete : req.complete),
      afterBytes: typeof mode === 'number' ? { count: mode, placeholder: () => newRequest(1, Buffer.alloc(0)) } : undefined,
      respond: (req) => respond(req, this),
      then: script.then ?? 'keep',
    });
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
    ...listenerBasics(base, () => fake,
      () => `${connections.length} connection(s), ${fake.requests.length} request(s), ${base.pausedReplies} paused`),
    path: base.path,
    get requests() {
      return connections.flatMap((c) => c.requests);
    },
    get pausedReplies() {
      return base.pausedReplies;
    },
    waitForRequests(n, timeoutMs) {
      return fake.waitFor((f) => f.requests.length >= n, timeoutMs, `${n} request(s) begun`);
    },
  };
  return fake;
}

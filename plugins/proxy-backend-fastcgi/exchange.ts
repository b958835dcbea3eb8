// One FastCGI 1.0 request on a backend connection (§5-§6): BEGIN_REQUEST, the PARAMS and STDIN
// streams, then STDOUT through the core's CGI header-block parser, STDERR to the error log and
// END_REQUEST. Checklist G8 (and C2, G1). Request id 1 always: one request per connection at a
// time (no multiplexing, as lighttpd). No sockets, pools or timers here: proxy-core owns those.
import { Buffer } from 'node:buffer';
import type { ErrorCode } from '../../core/errors.js';
import { ChunkedDecoder } from '../../core/http1/chunked.js';
import { gatewayResponseMode, parseResponseHead } from '../../core/http1/response-head.js';
import type { HeaderList } from '../../core/http1/types.js';
import type { Exchange, ProtocolOptions, ResponseSink, UpstreamRequest } from '../proxy-core/types.js';
import { decodeParams, paramsText } from './params.js';
import {
  FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID,
  FCGI_ABORT_REQUEST, FCGI_AUTHORIZER, FCGI_CANT_MPX_CONN, FCGI_END_REQUEST, FCGI_HEADER_LEN, FCGI_KEEP_CONN, FCGI_MAX_CONTENT_BYTES,
  FCGI_OVERLOADED, FCGI_PARAMS, FCGI_REQUEST_COMPLETE, FCGI_RESPONDER, FCGI_STDERR, FCGI_STDIN, FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE, FCGI_VERSION_1, RecordDecoder, type RecordVisitor, encodeBeginRequest, encodeRecord, frameStream, paddingFor,
} from './record.js';

export const REQUEST_ID = 1;

const EMPTY = Buffer.alloc(0);
const PARAMS_END = encodeRecord(FCGI_PARAMS, REQUEST_ID);
const STDIN_END = encodeRecord(FCGI_STDIN, REQUEST_ID);
const ABORT = encodeRecord(FCGI_ABORT_REQUEST, REQUEST_ID);
/** BEGIN_REQUEST records by [authorizer][keepConn]: the same 16 bytes for every request of a kind. */
const BEGIN = [FCGI_RESPONDER, FCGI_AUTHORIZER].map((role) => [0, FCGI_KEEP_CONN].map((flags) => encodeBeginRequest(REQUEST_ID, role, flags)));
/** The same as latin1 text, each followed by the start of the PARAMS record header (version, type, request id). */
const LEAD = BEGIN.map((byFlags) => byFlags.map((b) => Buffer.concat([b, Buffer.from([FCGI_VERSION_1, FCGI_PARAMS, 0, REQUEST_ID])]).toString('latin1')));
/** After PARAMS content of each padding length (0-7): the padding and the empty PARAMS record... */
const TAIL = [0, 1, 2, 3, 4, 5, 6, 7].map((pad) => Buffer.concat([Buffer.alloc(pad), PARAMS_END]).toString('latin1'));
/** ...and the empty STDIN record too, for a request without a body. */
const TAIL_NO_BODY = [0, 1, 2, 3, 4, 5, 6, 7].map((pad) => Buffer.concat([Buffer.alloc(pad), PARAMS_END, STDIN_END]).toString('latin1'));

/** §6.3: an Authorizer is not sent these (it gets no body, and no script is addressed). */
const AUTHORIZER_OMITS = new Set(['CONTENT_LENGTH', 'PATH_INFO', 'PATH_TRANSLATED', 'SCRIPT_NAME']);

/** Where the exchange is in the response. */
const enum State { Head, Body, Done, Failed }

export class FastcgiExchange implements Exchange {
  private readonly up: UpstreamRequest;
  private readonly maxHeadBytes: number;
  private readonly authorizer: boolean;
  private readonly keepConn: boolean;
  private readonly decoder = new RecordDecoder();
  private state = State.Head;
  /** STDOUT bytes of a header block not complete yet. */
  private partial: Buffer | null = null;
  /** The empty STDOUT record came. */
  private stdoutEnded = false;
  /** The head has no body (HEAD, D10; 204/304, D11): later STDOUT bytes are dropped. */
  private dropBody = false;
  /** Bytes came after END_REQUEST, or the request was aborted: the connection is not reused. */
  private extra = false;
  /** The empty STDIN record went with the head (no body). */
  private stdinSent = false;
  /** The sink of the receive() call being handled (for onRecord). */
  private sink: ResponseSink | null = null;
  /** The head said `Transfer-Encoding: chunked`: STDOUT's body is decoded (null: passed as it is). */
  private chunks: ChunkedDecoder | null = null;

  constructor(up: UpstreamRequest, options: ProtocolOptions) {
    this.up = up;
    this.maxHeadBytes = options.maxResponseHeadBytes;
    this.authorizer = options.role === 'authorizer';
    this.keepConn = options.keepConn !== false;
  }

  head(): Buffer | string {
    const env = this.authorizer ? this.up.env.filter(([name]) => !AUTHORIZER_OMITS.has(name)) : this.up.env;
    // §3.3, G8: the empty PARAMS record ends the stream. Without a body the empty STDIN record
    // goes with it, so the whole request is one write (end() then has nothing left to send).
    this.stdinSent = this.authorizer || this.up.bodyLength === 0;
    const params = paramsText(env, this.up.envRuns);
    const paramsBytes = params.length;
    if (paramsBytes > FCGI_MAX_CONTENT_BYTES) {
      // More than one PARAMS record (a huge cookie or target): framed piece by piece.
      const parts = [BEGIN[this.authorizer ? 1 : 0]![this.keepConn ? 1 : 0]!, ...frameStream(FCGI_PARAMS, REQUEST_ID, Buffer.from(params, 'latin1')), PARAMS_END];
      if (this.stdinSent) parts.push(STDIN_END);
      return Buffer.concat(parts);
    }
    // The common case, one latin1 string: BEGIN_REQUEST, one PARAMS record with its padding, the
    // empty PARAMS record, and the empty STDIN record when there is no body. The socket copies
    // it once; a Buffer made and filled here cost a second copy and more instructions
    // (`npm run bench:instructions -- --case fastcgi`).
    const pad = paddingFor(paramsBytes);
    return LEAD[this.authorizer ? 1 : 0]![this.keepConn ? 1 : 0]! + String.fromCharCode(paramsBytes >>> 8, paramsBytes & 0xff, pad, 0) + params +
      (this.stdinSent ? TAIL_NO_BODY : TAIL)[pad]!;
  }

  body(chunk: Buffer): Buffer | Buffer[] {
    // §6.3: an Authorizer gets no request body; its STDIN is only the terminator from end().
    return this.authorizer ? EMPTY : frameStream(FCGI_STDIN, REQUEST_ID, chunk);
  }

  /** The empty STDIN record, even without a body (G8). FastCGI has no trailers: they are dropped. */
  end(_trailers?: HeaderList): Buffer | null {
    return this.stdinSent ? null : STDIN_END;
  }

  receive(data: Buffer, sink: ResponseSink): void {
    if (!this.open) {
      if (this.state === State.Done && data.length > 0) this.extra = true; // D7: nothing may follow END_REQUEST
      return;
    }
    this.sink = sink;
    this.decoder.each(data, this.onRecord);
    if (this.open) {
      if (this.decoder.error !== null) this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', this.decoder.error);
    } else if (this.state === State.Done && (this.decoder.pendingBytes > 0 || this.decoder.error !== null)) {
      this.extra = true;
    }
  }

  /** One record of the response (bound once per exchange; the sink is the one receive() was given). */
  private readonly onRecord: RecordVisitor = (type, requestId, buf, start, end) => {
    const sink = this.sink!;
    if (!this.open) {
      if (this.state === State.Done) this.extra = true;
      return;
    }
    // FastCGI §4.1: the answer to the connection's FCGI_GET_VALUES preamble says how many
    // connections the application serves at once; proxy-core keeps no more than that open.
    if (type === FCGI_GET_VALUES_RESULT && requestId === FCGI_NULL_REQUEST_ID) { announceCapacity(buf.subarray(start, end), sink); return; }
    // Other management records (UNKNOWN_TYPE) and other ids are not ours.
    if (requestId !== REQUEST_ID) return;
    if (type === FCGI_STDOUT) this.stdout(buf.subarray(start, end), sink);
    else if (type === FCGI_END_REQUEST) this.endRequest(buf, start, end, sink);
    // G8: stderr goes to the error log, never to the client; the empty record ends the stream.
    else if (type === FCGI_STDERR && end > start) sink.log?.(buf.toString('utf8', start, end).replace(/\r?\n$/, ''));
  };

  receiveEnd(sink: ResponseSink): void {
    // G8 / D6: the output stopped without END_REQUEST: cut short, whatever came before.
    if (this.open) {
      this.fail(sink, 'LT_ERR_BACKEND_RESET', this.state === State.Head ? 'closed before the response' : 'closed before END_REQUEST');
    }
  }

  /** Still waiting for END_REQUEST (no failure yet). */
  private get open(): boolean {
    return this.state === State.Head || this.state === State.Body;
  }

  reusable(): boolean {
    return this.keepConn && this.state === State.Done && !this.extra;
  }

  /** G1, §5.4: the client went away; proxy-core writes this, then closes the connection. */
  abort(): Buffer {
    this.extra = true;
    return ABORT;
  }

  private stdout(content: Buffer, sink: ResponseSink): void {
    if (content.length === 0) { this.stdoutEnded = true; return; }
    if (this.stdoutEnded) { this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', 'STDOUT after the end of its stream'); return; }
    if (this.state === State.Body) {
      if (this.dropBody) return;
      if (this.chunks === null) sink.data(content);
      else this.dechunk(content, sink);
      return;
    }
    let buf = this.partial === null ? content : Buffer.concat([this.partial, content]);
    this.partial = null;
    for (;;) {
      // A CGI header block, or an HTTP status line and head (an app that writes one, as NPH).
      const mode = gatewayResponseMode(buf);
      const r = mode === null ? null : parseResponseHead(buf, { mode, requestMethod: this.up.method, maxHeadBytes: this.maxHeadBytes });
      if (r === null || r.kind === 'incomplete') { this.partial = buf; return; }
      if (r.kind === 'error') { this.fail(sink, r.error.code, r.error.detail); return; }
      const h = r.head;
      buf = buf.subarray(r.consumed);
      if (h.status === 101) { this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', 'a 101 cannot be tunnelled over FastCGI'); return; }
      sink.head(h);
      // D12: an interim head (103 Early Hints) is followed by another header block.
      if (h.status < 200) {
        if (buf.length === 0) return;
        continue;
      }
      this.state = State.Body;
      this.dropBody = h.noBody;
      if (h.chunked) this.chunks = new ChunkedDecoder();
      if (buf.length > 0 && !this.dropBody) this.stdout(buf, sink);
      return;
    }
  }

  /** A chunked body inside STDOUT: the chunks go on; what follows the last one is dropped (D7). */
  private dechunk(content: Buffer, sink: ResponseSink): void {
    const decoder = this.chunks!;
    if (decoder.done) return;
    if (decoder.push(content, (chunk) => sink.data(chunk)) < 0) {
      this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', decoder.error?.detail ?? 'bad chunked body in STDOUT');
    }
  }

  /** §5.5: FCGI_EndRequestBody = appStatus (4 bytes), protocolStatus, 3 reserved bytes: `buf` from `start` to `end`. */
  private endRequest(buf: Buffer, start: number, end: number, sink: ResponseSink): void {
    if (end - start < 8) { this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', `END_REQUEST body of ${end - start} bytes`); return; }
    const appStatus = buf.readUInt32BE(start);
    const protocolStatus = buf[start + 4]!;
    // The application's exit status is for the log only (as a CGI's exit code): the response
    // stands on its own, and a PHP fatal error (status 255) is worth seeing there.
    if (appStatus !== 0) sink.log?.(`FastCGI application status ${appStatus}`);
    const headSent = this.state === State.Body;
    switch (protocolStatus) {
      case FCGI_REQUEST_COMPLETE:
        if (!headSent) {
          // The output ended before its header block did: truncated (or no output at all).
          this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', this.partial === null ? 'no output before END_REQUEST' : 'output ended inside the CGI header block');
          return;
        }
        if (this.chunks !== null && !this.chunks.done && !this.dropBody) {
          // D6: the chunked body stopped before its last chunk.
          this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', 'output ended inside its chunked body');
          return;
        }
        this.state = State.Done;
        sink.end(this.chunks?.trailers);
        return;
      case FCGI_CANT_MPX_CONN:
      case FCGI_OVERLOADED: {
        const why = protocolStatus === FCGI_OVERLOADED ? 'OVERLOADED' : 'CANT_MPX_CONN';
        // G8: nothing was processed, so it may be retried elsewhere (503); once a head went out it is only a broken response.
        this.fail(sink, headSent ? 'LT_ERR_BACKEND_BAD_RESPONSE' : 'LT_ERR_BACKEND_OVERLOADED', `END_REQUEST ${why}`);
        return;
      }
      case FCGI_UNKNOWN_ROLE:
        this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', `END_REQUEST UNKNOWN_ROLE: the backend does not take the ${this.authorizer ? 'authorizer' : 'responder'} role`);
        return;
      default:
        this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', `END_REQUEST with unknown protocolStatus ${protocolStatus}`);
    }
  }

  private fail(sink: ResponseSink, code: ErrorCode, detail: string): void {
    this.state = State.Failed;
    this.partial = null;
    sink.error(code, detail);
  }
}

/** FCGI_MAX_CONNS from a GET_VALUES_RESULT body, reported to proxy-core (0: not given). */
function announceCapacity(content: Buffer, sink: ResponseSink): void {
  let pairs: Array<[string, string]>;
  try { pairs = decodeParams(content); } catch { pairs = []; }
  const v = pairs.find(([k]) => k === 'FCGI_MAX_CONNS')?.[1];
  const n = v !== undefined && /^[0-9]{1,6}$/.test(v) ? Number(v) : 0;
  sink.capacity?.(n);
}

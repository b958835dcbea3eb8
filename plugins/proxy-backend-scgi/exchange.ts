// One SCGI or uwsgi exchange (one request per connection): the head (netstring or uwsgi packet,
// from the CGI environment), the body raw (its length is always known), and the response through
// the core's one strict head parser: an HTTP status line (uWSGI answers so) or a CGI header block
// (RFC 3875 §6), then a body that ends when the backend closes, at its Content-Length, or at the
// last chunk. Checklist G9. No sockets, pools or timers here: proxy-core owns those.
import { Buffer } from 'node:buffer';
import { ChunkedDecoder } from '../../core/http1/chunked.js';
import { hasField } from '../../core/http1/field-lines.js';
import { gatewayResponseMode, parseResponseHead } from '../../core/http1/response-head.js';
import type { ErrorCode } from '../../core/errors.js';
import type { Exchange, ProtocolOptions, ResponseSink, UpstreamRequest } from '../proxy-core/types.js';
import type { EnvList } from './netstring.js';

/** Where the exchange is in the response. */
const enum State { Head, Length, Chunked, Close, Done, Failed }

export class GatewayExchange implements Exchange {
  private state = State.Head;
  /** A response head split over reads. */
  private partial: Buffer | null = null;
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;

  constructor(
    private readonly up: UpstreamRequest,
    private readonly options: ProtocolOptions,
    /** encodeScgiHead or encodeUwsgiPacket (CGI: nothing, the environment is the process's). */
    private readonly encodeHead: (env: EnvList) => Buffer,
    /**
     * The error for a response with no valid head (bad fields, or the stream ended first); the
     * CGI protocol's is LT_ERR_SCRIPT_FAILED (500, checklist G10). Default: the
     * backend's errors (502).
     */
    private readonly headErrorCode: ErrorCode | null = null,
    /**
     * A 200-class answer to a HEAD without Content-Length is read to its end, its body handed on
     * (the core sends none, only its length), as lighttpd's mod_cgi reads a script's answer: the
     * CGI protocol's. Default: the body of a HEAD's answer is dropped and the answer ends at its head.
     */
    private readonly readsHeadBody = false,
  ) {}

  head(): Buffer { return this.encodeHead(this.up.env); }
  /** CONTENT_LENGTH is in the head: the body goes up as it is. */
  body(chunk: Buffer): Buffer { return chunk; }
  /** The backend reads CONTENT_LENGTH bytes; client trailers have no place in these protocols. */
  end(): null { return null; }

  receive(data: Buffer, sink: ResponseSink): void {
    switch (this.state) {
      case State.Head: return this.receiveHead(data, sink);
      case State.Length: return this.receiveLength(data, sink);
      case State.Chunked: return this.receiveChunked(data, sink);
      case State.Close: return sink.data(data);
      default: return; // Done: bytes past the response are dropped (the connection is not reused)
    }
  }

  private receiveHead(data: Buffer, sink: ResponseSink): void {
    let buf = this.partial === null ? data : Buffer.concat([this.partial, data]);
    this.partial = null;
    for (;;) {
      const mode = gatewayResponseMode(buf);
      const r = mode === null ? null : parseResponseHead(buf, { mode, requestMethod: this.up.method, maxHeadBytes: this.options.maxResponseHeadBytes });
      if (r === null || r.kind === 'incomplete') { this.partial = buf; return; }
      if (r.kind === 'error') return this.fail(sink, r.error.code, r.error.detail);
      const h = r.head;
      buf = buf.subarray(r.consumed);
      if (h.status === 101) {
        // G5: a 101 only answers a request that asked to upgrade; then the bytes are a tunnel.
        if (this.up.upgrade === null) return this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', '101 to a request without Upgrade');
        this.state = State.Close;
        sink.head(h);
        if (buf.length > 0) sink.data(buf);
        return;
      }
      if (h.status < 200) {
        sink.head(h); // D12: interim responses, any number of them
        if (buf.length === 0) return;
        continue;
      }
      if (h.noBody && this.readsHeadBody && h.status !== 204 && h.status !== 304 && !hasField(h.headers, 'content-length')) {
        // A script's answer to a HEAD: its body says the length the GET's would have.
        this.state = State.Close;
        sink.head(h);
        if (buf.length > 0) sink.data(buf);
        return;
      }
      if (h.noBody) {
        // D10: HEAD, 204, 304 have no body; whatever else comes is dropped.
        this.state = State.Done;
        sink.head(h);
        return sink.end();
      }
      // The Content-Length is honoured in CGI mode too (as lighttpd does): proxy-core forwards it
      // to the client, so the body must not run past it, and a shorter one is a truncation.
      if (h.chunked) {
        this.state = State.Chunked;
        this.decoder = new ChunkedDecoder();
      } else if (h.contentLength >= 0) {
        this.state = State.Length;
        this.remaining = h.contentLength;
      } else {
        this.state = State.Close;
      }
      sink.head(h);
      if (this.state === State.Length && this.remaining === 0) {
        this.state = State.Done;
        return sink.end();
      }
      if (buf.length > 0) this.receive(buf, sink);
      return;
    }
  }

  private receiveLength(buf: Buffer, sink: ResponseSink): void {
    const n = Math.min(this.remaining, buf.length);
    this.remaining -= n;
    if (n > 0) sink.data(n === buf.length ? buf : buf.subarray(0, n));
    if (this.remaining === 0) {
      this.state = State.Done; // D7: bytes past Content-Length are dropped
      sink.end();
    }
  }

  private receiveChunked(buf: Buffer, sink: ResponseSink): void {
    const decoder = this.decoder!;
    const used = decoder.push(buf, (chunk) => sink.data(chunk));
    if (used < 0) return this.fail(sink, 'LT_ERR_BACKEND_BAD_RESPONSE', decoder.error?.detail ?? 'bad chunked body');
    if (decoder.done) {
      this.state = State.Done;
      sink.end(decoder.trailers);
    }
  }

  receiveEnd(sink: ResponseSink): void {
    switch (this.state) {
      case State.Head: return this.fail(sink, 'LT_ERR_BACKEND_RESET', 'closed before the end of the response head');
      case State.Length:
      case State.Chunked: return this.fail(sink, 'LT_ERR_BACKEND_RESET', 'closed in the middle of the body'); // D6
      case State.Close:
        this.state = State.Done;
        return sink.end();
      default: return;
    }
  }

  /** SCGI and uwsgi carry one request per connection. */
  reusable(): boolean { return false; }

  private fail(sink: ResponseSink, code: ErrorCode, detail: string): void {
    const headError = this.state === State.Head ? this.headErrorCode : null;
    this.state = State.Failed;
    sink.error(headError ?? code, detail);
  }
}

// One HTTP/1.1 (or 1.0) exchange with a backend (RFC 9112): the request head with regenerated
// framing (C2), the body raw or chunk-framed (§7.1), and the response through the core's one strict
// response-head parser, then a Content-Length, chunked or close-delimited body (§6.3). Checklist
// D1-D13. No sockets, pools or timers here: proxy-core owns those.
import { Buffer } from 'node:buffer';
import { chunkHeader, ChunkedDecoder, LAST_CHUNK, lastChunkWithTrailers } from '../../core/http1/chunked.js';
import { parseResponseHead } from '../../core/http1/response-head.js';
import type { HeaderList, ResponseHead } from '../../core/http1/types.js';
import type { Exchange, ProtocolOptions, ResponseSink, UpstreamRequest } from '../proxy-core/types.js';

const EMPTY = Buffer.alloc(0);
const CRLF = '\r\n';

/** Where the exchange is in the response. */
const enum State { Head, Length, Chunked, Close, Done, Failed, Tunnel }

/** Methods whose request has content semantics: they get `Content-Length: 0` when empty (RFC 9110 §8.6). */
function announcesEmptyBody(up: UpstreamRequest): boolean {
  const m = up.method;
  return up.req.head.contentLength === 0 || m === 'POST' || m === 'PUT' || m === 'PATCH';
}

/**
 * D11: a 204 with a non-zero Content-Length, or a 204/304 with Transfer-Encoding, announces a body
 * it must not have: what follows cannot be trusted as the next response. (A 304 may carry the
 * GET's Content-Length, RFC 9110 §8.6.)
 */
function announcesBody(h: ResponseHead): boolean {
  const f = h.headers;
  for (let i = 0; i < f.length; i += 2) {
    const n = f[i]!.toLowerCase();
    if (n === 'transfer-encoding' || (h.status === 204 && n === 'content-length' && f[i + 1] !== '0')) return true;
  }
  return false;
}

export class HttpExchange implements Exchange {
  private readonly up: UpstreamRequest;
  private readonly maxHeadBytes: number;
  private readonly http10: boolean;
  /** The request body goes chunk-framed (unknown length, HTTP/1.1). */
  private readonly chunkedBody: boolean;
  private state = State.Head;
  /** A response head split over reads. */
  private partial: Buffer | null = null;
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  private sink: ResponseSink | null = null;
  private onChunk: ((chunk: Buffer) => void) | null = null;
  private keepAlive = false;
  /** Bytes came after the response (D7): the connection is not reused. */
  private extra = false;

  constructor(up: UpstreamRequest, opts: ProtocolOptions) {
    this.up = up;
    this.maxHeadBytes = opts.maxResponseHeadBytes;
    this.http10 = opts.httpVersion === '1.0';
    this.chunkedBody = up.bodyLength < 0 && !this.http10;
  }

  head(): string {
    const up = this.up;
    let s = up.method + ' ' + up.target + (this.http10 ? ' HTTP/1.0\r\n' : ' HTTP/1.1\r\n');
    const h = up.headers;
    for (let i = 0; i < h.length; i += 2) s += h[i] + ': ' + h[i + 1] + CRLF;
    // C2: the framing is ours, whatever the client used.
    if (up.bodyLength > 0) s += 'Content-Length: ' + up.bodyLength + CRLF;
    else if (this.chunkedBody) s += 'Transfer-Encoding: chunked\r\n';
    else if (up.bodyLength === 0 && announcesEmptyBody(up)) s += 'Content-Length: 0\r\n';
    if (up.upgrade !== null) s += 'Connection: upgrade\r\nUpgrade: ' + up.upgrade + CRLF;
    else if (this.http10) s += 'Connection: close\r\n';
    return s + CRLF;
  }

  body(chunk: Buffer): Buffer | Array<Buffer | string> {
    return this.chunkedBody ? [chunkHeader(chunk.length), chunk, CRLF] : chunk;
  }

  end(trailers: HeaderList): string | null {
    if (!this.chunkedBody) return null;
    // The client's trailers, checked again as they go out (RFC 9110 §6.5.1, no splitting).
    return trailers.length === 0 ? LAST_CHUNK : lastChunkWithTrailers(trailers);
  }

  receive(data: Buffer, sink: ResponseSink): void {
    let buf = data;
    for (;;) {
      switch (this.state) {
        case State.Head: {
          if (this.partial !== null) { buf = Buffer.concat([this.partial, buf]); this.partial = null; }
          const r = parseResponseHead(buf, { mode: 'http', requestMethod: this.up.method, maxHeadBytes: this.maxHeadBytes });
          if (r.kind === 'incomplete') { this.partial = buf; return; }
          if (r.kind === 'error') { this.state = State.Failed; sink.error(r.error.code, r.error.detail); return; }
          const h = r.head;
          buf = r.consumed >= buf.length ? EMPTY : buf.subarray(r.consumed);
          if (h.status < 200) {
            if (h.status === 101) {
              // D12: a 101 only answers a request that asked to upgrade (G5).
              if (this.up.upgrade === null) { this.state = State.Failed; sink.error('LT_ERR_BACKEND_BAD_RESPONSE', '101 to a request without Upgrade'); return; }
              this.state = State.Tunnel;
              sink.head(h);
              if (buf.length > 0) sink.data(buf);
              return;
            }
            sink.head(h); // D12: interim responses, any number of them
            if (buf.length === 0) return;
            continue;
          }
          this.keepAlive = h.keepAlive;
          if (h.noBody) {
            // D10, D11: HEAD, 204 and 304 have no body, whatever the fields say.
            if ((h.status === 204 || h.status === 304) && announcesBody(h)) this.keepAlive = false;
            this.state = State.Done;
            if (buf.length > 0) this.extra = true;
            sink.head(h);
            sink.end();
            return;
          }
          if (h.chunked) {
            this.state = State.Chunked;
            this.decoder = new ChunkedDecoder();
          } else if (h.contentLength >= 0) {
            this.state = State.Length;
            this.remaining = h.contentLength;
          } else {
            // D9: the body runs until the backend closes.
            this.state = State.Close;
            this.keepAlive = false;
          }
          sink.head(h);
          if (this.state === State.Length && this.remaining === 0) {
            this.state = State.Done;
            if (buf.length > 0) this.extra = true;
            sink.end();
            return;
          }
          if (buf.length === 0) return;
          continue;
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length);
          this.remaining -= n;
          if (this.remaining === 0) {
            // D7: bytes past Content-Length are dropped; D8: the response ends here, now.
            this.state = State.Done;
            if (n < buf.length) this.extra = true;
          }
          if (n > 0) sink.data(n === buf.length ? buf : buf.subarray(0, n));
          if (this.state === State.Done) sink.end();
          return;
        }
        case State.Chunked: {
          // The trailers go to sink.end(); proxy-core forwards them when the client's response is chunked.
          this.sink = sink;
          const used = this.decoder!.push(buf, (this.onChunk ??= (c: Buffer) => this.sink!.data(c)));
          if (used < 0) {
            this.state = State.Failed;
            sink.error('LT_ERR_BACKEND_BAD_RESPONSE', this.decoder!.error?.detail ?? 'bad chunked body');
            return;
          }
          if (this.decoder!.done) {
            this.state = State.Done;
            if (used < buf.length) this.extra = true; // D7: data after the last chunk
            sink.end(this.decoder!.trailers);
          }
          return;
        }
        case State.Close:
        case State.Tunnel:
          sink.data(buf);
          return;
        case State.Done:
          this.extra = true;
          return;
        default:
          return;
      }
    }
  }

  receiveEnd(sink: ResponseSink): void {
    switch (this.state) {
      case State.Head:
        this.state = State.Failed;
        // D5: a head cut short is a bad response; nothing at all is a closed connection.
        if (this.partial !== null && this.partial.length > 0) sink.error('LT_ERR_BACKEND_BAD_RESPONSE', 'closed inside the response head');
        else sink.error('LT_ERR_BACKEND_RESET', 'closed before the response');
        return;
      case State.Length:
      case State.Chunked:
        // D6: the body is short: never completed downstream.
        this.state = State.Failed;
        sink.error('LT_ERR_BACKEND_RESET', 'closed in the middle of the body');
        return;
      case State.Close:
        this.state = State.Done;
        sink.end();
        return;
      default:
        return;
    }
  }

  reusable(): boolean {
    return this.state === State.Done && this.keepAlive && !this.extra && !this.http10;
  }
}

// One HTTP request on a connection and its response: the object every hook and handler gets.
// The core owns the response framing (RFC 9112 §6): it answers in the request's version, picks
// Content-Length, chunked or close-delimited, and decides keep-alive; handlers set status,
// headers, body bytes and trailer fields only.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { FilteredBody, type BodyFilter } from './body-filter.js';
import type { Connection } from './connection.js';
import { errorPage, LanternError, ERRORS, type ErrorCode } from './errors.js';
import { errorFile, errorHandlerFor, statusUnderErrorHandler } from './error-response.js';
import { chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from './http1/chunked.js';
import { equalsLower, hasField, parseContentLength } from './http1/field-lines.js';
import { latin1 } from './http1/latin1.js';
import { decideRange, ifRangeMatches, rangesOfBody } from './http1/range.js';
import { checkName, checkValue, formatResponseHead, statusLine } from './http1/response-writer.js';
import type { HeaderList, RequestHead } from './http1/types.js';
import { RequestBody } from './request-body.js';
import { turnMonotonicMs, turnNowMs } from './turn.js';
import type { MergedConfig } from '../config/model.js';

const CRLF = '\r\n';
/** Bodies up to this size go out in the same buffer as the head. */
const SINGLE_WRITE_MAX_BYTES = 16 * 1024;
/** Bodies up to this size go out in one string with the head (a copy either way; no Buffer to allocate). */
const TEXT_BODY_MAX_BYTES = 2048;

/** The env of a request that has none (peekEnv; also proxy-core's upstream request before its environment is built). */
export const NO_ENV: ReadonlyArray<readonly [string, string]> = Object.freeze([]);

/**
 * Response fields formatted and checked once, to be sent many times with respondPrepared().
 * Fields the core owns are dropped, as in every response.
 */
export class PreparedFields {
  /** `Name: value\r\n` lines. */
  readonly text: string;
  /** The Content-Length among them (-1: none). */
  readonly contentLength: number;
  /** The fields as a list, for the general path. */
  readonly list: HeaderList;
  constructor(headers: HeaderList) {
    let text = '';
    let contentLength = -1;
    const list: HeaderList = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      const kind = coreField(name);
      if (kind === CORE_FIELD_OWNED) continue;
      checkName(name);
      checkValue(value, name);
      if (kind === CORE_FIELD_LENGTH) contentLength = Number(value);
      text += name + ': ' + value + '\r\n';
      list.push(name, value);
    }
    this.text = text;
    this.contentLength = contentLength;
    this.list = list;
  }
}

/** Fields an error answer keeps from what the handler set (see sendError). */
const ERROR_KEPT_FIELDS = new Set(['allow', 'www-authenticate', 'proxy-authenticate', 'content-range', 'retry-after', 'location', 'vary']);

const CORE_FIELD_OTHER = 0;
const CORE_FIELD_OWNED = 1;
const CORE_FIELD_LENGTH = 2;

/**
 * Whether a response field is one the core owns (Connection, Keep-Alive, Transfer-Encoding, Date,
 * Server: a handler's own values are dropped, RFC 9112 §6), Content-Length, or another: by
 * length first, then compared ignoring case without making a lowercase copy. A name with a CTL
 * that folds onto a letter can only be taken for a field that is then dropped, or for
 * Content-Length, whose name checkName() still refuses.
 */
function coreField(name: string): number {
  switch (name.length) {
    case 4: return equalsLower(name, 0, 'date') ? CORE_FIELD_OWNED : CORE_FIELD_OTHER;
    case 6: return equalsLower(name, 0, 'server') ? CORE_FIELD_OWNED : CORE_FIELD_OTHER;
    case 10: return equalsLower(name, 0, 'connection') || equalsLower(name, 0, 'keep-alive') ? CORE_FIELD_OWNED : CORE_FIELD_OTHER;
    case 14: return equalsLower(name, 0, 'content-length') ? CORE_FIELD_LENGTH : CORE_FIELD_OTHER;
    case 17: return equalsLower(name, 0, 'transfer-encoding') ? CORE_FIELD_OWNED : CORE_FIELD_OTHER;
    default: return CORE_FIELD_OTHER;
  }
}

/** `v` is 1*DIGIT (then it is exactly the number parseContentLength read from it). */
function isDigits(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return v.length > 0;
}

export class Request {
  readonly conn: Connection;
  readonly head: RequestHead;
  /** The method (uppercase as received; methods are case-sensitive, RFC 9110 §9.1). */
  method: string;
  /** The request target: raw as received; uriRaw plugins may rewrite it. */
  target: string;
  /** `http` or `https`. */
  scheme: string;
  /** Lowercased authority (host[:port]) the request is for. */
  host: string;
  /** Decoded, normalised path (lighttpd's uri.path), for routing and the file system. */
  path = '/';
  /** The path as received (still percent-encoded), without the query. */
  pathRaw = '/';
  /** The query string without `?`; null when the target had no `?`. */
  query: string | null = null;
  /** Document root chosen for this request (docroot phase). */
  docRoot = '';
  /** File system path the request maps to (physical phase). */
  physicalPath = '';
  /** The merged config for this request. Replaced when the request is rewritten. */
  config: MergedConfig;
  private envList: Array<[string, string]> | null = null;
  private pluginState: Map<string, unknown> | null = null;
  /** Extra environment for CGI-family handlers (requestEnv phase). */
  get env(): Array<[string, string]> { return (this.envList ??= []); }
  /** Per-plugin state, keyed by plugin id; dropped at requestReset. */
  get pluginData(): Map<string, unknown> { return (this.pluginState ??= new Map()); }
  /** `pluginData.get(key)` without making the map for a request that has none (the request path reads it on every request). */
  peekPluginData(key: string): unknown { return this.pluginState?.get(key); }
  /** `env` without making the list for a request that has none. */
  peekEnv(): ReadonlyArray<readonly [string, string]> { return this.envList ?? NO_ENV; }
  readonly body: RequestBody;
  /** When the head was complete (ms, performance.now() as of that turn: core/turn.ts). */
  readonly startMs: number;
  /** Wall clock at the start (as of that turn), for access logs. */
  readonly startDate: number;
  /** The plugin id that took the request in subrequestStart. */
  handler: string | null = null;
  /** How many times the request was restarted by an internal redirect. */
  redirects = 0;
  /**
   * lighttpd's error_handler_saved_status: the status that sent this request to an error handler
   * (server.error-handler; negative for server.error-handler-404), 0 when none did. An error
   * while an error handler runs never starts another one.
   */
  errorHandlerStatus = 0;
  /** The method before server.error-handler made the request a GET (restored for its answer). */
  private methodBeforeErrorHandler = '';
  /** server.error-intercept was enabled where the error that started the error handler happened. */
  private interceptedBeforeErrorHandler = false;
  /** server.error-intercept: the status of a handler's error answer whose body is being dropped. */
  private interceptedStatus = 0;

  // --- response state ---
  status = 0;
  responseHeaders: HeaderList = [];
  /** The head has gone to the socket. */
  headSent = false;
  /** end() was called (or the request was aborted). */
  finished = false;
  /** The client went away before the response finished. */
  aborted = false;
  /** The response did not complete (client gone, or abort()): access logs show 'X'. */
  incomplete = false;
  /** Body bytes written (not counting framing); for access logs. */
  bytesOut = 0;
  /** Bytes on the wire for the whole response, head included. */
  wireBytesOut = 0;
  /** Keep the connection open after this exchange. */
  keepAlive: boolean;
  /** Set when the handler's error path ran (error code from the table). */
  errorCode: ErrorCode | null = null;
  /**
   * For a HEAD answered with end() and no body: the GET's response would have been chunked (its
   * length is not known in advance, as a proxied backend's `Transfer-Encoding: chunked` says), so
   * the head carries `Transfer-Encoding: chunked` as the GET's would (RFC 9110 §9.3.2, RFC 9112
   * §6.1). The core writes the field, for HTTP/1.1 clients only; a Content-Length the handler set
   * wins. Without it such a HEAD gets no length field at all.
   */
  headWouldBeChunked = false;
  /**
   * While responseStart runs: the length of the body when the handler gave all of it to end()
   * before the head went out (so the response's length is known), else -1.
   */
  endBodyLength = -1;

  /** The list writeHead() was told holds valid fields, and its length then (see writeHead). */
  private validFields: HeaderList | null = null;
  private validFieldsLength = 0;
  private framing: 'length' | 'chunked' | 'close' | 'none' = 'none';
  private remainingLength = -1;
  private noBody = false;
  private abortListeners: Array<() => void> | null = null;
  private halfCloseListeners: Array<() => void> | null = null;
  /** The body filter a responseStart tap installed (setBodyFilter), if any. */
  private bodyFilter: FilteredBody | null = null;
  /** The client sent its FIN (TCP half-close) while this request was in progress. */
  clientHalfClosed = false;

  constructor(conn: Connection, head: RequestHead, bodyLength: number) {
    this.conn = conn;
    this.head = head;
    this.method = head.method;
    this.target = head.target;
    this.scheme = conn.scheme;
    this.host = head.host;
    this.keepAlive = head.keepAlive;
    this.body = new RequestBody(conn, bodyLength);
    // Until the pipeline merges the blocks that match, plugins see the global values (a request
    // refused early still reaches requestDone).
    this.config = conn.server.globalMerged;
    this.startMs = turnMonotonicMs();
    this.startDate = turnNowMs();
  }

  /** A request header's value, case-insensitive; repeated fields joined with ", " (Cookie: "; "). */
  header(name: string): string | undefined {
    const h = this.head.headers;
    let out: string | undefined;
    const lower = name.toLowerCase();
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i];
      if (n.length === lower.length && n.toLowerCase() === lower) {
        out = out === undefined ? h[i + 1] : out + (lower === 'cookie' ? '; ' : ', ') + h[i + 1];
      }
    }
    return out;
  }

  /** A response header already set, case-insensitive (first match). */
  getResponseHeader(name: string): string | undefined {
    const h = this.responseHeaders;
    const lower = name.toLowerCase();
    for (let i = 0; i < h.length; i += 2) if (h[i].toLowerCase() === lower) return h[i + 1];
    return undefined;
  }

  /** Set a response header, replacing any with the same name. */
  setResponseHeader(name: string, value: string): void {
    this.removeResponseHeader(name);
    this.responseHeaders.push(name, value);
  }

  removeResponseHeader(name: string): void {
    const h = this.responseHeaders;
    const lower = name.toLowerCase();
    for (let i = h.length - 2; i >= 0; i -= 2) if (h[i].toLowerCase() === lower) h.splice(i, 2);
  }

  /**
   * Set the status and headers; they go out with the first body bytes (or at end()).
   * `fieldsValid`: the caller vouches that every name is a token and no value holds CR, LF, NUL
   * or a non-latin1 character, because the fields came through one of the core's strict parsers
   * (a proxied response head); the core then does not check them again. The vouching holds for
   * this very list only: a responseStart tap, a changed length or another list brings the checks
   * back.
   */
  writeHead(status: number, headers?: HeaderList, fieldsValid = false): void {
    if (this.headSent) throw new Error('response head already sent');
    if (status >= 400 && this.interceptsError()) {
      // server.error-intercept (or the static file handler): the handler's error answer is
      // replaced by the server's own (the error handler, the errorfile or the built-in page)
      // once the handler has ended it.
      this.interceptedStatus = status;
      this.status = status;
      if (headers) this.responseHeaders = headers;
      return;
    }
    if (this.errorHandlerStatus !== 0) status = this.statusForErrorHandlerAnswer(status, this.answersAsServer());
    this.status = status;
    if (headers) this.responseHeaders = headers;
    if (fieldsValid) {
      this.validFields = this.responseHeaders;
      this.validFieldsLength = this.responseHeaders.length;
    } else {
      this.validFields = null;
    }
  }

  /**
   * Send the body through `filter` (compression): for a responseStart tap, before the head goes
   * out. The core then drops the handler's Content-Length and frames the filter's output (its
   * length when known, else chunked, or close-delimited for HTTP/1.0). Ignored for a response
   * without a body (HEAD, 1xx, 204, 304). See docs/hooks.md.
   */
  setBodyFilter(filter: BodyFilter): void {
    if (this.headSent) throw new Error('response head already sent');
    this.bodyFilter?.destroy();
    this.bodyFilter = new FilteredBody(filter, {
      out: (buf) => this.writeBody(buf),
      onceDrain: (cb) => this.conn.onceDrain(cb),
      done: (trailers) => { if (!this.finished) this.finishFraming(trailers); },
      fail: (err) => {
        this.conn.server.logError(`${this.method} ${this.target}: body filter failed: ${err.message}`);
        this.abort();
      },
    });
  }

  /** Send an interim 1xx response (103 Early Hints, a relayed 100). HTTP/1.1 clients only. */
  writeInformational(status: number, headers: HeaderList = []): void {
    if (this.headSent || this.head.versionMinor === 0 || status < 100 || status > 199 || status === 101) return;
    this.conn.writeRaw(formatResponseHead(1, status, headers));
  }

  /**
   * Write body bytes. Returns false when the client is slow: wait for onDrain() before writing
   * more (back-pressure, checklist F3).
   */
  write(chunk: Buffer | string): boolean {
    if (this.finished) return false;
    if (this.interceptedStatus !== 0) return true;
    if (!this.headSent) this.conn.writeRaw(this.sendHead(-1));
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.bodyFilter !== null) return this.bodyFilter.write(buf);
    return this.writeBody(buf);
  }

  /**
   * Finish the response, optionally with a last piece of body and trailer fields. Trailers go in
   * the last chunk when the response is chunked (HTTP/1.1 client, no Content-Length): then the
   * head is not given the length of `chunk` even if it is the whole body. Fields that must not be
   * trailers (RFC 9110 §6.5.1: Content-Length, Transfer-Encoding, Host, Connection...) or that
   * would split the message are dropped. Any other framing (Content-Length, HTTP/1.0, HEAD, 204,
   * 304) drops the trailers silently.
   */
  end(chunk?: Buffer | string, trailers?: HeaderList): void {
    if (this.finished) return;
    if (this.interceptedStatus !== 0) {
      const status = this.interceptedStatus;
      this.interceptedStatus = 0;
      this.sendError(status);
      return;
    }
    let buf = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.bodyFilter !== null) { this.bodyFilter.end(buf, trailers); return; }
    if (trailers !== undefined && trailers.length > 0 && (this.headSent || (this.head.versionMinor === 1 && this.method !== 'HEAD'))) {
      this.endWithTrailers(buf, trailers);
      return;
    }
    if (!this.headSent) {
      // The common case: head and whole body in one write (one syscall, design.md §6).
      this.startHead(buf ? buf.length : 0, true);
      // The whole body is known before the head goes out: Range is answered from it, as for a
      // file (lighttpd http_range_rfc7233, after its response_start hooks). A request without
      // a Range field pays the checks below and one look through its fields.
      const ranges = this.rangesApply();
      if (ranges && this.method === 'GET' && hasField(this.head.headers, 'range')) {
        const ranged = this.answerRange(buf);
        if (ranged === null) return;
        buf = ranged;
      }
      const head = this.headText(buf ? buf.length : 0, true, buf, ranges && this.status === 200 && !this.headWouldBeChunked);
      // A responseStart tap may have installed a filter (TypeScript cannot see it).
      const filter = this.bodyFilter as FilteredBody | null;
      if (filter !== null) {
        this.conn.cork();
        this.conn.writeRaw(head);
        filter.end(buf, undefined);
        this.conn.uncork();
        return;
      }
      let body = buf && !this.noBody && buf.length > 0 ? buf : undefined;
      if (body && this.framing === 'length') {
        if (body.length > this.remainingLength) body = body.subarray(0, this.remainingLength);
        this.remainingLength -= body.length;
        this.bytesOut += body.length;
        this.wireBytesOut += body.length;
        if (body.length <= TEXT_BODY_MAX_BYTES) {
          // A small body joins the head as text: the socket writes the one latin1 string (no
          // Buffer is made and filled for it; same speed as the buffer in an A/B, less code run).
          this.conn.writeRaw(head + latin1(body, 0, body.length));
        } else if (body.length <= SINGLE_WRITE_MAX_BYTES) {
          const out = Buffer.allocUnsafe(head.length + body.length);
          out.write(head, 0, 'latin1');
          body.copy(out, head.length);
          this.conn.writeRaw(out);
        } else {
          this.conn.cork();
          this.conn.writeRaw(head);
          this.conn.writeRaw(body);
          this.conn.uncork();
        }
      } else {
        this.conn.cork();
        this.conn.writeRaw(head);
        if (body) this.writeBody(body);
        this.finishFraming();
        this.conn.uncork();
        return;
      }
    } else if (buf && buf.length > 0) {
      this.conn.cork();
      this.writeBody(buf);
      this.finishFraming();
      this.conn.uncork();
      return;
    }
    this.finishFraming();
  }

  /**
   * end() with trailer fields, which need the chunked framing (RFC 9112 §7.1.2): a head not yet
   * sent is built as for a streamed body, never with the length of the last piece.
   */
  private endWithTrailers(buf: Buffer | undefined, trailers: HeaderList): void {
    this.conn.cork();
    if (!this.headSent) this.conn.writeRaw(this.sendHead(-1));
    if (this.bodyFilter !== null) {
      this.bodyFilter.end(buf, trailers);
      this.conn.uncork();
      return;
    }
    if (buf !== undefined && buf.length > 0) this.writeBody(buf);
    this.finishFraming(trailers);
    this.conn.uncork();
  }

  /** Write the end of the framing (with `trailers` when chunked) and tell the connection the response is complete. */
  private finishFraming(trailers?: HeaderList): void {
    if (this.framing === 'chunked' && !this.noBody) {
      const last = trailers === undefined ? LAST_CHUNK : lastChunkWithTrailers(trailers);
      this.wireBytesOut += last.length;
      this.conn.writeRaw(last);
    } else if (this.framing === 'length' && this.remainingLength > 0) {
      // The handler promised more bytes than it sent: the client can only tell the response is
      // short by the connection closing (checklist D6).
      this.keepAlive = false;
      this.finished = true;
      this.conn.responseAborted(this);
      return;
    }
    this.finished = true;
    this.conn.responseFinished(this);
  }

  /**
   * A whole response whose fields were formatted and checked once (PreparedFields), for a
   * handler that sends the same head many times (the static file cache). `bodyLatin1` is the
   * body as a latin1 string when the caller has it: head and body then go out as one string.
   */
  respondPrepared(status: number, fields: PreparedFields, body: Buffer | undefined, bodyLatin1?: string): void {
    if (this.headSent || this.finished) return;
    if (this.errorHandlerStatus !== 0 || this.responseHeaders.length > 0 || this.conn.server.hooks.responseStart.isUsed() || fields.contentLength !== (body ? body.length : 0) && this.method !== 'HEAD') {
      this.respond(status, this.responseHeaders.concat(fields.list), body);
      return;
    }
    this.status = status;
    // Shared with the PreparedFields: read-only from here on (access logs read it).
    this.responseHeaders = fields.list;
    const isHead = this.method === 'HEAD';
    this.noBody = isHead || status < 200 || status === 204 || status === 304;
    this.framing = 'length';
    this.remainingLength = 0;
    if (this.keepAlive && !this.conn.canKeepAlive(this)) this.keepAlive = false;
    const server = this.conn.server;
    const head = statusLine(this.head.versionMinor, status) + fields.text +
      (!this.keepAlive ? 'Connection: close\r\n' : this.head.versionMinor === 0 ? 'Connection: keep-alive\r\n' : '') +
      server.headTail(this.config.values);
    if (server.debugFlags.responseHeader) this.logHead(head);
    this.headSent = true;
    this.wireBytesOut += head.length;
    if (this.noBody || body === undefined || body.length === 0) {
      this.conn.writeRaw(head);
    } else {
      this.bytesOut += body.length;
      this.wireBytesOut += body.length;
      if (bodyLatin1 !== undefined) this.conn.writeRaw(head + bodyLatin1);
      else {
        this.conn.cork();
        this.conn.writeRaw(head);
        this.conn.writeRaw(body);
        this.conn.uncork();
      }
    }
    this.finished = true;
    this.conn.responseFinished(this);
  }

  /** Convenience: a whole response at once. */
  respond(status: number, headers: HeaderList, body?: Buffer | string): void {
    this.writeHead(status, headers);
    this.end(body ?? undefined);
  }

  /**
   * Answer with an error status: through server.error-handler / server.error-handler-404 when
   * configured (an internal redirect), else with `<server.errorfile-prefix><status>.html`, else the
   * built-in page (lighttpd's http_response_static_errdoc). If the head already went out, abort.
   * Errors about the request's framing (phase "request": 400, 408, 413, 417...) get no handler.
   */
  sendError(status: number, code?: ErrorCode): void {
    if (code) this.errorCode = code;
    if (this.finished) return;
    if (this.headSent) { this.abort(); return; }
    if (code && ERRORS[code].close) this.keepAlive = false;
    this.interceptedStatus = 0;
    const values = this.config.values;
    if (status >= 400 && (code === undefined || ERRORS[code].phase !== 'request')) {
      if (this.errorHandlerStatus !== 0) status = this.statusForErrorHandlerAnswer(status, true);
      else {
        const handler = errorHandlerFor(values, status);
        if (handler !== null) { this.callErrorHandler(handler.uri, handler.general, status); return; }
      }
    }
    this.status = status;
    // Keep the fields that belong to the error itself (405 Allow, 401 WWW-Authenticate, 416
    // Content-Range, 503 Retry-After); drop what described a body that will not be sent.
    const kept: HeaderList = [];
    const h = this.responseHeaders;
    for (let i = 0; i < h.length; i += 2) if (ERROR_KEPT_FIELDS.has(h[i].toLowerCase())) kept.push(h[i], h[i + 1]);
    // lighttpd: a custom body for 4xx and 5xx only.
    const file = status >= 400 && status < 600 ? errorFile(values, status) : null;
    if (file !== null) {
      if (file.contentType !== null) kept.push('Content-Type', file.contentType);
      kept.push('Content-Length', String(file.body.length));
      this.responseHeaders = kept;
      this.end(file.body);
      return;
    }
    const body = errorPage(status);
    kept.push('Content-Type', 'text/html', 'Content-Length', String(Buffer.byteLength(body)));
    this.responseHeaders = kept;
    this.end(body);
  }

  /** server.error-intercept (or the static file handler) applies to an error answer the handler is making now. */
  private interceptsError(): boolean {
    if (this.interceptedStatus !== 0 || this.errorHandlerStatus !== 0 || this.handler === null) return false;
    // The static file handler's error answers are the server's own in lighttpd (no handler module).
    return this.handler === 'staticfile' || this.config.values.get('server.error-intercept') === true;
  }

  /**
   * The status of an error handler's own answer; the method is the client's again. lighttpd
   * 1.4.69 (http_response_has_error_handler) applies statusUnderErrorHandler only when the server
   * itself answers (no handler module: a static file, an error page) or server.error-intercept
   * is enabled; a backend's answer (a CGI or PHP error page) goes out with its own status.
   */
  private statusForErrorHandlerAnswer(status: number, byServer: boolean): number {
    if (this.methodBeforeErrorHandler !== '') { this.method = this.methodBeforeErrorHandler; this.methodBeforeErrorHandler = ''; }
    if (!byServer && !this.interceptedBeforeErrorHandler) return status;
    return statusUnderErrorHandler(this.errorHandlerStatus, status);
  }

  /** The answer is the server's own, as lighttpd has no handler module for it: no handler, or the static file one. */
  private answersAsServer(): boolean {
    return this.handler === null || this.handler === 'staticfile';
  }

  /**
   * lighttpd's http_response_call_error_handler: REDIRECT_STATUS in the environment, the request
   * restarted at `uri` (server.error-handler: as a GET, HEAD staying HEAD). The handler that
   * failed can write nothing more (the request counts as finished until the restart, on the next
   * tick, so that it unwinds first); pipeline.restart() bounds the redirects.
   */
  private callErrorHandler(uri: string, general: boolean, status: number): void {
    const env = this.env;
    for (let i = env.length - 1; i >= 0; i--) if (env[i]![0] === 'REDIRECT_STATUS') env.splice(i, 1);
    env.push(['REDIRECT_STATUS', String(status)]);
    this.interceptedBeforeErrorHandler = this.config.values.get('server.error-intercept') === true;
    if (general) {
      this.errorHandlerStatus = status;
      if (this.method !== 'HEAD' && this.method !== 'GET') { this.methodBeforeErrorHandler = this.method; this.method = 'GET'; }
    } else {
      this.errorHandlerStatus = -status;
    }
    // lighttpd http_response_errdoc_init: the fields go, except a 401's WWW-Authenticate.
    const auth = status === 401 ? this.getResponseHeader('WWW-Authenticate') : undefined;
    this.responseHeaders = auth === undefined ? [] : ['WWW-Authenticate', auth];
    this.validFields = null;
    this.status = 0;
    this.headWouldBeChunked = false;
    this.finished = true;
    process.nextTick(() => {
      if (this.aborted || this.conn.closed) return;
      this.finished = false;
      this.conn.server.pipeline.restart(this, uri);
    });
  }

  /** Answer with the error-table entry for an error. */
  fail(err: unknown): void {
    if (LanternError.is(err)) this.sendError(err.status, err.code);
    else {
      this.conn.server.logError(`${this.method} ${this.target}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      this.sendError(500, 'LT_ERR_PLUGIN_THREW');
    }
  }

  /**
   * The response cannot complete: close the connection without finishing the framing (D6).
   * onAbort listeners run (whatever produces the body should stop).
   */
  abort(): void {
    if (this.incomplete) return;
    this.incomplete = true;
    this.keepAlive = false;
    this.finished = true;
    this.runAbortListeners();
    this.conn.responseAborted(this);
  }

  /** Call `cb` once the client can take more bytes. */
  onDrain(cb: () => void): void {
    if (this.bodyFilter !== null) this.bodyFilter.onceDrain(cb);
    else this.conn.onceDrain(cb);
  }

  /**
   * Call `cb` if the response will not complete: the client went away, or the response was
   * aborted. A callback waiting in onDrain() is never called then: listen here too.
   */
  onAbort(cb: () => void): void {
    if (this.incomplete) { cb(); return; }
    (this.abortListeners ??= []).push(cb);
  }

  /**
   * Call `cb` when the client half-closes (FIN) after sending the whole request, before the
   * response is complete: a client that shut down its writing side, or one that closed and went
   * away; TCP cannot tell the two apart. The response goes on unless `cb` aborts it (HAProxy's
   * abortonclose). Called at once if that already happened.
   */
  onHalfClose(cb: () => void): void {
    if (this.finished) return;
    if (this.clientHalfClosed) { cb(); return; }
    (this.halfCloseListeners ??= []).push(cb);
  }

  /** Called by the connection on the client's FIN. */
  halfClosed(): void {
    if (this.clientHalfClosed || this.finished) return;
    this.clientHalfClosed = true;
    const ls = this.halfCloseListeners;
    this.halfCloseListeners = null;
    if (ls) for (const cb of ls) cb();
  }

  /** Called by the connection when the client is gone. */
  clientGone(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.incomplete = true;
    this.finished = true;
    this.runAbortListeners();
  }

  private runAbortListeners(): void {
    if (this.bodyFilter !== null) this.bodyFilter.destroy();
    const ls = this.abortListeners;
    this.abortListeners = null;
    if (ls) for (const cb of ls) cb();
  }

  /** debug.log-response-header: the head as it goes out. */
  private logHead(text: string): void {
    if (this.config.values.get('debug.log-response-header') !== true) return;
    this.conn.server.logError(`response header:\n${text.trimEnd()}`);
  }

  /** Whether the client's connection is still writable. */
  get writable(): boolean { return !this.aborted && !this.conn.closed; }

  /** Decide the framing, run responseStart, and return the head's text (not yet written). */
  private sendHead(knownLength: number, isEnd = false, body?: Buffer): string {
    this.startHead(knownLength, isEnd);
    return this.headText(knownLength, isEnd, body, false);
  }

  /** The status defaults to 200; responseStart taps see the response before its head is built. */
  private startHead(knownLength: number, isEnd: boolean): void {
    if (this.status === 0) this.status = 200;
    const server = this.conn.server;
    if (server.hooks.responseStart.isUsed()) {
      this.endBodyLength = isEnd ? knownLength : -1;
      server.hooks.responseStart.call(this);
    }
  }

  /**
   * Whether a complete response takes part in Range handling, from what needs no field (lighttpd
   * http_range_rfc7233): a 200 to an HTTP/1.1 GET or HEAD (lighttpd ignores Range from HTTP/1.0
   * clients), no body filter (Range is on the unencoded body), server.range-requests enabled.
   */
  private rangesApply(): boolean {
    return this.status === 200 && this.head.versionMinor === 1 && (this.method === 'GET' || this.method === 'HEAD') &&
      this.bodyFilter === null && this.config.values.get('server.range-requests') !== false;
  }

  /**
   * The Range of a GET answered from a complete 200's body (lighttpd http_range_rfc7233 and
   * http_range_process): not when the response has a Content-Encoding, `Accept-Ranges: none`, a
   * Content-Length other than the body's, or an If-Range that is not its ETag or Last-Modified
   * (compared byte for byte); then as for a file (decideRange): 206 with Content-Range, or
   * multipart/byteranges, and `Accept-Ranges: bytes`. Returns the body to send, or null when the
   * answer became 416 (the server's error page, as lighttpd's and the static file handler's).
   */
  private answerRange(body: Buffer | undefined): Buffer | undefined | null {
    const h = this.responseHeaders;
    let contentType: string | undefined;
    let etag: string | undefined;
    let lastModified: string | undefined;
    let hasAcceptRanges = false;
    for (let i = 0; i < h.length; i += 2) {
      switch (h[i].toLowerCase()) {
        case 'content-encoding': case 'transfer-encoding': return body;
        case 'accept-ranges': if (h[i + 1] === 'none') return body; hasAcceptRanges = true; break;
        case 'content-length': if (parseContentLength(h[i + 1]) !== (body?.length ?? 0)) return body; break;
        case 'content-type': contentType ??= h[i + 1]; break;
        case 'etag': etag ??= h[i + 1]; break;
        case 'last-modified': lastModified ??= h[i + 1]; break;
      }
    }
    const ifRange = this.header('if-range');
    if (ifRange !== undefined && !ifRangeMatches(ifRange, etag, lastModified)) return body;
    const decision = decideRange(this.header('range') ?? '', body?.length ?? 0);
    if (decision.kind === 'ignore') return body;
    if (decision.kind === 'unsatisfiable') {
      this.sendError(416, 'LT_ERR_RANGE_NOT_SATISFIABLE');
      return null;
    }
    const ranged = rangesOfBody(body!, decision.ranges, contentType, randomBytes(12).toString('hex'));
    // A new list (the handler's may be shared), without the whole body's length and, for
    // multipart, its type; the core writes the new length.
    const fields: HeaderList = [];
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i].toLowerCase();
      if (name === 'content-length' || (ranged.contentType !== null && name === 'content-type')) continue;
      fields.push(h[i], h[i + 1]);
    }
    if (!hasAcceptRanges) fields.push('Accept-Ranges', 'bytes');
    if (ranged.contentRange !== null) fields.push('Content-Range', ranged.contentRange);
    else fields.push('Content-Type', ranged.contentType!);
    this.responseHeaders = fields;
    this.validFields = null;
    this.status = 206;
    return ranged.body;
  }

  /**
   * The head's text from buildHead(); a field that cannot be sent makes it a 500 instead.
   * `advertiseRanges`: a complete 200 that takes Range requests (rangesApply) says so with
   * `Accept-Ranges: bytes`, unless it has a Content-Encoding or an Accept-Ranges of its own.
   */
  private headText(knownLength: number, isEnd: boolean, body: Buffer | undefined, advertiseRanges: boolean): string {
    const server = this.conn.server;
    try {
      return this.buildHead(knownLength, isEnd, body, advertiseRanges);
    } catch {
      if (this.bodyFilter !== null) { this.bodyFilter.destroy(); this.bodyFilter = null; }
      // A header with CR/LF/NUL (response splitting, G7) or a bad status: never emit it.
      this.status = 500;
      this.errorCode = 'LT_ERR_INTERNAL';
      this.keepAlive = false;
      this.framing = 'none';
      this.noBody = true;
      const body = errorPage(500);
      const text = `${statusLine(this.head.versionMinor, 500)}Content-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\nDate: ${server.httpDate()}\r\n\r\n${this.method === 'HEAD' ? '' : body}`;
      this.headSent = true;
      this.wireBytesOut += text.length;
      return text;
    }
  }

  /**
   * One pass over the handler's fields: validate and format each, drop the ones the core owns,
   * note Content-Length; then the framing and the core's own fields (RFC 9112 §6).
   */
  private buildHead(knownLength: number, isEnd: boolean, body: Buffer | undefined, advertiseRanges: boolean): string {
    const status = this.status;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new Error(`invalid status ${status}`);
    const headers = this.responseHeaders;
    const noBodyStatus = status < 200 || status === 204 || status === 304;
    const isHead = this.method === 'HEAD';
    let filter = this.bodyFilter;
    if (filter !== null && (isHead || noBodyStatus)) {
      // No body to filter: the head is the one the handler's fields describe.
      filter.destroy();
      this.bodyFilter = filter = null;
    }
    // Fields vouched for by writeHead() and untouched since are not scanned again.
    const checked = headers === this.validFields && headers.length === this.validFieldsLength &&
      !this.conn.server.hooks.responseStart.isUsed();
    let fields = '';
    let contentLength = -1;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      const kind = coreField(name);
      if (kind === CORE_FIELD_OWNED) continue;
      if (kind === CORE_FIELD_LENGTH) {
        // A filter changes the length: its own is set below, or none.
        if (filter !== null) continue;
        // RFC 9110 §8.6: 1*DIGIT (a list of one repeated value is folded). Anything else from a
        // handler (`0x10`, `1e3`, ` 16`, `-1`) is dropped, never sent: the core frames the body.
        const n = parseContentLength(value);
        if (n < 0) continue;
        contentLength = n;
        // No Content-Length on 1xx/204; a 304 may carry the GET's length.
        if (noBodyStatus && status !== 304) continue;
        if (!checked) checkName(name);
        // The value as received when it is the number (no number-to-string per response).
        fields += name + ': ' + (isDigits(value) ? value : String(n)) + '\r\n';
        continue;
      }
      if (!checked) {
        checkName(name);
        checkValue(value, name);
      }
      if (advertiseRanges && (name.length === 13 ? equalsLower(name, 0, 'accept-ranges') : name.length === 16 && equalsLower(name, 0, 'content-encoding'))) {
        advertiseRanges = false;
      }
      fields += name + ': ' + value + '\r\n';
    }
    if (advertiseRanges) fields += 'Accept-Ranges: bytes\r\n';
    this.noBody = isHead || noBodyStatus;
    if (filter !== null) {
      contentLength = filter.outputLength(isEnd ? body : undefined);
      if (contentLength >= 0) fields += 'Content-Length: ' + contentLength + '\r\n';
    }
    if (noBodyStatus) {
      this.framing = 'none';
    } else if (contentLength >= 0) {
      this.framing = 'length';
      this.remainingLength = isHead ? 0 : contentLength;
    } else if (isEnd && filter === null && (!isHead || knownLength > 0)) {
      // A HEAD handed the body the GET would send gets that body's length (RFC 9110 §9.3.2).
      this.framing = 'length';
      this.remainingLength = isHead ? 0 : knownLength;
      fields += 'Content-Length: ' + knownLength + '\r\n';
    } else if (this.head.versionMinor === 1) {
      this.framing = 'chunked';
      // A HEAD ended without a body says chunked only when told the GET would have been
      // (headWouldBeChunked); else its length is unknown and no length field is sent. A HEAD that
      // streamed with write() is chunked, as its GET would be. Never on HTTP/1.0 (RFC 9112 §6.1).
      if (!isEnd || filter !== null || this.headWouldBeChunked) fields += 'Transfer-Encoding: chunked\r\n';
    } else {
      // HTTP/1.0 and unknown length: the end of the body is the end of the connection.
      this.framing = 'close';
      if (!isHead) this.keepAlive = false;
    }
    if (this.keepAlive && !this.conn.canKeepAlive(this)) this.keepAlive = false;
    if (!this.keepAlive) fields += 'Connection: close\r\n';
    else if (this.head.versionMinor === 0) fields += 'Connection: keep-alive\r\n';
    const server = this.conn.server;
    const text = statusLine(this.head.versionMinor, status) + fields + server.headTail(this.config.values);
    if (server.debugFlags.responseHeader) this.logHead(text);
    this.headSent = true;
    this.wireBytesOut += text.length;
    return text;
  }

  private writeBody(buf: Buffer): boolean {
    if (this.noBody || buf.length === 0) return this.conn.writable();
    if (this.framing === 'length') {
      if (buf.length > this.remainingLength) buf = buf.subarray(0, this.remainingLength);
      this.remainingLength -= buf.length;
      if (buf.length === 0) return this.conn.writable();
      this.bytesOut += buf.length;
      this.wireBytesOut += buf.length;
      return this.conn.writeRaw(buf);
    }
    this.bytesOut += buf.length;
    if (this.framing === 'chunked') {
      const h = chunkHeader(buf.length);
      this.wireBytesOut += h.length + buf.length + 2;
      return this.conn.writeChunk(h, buf, CRLF);
    }
    this.wireBytesOut += buf.length;
    return this.conn.writeRaw(buf);
  }
}


// The backend's response on its way to the client (design.md §3 "Streaming", checklist D, G5):
// what the protocol decoded arrives through the ResponseSink methods; heads are checked (G7),
// 1xx relayed (D12), small bodies leave with their head in one write, large ones stream with
// back-pressure (F3); and the special answers: an authorizer's 200, a CGI local redirect, a 101
// tunnel, X-Sendfile.
import { Buffer } from 'node:buffer';
import type { ErrorCode } from '../../core/errors.js';
import { equalsLower, hasField } from '../../core/http1/field-lines.js';
import { checkResponseHead, isValidatedHead } from '../../core/http1/response-head.js';
import { formatResponseHead } from '../../core/http1/response-writer.js';
import type { HeaderList, ResponseHead } from '../../core/http1/types.js';
import { BodyMode, EMPTY, passedBackends } from './proxy-request-state.js';
import { RequestBodyRelay } from './request-body-relay.js';
import { stripHopByHop, xSendfilePath } from './response-fields.js';
import type { UpstreamConnection } from './upstream-connection.js';
import type { ResponseSink } from './types.js';
import { serveXSendfile } from './x-sendfile.js';

/** Response bytes held to leave with the head in one write, at most (the core's single-write size). */
const HOLD_MAX_BYTES = 16 * 1024;

/**
 * How long the head of a process's answer (CGI) waits for the process's end, at most, once the
 * head is in: a script's output and its exit are two events (libuv sees the EOF on a later read
 * than the bytes), so a whole answer would otherwise always go out chunked. An answer that ends
 * within this time (and within HOLD_MAX_BYTES) leaves with Content-Length and Range handling, as
 * lighttpd's mod_cgi answers; a script still running then streams, its first bytes this late.
 */
export const PROCESS_END_WAIT_MS = 5;

export abstract class ResponseRelay extends RequestBodyRelay implements ResponseSink {
  /** A process's head and held body, waiting for its end (PROCESS_END_WAIT_MS). */
  private endWait: NodeJS.Timeout | null = null;
  /** The final head's body ends when the backend closes (SCGI, uwsgi, an HTTP/1.0 origin, CGI). */
  private closeDelimited = false;

  head(h: ResponseHead): void {
    if (!this.attemptLive || this.done) return;
    if (!isValidatedHead(h)) {
      // G7: a head a protocol built itself must not split the response.
      const why = checkResponseHead(h);
      if (why !== null) { this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', `the protocol's head: ${why}`); return; }
    }
    const req = this.req;
    const status = h.status;
    if (status < 200) {
      if (status === 101) {
        if (this.up.upgrade !== null) this.startTunnel(h);
        else this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', '101 without an Upgrade request');
        return;
      }
      // G4: the core already sent its own 100 when the body was read; never twice.
      if (status === 100 && req.head.expectContinue) return;
      // D12: other 1xx (103 Early Hints...) are forwarded.
      if (!req.headSent) req.writeInformational(status, stripHopByHop(h.headers, false));
      return;
    }
    const b = this.backend;
    const m = this.member!;
    if (status === 500 || status === 502 || status === 503 || status === 504) {
      if (b.options.retryOn5xx) {
        // E6: a 5xx counts toward disabling; retried only under the retry rule.
        m.recordFailure('status5xx', `status ${status}`, req.path);
        const d = this.decide('LT_ERR_BACKEND_BAD_RESPONSE', true, false);
        if (d !== 'fail') { this.retry(d, m); return; }
      } else {
        // Counted, but an answer all the same: the member is alive (a probe succeeded).
        m.failures.status5xx++;
        b.failures.status5xx++;
        m.recordSuccess();
      }
    } else {
      m.recordSuccess();
    }
    this.finalHead = true;
    this.closeDelimited = h.closeDelimited;
    // Committed to this response: no replay can be needed any more.
    this.replay = null;
    this.replayLost = true;
    if (b.options.authorizer && status === 200) {
      // FastCGI §6.3: the authorizer said yes; its Variable-* fields join the environment and
      // the request goes on to its handler once this response is complete.
      const env = req.env;
      const hs = h.headers;
      for (let i = 0; i < hs.length; i += 2) {
        if (hs[i]!.length > 9 && equalsLower(hs[i]!, 0, 'variable-')) env.push([hs[i]!.slice(9), hs[i + 1]!]);
      }
      this.continuation = 'authorized';
      this.discardResponse = true;
      return;
    }
    if (h.localRedirect !== null && !b.options.localRedirect) {
      // Not served locally: the client is sent there (lighttpd without cgi.local-redir).
      h.status = 302;
      h.reason = 'Found';
      h.localRedirect = null;
    }
    if (h.localRedirect !== null) {
      // RFC 3875 §6.2.2: a CGI-style `Location: /local` without Status is served by the server
      // itself, as if the client had asked for it (lighttpd's local redirect).
      this.continuation = 'redirect';
      this.redirectTarget = h.localRedirect;
      this.discardResponse = true;
      return;
    }
    // D10: a HEAD answered `Transfer-Encoding: chunked` gets it too (the core writes it); the
    // parser never reports chunked for a HEAD, so the field is looked at before it is stripped.
    if (req.method === 'HEAD') req.headWouldBeChunked = hasField(h.headers, 'transfer-encoding');
    h.headers = stripHopByHop(h.headers, false);
    const hooks = this.core.hooks;
    if (hooks.upstreamResponse.isUsed()) {
      hooks.upstreamResponse.call(h, req);
      // A tap may ask for an internal redirect (the rewrite plugin's X-Rewrite-URI): served like
      // a CGI local redirect, this response discarded.
      if (h.localRedirect !== null) {
        this.continuation = 'redirect';
        this.redirectTarget = h.localRedirect;
        this.discardResponse = true;
        return;
      }
    }
    if (b.options.allowXSendfile && h.status >= 200 && h.status < 300) {
      const file = xSendfilePath(h.headers);
      if (file !== null) { this.sendFileInstead(file, h.headers); return; }
    }
    // The backend's fields came through the strict response parser: valid, unless a hook or a
    // plugin's own fields are in the list.
    if (req.responseHeaders.length > 0) req.writeHead(h.status, req.responseHeaders.concat(h.headers));
    else req.writeHead(h.status, h.headers, !hooks.upstreamResponse.isUsed());
    this.armAfterWrite();
  }

  data(chunk: Buffer): void {
    if (!this.attemptLive) return;
    if (this.tunnel !== null) { this.tunnel.toClient(chunk); return; }
    if (!this.finalHead || this.discardResponse || this.done) return;
    const req = this.req;
    if (!req.headSent) {
      // Hold small pieces so that the head and the body leave in one write (design.md §6).
      if (this.heldBytes + chunk.length <= HOLD_MAX_BYTES) {
        const held = this.held;
        if (held === null) this.held = chunk;
        else if (Array.isArray(held)) held.push(chunk);
        else this.held = [held, chunk];
        this.heldBytes += chunk.length;
        return;
      }
      req.conn.cork();
      this.flushHeld();
      if (!req.finished) this.toClient(chunk);
      req.conn.uncork();
      return;
    }
    this.toClient(chunk);
  }

  end(trailers?: HeaderList): void {
    if (!this.attemptLive || this.tunnel !== null) return;
    this.responseDone = true;
    if (this.endWait !== null) { clearTimeout(this.endWait); this.endWait = null; }
    if (this.discardResponse || this.done) return;
    const req = this.req;
    if (req.finished) return;
    // The client is behind: it gets the rest from the backlog, and the backend connection is
    // released now (completeAttempt follows).
    if (this.backlog !== null) { this.backlog.end(trailers); return; }
    const body = this.takeHeld();
    // D8: the response ends when its framing says so, whatever the connection does next. Trailers
    // keep the response chunked to an HTTP/1.1 client even when the whole body was held.
    req.end(body, trailers);
  }

  error(code: ErrorCode, detail: string): void {
    if (!this.attemptLive || this.tunnel !== null) return;
    this.attemptFailed(code, detail);
  }

  fallThrough(): void {
    if (!this.attemptLive || this.tunnel !== null || this.finalHead) return;
    this.member!.recordSuccess();
    this.finalHead = true;
    this.replay = null;
    this.replayLost = true;
    this.discardResponse = true;
    this.responseDone = true;
    this.continuation = 'fall-through';
  }

  capacity(maxConnections: number): void {
    if (this.attemptLive) this.member!.setCapacity(maxConnections);
  }

  log(message: string): void {
    // G8: a protocol's side channel goes to the error log, never to the client.
    this.core.log(`backend "${this.backend.name}" ${this.member?.key ?? ''}: ${message}`);
  }

  /** The head (and the body held with it) goes out now; the rest streams. */
  protected flushHeld(): void {
    const req = this.req;
    if (!req.write(this.takeHeld() ?? EMPTY)) this.pauseForClient();
  }

  /** The body bytes held back, as one Buffer (undefined when none), and nothing held any more. */
  protected takeHeld(): Buffer | undefined {
    const held = this.held;
    this.held = null;
    const bytes = this.heldBytes;
    this.heldBytes = 0;
    return held === null ? undefined : Array.isArray(held) ? Buffer.concat(held, bytes) : held;
  }

  protected afterReceive(c: UpstreamConnection): void {
    if (c !== this.conn || !this.attemptLive) return;
    if (this.responseDone) { this.completeAttempt(); return; }
    const req = this.req;
    if (this.finalHead && !this.discardResponse && !req.headSent && !req.finished) {
      // A process (CGI), or a body that ends with the connection (SCGI, uwsgi, HTTP/1.0), gets a
      // moment to end, so that a small answer goes out whole with its length (end() takes what is
      // held), as lighttpd answers; a length or chunking already says when the answer is complete.
      if (this.member!.perRequest || this.closeDelimited) {
        this.endWait ??= setTimeout(() => this.endWaitOver(c), PROCESS_END_WAIT_MS);
        return;
      }
      req.conn.cork();
      this.flushHeld();
      req.conn.uncork();
    }
  }

  /** The process or connection did not end within PROCESS_END_WAIT_MS: its head and what is held go out, the rest streams. */
  private endWaitOver(c: UpstreamConnection): void {
    this.endWait = null;
    if (c !== this.conn || !this.attemptLive || this.responseDone || this.discardResponse || this.done) return;
    const req = this.req;
    if (req.headSent || req.finished) return;
    req.conn.cork();
    this.flushHeld();
    req.conn.uncork();
  }

  /** After an authorizer's 200 or a local redirect: the request goes through the pipeline again. */
  protected continueRequest(): void {
    const req = this.req;
    if (req.finished) return;
    const pipeline = req.conn.server.pipeline;
    if (this.continuation === 'authorized') {
      if (this.opts?.onAuthorized) this.opts.onAuthorized(req);
      else pipeline.restart(req, req.target, { keepPluginData: true });
      return;
    }
    if (this.continuation === 'fall-through') {
      // The backend had no answer: the handlers after it get the request (never this backend again).
      if (this.bodyMode !== BodyMode.None) {
        this.core.log(`backend "${this.backend.name}": no answer for ${req.method} ${req.target}, whose body it took: 404`);
        req.sendError(404, 'LT_ERR_NOT_FOUND');
        return;
      }
      passedBackends(req).add(this.backend);
      pipeline.restart(req, req.target, { keepPluginData: true });
      return;
    }
    // A local redirect is a GET of the new URL (HEAD stays HEAD); the body was the script's.
    if (req.method !== 'HEAD') req.method = 'GET';
    pipeline.restart(req, this.redirectTarget);
  }

  /** G5: the backend switched protocols: the 101 goes to the client and both sockets become a tunnel. */
  protected startTunnel(h: ResponseHead): void {
    const req = this.req;
    const c = this.conn!;
    const m = this.member!;
    let head: string;
    try {
      head = formatResponseHead(1, 101, [...stripHopByHop(h.headers, true), 'Connection', 'upgrade']);
    } catch {
      this.attemptFailed('LT_ERR_BACKEND_BAD_RESPONSE', 'invalid field in the 101 head');
      return;
    }
    m.recordSuccess();
    this.finalHead = true;
    req.status = 101;
    const upstream = c.detach();
    this.conn = null;
    m.endAttempt();
    const { socket, reader, buffered } = req.conn.detach();
    this.tunnel = this.core.openTunnel({ socket, reader }, upstream, head, buffered, this.backend.options.readTimeoutMs);
    this.finish();
  }

  protected sendFileInstead(file: string, headers: HeaderList): void {
    this.discardResponse = true;
    const req = this.req;
    const log = (msg: string): void => this.core.log(msg);
    serveXSendfile(req, file, this.backend.options.xSendfileDocroots, headers, log).catch((err: unknown) => {
      log(`X-Sendfile ${file}: ${(err as Error).stack ?? err}`);
      if (!req.finished) req.fail(err);
    });
  }
}

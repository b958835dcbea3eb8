// The request pipeline: lighttpd's phases in order (response.c: http_response_prepare):
// uriRaw → uriClean → docroot → physical → requestEnv → subrequestStart. A tap that throws ends
// that request with 500 and the server goes on (the "bad plugin" rule).
import type { ConditionContext } from '../config/model.js';
import { LanternError } from './errors.js';
import type { HookResult } from './hooks.js';
import { hasEncodedControl, normalizePath, normalizeTarget } from './http1/url.js';
import type { Request } from './request.js';
import type { Server } from './server.js';

/** Internal redirects (CGI local Location, error handlers) allowed per request. */
const MAX_REDIRECTS = 10;

export class Pipeline {
  private readonly server: Server;
  /** The name of the subrequestStart tap that ran last: the handler when it bails. */
  private lastHandlerTap = '';
  constructor(server: Server) {
    this.server = server;
    server.hooks.subrequestStart.intercept({ tap: (tap) => { this.lastHandlerTap = tap.name; } });
  }

  run(req: Request): void {
    try {
      this.runPhases(req);
    } catch (err) {
      this.server.counters.pluginErrors++;
      req.fail(err instanceof LanternError ? err : err);
    }
  }

  /**
   * Restart the request at a new local URL (internal redirect: a CGI `Location: /x`), or at the
   * same one after a FastCGI authorizer said yes. `keepPluginData` keeps what plugins noted on the
   * request (the authorizer's "already authorized"); an internal redirect starts clean.
   */
  restart(req: Request, target: string, opts: { keepPluginData?: boolean } = {}): void {
    if (++req.redirects > MAX_REDIRECTS) {
      this.server.logError(`${req.method} ${req.target}: more than ${MAX_REDIRECTS} internal redirects`);
      req.sendError(500, 'LT_ERR_INTERNAL');
      return;
    }
    req.target = target;
    req.handler = null;
    if (!opts.keepPluginData) req.pluginData.clear();
    this.run(req);
  }

  private runPhases(req: Request): void {
    const head = req.head;
    const server = this.server;
    // Methods the core refuses outright (B11): TRACE echoes credentials; CONNECT is not for us.
    if (req.method === 'TRACE' || req.method === 'CONNECT') {
      req.setResponseHeader('Allow', SERVER_ALLOW);
      finish(req, 405);
      return;
    }
    // RFC 9110 §10.1.1: an expectation other than 100-continue (or any, when configured so) is refused.
    if (head.hasExpect && (!head.expectContinue || server.limits.reject100With417)) {
      req.keepAlive = false;
      req.sendError(417, 'LT_ERR_EXPECTATION_FAILED');
      return;
    }
    const maxBytes = server.limits.maxRequestBytes;
    if (maxBytes > 0 && head.contentLength > maxBytes) {
      // A17: refuse before reading the body.
      req.keepAlive = false;
      req.sendError(413, 'LT_ERR_BODY_TOO_LARGE');
      return;
    }
    if (!this.splitTarget(req)) return;
    if (server.conditional) req.config = server.merger.merge(new RequestConditions(req));
    const hooks = server.hooks;
    if (server.debugFlags.any) this.debugRequest(req);
    const target = req.target;
    if (done(req, hooks.uriRaw.call(req))) return;
    if (req.target !== target && !this.splitTarget(req)) return;
    if (req.target !== target && server.conditional) req.config = server.merger.merge(new RequestConditions(req));
    if (done(req, hooks.uriClean.call(req))) return;
    if (req.path === '*') {
      // OPTIONS * (RFC 9110 §9.3.7): the server's own capabilities.
      req.respond(200, ['Allow', SERVER_ALLOW, 'Content-Length', '0']);
      return;
    }
    req.docRoot = (req.config.values.get('server.document-root') as string | undefined) ?? '';
    if (done(req, hooks.docroot.call(req))) return;
    // req.path is normalised (absolute, no dot segments, no `//`): joining is concatenation.
    const root = req.docRoot;
    // server.force-lowercase-filenames: lighttpd lowercases the path below the docroot only.
    const rel = req.config.values.get('server.force-lowercase-filenames') === true ? req.path.toLowerCase() : req.path;
    req.physicalPath = root === '' ? '' : root.charCodeAt(root.length - 1) === 47 ? root + rel.slice(1) : root + rel;
    if (done(req, hooks.physical.call(req))) return;
    hooks.requestEnv.call(req);
    const taken = hooks.subrequestStart.call(req);
    if (taken !== undefined && req.handler === null) req.handler = this.lastHandlerTap;
    if (server.debugFlags.requestHandling && req.config.values.get('debug.log-request-handling') === true) {
      server.logError(`handling ${req.method} ${req.path}: handler ${req.handler ?? 'none'}, physical path "${req.physicalPath}"`);
    }
    if (done(req, taken)) return;
    // Nobody took it.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST' && req.method !== 'OPTIONS') {
      req.sendError(501, 'LT_ERR_NOT_IMPLEMENTED');
      return;
    }
    if (server.debugFlags.fileNotFound && req.config.values.get('debug.log-file-not-found') === true) {
      server.logError(`file not found: ${req.path} -> "${req.physicalPath}"`);
    }
    req.sendError(404, 'LT_ERR_NOT_FOUND');
  }

  /** debug.log-request-header and debug.log-condition-handling, for this request's config. */
  private debugRequest(req: Request): void {
    const v = req.config.values;
    const server = this.server;
    if (v.get('debug.log-request-header') === true) {
      const h = req.head.headers;
      let text = `${req.head.method} ${req.head.target} HTTP/1.${req.head.versionMinor}`;
      for (let i = 0; i < h.length; i += 2) text += `\n${h[i]}: ${h[i + 1]}`;
      server.logError(`request header from ${req.conn.remoteAddress}:\n${text}`);
    }
    if (v.get('debug.log-condition-handling') === true) {
      server.logError(`conditions for ${req.path}: matched blocks ${req.config.matched.join(', ')}`);
    }
  }

  /** Split req.target into pathRaw / query and decode the path (B10). */
  private splitTarget(req: Request): boolean {
    let t = req.target;
    if (t === '*') { req.path = req.pathRaw = '*'; req.query = null; return true; }
    if (t.charCodeAt(0) !== 47 /* / */) {
      // absolute-form: the parser already took the authority into req.host (B4)
      const pq = req.head.target === t ? req.head.pathAndQuery : t.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '');
      t = pq || '/';
    }
    // A fragment is not part of a request target (RFC 9112 §3.2); a client that sends one anyway
    // gets it dropped, as lighttpd drops it, rather than a lookup of "/file#frag".
    const hash = t.indexOf('#');
    if (hash >= 0) t = t.slice(0, hash);
    const q = t.indexOf('?');
    const raw = q < 0 ? t : t.slice(0, q);
    req.query = q < 0 ? null : t.slice(q + 1);
    // lighttpd's url-ctrls-reject (on by default): %00-%1F and %7F refused in the query too, so
    // no backend or script is handed a NUL or a line break it would decode (the path's are below).
    if (req.query !== null && this.server.rejectQueryControls && hasEncodedControl(req.query)) {
      req.keepAlive = false;
      req.sendError(400, 'LT_ERR_BAD_TARGET');
      return false;
    }
    // lighttpd's url-normalize: percent-escapes in upper case (`%3a` → `%3A`), so rewrite rules
    // and logs see one spelling; the target forwarded upstream stays as received (B10).
    req.pathRaw = raw.indexOf('%') < 0 ? raw : normalizeTarget(raw);
    const r = normalizePath(raw);
    if ('error' in r) {
      req.keepAlive = false;
      req.sendError(400, r.error.code);
      return false;
    }
    req.path = r.path;
    return true;
  }
}

/** The methods the server as a whole allows (OPTIONS *), in lighttpd's order. */
const SERVER_ALLOW = 'OPTIONS, GET, HEAD, POST';

function done(req: Request, r: HookResult): boolean {
  if (r === undefined) return req.finished;
  if (r === true) return true;
  if (typeof r === 'number') { finish(req, r); return true; }
  return req.finished;
}

function finish(req: Request, status: number): void {
  if (req.finished) return;
  if (status >= 400) req.sendError(status);
  else req.respond(status, req.responseHeaders.length ? req.responseHeaders : ['Content-Length', '0']);
}

/** What conditions are evaluated against (lighttpd's $HTTP[...] fields). */
export class RequestConditions implements ConditionContext {
  private readonly req: Request;
  constructor(req: Request) { this.req = req; }
  get host(): string { return this.req.host; }
  get url(): string { return this.req.path; }
  get querystring(): string { return this.req.query ?? ''; }
  get remoteip(): string { return this.req.conn.remoteAddress; }
  get scheme(): string { return this.req.scheme; }
  get method(): string { return this.req.method; }
  get serverSocket(): string { return this.req.conn.serverSocket; }
  header(name: string): string | undefined { return this.req.header(name); }
}

// lantern-proxy-backend-memcached: the "memcached" protocol for lantern's proxy-core, as nginx's
// ngx_http_memcached_module. Each request is answered from memcached: the key is the protocol
// option `keyPrefix` followed by the request path (decoded, without the query); `get <key>\r\n`
// goes up, a `VALUE` reply is answered 200 with the value as the body, a miss (`END`) 404, or,
// with the option `fallThrough`, goes on to the next handler (another backend, the static file).
// Connections are kept alive: one `get` per exchange, reusable after the `END` line.
//
// A third-party plugin: it imports only `lantern/plugin` and `lantern/proxy-core`.
import { definePlugin } from 'lantern/plugin';
import { LanternError, makeResponseHead } from 'lantern/proxy-core';

/** @typedef {import('lantern/proxy-core').Exchange} Exchange */
/** @typedef {import('lantern/proxy-core').ExchangeContext} ExchangeContext */
/** @typedef {import('lantern/proxy-core').ProtocolDefinition} ProtocolDefinition */
/** @typedef {import('lantern/proxy-core').ProtocolOptions} ProtocolOptions */
/** @typedef {import('lantern/proxy-core').ProxyCoreApi} ProxyCoreApi */
/** @typedef {import('lantern/proxy-core').ResponseSink} ResponseSink */
/** @typedef {import('lantern/proxy-core').UpstreamRequest} UpstreamRequest */

/** memcached's own limit on a key (bytes). */
export const MAX_KEY_BYTES = 250;
/** Longest reply line accepted before the data (`VALUE <250-byte key> <flags> <bytes> <cas>`). */
const MAX_LINE_BYTES = 1024;
const CRLF = Buffer.from('\r\n');
const END_LINE = Buffer.from('\r\nEND\r\n');

/**
 * The key for a request target: the path, percent-decoded to bytes (as nginx's $uri), without
 * the query, after `prefix`. Returns the key bytes, or null when memcached cannot take it
 * (control characters or spaces, more than 250 bytes, empty).
 * @param {string} target origin-form target
 * @param {string} prefix
 * @returns {Buffer | null}
 */
export function keyFor(target, prefix) {
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  /** @type {number[]} */
  const bytes = [...Buffer.from(prefix, 'utf8')];
  const src = Buffer.from(raw, 'latin1');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25 && i + 2 < src.length && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  const key = Buffer.from(bytes);
  if (key.length === 0 || key.length > MAX_KEY_BYTES) return null;
  for (const c of key) if (c <= 0x20 || c === 0x7f) return null;
  return key;
}

/** Where an exchange is in the reply. */
const State = {
  /** Waiting for the reply line (VALUE / END / an error). */
  LINE: 0,
  /** Passing `remaining` value bytes on. */
  DATA: 1,
  /** Waiting for "\r\nEND\r\n" after the value. */
  TAIL: 2,
  /** The reply is complete. */
  DONE: 3,
};

/** @implements {Exchange} */
class MemcachedExchange {
  /**
   * @param {UpstreamRequest} up
   * @param {ProtocolOptions} opts
   */
  constructor(up, opts) {
    this.up = up;
    this.contentType = /** @type {string} */ (opts.contentType);
    this.fallThrough = opts.fallThrough === true;
    this.isHead = up.method === 'HEAD';
    /** Bytes of an unfinished line / tail. */
    this.pending = Buffer.alloc(0);
    this.state = State.LINE;
    this.remaining = 0;
    this.clean = true;
    // Requests memcached cannot take are answered here, before anything is sent: proxy-core
    // answers with the error's status (and the fields it carries), keeps the memcached
    // connection pooled and blames nobody.
    if (up.method !== 'GET' && up.method !== 'HEAD') {
      throw new LanternError('LT_ERR_METHOD_NOT_ALLOWED', `memcached serves GET and HEAD, not ${up.method}`, { headers: ['Allow', 'GET, HEAD'] });
    }
    const key = keyFor(up.target, /** @type {string} */ (opts.keyPrefix));
    // 400, and the client's connection stays open.
    if (key === null) throw new LanternError('LT_ERR_NOT_FOR_BACKEND', 'the path is not a valid memcached key');
    /** @type {Buffer} */
    this.key = key;
  }

  head() {
    return Buffer.concat([Buffer.from('get '), this.key, CRLF]);
  }

  /** A request body is not sent to memcached (nginx ignores it too). */
  body() { return ''; }

  end() { return null; }

  /**
   * @param {Buffer} data
   * @param {ResponseSink} sink
   */
  receive(data, sink) {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      switch (this.state) {
        case State.LINE: {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_LINE_BYTES) { this.fail(sink, 'reply line too long'); return; }
            this.pending = Buffer.from(buf);
            return;
          }
          const line = buf.subarray(0, eol).toString('latin1');
          buf = buf.subarray(eol + 2);
          if (!this.replyLine(line, sink)) return;
          break;
        }
        case State.DATA: {
          const n = Math.min(this.remaining, buf.length);
          if (!this.isHead) sink.data(buf.subarray(0, n));
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.state = State.TAIL;
          break;
        }
        case State.TAIL: {
          const want = END_LINE.length;
          if (buf.length < want) {
            if (!END_LINE.subarray(0, buf.length).equals(buf)) { this.fail(sink, 'no "\\r\\nEND\\r\\n" after the value'); return; }
            this.pending = Buffer.from(buf);
            return;
          }
          if (!buf.subarray(0, want).equals(END_LINE)) { this.fail(sink, 'no "\\r\\nEND\\r\\n" after the value'); return; }
          buf = buf.subarray(want);
          this.state = State.DONE;
          sink.end();
          break;
        }
        case State.DONE:
          // Bytes after the reply: the connection cannot be trusted for the next request (D7).
          this.clean = false;
          return;
      }
    }
  }

  /**
   * The first reply line of a `get`.
   * @param {string} line
   * @param {ResponseSink} sink
   * @returns {boolean} false when the exchange ended with an error
   */
  replyLine(line, sink) {
    if (line === 'END') {
      this.state = State.DONE;
      // A miss: the handlers after this backend get the request (nginx: error_page 404 = @fallback).
      if (this.fallThrough) { sink.fallThrough(); return true; }
      sink.head(makeResponseHead(404, ['Content-Type', 'text/html', 'Content-Length', String(NOT_FOUND.length)], { requestMethod: this.up.method }));
      if (!this.isHead) sink.data(NOT_FOUND);
      sink.end();
      return true;
    }
    const m = /^VALUE (\S+) (\d+) (\d+)(?: \d+)?$/.exec(line);
    if (m === null) {
      // SERVER_ERROR / CLIENT_ERROR / ERROR or garbage: nginx answers 502 the same way.
      this.fail(sink, `unexpected reply ${JSON.stringify(line.slice(0, 80))}`);
      return false;
    }
    if (m[1] !== this.key.toString('latin1')) {
      this.fail(sink, `reply for another key ${JSON.stringify(m[1].slice(0, 80))}`);
      return false;
    }
    const length = Number(m[3]);
    if (!Number.isSafeInteger(length)) { this.fail(sink, 'invalid value length'); return false; }
    sink.head(makeResponseHead(200, ['Content-Type', this.contentType, 'Content-Length', String(length)], { requestMethod: this.up.method }));
    this.remaining = length;
    this.state = length > 0 ? State.DATA : State.TAIL;
    return true;
  }

  /**
   * @param {ResponseSink} sink
   * @param {string} why
   */
  fail(sink, why) {
    this.clean = false;
    this.state = State.DONE;
    sink.error('LT_ERR_BACKEND_BAD_RESPONSE', `memcached: ${why}`);
  }

  /** @param {ResponseSink} sink */
  receiveEnd(sink) {
    this.clean = false;
    if (this.state !== State.DONE) sink.error('LT_ERR_BACKEND_RESET', 'memcached closed the connection before the end of its reply');
  }

  reusable() { return this.clean && this.state === State.DONE && this.pending.length === 0; }
}

const NOT_FOUND = Buffer.from('<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n');

/** @type {ProtocolDefinition} */
export const memcachedProtocol = {
  name: 'memcached',
  keepAlive: true,
  // Nothing of a request body goes up: no need to know its length.
  streamsUnknownLength: true,
  usesEnv: false,
  options: {
    keyPrefix: { type: 'string', default: '', doc: 'Put before the request path to make the key (nginx: memcached_key "$prefix$uri"). Default: "" (the path alone).' },
    contentType: { type: 'string', default: 'application/octet-stream', doc: 'Content-Type of a value (memcached stores none; nginx uses default_type). Default: "application/octet-stream".' },
    fallThrough: { type: 'boolean', default: false, doc: 'On a miss, the request goes on to the handlers after this backend (a proxy.server, FastCGI or the static file in the same config scope), as nginx\'s memcached_pass with error_page 404 = @fallback. Default: false (a miss is 404).' },
  },
  createExchange(up, options) {
    return new MemcachedExchange(up, options);
  },
};

export default definePlugin({
  id: 'proxy-backend-memcached',
  apiVersion: 1,
  aliases: ['mod_proxy_backend_memcached'],
  requires: ['proxy-core'],
  create(ctx) {
    const core = /** @type {ProxyCoreApi | undefined} */ (ctx.server.host.api('proxy-core'));
    if (!core) throw new Error('proxy-backend-memcached: proxy-core is not loaded');
    core.registerProtocol(memcachedProtocol);
  },
});

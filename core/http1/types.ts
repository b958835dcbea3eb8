// Shared types of the core's HTTP/1.x framing (RFC 9112): request heads, response heads, limits.
import type { ErrorCode } from '../errors.js';

/**
 * Header fields as a flat list: [name0, value0, name1, value1, ...]. Names keep the case they
 * arrived in; values have leading and trailing whitespace removed (RFC 9112 §5). Order is kept.
 */
export type HeaderList = string[];

/** A parse failure: the error-table code, and a detail for the error log. */
export interface FramingError {
  code: ErrorCode;
  detail: string;
}

export interface RequestLimits {
  /** Longest request line, in bytes, before 414. lighttpd: 8 KiB. */
  maxRequestLineBytes: number;
  /** Longest single header field line, in bytes, before 431. */
  maxFieldBytes: number;
  /** Longest whole head (request line + fields + CRLFs), in bytes, before 431. */
  maxHeadBytes: number;
  /** Most header fields before 431. */
  maxHeaderCount: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxRequestLineBytes: 8192,
  maxFieldBytes: 8192,
  maxHeadBytes: 32768,
  maxHeaderCount: 256,
};

/** A parsed, validated request head. Framing fields are already checked (checklist A, B). */
export interface RequestHead {
  method: string;
  /** The request-target exactly as received (origin-form, absolute-form, authority-form or `*`). */
  target: string;
  /** 0 or 1: the core only speaks HTTP/1.x; anything else was refused with 505 or 400. */
  versionMinor: 0 | 1;
  headers: HeaderList;
  /**
   * The authority the request is for: from an absolute-form target if there is one (RFC 9112
   * §3.2.2, it wins over Host), else the single Host header; lowercased; '' when Host was empty
   * on HTTP/1.0 or absent on 1.0; never null on a valid 1.1 request.
   */
  host: string;
  /** Scheme from an absolute-form target, else null. */
  targetScheme: string | null;
  /** Path plus query of the target (for absolute-form, the part after the authority; `*` stays `*`). */
  pathAndQuery: string;
  /** Declared body length; -1 when there is none (also when chunked). */
  contentLength: number;
  /** `Transfer-Encoding: chunked` (the only coding the core accepts on requests). */
  chunked: boolean;
  /** Whether the connection may stay open after this exchange (version + Connection header). */
  keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request (ignored on 1.0, G4). */
  expectContinue: boolean;
  /** An HTTP/1.1 request has an Expect field (any value: one the core cannot meet is refused with 417). */
  hasExpect: boolean;
  /** Lowercased tokens of the Connection header(s). */
  connectionTokens: string[];
  /** Upgrade header value when `Connection: upgrade` was given on HTTP/1.1, else null. */
  upgrade: string | null;
  /** Bytes the head occupied, including the final CRLF CRLF and any leading empty lines. */
  headBytes: number;
}

/** Result of trying to parse a request head from the front of a buffer. */
export type RequestHeadResult =
  | { kind: 'incomplete' }
  /** Only empty lines so far (A16): nothing to answer yet. */
  | { kind: 'empty'; consumed: number }
  | { kind: 'error'; error: FramingError }
  | { kind: 'head'; head: RequestHead; consumed: number };

/** How a backend's response head is written. */
export type ResponseHeadMode =
  /** An HTTP/1.x status line and fields (proxy-backend-http). */
  | 'http'
  /** A CGI-style header block (RFC 3875 §6): FastCGI, SCGI, CGI, uwsgi. */
  | 'cgi';

export interface ResponseHeadOptions {
  mode: ResponseHeadMode;
  /** The request's method: a HEAD response never has a body (RFC 9112 §6.3(1)). */
  requestMethod: string;
  /** Largest head accepted, in bytes, before the response counts as bad (D5). */
  maxHeadBytes: number;
  /** Most header fields accepted. */
  maxHeaderCount?: number;
}

/** A parsed backend response head (checklist D). Hop-by-hop fields are NOT removed here. */
export interface ResponseHead {
  status: number;
  reason: string;
  /** 'http' mode: the status line's minor version. 'cgi' mode: 1. */
  versionMinor: 0 | 1;
  headers: HeaderList;
  /** Body length from Content-Length; -1 when absent. 0 for bodiless responses (HEAD, 1xx, 204, 304). */
  contentLength: number;
  /** Body is chunked (HTTP mode only). */
  chunked: boolean;
  /** No body at all: HEAD, 1xx, 204, 304. */
  noBody: boolean;
  /** Body runs until the backend closes (no CL, no chunked, HTTP mode); CGI bodies always end with the stream. */
  closeDelimited: boolean;
  /** HTTP mode: the backend keeps the connection open after this response (version + Connection). */
  keepAlive: boolean;
  /** CGI mode: a `Location:` with a local absolute path and no Status (RFC 3875 §6.2.2), else null. */
  localRedirect: string | null;
}

export type ResponseHeadResult =
  | { kind: 'incomplete' }
  | { kind: 'error'; error: FramingError }
  | { kind: 'head'; head: ResponseHead; consumed: number };

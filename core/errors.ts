// The error table: every failure the core or a plugin reports has one stable code, a status,
// the phase it happens in and a retry class (design.md §2, style.md "Errors").
// One function, errorResponse(), turns an error into what the client gets.

/** When a failed backend attempt may be retried (design.md §3, the retry rule). */
export type RetryClass =
  | 'never'        // the request itself is bad, or bytes went to the client
  | 'always'       // nothing reached the backend: any request may go to the next member
  | 'idempotent';  // bytes reached the backend: only idempotent requests with a buffered body

export type Phase = 'request' | 'config' | 'handler' | 'backend' | 'response';

export interface ErrorSpec {
  status: number;
  phase: Phase;
  retry: RetryClass;
  /** Close the client connection after the answer (framing can no longer be trusted). */
  close: boolean;
  message: string;
}

const t = (status: number, phase: Phase, retry: RetryClass, close: boolean, message: string): ErrorSpec =>
  ({ status, phase, retry, close, message });

export const ERRORS = {
  // request framing and validity (checklist A, B)
  LT_ERR_BAD_REQUEST: t(400, 'request', 'never', true, 'Bad Request'),
  LT_ERR_BAD_REQUEST_LINE: t(400, 'request', 'never', true, 'malformed request line'),
  LT_ERR_BAD_METHOD: t(400, 'request', 'never', true, 'invalid method token'),
  LT_ERR_BAD_VERSION: t(400, 'request', 'never', true, 'invalid HTTP version'),
  LT_ERR_VERSION_NOT_SUPPORTED: t(505, 'request', 'never', true, 'HTTP version not supported'),
  LT_ERR_BAD_TARGET: t(400, 'request', 'never', true, 'invalid request target'),
  LT_ERR_URI_TOO_LONG: t(414, 'request', 'never', true, 'request line too long'),
  LT_ERR_BAD_HEADER: t(400, 'request', 'never', true, 'malformed header field'),
  LT_ERR_HEADER_TOO_LARGE: t(431, 'request', 'never', true, 'header field too large'),
  LT_ERR_HEADERS_TOO_LARGE: t(431, 'request', 'never', true, 'header section too large'),
  LT_ERR_TOO_MANY_HEADERS: t(431, 'request', 'never', true, 'too many header fields'),
  LT_ERR_HOST_MISSING: t(400, 'request', 'never', true, 'missing Host header'),
  LT_ERR_HOST_DUPLICATE: t(400, 'request', 'never', true, 'more than one Host header'),
  LT_ERR_HOST_INVALID: t(400, 'request', 'never', true, 'invalid Host header'),
  LT_ERR_CL_INVALID: t(400, 'request', 'never', true, 'invalid Content-Length'),
  LT_ERR_CL_CONFLICT: t(400, 'request', 'never', true, 'conflicting Content-Length values'),
  LT_ERR_CL_AND_TE: t(400, 'request', 'never', true, 'both Content-Length and Transfer-Encoding'),
  LT_ERR_TE_INVALID: t(400, 'request', 'never', true, 'invalid Transfer-Encoding'),
  LT_ERR_TE_HTTP10: t(400, 'request', 'never', true, 'Transfer-Encoding in an HTTP/1.0 request'),
  LT_ERR_TE_NOT_IMPLEMENTED: t(501, 'request', 'never', true, 'transfer coding not implemented'),
  LT_ERR_CHUNK_INVALID: t(400, 'request', 'never', true, 'malformed chunked body'),
  LT_ERR_TRAILER_INVALID: t(400, 'request', 'never', true, 'malformed trailer field'),
  LT_ERR_BODY_TOO_LARGE: t(413, 'request', 'never', true, 'request body too large'),
  LT_ERR_LENGTH_REQUIRED: t(411, 'request', 'never', true, 'length required'),
  LT_ERR_EXPECTATION_FAILED: t(417, 'request', 'never', true, 'unsupported expectation'),
  LT_ERR_METHOD_NOT_ALLOWED: t(405, 'request', 'never', false, 'method not allowed'),
  LT_ERR_NOT_IMPLEMENTED: t(501, 'request', 'never', false, 'method not implemented'),
  LT_ERR_BAD_PATH: t(400, 'request', 'never', true, 'invalid URL path'),
  LT_ERR_REQUEST_TIMEOUT: t(408, 'request', 'never', true, 'request timeout'),
  // handlers
  LT_ERR_NOT_FOUND: t(404, 'handler', 'never', false, 'Not Found'),
  LT_ERR_FORBIDDEN: t(403, 'handler', 'never', false, 'Forbidden'),
  LT_ERR_RANGE_NOT_SATISFIABLE: t(416, 'handler', 'never', false, 'Range Not Satisfiable'),
  LT_ERR_PLUGIN_THREW: t(500, 'handler', 'never', false, 'a plugin failed while handling the request'),
  LT_ERR_INTERNAL: t(500, 'handler', 'never', false, 'Internal Server Error'),
  LT_ERR_UNAVAILABLE: t(503, 'handler', 'never', false, 'Service Unavailable'),
  // A protocol's local answer to a well-formed request its backend cannot take (a path that is no
  // memcached key): 400, and the client connection stays open.
  LT_ERR_NOT_FOR_BACKEND: t(400, 'handler', 'never', false, 'the request cannot be sent to this backend'),
  // backends (checklist D, E) — used by proxy-core
  // A refused connect is 503, as lighttpd's gw_backend.c answers a backend it cannot reach
  // (gw_write_error(): nothing reached the backend, the service is unavailable); a backend that
  // answered badly or closed mid-response stays 502.
  LT_ERR_BACKEND_REFUSED: t(503, 'backend', 'always', false, 'backend refused the connection'),
  LT_ERR_BACKEND_CONNECT_TIMEOUT: t(504, 'backend', 'always', false, 'backend connect timeout'),
  LT_ERR_BACKEND_READ_TIMEOUT: t(504, 'backend', 'idempotent', false, 'backend read timeout'),
  LT_ERR_BACKEND_WRITE_TIMEOUT: t(504, 'backend', 'idempotent', false, 'backend write timeout'),
  LT_ERR_BACKEND_RESET: t(502, 'backend', 'idempotent', false, 'backend closed the connection'),
  LT_ERR_BACKEND_BAD_RESPONSE: t(502, 'backend', 'never', false, 'invalid response from backend'),
  LT_ERR_BACKEND_ALL_DOWN: t(503, 'backend', 'never', false, 'no backend available'),
  LT_ERR_BACKEND_QUEUE_FULL: t(503, 'backend', 'never', false, 'backend queue full'),
  LT_ERR_BACKEND_QUEUE_TIMEOUT: t(504, 'backend', 'never', false, 'backend queue timeout'),
  // FastCGI END_REQUEST FCGI_OVERLOADED / FCGI_CANT_MPX_CONN: the backend refused the request
  // before running it (FastCGI 1.0 §5.5), so any request may go to the next member.
  LT_ERR_BACKEND_OVERLOADED: t(503, 'backend', 'always', false, 'backend overloaded'),
  // A CGI script (exec: transport) that could not run or sent no valid header block: 500, as
  // lighttpd's mod_cgi answers; the script ran (or may have), so nothing is retried.
  LT_ERR_SCRIPT_FAILED: t(500, 'backend', 'never', false, 'CGI script failed'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error carrying a code from the table; thrown or returned by parsers and plugins. */
export class LanternError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /**
   * Fields the answer carries (name, value, name, value...): those that belong to an error
   * response (Allow with a 405, WWW-Authenticate with a 401, Retry-After with a 503,
   * Content-Range with a 416); others are dropped with the body they would describe.
   */
  readonly headers: readonly string[];
  constructor(code: ErrorCode, detail?: string, opts?: { headers?: readonly string[] }) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message);
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = opts?.headers ?? [];
  }
  get spec(): ErrorSpec { return ERRORS[this.code]; }

  /**
   * A LanternError, or one made by another copy of this module (a plugin importing
   * `lantern/plugin` from a second install, or lantern run from its sources while the plugin
   * imports the build): same name and a code of the table.
   */
  static is(err: unknown): err is LanternError {
    if (err instanceof LanternError) return true;
    if (!(err instanceof Error) || err.name !== 'LanternError') return false;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && Object.hasOwn(ERRORS, code);
  }
}
LanternError.prototype.name = 'LanternError';

/** Reason phrases as lighttpd 1.4.69 sends them (src/http_kv.c), so status lines and error pages match. */
export const STATUS_TEXT: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 306: '(Unused)', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
  508: 'Loop Detected', 510: 'Not Extended', 511: 'Network Authentication Required',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}

/** The body lantern sends for an error status: lighttpd 1.4.69's page (response.c http_response_static_errdoc), byte for byte. */
export function errorPage(status: number): string {
  const text = `${status} ${statusText(status)}`;
  return '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${text}</title>\n </head>\n <body>\n  <h1>${text}</h1>\n </body>\n</html>\n`;
}

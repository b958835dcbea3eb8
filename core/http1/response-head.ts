// The one strict response-head parser every backend protocol shares: an HTTP/1.x status line and
// fields (RFC 9112 §4-§6), or a CGI header block (RFC 3875 §6). Checklist rows D1-D5, D9-D12.
import { Buffer } from 'node:buffer';
import { LanternError, statusText } from '../errors.js';
import {
  FIELD_OK, FIELD_PARTIAL, FIELD_SCAN_DETAIL, FIELD_VALUE, TE_CHUNKED, bytesEqualLower,
  TCHAR, classifyTransferCoding, fieldScan, hasToken, parseContentLength, pushListTokensLower, scanFieldLine,
} from './field-lines.js';
import type { HeaderList, ResponseHead, ResponseHeadMode, ResponseHeadOptions, ResponseHeadResult } from './types.js';
import { latin1 } from './latin1.js';

/** Default for ResponseHeadOptions.maxHeaderCount: backends send more fields than clients (Set-Cookie). */
const DEFAULT_MAX_HEADER_COUNT = 512;

const INCOMPLETE: ResponseHeadResult = Object.freeze({ kind: 'incomplete' as const });
const HTTP_PREFIX = 'HTTP/';
const CRLF_CRLF = Buffer.from('\r\n\r\n');
/** Above this many bytes an unfinished head is only searched natively (see request-head.ts). */
const JS_RESCAN_LIMIT_BYTES = 4096;

/** The fields of a ValidatedHead are ResponseHead's (declaration merging). */
interface ValidatedHead extends ResponseHead {}

/**
 * A head this parser (or makeResponseHead) produced: its fields are known valid (G7). The mark is
 * a private field, so it is the object itself that counts: a copy (`{ ...head }`) is not marked.
 * (A WeakSet of heads did the same at the cost of an ephemeron-table entry per response.) The
 * constructor sets the fields in one order, so every head has one shape.
 */
class ValidatedHead {
  readonly #validated = true;

  constructor(h: ResponseHead) {
    this.status = h.status;
    this.reason = h.reason;
    this.versionMinor = h.versionMinor;
    this.headers = h.headers;
    this.contentLength = h.contentLength;
    this.chunked = h.chunked;
    this.noBody = h.noBody;
    this.closeDelimited = h.closeDelimited;
    this.keepAlive = h.keepAlive;
    this.localRedirect = h.localRedirect;
  }

  static is(h: ResponseHead): boolean {
    return #validated in h;
  }
}

/** The head came from parseResponseHead or makeResponseHead (so it cannot split a response). */
export function isValidatedHead(h: ResponseHead): boolean {
  return ValidatedHead.is(h);
}

/**
 * Why a head built outside the parser cannot be sent, or null (G7, RFC 9110 §5.5, §15): a status
 * of three digits from 100 to 599, field names that are tokens, values without CR, LF or NUL,
 * a reason phrase without CR or LF.
 */
export function checkResponseHead(h: ResponseHead): string | null {
  if (!Number.isInteger(h.status) || h.status < 100 || h.status > 599) return `invalid status ${JSON.stringify(h.status)}`;
  if (typeof h.reason !== 'string' || /[\r\n\0]/.test(h.reason)) return 'CR, LF or NUL in the reason phrase';
  const list = h.headers;
  if (!Array.isArray(list) || list.length % 2 !== 0) return 'the field list is not name/value pairs';
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    const value = list[i + 1];
    if (typeof name !== 'string' || name.length === 0) return 'an empty field name';
    for (let j = 0; j < name.length; j++) {
      const c = name.charCodeAt(j);
      if (c > 255 || TCHAR[c] !== 1) return `invalid field name ${JSON.stringify(name)}`;
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) return `CR, LF or NUL in ${name}`;
  }
  return null;
}

/**
 * The one validated constructor for a response head a protocol builds itself (no parse): throws
 * a LanternError (LT_ERR_BACKEND_BAD_RESPONSE) when the head could split the response (G7).
 * The body is delimited by the stream unless a Content-Length field gives its length.
 */
export function makeResponseHead(status: number, headers: HeaderList, opts: { reason?: string; requestMethod?: string } = {}): ResponseHead {
  let contentLength = -1;
  for (let i = 0; i < headers.length; i += 2) {
    if (typeof headers[i] === 'string' && headers[i]!.length === 14 && headers[i]!.toLowerCase() === 'content-length') {
      const n = parseContentLength(String(headers[i + 1]));
      if (n < 0 || (contentLength >= 0 && n !== contentLength)) throw new LanternError('LT_ERR_BACKEND_BAD_RESPONSE', 'invalid Content-Length');
      contentLength = n;
    }
  }
  const noBody = isBodiless(status, opts.requestMethod ?? 'GET');
  const head: ResponseHead = new ValidatedHead({
    status,
    reason: opts.reason ?? statusText(status),
    versionMinor: 1,
    headers,
    contentLength: noBody ? 0 : contentLength,
    chunked: false,
    noBody,
    closeDelimited: !noBody && contentLength < 0,
    keepAlive: true,
    localRedirect: null,
  });
  const why = checkResponseHead(head);
  if (why !== null) throw new LanternError('LT_ERR_BACKEND_BAD_RESPONSE', why);
  return head;
}

function bad(detail: string): ResponseHeadResult {
  return { kind: 'error', error: { code: 'LT_ERR_BACKEND_BAD_RESPONSE', detail } };
}

/**
 * Which parser a gateway backend's output needs (FastCGI, SCGI, uwsgi, CGI), from its first bytes:
 * `HTTP/` starts a status line (an NPH script, uWSGI, an app that writes one); anything else is a
 * CGI header block ('/' is not a token character, so no CGI field name starts so). null while the
 * bytes so far are still a prefix of `HTTP/`.
 */
export function gatewayResponseMode(buf: Buffer): ResponseHeadMode | null {
  const n = Math.min(buf.length, HTTP_PREFIX.length);
  for (let i = 0; i < n; i++) if (buf[i] !== HTTP_PREFIX.charCodeAt(i)) return 'cgi';
  return n === HTTP_PREFIX.length ? 'http' : null;
}

/**
 * Parses the response head at the front of `buf`. 'http' mode needs CRLF line endings; 'cgi'
 * mode also takes bare LF (many scripts print `\n`), never a bare CR. Every failure is
 * LT_ERR_BACKEND_BAD_RESPONSE (502) with a detail for the error log.
 */
export function parseResponseHead(buf: Buffer, opts: ResponseHeadOptions): ResponseHeadResult {
  const cgi = opts.mode === 'cgi';
  const len = buf.length;
  if (len > JS_RESCAN_LIMIT_BYTES && !hasHeadEnd(buf, cgi)) {
    return len >= opts.maxHeadBytes ? bad(`head over ${opts.maxHeadBytes} bytes`) : INCOMPLETE;
  }
  const end = scanHead(buf, cgi, opts);
  if (typeof end === 'string') return bad(end);
  if (end < 0) return len >= opts.maxHeadBytes ? bad(`head over ${opts.maxHeadBytes} bytes`) : INCOMPLETE;
  if (end > opts.maxHeadBytes) return bad(`head over ${opts.maxHeadBytes} bytes`);
  const s = latin1(buf, 0, end);
  return cgi ? buildCgi(buf, s, end, opts) : buildHttp(buf, s, end, opts);
}

function hasHeadEnd(buf: Buffer, cgi: boolean): boolean {
  if (buf.indexOf(CRLF_CRLF) !== -1) return true;
  return cgi && (buf.indexOf('\n\n') !== -1 || buf.indexOf('\n\r\n') !== -1);
}

/** What scanHead() found: the status line's parts and four offsets per field line. */
const scan = { status: 0, minor: 0, reasonStart: 0, reasonEnd: 0, fieldCount: 0 };
let fieldOffsets = new Int32Array(4 * 64);

/**
 * Validates the status line (http mode) and the field lines, recording where their parts are.
 * Returns the offset just past the empty line, -1 when the buffer ends first, or why it is bad.
 */
function scanHead(b: Buffer, cgi: boolean, opts: ResponseHeadOptions): number | string {
  const len = b.length;
  let pos = 0;
  if (!cgi) {
    // D5: garbage instead of a status line is refused from its first bytes.
    const n = Math.min(len, HTTP_PREFIX.length);
    for (let k = 0; k < n; k++) if (b[k] !== HTTP_PREFIX.charCodeAt(k)) return 'no HTTP status line';
    pos = scanStatusLine(b);
    if (pos <= 0) return pos === 0 ? 'malformed status line' : -1;
  }
  const maxCount = opts.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT;
  if (fieldOffsets.length < 4 * maxCount) fieldOffsets = new Int32Array(4 * maxCount);
  const offsets = fieldOffsets;
  let count = 0;
  for (;;) {
    if (pos >= len) return -1;
    const c = b[pos];
    if (c === 0x0d || (cgi && c === 0x0a)) {
      let end = pos + 1;
      if (c === 0x0d) {
        if (end >= len) return -1;
        if (b[end] !== 0x0a) return 'bare CR';
        end++;
      }
      // RFC 3875 §6.2: a CGI response has at least one header field.
      if (cgi && count === 0) return 'empty CGI header block';
      scan.fieldCount = count;
      return end;
    }
    if (count === maxCount) return `more than ${maxCount} fields`;
    const r = scanFieldLine(b, pos, cgi);
    // D4: obs-fold, NUL/CR/LF in a value and whitespace before the colon are all refused.
    if (r === FIELD_PARTIAL) return -1;
    if (r !== FIELD_OK) return FIELD_SCAN_DETAIL[r]!;
    const k = count * 4;
    offsets[k] = pos;
    offsets[k + 1] = fieldScan.nameEnd;
    offsets[k + 2] = fieldScan.valueStart;
    offsets[k + 3] = fieldScan.valueEnd;
    count++;
    pos = fieldScan.next;
  }
}

/**
 * status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF (RFC 9112 §4). A missing
 * reason with its SP (`HTTP/1.1 200\r\n`) is accepted too. Returns the offset of the first
 * field line, -1 when the buffer ends first, 0 when the line is malformed.
 */
function scanStatusLine(b: Buffer): number {
  const len = b.length;
  if (len < 13) return -1;
  const major = b[5]! - 0x30;
  const minor = b[7]! - 0x30;
  const s1 = b[9]! - 0x30;
  const s2 = b[10]! - 0x30;
  const s3 = b[11]! - 0x30;
  // RFC 9110 §15: only 100..599 are status codes; other HTTP majors are not spoken here.
  if (
    major !== 1 || b[6] !== 0x2e || !(minor >= 0 && minor <= 9) || b[8] !== 0x20 ||
    !(s1 >= 1 && s1 <= 5) || !(s2 >= 0 && s2 <= 9) || !(s3 >= 0 && s3 <= 9)
  ) {
    return 0;
  }
  scan.status = s1 * 100 + s2 * 10 + s3;
  scan.minor = minor;
  let i = 12;
  if (b[i] === 0x20) i++;
  scan.reasonStart = i;
  while (i < len && FIELD_VALUE[b[i]!] === 1) i++;
  scan.reasonEnd = i;
  if (i + 1 >= len) return -1;
  if (b[i] !== 0x0d || b[i + 1] !== 0x0a) return 0;
  // `HTTP/1.1 200X` (no SP before the reason) is not a status line.
  if (scan.reasonStart === 12 && i !== 12) return 0;
  return i + 2;
}

/** Header values the framing decision needs, gathered while the fields are built. */
interface Framing {
  headers: HeaderList;
  contentLength: number;
  te: string | null;
  connection: string[];
  status: string | null;
  location: string | null;
}

/** Builds the header list from the recorded offsets; returns null or why the fields are bad. */
function buildFields(b: Buffer, s: string, cgi: boolean, f: Framing): string | null {
  const offsets = fieldOffsets;
  const n = scan.fieldCount * 4;
  for (let k = 0; k < n; k += 4) {
    const nameStart = offsets[k]!;
    const nameEnd = offsets[k + 1]!;
    let value = s.slice(offsets[k + 2]!, offsets[k + 3]!);
    let keep = true;
    switch (nameEnd - nameStart) {
      case 14:
        if (bytesEqualLower(b, nameStart, 'content-length')) {
          const cl = parseContentLength(value);
          if (cl === -1) return 'invalid Content-Length';
          // D2: RFC 9112 §6.3(5) different lengths mean the framing cannot be trusted.
          if (cl === -2 || (f.contentLength >= 0 && cl !== f.contentLength)) return 'conflicting Content-Length';
          if (f.contentLength >= 0) keep = false;
          else if (value.indexOf(',') !== -1) value = String(cl);
          f.contentLength = cl;
        }
        break;
      case 17:
        if (bytesEqualLower(b, nameStart, 'transfer-encoding')) {
          f.te = f.te === null ? value : f.te + ',' + value;
          // RFC 3875 §6.3: a script must not send it, and it says nothing about the output's framing.
          if (cgi) keep = false;
        }
        break;
      case 10:
        if (bytesEqualLower(b, nameStart, 'connection')) pushListTokensLower(value, f.connection);
        break;
      case 6:
        if (cgi && bytesEqualLower(b, nameStart, 'status')) {
          if (f.status !== null) return 'two Status fields';
          f.status = value;
          keep = false;
        }
        break;
      case 8:
        if (cgi && bytesEqualLower(b, nameStart, 'location')) f.location = value;
        break;
    }
    if (keep) f.headers.push(s.slice(nameStart, nameEnd), value);
  }
  return null;
}

/** A bodiless response (RFC 9112 §6.3(1)): HEAD, 1xx, 204, 304. */
function isBodiless(status: number, requestMethod: string): boolean {
  return requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304;
}

function buildHttp(b: Buffer, s: string, end: number, opts: ResponseHeadOptions): ResponseHeadResult {
  const status = scan.status;
  const reason = s.slice(scan.reasonStart, scan.reasonEnd);
  const versionMinor: 0 | 1 = scan.minor === 0 ? 0 : 1;
  const f: Framing = { headers: [], contentLength: -1, te: null, connection: [], status: null, location: null };
  const fieldError = buildFields(b, s, false, f);
  if (fieldError !== null) return bad(fieldError);
  let chunked = false;
  if (f.te !== null) {
    // D1: RFC 9112 §6.3(3) CL with TE is a smuggling sign; D3: only a single chunked is decoded.
    if (f.contentLength >= 0) return bad('both Content-Length and Transfer-Encoding');
    if (classifyTransferCoding(f.te) !== TE_CHUNKED) return bad('Transfer-Encoding other than chunked');
    chunked = true;
  }
  const noBody = isBodiless(status, opts.requestMethod);
  const closeDelimited = !noBody && !chunked && f.contentLength < 0;
  const close = hasToken(f.connection, 'close');
  const head: ResponseHead = new ValidatedHead({
    status,
    reason,
    versionMinor,
    headers: f.headers,
    contentLength: noBody ? 0 : f.contentLength,
    chunked: noBody ? false : chunked,
    noBody,
    closeDelimited,
    // RFC 9112 §9.3: 1.1 persists unless "close", 1.0 only with "keep-alive"; a close-delimited body ends the connection.
    keepAlive: !closeDelimited && !close && (versionMinor === 1 || hasToken(f.connection, 'keep-alive')),
    localRedirect: null,
  });
  return { kind: 'head', head, consumed: end };
}

/** A CGI header block (RFC 3875 §6.2-§6.3): Status, Location and Content-Type decide the response. */
function buildCgi(b: Buffer, s: string, end: number, opts: ResponseHeadOptions): ResponseHeadResult {
  const f: Framing = { headers: [], contentLength: -1, te: null, connection: [], status: null, location: null };
  const fieldError = buildFields(b, s, true, f);
  if (fieldError !== null) return bad(fieldError);
  let status = 200;
  let reason = '';
  let localRedirect: string | null = null;
  if (f.status !== null) {
    // §6.3.3: Status = 3DIGIT [SP reason-phrase], 100..599.
    const v = f.status;
    if (v.length < 3) return bad('invalid CGI Status');
    const d1 = v.charCodeAt(0) - 0x30;
    const d2 = v.charCodeAt(1) - 0x30;
    const d3 = v.charCodeAt(2) - 0x30;
    if (!(d1 >= 1 && d1 <= 5 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9) || (v.length > 3 && v.charCodeAt(3) !== 0x20)) {
      return bad('invalid CGI Status');
    }
    status = d1 * 100 + d2 * 10 + d3;
    reason = v.length > 4 ? v.slice(4) : '';
  } else if (f.location !== null) {
    const loc = f.location;
    // §6.2.2: a local path is served by the server itself; `//host` is a network path, not local.
    if (loc.length > 0 && loc.charCodeAt(0) === 0x2f && (loc.length === 1 || loc.charCodeAt(1) !== 0x2f)) localRedirect = loc;
    else status = 302;
  }
  if (reason === '') reason = statusText(status);
  const noBody = isBodiless(status, opts.requestMethod);
  // RFC 3875 §6.3 gives a script no say in the framing, but some send `Transfer-Encoding: chunked`
  // and chunk their output: it is decoded (as lighttpd does), never passed on as the body. Only a
  // single chunked coding, and never with a Content-Length (D1, D3, as from an HTTP backend).
  let chunked = false;
  if (f.te !== null) {
    if (f.contentLength >= 0) return bad('both Content-Length and Transfer-Encoding');
    if (classifyTransferCoding(f.te) !== TE_CHUNKED) return bad('Transfer-Encoding other than chunked');
    chunked = !noBody;
  }
  const head: ResponseHead = new ValidatedHead({
    status,
    reason,
    versionMinor: 1,
    headers: f.headers,
    contentLength: noBody ? 0 : f.contentLength,
    chunked,
    noBody,
    // The CGI body ends with the stream unless a Content-Length or chunking says otherwise (the protocol decides).
    closeDelimited: !noBody && !chunked && f.contentLength < 0,
    keepAlive: true,
    localRedirect,
  });
  return { kind: 'head', head, consumed: end };
}

// The one strict response-head parser every backend protocol shares: an HTTP/1.x status line and
// fields (RFC 9112 §4-§6), or a CGI header block (RFC 3875 §6). Checklist rows D1-D5, D9-D12.
import { statusText } from '../errors.js';
import {
  FIELD_OK, FIELD_SCAN_DETAIL, FIELD_VALUE, TE_CHUNKED, bytesEqualLower, classifyTransferCoding, fieldScan,
  hasToken, parseContentLength, pushListTokensLower, scanFieldLine,
} from './field-lines.js';
import type { HeaderList, ResponseHead, ResponseHeadOptions, ResponseHeadResult } from './types.js';

/** Default for ResponseHeadOptions.maxHeaderCount: backends send more fields than clients (Set-Cookie). */
const DEFAULT_MAX_HEADER_COUNT = 512;

interface Latin1Source {
  latin1Slice(start: number, end: number): string;
}

const INCOMPLETE: ResponseHeadResult = Object.freeze({ kind: 'incomplete' as const });
const HTTP_PREFIX = 'HTTP/';

function bad(detail: string): ResponseHeadResult {
  return { kind: 'error', error: { code: 'LT_ERR_BACKEND_BAD_RESPONSE', detail } };
}

/**
 * Parses the response head at the front of `buf`. 'http' mode needs CRLF line endings; 'cgi'
 * mode also takes bare LF (many scripts print `\n`), never a bare CR. Every failure is
 * LT_ERR_BACKEND_BAD_RESPONSE (502) with a detail for the error log.
 */
export function parseResponseHead(buf: Buffer, opts: ResponseHeadOptions): ResponseHeadResult {
  const cgi = opts.mode === 'cgi';
  if (!cgi) {
    // D5: garbage instead of a status line is refused from its first bytes.
    const n = Math.min(buf.length, HTTP_PREFIX.length);
    for (let k = 0; k < n; k++) if (buf[k] !== HTTP_PREFIX.charCodeAt(k)) return bad('no HTTP status line');
  }
  const end = findEnd(buf, cgi, opts);
  if (typeof end === 'string') return bad(end);
  if (end < 0) return INCOMPLETE;
  const s = (buf as unknown as Latin1Source).latin1Slice(0, end);
  return cgi ? parseCgi(buf, s, end, opts) : parseHttp(buf, s, end, opts);
}

/** Offset past the empty line ending the head, -1 if not here yet, or why the head is bad. */
function findEnd(buf: Buffer, cgi: boolean, opts: ResponseHeadOptions): number | string {
  const maxCount = opts.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT;
  let pos = 0;
  let line = 0;
  for (;;) {
    const lf = buf.indexOf(0x0a, pos);
    if (lf === -1) return buf.length >= opts.maxHeadBytes ? `head over ${opts.maxHeadBytes} bytes` : -1;
    const hasCr = lf > pos && buf[lf - 1] === 0x0d;
    if (!hasCr && !cgi) return 'bare LF line ending';
    if (lf + 1 > opts.maxHeadBytes) return `head over ${opts.maxHeadBytes} bytes`;
    const empty = lf === pos || (hasCr && lf === pos + 1);
    if (empty) {
      // RFC 3875 §6.2: a CGI response has at least one header field; an HTTP one a status line.
      if (line === 0) return cgi ? 'empty CGI header block' : 'no HTTP status line';
      return lf + 1;
    }
    // The status line does not count as a field.
    if (line - (cgi ? 0 : 1) >= maxCount) return `more than ${maxCount} fields`;
    line++;
    pos = lf + 1;
  }
}

/** Header values the framing decision needs, collected while the fields are scanned. */
interface Framing {
  headers: HeaderList;
  contentLength: number;
  te: string | null;
  connection: string[];
  status: string | null;
  location: string | null;
}

/**
 * Scans the field lines in [pos, fieldsEnd) of `b`, whose latin1 text from offset 0 is `s`;
 * returns null or why they are bad.
 */
function scanFields(b: Buffer, s: string, pos: number, fieldsEnd: number, cgi: boolean, f: Framing): string | null {
  while (pos < fieldsEnd) {
    const r = scanFieldLine(b, pos, cgi);
    // D4: obs-fold, NUL/CR/LF in a value and whitespace before the colon are all refused.
    if (r !== FIELD_OK) return FIELD_SCAN_DETAIL[r]!;
    const nameEnd = fieldScan.nameEnd;
    const next = fieldScan.next;
    let value = s.slice(fieldScan.valueStart, fieldScan.valueEnd);
    let keep = true;
    switch (nameEnd - pos) {
      case 14:
        if (bytesEqualLower(b, pos, 'content-length')) {
          const n = parseContentLength(value);
          if (n === -1) return 'invalid Content-Length';
          // D2: RFC 9112 §6.3(5) different lengths mean the framing cannot be trusted.
          if (n === -2 || (f.contentLength >= 0 && n !== f.contentLength)) return 'conflicting Content-Length';
          if (f.contentLength >= 0) keep = false;
          else if (value.indexOf(',') !== -1) value = String(n);
          f.contentLength = n;
        }
        break;
      case 17:
        if (bytesEqualLower(b, pos, 'transfer-encoding')) {
          f.te = f.te === null ? value : f.te + ',' + value;
          // RFC 3875 §6.3: a script must not send it; it says nothing about the script's output framing.
          if (cgi) keep = false;
        }
        break;
      case 10:
        if (bytesEqualLower(b, pos, 'connection')) pushListTokensLower(value, f.connection);
        break;
      case 6:
        if (cgi && bytesEqualLower(b, pos, 'status')) {
          if (f.status !== null) return 'two Status fields';
          f.status = value;
          keep = false;
        }
        break;
      case 8:
        if (cgi && bytesEqualLower(b, pos, 'location')) f.location = value;
        break;
    }
    if (keep) f.headers.push(s.slice(pos, nameEnd), value);
    pos = next;
  }
  return null;
}

/** A bodiless response (RFC 9112 §6.3(1)): HEAD, 1xx, 204, 304. */
function isBodiless(status: number, requestMethod: string): boolean {
  return requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/** status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] (RFC 9112 §4), then fields. */
function parseHttp(b: Buffer, s: string, end: number, opts: ResponseHeadOptions): ResponseHeadResult {
  const major = s.charCodeAt(5) - 0x30;
  const minor = s.charCodeAt(7) - 0x30;
  if (major !== 1 || s.charCodeAt(6) !== 0x2e || !(minor >= 0 && minor <= 9) || s.charCodeAt(8) !== 0x20) {
    return bad('malformed status line');
  }
  const status = threeDigits(s, 9);
  if (status < 0) return bad('malformed status code');
  let i = 12;
  let c = s.charCodeAt(i);
  let reason = '';
  if (c === 0x20) {
    // A missing reason (`HTTP/1.1 200\r\n`) is accepted too: RFC 9112 §4 asks clients to.
    const reasonStart = ++i;
    c = s.charCodeAt(i);
    while (FIELD_VALUE[c] === 1) c = s.charCodeAt(++i);
    reason = s.slice(reasonStart, i);
  }
  if (c !== 0x0d || s.charCodeAt(i + 1) !== 0x0a) return bad('malformed status line');
  const f: Framing = { headers: [], contentLength: -1, te: null, connection: [], status: null, location: null };
  const fieldError = scanFields(b, s, i + 2, end - 2, false, f);
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
  const versionMinor: 0 | 1 = minor === 0 ? 0 : 1;
  const head: ResponseHead = {
    status,
    reason,
    versionMinor,
    headers: f.headers,
    contentLength: noBody ? 0 : f.contentLength,
    chunked: noBody ? false : chunked,
    noBody,
    closeDelimited,
    keepAlive: !closeDelimited && !close && (versionMinor === 1 || hasToken(f.connection, 'keep-alive')),
    localRedirect: null,
  };
  return { kind: 'head', head, consumed: end };
}

/** 3DIGIT in 100..599 (RFC 9110 §15: other values are not HTTP status codes), else -1. */
function threeDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - 0x30;
  const b = s.charCodeAt(at + 1) - 0x30;
  const c = s.charCodeAt(at + 2) - 0x30;
  if (!(a >= 1 && a <= 5 && b >= 0 && b <= 9 && c >= 0 && c <= 9)) return -1;
  return a * 100 + b * 10 + c;
}

/** A CGI header block (RFC 3875 §6.2-§6.3): Status, Location and Content-Type decide the response. */
function parseCgi(b: Buffer, s: string, end: number, opts: ResponseHeadOptions): ResponseHeadResult {
  // The empty line is CRLF or a bare LF: the byte before its LF tells which.
  const fieldsEnd = end - (s.charCodeAt(end - 2) === 0x0d ? 2 : 1);
  const f: Framing = { headers: [], contentLength: -1, te: null, connection: [], status: null, location: null };
  const fieldError = scanFields(b, s, 0, fieldsEnd, true, f);
  if (fieldError !== null) return bad(fieldError);
  let status = 200;
  let reason = '';
  let localRedirect: string | null = null;
  if (f.status !== null) {
    // §6.3.3: Status = 3DIGIT [SP reason-phrase].
    const v = f.status;
    status = threeDigits(v, 0);
    if (status < 0 || (v.length > 3 && v.charCodeAt(3) !== 0x20)) return bad('invalid CGI Status');
    reason = v.length > 4 ? v.slice(4) : '';
  } else if (f.location !== null) {
    const loc = f.location;
    // §6.2.2: a local path is served by the server itself; `//host` is a network path, not local.
    if (loc.charCodeAt(0) === 0x2f && loc.charCodeAt(1) !== 0x2f) localRedirect = loc;
    else status = 302;
  }
  if (reason === '') reason = statusText(status);
  const noBody = isBodiless(status, opts.requestMethod);
  const head: ResponseHead = {
    status,
    reason,
    versionMinor: 1,
    headers: f.headers,
    contentLength: noBody ? 0 : f.contentLength,
    chunked: false,
    noBody,
    // The CGI body ends with the stream unless a Content-Length says otherwise (the protocol decides).
    closeDelimited: !noBody && f.contentLength < 0,
    keepAlive: true,
    localRedirect,
  };
  return { kind: 'head', head, consumed: end };
}

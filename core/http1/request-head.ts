// Strict HTTP/1.x request-head parser (RFC 9112 §2-§6, RFC 9110 §5, §7.2, §8.6): a pure function
// over the bytes received so far. Checklist rows A1-A7, A16, B1-B9 are decided here.
import type { ErrorCode } from '../errors.js';
import { normalizeAuthority } from './authority.js';
import {
  FIELD_OK, FIELD_SCAN_DETAIL, TCHAR, TE_INVALID, TE_NOT_IMPLEMENTED, classifyTransferCoding,
  equalsLower, fieldScan, hasToken, parseContentLength, pushListTokensLower, scanFieldLine,
} from './field-lines.js';
import type { FramingError, HeaderList, RequestHead, RequestHeadResult, RequestLimits } from './types.js';

export interface RequestHeadOptions {
  /**
   * Accept an empty `Host:` on HTTP/1.1 (the head's host is then ''). Default false: 400
   * LT_ERR_HOST_INVALID, as checklist C6 asks when no default host is configured.
   */
  allowEmptyHost?: boolean;
}

/** Node's Buffer has had latin1Slice forever; it skips toString()'s argument juggling. */
interface Latin1Source {
  latin1Slice(start: number, end: number): string;
}

const INCOMPLETE: RequestHeadResult = Object.freeze({ kind: 'incomplete' as const });

/**
 * Parses the request head at the front of `buf` (the bytes received so far at the start of a
 * message). Returns 'incomplete' until CRLF CRLF arrives (but errors as soon as a limit is passed
 * or a byte proves the head bad), 'empty' when only empty lines arrived (RFC 9112 §2.2: they are
 * skipped), else the validated head or the first rule it breaks.
 *
 * Version choice: `HTTP/1.0` and `HTTP/1.1` as received; any other well-formed `HTTP/1.d` is
 * handled as 1.1 (RFC 9110 §2.5: a higher minor version of a major we implement); a well-formed
 * `HTTP/d.d` with major ≠ 1 is 505; anything else (`HTTP/1.01`, `HTTP/1.32`, `http/1.1`) is 400.
 */
export function parseRequestHead(buf: Buffer, limits: RequestLimits, opts?: RequestHeadOptions): RequestHeadResult {
  const len = buf.length;
  let start = 0;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line.
  while (start + 1 < len && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start === len || (start + 1 === len && buf[start] === 0x0d)) {
    return start === 0 ? INCOMPLETE : { kind: 'empty', consumed: start };
  }
  const end = findHeadEnd(buf, start, limits);
  if (typeof end !== 'number') return { kind: 'error', error: end };
  if (end < 0) {
    // The request line alone is enough to refuse a bad method, target or version early.
    if (firstLineEnd > 0) {
      const lineError = parseRequestLine((buf as unknown as Latin1Source).latin1Slice(start, firstLineEnd));
      if (lineError !== null) return { kind: 'error', error: lineError };
    }
    return INCOMPLETE;
  }
  const s = (buf as unknown as Latin1Source).latin1Slice(start, end);
  const lineError = parseRequestLine(s);
  if (lineError !== null) return { kind: 'error', error: lineError };
  return parseFields(s, end, rl.versionMinor, opts);
}

/** What parseRequestLine() found (one shared record: the parser is synchronous). */
const rl = {
  method: '',
  target: '',
  versionMinor: 1 as 0 | 1,
  pathAndQuery: '',
  /** Authority of an absolute-form target, normalised; else null. */
  absoluteHost: null as string | null,
  scheme: null as string | null,
  /** Offset of the first field line. */
  next: 0,
};

function framing(code: ErrorCode, detail: string): FramingError {
  return { code, detail };
}

function fail(code: ErrorCode, detail: string): RequestHeadResult {
  return { kind: 'error', error: { code, detail } };
}

/** Offset just past the request line's CRLF, set by findHeadEnd(); -1 while that line is unfinished. */
let firstLineEnd = -1;

/**
 * Walks the lines with the native LF search, checking line endings and every size limit (B9).
 * Returns the offset just past CRLF CRLF, -1 when the head is not complete yet, or an error.
 */
function findHeadEnd(buf: Buffer, start: number, limits: RequestLimits): number | FramingError {
  let pos = start;
  let line = 0;
  firstLineEnd = -1;
  for (;;) {
    const lf = buf.indexOf(0x0a, pos);
    if (lf === -1) return checkPartialLine(buf, start, pos, line, limits);
    if (lf === pos || buf[lf - 1] !== 0x0d) {
      // RFC 9112 §2.2 lets a recipient accept a bare LF; we refuse it (smuggling hides in the difference).
      return framing(line === 0 ? 'LT_ERR_BAD_REQUEST_LINE' : 'LT_ERR_BAD_HEADER', 'bare LF line ending');
    }
    const content = lf - 1 - pos;
    if (line === 0) {
      if (content > limits.maxRequestLineBytes) return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
      firstLineEnd = lf + 1;
    } else if (content > 0) {
      if (content > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
      if (line > limits.maxHeaderCount) return framing('LT_ERR_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} fields`);
    }
    if (lf + 1 - start > limits.maxHeadBytes) return framing('LT_ERR_HEADERS_TOO_LARGE', `head over ${limits.maxHeadBytes} bytes`);
    if (content === 0) return lf + 1;
    line++;
    pos = lf + 1;
  }
}

/** Limits on the unfinished last line: refuse as soon as the finished head could only be refused. */
function checkPartialLine(buf: Buffer, start: number, pos: number, line: number, limits: RequestLimits): number | FramingError {
  const len = buf.length;
  // A final CR may be the first half of the CRLF: it is not content.
  const content = len - pos - (buf[len - 1] === 0x0d ? 1 : 0);
  if (line === 0) {
    if (content > limits.maxRequestLineBytes) return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
    // A byte that no method holds shows garbage at once (a TLS hello on a plain port, say).
    let i = pos;
    while (i < len && TCHAR[buf[i]!] === 1) i++;
    if (i < len && (i === pos || buf[i] !== 0x20)) return framing('LT_ERR_BAD_METHOD', 'invalid method token');
  } else if (content > 0) {
    if (content > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
    if (line > limits.maxHeaderCount) return framing('LT_ERR_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} fields`);
  }
  // The head needs at least one more byte, so it will be longer than what is here.
  if (len - start >= limits.maxHeadBytes) return framing('LT_ERR_HEADERS_TOO_LARGE', `head over ${limits.maxHeadBytes} bytes`);
  return -1;
}

/** The common methods as constants, so their names are not sliced anew for every request. */
function methodName(s: string, methodLen: number): string {
  if (methodLen === 3 && s.startsWith('GET')) return 'GET';
  if (methodLen === 4) {
    if (s.startsWith('POST')) return 'POST';
    if (s.startsWith('HEAD')) return 'HEAD';
  }
  return s.slice(0, methodLen);
}

/**
 * request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3), exactly one SP
 * each. `s` starts at the line and holds its CRLF. Fills `rl`; returns null or the error.
 */
function parseRequestLine(s: string): FramingError | null {
  let i = 0;
  let c = s.charCodeAt(0);
  while (TCHAR[c] === 1) c = s.charCodeAt(++i);
  if (i === 0 || c !== 0x20) {
    if (i > 0 && c === 0x0d) return framing('LT_ERR_BAD_REQUEST_LINE', 'request line without target');
    return framing('LT_ERR_BAD_METHOD', 'invalid method token');
  }
  const methodEnd = i;
  const targetStart = ++i;
  c = s.charCodeAt(i);
  // RFC 9112 §3.2: no whitespace, CTL or DEL in the target; non-ASCII must be percent-encoded.
  while (c > 0x20 && c < 0x7f) c = s.charCodeAt(++i);
  const targetEnd = i;
  if (targetEnd === targetStart) return framing('LT_ERR_BAD_REQUEST_LINE', 'empty request target');
  if (c !== 0x20) {
    if (c === 0x0d && s.charCodeAt(i + 1) === 0x0a) return framing('LT_ERR_BAD_VERSION', 'no HTTP version (HTTP/0.9 request)');
    return framing('LT_ERR_BAD_TARGET', 'control, space or non-ASCII byte in the request target');
  }
  const v = i + 1;
  const major = s.charCodeAt(v + 5) - 0x30;
  const minor = s.charCodeAt(v + 7) - 0x30;
  if (
    !s.startsWith('HTTP/', v) || s.charCodeAt(v + 6) !== 0x2e || !(major >= 0 && major <= 9) ||
    !(minor >= 0 && minor <= 9) || s.charCodeAt(v + 8) !== 0x0d || s.charCodeAt(v + 9) !== 0x0a
  ) {
    const rest = s.slice(v, s.indexOf('\r', v));
    if (!rest.startsWith('HTTP/') && rest.indexOf(' ') !== -1) return framing('LT_ERR_BAD_TARGET', 'space in the request target');
    return framing('LT_ERR_BAD_VERSION', 'malformed HTTP version');
  }
  if (major !== 1) return framing('LT_ERR_VERSION_NOT_SUPPORTED', `HTTP/${major}.${minor}`);
  rl.versionMinor = minor === 0 ? 0 : 1;
  rl.method = methodName(s, methodEnd);
  rl.target = s.slice(targetStart, targetEnd);
  rl.next = v + 10;
  return classifyTarget(rl.method, rl.target);
}

/** The four request-target forms (RFC 9112 §3.2.1-§3.2.4); fills rl.pathAndQuery and friends. */
function classifyTarget(method: string, target: string): FramingError | null {
  rl.absoluteHost = null;
  rl.scheme = null;
  rl.pathAndQuery = target;
  const first = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // §3.2.3: CONNECT takes authority-form only, and the port is not optional there.
    if (normalizeAuthority(target, true) === null) return framing('LT_ERR_BAD_TARGET', 'CONNECT needs host:port');
    return null;
  }
  if (first === 0x2f) return null;
  if (first === 0x2a && target.length === 1) {
    // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    return method === 'OPTIONS' ? null : framing('LT_ERR_BAD_TARGET', '* with a method other than OPTIONS');
  }
  // §3.2.2 absolute-form, http and https only (case-insensitive scheme, RFC 3986 §3.1).
  let schemeLen = 0;
  if (target.length > 7 && equalsLower(target, 0, 'http://')) schemeLen = 7;
  else if (target.length > 8 && equalsLower(target, 0, 'https://')) schemeLen = 8;
  else return framing('LT_ERR_BAD_TARGET', 'not origin-, absolute-, authority- or asterisk-form');
  let authorityEnd = schemeLen;
  for (; authorityEnd < target.length; authorityEnd++) {
    const c = target.charCodeAt(authorityEnd);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
  }
  // RFC 9110 §4.2.1, §4.2.4: an empty host or userinfo makes the http(s) URI invalid.
  const host = normalizeAuthority(target.slice(schemeLen, authorityEnd), false);
  if (host === null) return framing('LT_ERR_BAD_TARGET', 'invalid authority in absolute-form target');
  rl.absoluteHost = host;
  rl.scheme = schemeLen === 7 ? 'http' : 'https';
  const rest = target.slice(authorityEnd);
  rl.pathAndQuery = rest.charCodeAt(0) === 0x2f ? rest : '/' + rest;
  return null;
}

/** Field lines after the request line, then the framing decisions (RFC 9112 §6.1-§6.3). */
function parseFields(s: string, end: number, versionMinor: 0 | 1, opts: RequestHeadOptions | undefined): RequestHeadResult {
  const headers: HeaderList = [];
  const connectionTokens: string[] = [];
  let hostCount = 0;
  let hostValue = '';
  let contentLength = -1;
  let te: string | null = null;
  let expect100 = false;
  let upgrade: string | null = null;
  // findHeadEnd() saw every line end in CRLF and the only empty line at the end.
  const fieldsEnd = s.length - 2;
  let pos = rl.next;
  while (pos < fieldsEnd) {
    const r = scanFieldLine(s, pos, false);
    if (r !== FIELD_OK) return fail('LT_ERR_BAD_HEADER', FIELD_SCAN_DETAIL[r]!);
    const nameEnd = fieldScan.nameEnd;
    const next = fieldScan.next;
    let value = s.slice(fieldScan.valueStart, fieldScan.valueEnd);
    switch (nameEnd - pos) {
      case 4:
        if (equalsLower(s, pos, 'host')) {
          // RFC 9112 §3.2: more than one Host line MUST be answered with 400, even identical ones.
          if (++hostCount > 1) return fail('LT_ERR_HOST_DUPLICATE', 'two Host lines');
          hostValue = value;
        }
        break;
      case 14:
        if (equalsLower(s, pos, 'content-length')) {
          const n = parseContentLength(value);
          if (n === -1) return fail('LT_ERR_CL_INVALID', 'Content-Length is not 1*DIGIT below 2^53');
          if (n === -2) return fail('LT_ERR_CL_CONFLICT', 'Content-Length list with different values');
          if (contentLength >= 0) {
            if (n !== contentLength) return fail('LT_ERR_CL_CONFLICT', 'two different Content-Length lines');
            // RFC 9110 §8.6: identical duplicates may be folded into one.
            pos = next;
            continue;
          }
          contentLength = n;
          if (value.length > 15 || value.charCodeAt(value.length - 1) === 0x20 || value.indexOf(',') !== -1) value = String(n);
        }
        break;
      case 17:
        if (equalsLower(s, pos, 'transfer-encoding')) {
          // RFC 9112 §6.1: TE in an HTTP/1.0 message is faulty framing.
          if (versionMinor === 0) return fail('LT_ERR_TE_HTTP10', 'Transfer-Encoding in an HTTP/1.0 request');
          te = te === null ? value : te + ',' + value;
        }
        break;
      case 10:
        if (equalsLower(s, pos, 'connection')) pushListTokensLower(value, connectionTokens);
        break;
      case 6:
        if (value.length === 12 && equalsLower(s, pos, 'expect') && equalsLower(value, 0, '100-continue')) expect100 = true;
        break;
      case 7:
        if (equalsLower(s, pos, 'upgrade')) upgrade = upgrade === null ? value : upgrade + ', ' + value;
        break;
    }
    headers.push(s.slice(pos, nameEnd), value);
    pos = next;
  }
  let chunked = false;
  if (te !== null) {
    // RFC 9112 §6.1: CL and TE together is a smuggling attempt until proven otherwise: refuse.
    if (contentLength >= 0) return fail('LT_ERR_CL_AND_TE', 'both Content-Length and Transfer-Encoding');
    const coding = classifyTransferCoding(te);
    if (coding === TE_INVALID) return fail('LT_ERR_TE_INVALID', 'Transfer-Encoding must end with one chunked');
    if (coding === TE_NOT_IMPLEMENTED) return fail('LT_ERR_TE_NOT_IMPLEMENTED', 'transfer coding other than chunked');
    chunked = true;
  }
  let host: string;
  if (hostCount === 0) {
    if (versionMinor === 1) return fail('LT_ERR_HOST_MISSING', 'HTTP/1.1 request without Host');
    host = rl.absoluteHost ?? '';
  } else if (hostValue.length === 0) {
    if (versionMinor === 1 && opts?.allowEmptyHost !== true) return fail('LT_ERR_HOST_INVALID', 'empty Host');
    host = rl.absoluteHost ?? '';
  } else {
    const h = normalizeAuthority(hostValue, false);
    if (h === null) return fail('LT_ERR_HOST_INVALID', 'invalid Host');
    // RFC 9112 §3.2.2: the authority of an absolute-form target wins over Host.
    host = rl.absoluteHost ?? h;
  }
  const close = hasToken(connectionTokens, 'close');
  const head: RequestHead = {
    method: rl.method,
    target: rl.target,
    versionMinor,
    headers,
    host,
    targetScheme: rl.scheme,
    pathAndQuery: rl.pathAndQuery,
    contentLength,
    chunked,
    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    keepAlive: versionMinor === 1 ? !close : !close && hasToken(connectionTokens, 'keep-alive'),
    expectContinue: versionMinor === 1 && expect100,
    connectionTokens,
    upgrade: versionMinor === 1 && upgrade !== null && hasToken(connectionTokens, 'upgrade') ? upgrade : null,
    headBytes: end,
  };
  return { kind: 'head', head, consumed: end };
}

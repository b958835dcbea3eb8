// Strict HTTP/1.x request-head parser (RFC 9112 §2-§6, RFC 9110 §5, §7.2, §8.6): a pure function
// over the bytes received so far. Checklist rows A1-A7, A16, B1-B9 are decided here.
import { Buffer } from 'node:buffer';
import type { ErrorCode } from '../errors.js';
import { normalizeAuthority } from './authority.js';
import {
  FIELD_OK, FIELD_PARTIAL, FIELD_SCAN_DETAIL, TCHAR, TE_INVALID, TE_NOT_IMPLEMENTED, bytesEqualLower,
  classifyTransferCoding, fieldScan, hasToken, parseContentLength, pushListTokensLower, scanFieldLine,
} from './field-lines.js';
import { classifyTarget } from './request-target.js';
import type { FramingError, HeaderList, RequestHead, RequestHeadResult, RequestLimits } from './types.js';
import { latin1 } from './latin1.js';

export interface RequestHeadOptions {
  /**
   * Accept an empty `Host:` on HTTP/1.1 (the head's host is then ''). Default false: 400
   * LT_ERR_HOST_INVALID, as checklist C6 asks when no default host is configured.
   */
  allowEmptyHost?: boolean;
}

const INCOMPLETE: RequestHeadResult = Object.freeze({ kind: 'incomplete' as const });
const CRLF_CRLF = Buffer.from('\r\n\r\n');
/**
 * Above this many buffered bytes an unfinished head is checked with native searches only, so a
 * client trickling a large head byte by byte cannot make every read rescan it in JS.
 */
const JS_RESCAN_LIMIT_BYTES = 4096;

/**
 * Parses the request head at the front of `buf` (the bytes received so far at the start of a
 * message). Returns 'incomplete' until CRLF CRLF arrives (but errors as soon as a limit is passed
 * or a byte proves the head bad), 'empty' when only empty lines arrived (RFC 9112 §2.2: they are
 * skipped), else the validated head or the first rule it breaks. `consumed` and `headBytes`
 * count the skipped empty lines too; the limits apply from the request line on.
 *
 * Version choice: `HTTP/1.0` and `HTTP/1.1` as received; any other well-formed `HTTP/1.d` is
 * handled as 1.1 (RFC 9110 §2.5: a higher minor version of a major we implement); a well-formed
 * `HTTP/d.d` with major ≠ 1 is 505; anything else (`HTTP/1.01`, `HTTP/1.32`, `http/1.1`) is 400.
 */
export function parseRequestHead(buf: Buffer, limits: RequestLimits, opts?: RequestHeadOptions): RequestHeadResult {
  const len = buf.length;
  let start = 0;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request-line.
  while (start + 1 < len && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start === len || (start + 1 === len && buf[start] === 0x0d)) {
    return start === 0 ? INCOMPLETE : { kind: 'empty', consumed: start };
  }
  if (len - start > JS_RESCAN_LIMIT_BYTES && buf.indexOf(CRLF_CRLF, start) === -1) {
    const error = checkUnfinishedHead(buf, start, limits);
    return error === null ? INCOMPLETE : { kind: 'error', error };
  }
  const end = scanHead(buf, start, limits);
  if (end === -1) return INCOMPLETE;
  if (typeof end !== 'number') return { kind: 'error', error: end };
  return buildHead(buf, start, end, opts);
}

function framing(code: ErrorCode, detail: string): FramingError {
  return { code, detail };
}

function fail(code: ErrorCode, detail: string): RequestHeadResult {
  return { kind: 'error', error: { code, detail } };
}

/** What scanHead() found: request-line offsets, and four offsets per field line in `fieldOffsets`. */
const scan = { methodEnd: 0, targetStart: 0, targetEnd: 0, versionMinor: 1 as 0 | 1, fieldCount: 0 };
/** nameStart, nameEnd, valueStart, valueEnd of each field line (grown to fit maxHeaderCount). */
let fieldOffsets = new Int32Array(4 * 64);

/**
 * One pass over the bytes: validates the request line and every field line and records where
 * their parts are. Returns the offset just past CRLF CRLF, -1 when the buffer ends inside a head
 * that is valid so far, or the first error (limits included, B9).
 */
function scanHead(b: Buffer, start: number, limits: RequestLimits): number | FramingError {
  // Loops stay inside `len`: see scanFieldLine() for why a read past the end is so costly.
  const len = b.length;
  let i = start;
  while (i < len && TCHAR[b[i]!] === 1) i++;
  if (i >= len) return unfinishedRequestLine(b, start, limits);
  let c = b[i]!;
  if (i === start || c !== 0x20) {
    if (c === 0x0a) return framing('LT_ERR_BAD_REQUEST_LINE', 'bare LF line ending');
    if (i > start && c === 0x0d) return framing('LT_ERR_BAD_REQUEST_LINE', 'request line without target');
    return framing('LT_ERR_BAD_METHOD', 'invalid method token');
  }
  scan.methodEnd = i;
  const targetStart = ++i;
  // RFC 9112 §3.2: no whitespace, CTL or DEL in the target; non-ASCII must be percent-encoded.
  while (i < len && b[i]! > 0x20 && b[i]! < 0x7f) i++;
  if (i >= len) return unfinishedRequestLine(b, start, limits);
  c = b[i]!;
  if (i === targetStart) return framing('LT_ERR_BAD_REQUEST_LINE', 'empty request target');
  if (c !== 0x20) {
    if (c !== 0x0d) return framing('LT_ERR_BAD_TARGET', 'control, space or non-ASCII byte in the request target');
    if (i + 1 >= len) return unfinishedRequestLine(b, start, limits);
    if (b[i + 1] === 0x0a) return framing('LT_ERR_BAD_VERSION', 'no HTTP version (HTTP/0.9 request)');
    return framing('LT_ERR_BAD_TARGET', 'bare CR in the request line');
  }
  scan.targetStart = targetStart;
  scan.targetEnd = i;
  const v = i + 1;
  if (v + 10 > len) return unfinishedRequestLine(b, start, limits);
  const major = b[v + 5]! - 0x30;
  const minor = b[v + 7]! - 0x30;
  if (
    b[v] !== 0x48 || b[v + 1] !== 0x54 || b[v + 2] !== 0x54 || b[v + 3] !== 0x50 || b[v + 4] !== 0x2f ||
    b[v + 6] !== 0x2e || !(major >= 0 && major <= 9) || !(minor >= 0 && minor <= 9) ||
    b[v + 8] !== 0x0d || b[v + 9] !== 0x0a
  ) {
    return versionError(b, v);
  }
  if (v + 8 - start > limits.maxRequestLineBytes) return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
  if (major !== 1) return framing('LT_ERR_VERSION_NOT_SUPPORTED', `HTTP/${major}.${minor}`);
  scan.versionMinor = minor === 0 ? 0 : 1;

  if (fieldOffsets.length < 4 * limits.maxHeaderCount) fieldOffsets = new Int32Array(4 * limits.maxHeaderCount);
  const offsets = fieldOffsets;
  let count = 0;
  let pos = v + 10;
  for (;;) {
    if (pos >= len) return unfinishedHead(b, start, limits);
    if (b[pos] === 0x0d) {
      if (pos + 1 >= len) return unfinishedHead(b, start, limits);
      if (b[pos + 1] !== 0x0a) return framing('LT_ERR_BAD_HEADER', 'bare CR');
      const end = pos + 2;
      if (end - start > limits.maxHeadBytes) return framing('LT_ERR_HEADERS_TOO_LARGE', `head over ${limits.maxHeadBytes} bytes`);
      scan.fieldCount = count;
      return end;
    }
    if (count === limits.maxHeaderCount) return framing('LT_ERR_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} fields`);
    const r = scanFieldLine(b, pos, false);
    if (r !== FIELD_OK) {
      if (r !== FIELD_PARTIAL) return framing('LT_ERR_BAD_HEADER', FIELD_SCAN_DETAIL[r]!);
      if (fieldScan.next - pos > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
      return unfinishedHead(b, start, limits);
    }
    const next = fieldScan.next;
    if (next - 2 - pos > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
    const k = count * 4;
    offsets[k] = pos;
    offsets[k + 1] = fieldScan.nameEnd;
    offsets[k + 2] = fieldScan.valueStart;
    offsets[k + 3] = fieldScan.valueEnd;
    count++;
    pos = next;
  }
}

/** The buffer ends inside the request line: only its length can be judged yet. */
function unfinishedRequestLine(b: Buffer, start: number, limits: RequestLimits): number | FramingError {
  const len = b.length;
  // A final CR may be the first half of the CRLF: it is not content.
  if (len - start - (b[len - 1] === 0x0d ? 1 : 0) > limits.maxRequestLineBytes) {
    return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
  }
  return unfinishedHead(b, start, limits);
}

/** The head needs at least one more byte, so it will be longer than what is here. */
function unfinishedHead(b: Buffer, start: number, limits: RequestLimits): number | FramingError {
  if (b.length - start >= limits.maxHeadBytes) return framing('LT_ERR_HEADERS_TOO_LARGE', `head over ${limits.maxHeadBytes} bytes`);
  return -1;
}

function versionError(b: Buffer, v: number): FramingError {
  let cr = b.indexOf(0x0d, v);
  if (cr === -1) cr = b.length;
  const hasSpace = b.indexOf(0x20, v) !== -1 && b.indexOf(0x20, v) < cr;
  if (hasSpace && !(b[v] === 0x48 && b[v + 1] === 0x54)) return framing('LT_ERR_BAD_TARGET', 'space in the request target');
  return framing('LT_ERR_BAD_VERSION', 'malformed HTTP version');
}

/**
 * A large unfinished head, checked with native LF searches: line endings and every size limit.
 * The bytes themselves are validated by scanHead() once CRLF CRLF is there.
 */
function checkUnfinishedHead(buf: Buffer, start: number, limits: RequestLimits): FramingError | null {
  let pos = start;
  let line = 0;
  for (;;) {
    const lf = buf.indexOf(0x0a, pos);
    if (lf === -1) break;
    if (lf === pos || buf[lf - 1] !== 0x0d) {
      // RFC 9112 §2.2 lets a recipient accept a bare LF; we refuse it (smuggling hides in the difference).
      return framing(line === 0 ? 'LT_ERR_BAD_REQUEST_LINE' : 'LT_ERR_BAD_HEADER', 'bare LF line ending');
    }
    const content = lf - 1 - pos;
    if (line === 0) {
      if (content > limits.maxRequestLineBytes) return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
    } else {
      if (content > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
      if (line > limits.maxHeaderCount) return framing('LT_ERR_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} fields`);
    }
    line++;
    pos = lf + 1;
  }
  const len = buf.length;
  const content = len - pos - (buf[len - 1] === 0x0d ? 1 : 0);
  if (line === 0 && content > limits.maxRequestLineBytes) return framing('LT_ERR_URI_TOO_LONG', `request line over ${limits.maxRequestLineBytes} bytes`);
  if (line > 0 && content > 0) {
    if (content > limits.maxFieldBytes) return framing('LT_ERR_HEADER_TOO_LARGE', `field line over ${limits.maxFieldBytes} bytes`);
    if (line > limits.maxHeaderCount) return framing('LT_ERR_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} fields`);
  }
  if (len - start >= limits.maxHeadBytes) return framing('LT_ERR_HEADERS_TOO_LARGE', `head over ${limits.maxHeadBytes} bytes`);
  return null;
}

/** The common methods as constants, so their names are not sliced anew for every request. */
function methodName(b: Buffer, start: number, methodLen: number, s: string): string {
  const c = b[start];
  if (methodLen === 3 && c === 0x47 && b[start + 1] === 0x45 && b[start + 2] === 0x54) return 'GET';
  if (methodLen === 4) {
    if (c === 0x50 && b[start + 1] === 0x4f && b[start + 2] === 0x53 && b[start + 3] === 0x54) return 'POST';
    if (c === 0x48 && b[start + 1] === 0x45 && b[start + 2] === 0x41 && b[start + 3] === 0x44) return 'HEAD';
  }
  return s.slice(0, methodLen);
}

/** Turns the offsets scanHead() recorded into the head, and takes the framing decisions (RFC 9112 §6). */
function buildHead(b: Buffer, start: number, end: number, opts: RequestHeadOptions | undefined): RequestHeadResult {
  // One latin1 decode of the whole head; every name and value is a slice of it.
  const s = latin1(b, start, end);
  const versionMinor = scan.versionMinor;
  const method = methodName(b, start, scan.methodEnd - start, s);
  const target = s.slice(scan.targetStart - start, scan.targetEnd - start);
  const info = classifyTarget(method, target);
  if ('code' in info) return { kind: 'error', error: info };
  const count = scan.fieldCount;
  const offsets = fieldOffsets;
  const headers: HeaderList = [];
  const connectionTokens: string[] = [];
  let hostCount = 0;
  let hostValue = '';
  let contentLength = -1;
  let te: string | null = null;
  let expect100 = false;
  let hasExpect = false;
  let upgrade: string | null = null;
  for (let k = 0; k < count * 4; k += 4) {
    const nameStart = offsets[k]!;
    const nameEnd = offsets[k + 1]!;
    const valueStart = offsets[k + 2]!;
    const valueLen = offsets[k + 3]! - valueStart;
    let value = s.slice(valueStart - start, valueStart - start + valueLen);
    switch (nameEnd - nameStart) {
      case 4:
        if (bytesEqualLower(b, nameStart, 'host')) {
          // RFC 9112 §3.2: more than one Host line MUST be answered with 400, even identical ones.
          if (++hostCount > 1) return fail('LT_ERR_HOST_DUPLICATE', 'two Host lines');
          hostValue = value;
        }
        break;
      case 14:
        if (bytesEqualLower(b, nameStart, 'content-length')) {
          const n = parseContentLength(value);
          if (n === -1) return fail('LT_ERR_CL_INVALID', 'Content-Length is not 1*DIGIT below 2^53');
          if (n === -2) return fail('LT_ERR_CL_CONFLICT', 'Content-Length list with different values');
          if (contentLength >= 0) {
            if (n !== contentLength) return fail('LT_ERR_CL_CONFLICT', 'two different Content-Length lines');
            // RFC 9110 §8.6: identical duplicates may be folded into one.
            continue;
          }
          contentLength = n;
          if (value.indexOf(',') !== -1) value = String(n);
        }
        break;
      case 17:
        if (bytesEqualLower(b, nameStart, 'transfer-encoding')) {
          // RFC 9112 §6.1: TE in an HTTP/1.0 message is faulty framing.
          if (versionMinor === 0) return fail('LT_ERR_TE_HTTP10', 'Transfer-Encoding in an HTTP/1.0 request');
          te = te === null ? value : te + ',' + value;
        }
        break;
      case 10:
        if (bytesEqualLower(b, nameStart, 'connection')) pushListTokensLower(value, connectionTokens);
        break;
      case 6:
        if (bytesEqualLower(b, nameStart, 'expect')) {
          hasExpect = true;
          if (valueLen === 12 && bytesEqualLower(b, valueStart, '100-continue')) expect100 = true;
        }
        break;
      case 7:
        if (bytesEqualLower(b, nameStart, 'upgrade')) upgrade = upgrade === null ? value : upgrade + ', ' + value;
        break;
    }
    headers.push(s.slice(nameStart - start, nameEnd - start), value);
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
    // RFC 9112 §3.2 wants 400 for any HTTP/1.1 request without Host. An absolute-form target
    // names its authority, and lighttpd takes the host from it (request.c sets Host from the
    // target): so does lantern, as tests written for lighttpd send such requests. Without
    // either there is no host at all: 400.
    if (versionMinor === 1 && info.absoluteHost === null) return fail('LT_ERR_HOST_MISSING', 'HTTP/1.1 request without Host');
    host = info.absoluteHost ?? '';
  } else if (hostValue.length === 0) {
    if (versionMinor === 1 && opts?.allowEmptyHost !== true) return fail('LT_ERR_HOST_INVALID', 'empty Host');
    host = info.absoluteHost ?? '';
  } else {
    const h = normalizeAuthority(hostValue, false);
    if (h === null) return fail('LT_ERR_HOST_INVALID', 'invalid Host');
    // RFC 9112 §3.2.2: the authority of an absolute-form target wins over Host.
    host = info.absoluteHost ?? h;
  }
  const close = connectionTokens.length > 0 && hasToken(connectionTokens, 'close');
  const head: RequestHead = {
    method,
    target,
    versionMinor,
    headers,
    host,
    targetScheme: info.scheme,
    pathAndQuery: info.pathAndQuery,
    contentLength,
    chunked,
    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    keepAlive: versionMinor === 1 ? !close : !close && hasToken(connectionTokens, 'keep-alive'),
    expectContinue: versionMinor === 1 && expect100,
    hasExpect: versionMinor === 1 && hasExpect,
    connectionTokens,
    upgrade: versionMinor === 1 && upgrade !== null && hasToken(connectionTokens, 'upgrade') ? upgrade : null,
    headBytes: end,
  };
  return { kind: 'head', head, consumed: end };
}

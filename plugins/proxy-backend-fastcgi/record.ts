// FastCGI 1.0 §3.3 record codec: the 8-byte header, content up to 65 535 bytes, padding to 8.
import { Buffer } from 'node:buffer';

export const FCGI_VERSION_1 = 1;
export const FCGI_HEADER_LEN = 8;
/** §3.3: contentLength is two bytes. */
export const FCGI_MAX_CONTENT_BYTES = 65535;
/** §3.3: the request id of management records. */
export const FCGI_NULL_REQUEST_ID = 0;

// §8: record types.
export const FCGI_BEGIN_REQUEST = 1;
export const FCGI_ABORT_REQUEST = 2;
export const FCGI_END_REQUEST = 3;
export const FCGI_PARAMS = 4;
export const FCGI_STDIN = 5;
export const FCGI_STDOUT = 6;
export const FCGI_STDERR = 7;
export const FCGI_DATA = 8;
export const FCGI_GET_VALUES = 9;
export const FCGI_GET_VALUES_RESULT = 10;
export const FCGI_UNKNOWN_TYPE = 11;

// §5.1: FCGI_BeginRequestBody roles and flags.
export const FCGI_RESPONDER = 1;
export const FCGI_AUTHORIZER = 2;
export const FCGI_FILTER = 3;
export const FCGI_KEEP_CONN = 1;

// §5.5: FCGI_EndRequestBody protocolStatus values.
export const FCGI_REQUEST_COMPLETE = 0;
export const FCGI_CANT_MPX_CONN = 1;
export const FCGI_OVERLOADED = 2;
export const FCGI_UNKNOWN_ROLE = 3;

const EMPTY = Buffer.alloc(0);

/** One decoded record. `content` is a view into the bytes given to the decoder (padding removed). */
export interface FcgiRecord {
  type: number;
  requestId: number;
  content: Buffer;
}

/** §3.3: padding that rounds the record up to a multiple of 8 bytes (recommended, and what servers send). */
export const paddingFor = (contentBytes: number): number => (8 - (contentBytes & 7)) & 7;
/** Padding bytes are zero; shared, since sockets never write into what they send. */
const PADDING = Buffer.alloc(7);

/** A record header at `at` in `out`; returns where the content starts. */
export function writeHeader(out: Buffer, at: number, type: number, requestId: number, contentBytes: number, paddingBytes: number): number {
  out[at] = FCGI_VERSION_1;
  out[at + 1] = type;
  out[at + 2] = requestId >>> 8;
  out[at + 3] = requestId & 0xff;
  out[at + 4] = contentBytes >>> 8;
  out[at + 5] = contentBytes & 0xff;
  out[at + 6] = paddingBytes;
  out[at + 7] = 0;
  return at + FCGI_HEADER_LEN;
}

function header(type: number, requestId: number, contentBytes: number, paddingBytes: number): Buffer {
  const h = Buffer.allocUnsafe(FCGI_HEADER_LEN);
  writeHeader(h, 0, type, requestId, contentBytes, paddingBytes);
  return h;
}

/**
 * Stream records (PARAMS, STDIN, STDOUT...) carrying `data` in pieces of at most 65 535 bytes, as
 * a list of headers, views of `data` (not copied) and padding, to be written corked. Nothing at
 * all when `data` is empty: an empty record would end the stream (§3.3).
 */
export function frameStream(type: number, requestId: number, data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let from = 0; from < data.length; from += FCGI_MAX_CONTENT_BYTES) {
    const n = Math.min(FCGI_MAX_CONTENT_BYTES, data.length - from);
    const pad = paddingFor(n);
    pieces.push(header(type, requestId, n, pad), from === 0 && n === data.length ? data : data.subarray(from, from + n));
    if (pad > 0) pieces.push(PADDING.subarray(0, pad));
  }
  return pieces;
}

/** `frameStream()` as one buffer: nothing when `data` is empty. The terminator is `encodeRecord(type, id)`. */
export function encodeStream(type: number, requestId: number, data: Buffer): Buffer {
  return Buffer.concat(frameStream(type, requestId, data));
}

/**
 * One record of `type` for `requestId` carrying `content`, or several when it is longer than
 * 65 535 bytes. Empty content gives one empty record: for a stream type that ends the stream (§3.3).
 */
export function encodeRecord(type: number, requestId: number, content: Buffer = EMPTY): Buffer {
  return content.length === 0 ? header(type, requestId, 0, 0) : encodeStream(type, requestId, content);
}

/** §5.1: FCGI_BEGIN_REQUEST with its role and flags. */
export function encodeBeginRequest(requestId: number, role: number, flags: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(role, 0);
  body[2] = flags;
  return encodeRecord(FCGI_BEGIN_REQUEST, requestId, body);
}

/** §5.5: FCGI_END_REQUEST with the application's status and the protocol status. */
export function encodeEndRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(appStatus >>> 0, 0);
  body[4] = protocolStatus;
  return encodeRecord(FCGI_END_REQUEST, requestId, body);
}

/**
 * Receives one decoded record: its content is `buf` from `start` to `end` (padding removed), a
 * range of the bytes given to the decoder, so a record costs no object unless the receiver makes one.
 */
export type RecordVisitor = (type: number, requestId: number, buf: Buffer, start: number, end: number) => void;

/**
 * Incremental decoder: takes bytes split anywhere (inside a header, content or padding) and
 * hands over the records they complete. A header whose version is not 1 is an error: every later
 * call hands over nothing and `error` says why. Held bytes are views of the buffers pushed (the
 * socket reader never reuses a chunk it handed out), copied only when a record spans pushes.
 */
export class RecordDecoder {
  /** Why the stream is invalid, or null. */
  error: string | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes needed before the held ones can make progress (a header, or a whole record). */
  private needBytes = 0;

  /** Bytes of an unfinished record held so far. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** The records `data` completes, as objects (content as a view). */
  push(data: Buffer): FcgiRecord[] {
    const out: FcgiRecord[] = [];
    this.each(data, (type, requestId, buf, start, end) => { out.push({ type, requestId, content: buf.subarray(start, end) }); });
    return out;
  }

  /** Hands each record `data` completes to `visit`, in order. */
  each(data: Buffer, visit: RecordVisitor): void {
    if (this.error !== null || data.length === 0) return;
    let buf = data;
    if (this.heldBytes > 0) {
      this.held.push(data);
      this.heldBytes += data.length;
      if (this.heldBytes < this.needBytes) return;
      buf = Buffer.concat(this.held, this.heldBytes);
      this.held.length = 0;
      this.heldBytes = 0;
    }
    const len = buf.length;
    let at = 0;
    while (at < len) {
      if (buf[at] !== FCGI_VERSION_1) {
        this.error = `record version ${buf[at]!} (expected 1)`;
        return;
      }
      if (len - at < FCGI_HEADER_LEN) { this.hold(buf, at, FCGI_HEADER_LEN); return; }
      const contentBytes = (buf[at + 4]! << 8) | buf[at + 5]!;
      const total = FCGI_HEADER_LEN + contentBytes + buf[at + 6]!;
      if (len - at < total) { this.hold(buf, at, total); return; }
      const start = at + FCGI_HEADER_LEN;
      at += total;
      visit(buf[start - 7]!, (buf[start - 6]! << 8) | buf[start - 5]!, buf, start, start + contentBytes);
    }
  }

  private hold(buf: Buffer, at: number, needBytes: number): void {
    this.held.push(at === 0 ? buf : buf.subarray(at));
    this.heldBytes = buf.length - at;
    this.needBytes = needBytes;
  }
}

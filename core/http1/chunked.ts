// Streaming decoder for the chunked transfer coding (RFC 9112 §7.1), for request bodies and
// backend responses alike, plus what the encoder needs: chunk-size lines and the last chunk, with
// or without a trailer section. Checklist rows A8-A12.
import { Buffer } from 'node:buffer';
import { FIELD_OK, FIELD_SCAN_DETAIL, fieldScan, scanFieldLine } from './field-lines.js';
import { isFieldName, isFieldValue } from './response-writer.js';
import type { FramingError, HeaderList } from './types.js';
import { latin1 } from './latin1.js';

/** The chunk-size line for a chunk of `length` bytes. */
export function chunkHeader(length: number): string {
  return length.toString(16) + '\r\n';
}

/** last-chunk plus the empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';

export interface ChunkedDecoderOptions {
  /** Most chunk-extension bytes on one chunk-size line (RFC 9112 §7.1.1 says to limit them). Default 4096. */
  maxChunkExtBytes?: number;
  /** Most bytes in the trailer section, CRLFs included. Default 8192. */
  maxTrailerBytes?: number;
  /** Most trailer fields. Default 64. */
  maxTrailerCount?: number;
}

// Decoder states: where the next byte belongs.
const SIZE = 0; //        chunk-size digits
const SIZE_WS = 1; //     BWS between the size and ';'
const EXT = 2; //         chunk-ext up to CR
const SIZE_LF = 3; //     the LF of the chunk-size line
const DATA = 4; //        chunk-data
const DATA_CR = 5; //     the CRLF after chunk-data
const DATA_LF = 6;
const TRAILER = 7; //     a trailer field line (or the final empty line) up to CR
const TRAILER_LF = 8;
const DONE = 9;
const FAILED = 10;

const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 10; d++) HEX[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX[0x41 + d] = 10 + d;
  HEX[0x61 + d] = 10 + d;
}

const MAX_SIZE_DIGITS = 16;

/**
 * Fields that must not come from a trailer (RFC 9110 §6.5.1): framing, routing, authentication,
 * request modifiers, response control and content processing, plus hop-by-hop fields. They are
 * dropped, never merged into the header section (checklist A12).
 */
const FORBIDDEN_TRAILERS = new Set([
  'content-length', 'transfer-encoding', 'host', 'te', 'trailer', 'connection', 'keep-alive', 'upgrade',
  'content-type', 'content-encoding', 'content-range', 'authorization', 'www-authenticate',
  'cookie', 'set-cookie', 'cache-control', 'expect', 'max-forwards', 'pragma', 'range', 'if-match',
  'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'age', 'expires', 'date',
  'location', 'retry-after', 'vary', 'warning',
]);

/** Whether a field of this name may travel in a trailer section (RFC 9110 §6.5.1); `lower` is lowercased. */
export function isAllowedTrailer(lower: string): boolean {
  return !FORBIDDEN_TRAILERS.has(lower) && !lower.startsWith('proxy-');
}

/**
 * The last chunk followed by a trailer section (RFC 9112 §7.1.2), for a message we send. A field
 * that must not be a trailer (isAllowedTrailer: framing, routing, Connection...) or that would
 * split the message (a name that is not a token; CR, LF, NUL or a non-latin1 character in a
 * value: RFC 9110 §5.5) is dropped, never sent. With nothing left it is LAST_CHUNK.
 */
export function lastChunkWithTrailers(trailers: HeaderList): string {
  let s = '0\r\n';
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = trailers[i]!;
    const value = trailers[i + 1]!;
    if (!isFieldName(name) || !isFieldValue(value) || !isAllowedTrailer(name.toLowerCase())) continue;
    s += name + ': ' + value + '\r\n';
  }
  return s + '\r\n';
}

/**
 * Decodes a chunked body fed in pieces split at any byte. Chunk data is handed out as subarrays
 * of the input (no copy). Extensions are checked and ignored; trailers are validated and kept,
 * minus the forbidden ones.
 */
export class ChunkedDecoder {
  /** The last chunk and the trailer section have been read. */
  done = false;
  /** Set when push() returned -1: LT_ERR_CHUNK_INVALID or LT_ERR_TRAILER_INVALID. */
  error: FramingError | null = null;
  /** Valid trailer fields, forbidden names removed; complete once `done`. */
  trailers: HeaderList = [];
  /** Chunk-data bytes handed to onData so far. */
  bytesDecoded = 0;

  private state = SIZE;
  /** In SIZE: the value so far. In DATA: chunk-data bytes still to come. */
  private size = 0;
  private digits = 0;
  private extBytes = 0;
  private trailerLine = '';
  private trailerBytes = 0;
  private trailerCount = 0;
  private readonly maxExtBytes: number;
  private readonly maxTrailerBytes: number;
  private readonly maxTrailerCount: number;

  constructor(opts?: ChunkedDecoderOptions) {
    this.maxExtBytes = opts?.maxChunkExtBytes ?? 4096;
    this.maxTrailerBytes = opts?.maxTrailerBytes ?? 8192;
    this.maxTrailerCount = opts?.maxTrailerCount ?? 64;
  }

  /**
   * Feeds bytes. Returns how many bytes of `buf` belong to the body: all of them unless the body
   * ended inside `buf` (the rest is the next message), 0 once done, -1 on an error (see `error`).
   */
  push(buf: Buffer, onData: (chunk: Buffer) => void): number {
    if (this.state === DONE) return 0;
    if (this.state === FAILED) return -1;
    const len = buf.length;
    let i = 0;
    while (i < len) {
      switch (this.state) {
        case DATA: {
          const n = Math.min(this.size, len - i);
          this.size -= n;
          this.bytesDecoded += n;
          if (this.size === 0) this.state = DATA_CR;
          onData(n === len ? buf : buf.subarray(i, i + n));
          i += n;
          break;
        }
        case SIZE: {
          const c = buf[i]!;
          const d = HEX[c]!;
          if (d >= 0) {
            // chunk-size = 1*HEXDIG: no sign, no 0x, no '_', bounded so it stays an exact integer.
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size over 16 hex digits');
            this.size = this.size * 16 + d;
            if (this.size > Number.MAX_SAFE_INTEGER) return this.fail('chunk size over 2^53');
          } else if (this.digits === 0) {
            return this.fail('chunk size is not 1*HEXDIG');
          } else if (c === 0x0d) {
            this.state = SIZE_LF;
          } else if (c === 0x3b) {
            this.state = EXT;
          } else if (c === 0x20 || c === 0x09) {
            this.state = SIZE_WS;
          } else {
            return this.fail('invalid byte after chunk size');
          }
          i++;
          break;
        }
        case SIZE_WS: {
          // RFC 9112 §7.1.1: BWS is allowed only before a ';' that starts an extension.
          const c = buf[i]!;
          if (c === 0x3b) this.state = EXT;
          else if (c !== 0x20 && c !== 0x09) return this.fail('whitespace after chunk size without extension');
          if (++this.extBytes > this.maxExtBytes) return this.fail('chunk extensions too long');
          i++;
          break;
        }
        case EXT: {
          let j = i;
          for (; j < len; j++) {
            const c = buf[j]!;
            if (c === 0x0d) break;
            // A bare LF, NUL or other CTL here is how parsers get desynchronised (RFC 9112 §2.2).
            if ((c < 0x20 && c !== 0x09) || c === 0x7f) return this.fail('control byte in chunk extension');
          }
          this.extBytes += j - i;
          if (this.extBytes > this.maxExtBytes) return this.fail('chunk extensions too long');
          i = j;
          if (j < len) {
            this.state = SIZE_LF;
            i++;
          }
          break;
        }
        case SIZE_LF:
          if (buf[i] !== 0x0a) return this.fail('bare CR in chunk-size line');
          i++;
          this.extBytes = 0;
          this.digits = 0;
          this.state = this.size === 0 ? TRAILER : DATA;
          break;
        case DATA_CR:
          if (buf[i] !== 0x0d) return this.fail('chunk data longer than its size or not followed by CRLF');
          this.state = DATA_LF;
          i++;
          break;
        case DATA_LF:
          if (buf[i] !== 0x0a) return this.fail('chunk data not followed by CRLF');
          this.state = SIZE;
          i++;
          break;
        case TRAILER: {
          let j = i;
          while (j < len && buf[j] !== 0x0d && buf[j] !== 0x0a) j++;
          if (j > i) {
            this.trailerBytes += j - i;
            if (this.trailerBytes > this.maxTrailerBytes) return this.fail('trailer section too large', true);
            this.trailerLine += latin1(buf, i, j);
          }
          i = j;
          if (j < len) {
            if (buf[j] === 0x0a) return this.fail('bare LF in trailer section', true);
            this.state = TRAILER_LF;
            i++;
          }
          break;
        }
        case TRAILER_LF: {
          if (buf[i] !== 0x0a) return this.fail('bare CR in trailer section', true);
          i++;
          this.trailerBytes += 2;
          if (this.trailerBytes > this.maxTrailerBytes) return this.fail('trailer section too large', true);
          if (this.trailerLine.length === 0) {
            this.state = DONE;
            this.done = true;
            return i;
          }
          if (!this.addTrailer(this.trailerLine)) return -1;
          this.trailerLine = '';
          this.state = TRAILER;
          break;
        }
        default:
          return -1;
      }
    }
    return len;
  }

  /** Validates one trailer field line like a header line (RFC 9112 §7.1.2) and keeps it if allowed. */
  private addTrailer(line: string): boolean {
    if (++this.trailerCount > this.maxTrailerCount) {
      this.fail('too many trailer fields', true);
      return false;
    }
    const r = scanFieldLine(Buffer.from(line + '\r\n', 'latin1'), 0, false);
    if (r !== FIELD_OK) {
      this.fail(FIELD_SCAN_DETAIL[r]!, true);
      return false;
    }
    const name = line.slice(0, fieldScan.nameEnd);
    const lower = name.toLowerCase();
    if (!isAllowedTrailer(lower)) return true;
    this.trailers.push(name, line.slice(fieldScan.valueStart, fieldScan.valueEnd));
    return true;
  }

  private fail(detail: string, trailer = false): -1 {
    this.state = FAILED;
    this.error = { code: trailer ? 'LT_ERR_TRAILER_INVALID' : 'LT_ERR_CHUNK_INVALID', detail };
    return -1;
  }
}

// Range requests (RFC 9110 §14) as lighttpd 1.4 answers them (http_range.c): parsing
// `Range: bytes=...` against a representation's size, If-Range, and the layout of a
// multipart/byteranges body (§14.6) with its exact length. Used by the static file handler (file
// ranges, streamed) and by the core for every other complete response (ranges of a body in memory).
import { Buffer } from 'node:buffer';

/** An inclusive byte range [start, end]. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeDecision =
  /** Serve the whole representation with 200 (no Range, another unit, an empty file). */
  | { kind: 'ignore'; reason: string }
  /** 416 (no byte-range-spec in the field is valid and satisfiable). */
  | { kind: 'unsatisfiable' }
  /** 206: one range, or several for multipart/byteranges. */
  | { kind: 'ranges'; ranges: ByteRange[] };

/**
 * At most this many range-specs are honoured; later ones are ignored (lighttpd 1.4's RMAX: more
 * ranges than this are a denial-of-service vector, RFC 9110 §14.2, and no real client needs them).
 */
export const MAX_RANGES = 10;

/**
 * Ranges closer than this many bytes are sent as one (lighttpd http_range_coalesce): a gap
 * smaller than a multipart part head costs less to send than the head (RFC 9110 §14.2 MAY).
 */
export const COALESCE_GAP_BYTES = 80;

/** Integers above this are "huge": a first-pos past any file, a last-pos clamped to the end. */
const MAX_DIGITS = 15;

/**
 * Decide what to do with a Range field value for a representation of `size` bytes, as lighttpd
 * 1.4 does (http_range.c), which RFC 9110 §14.2 allows ("MAY ignore or reject"):
 * - the field must start with `bytes=` (case-insensitive); another unit is ignored (200);
 * - each byte-range-spec that is malformed, has last-pos < first-pos or is unsatisfiable
 *   (first-pos ≥ size, `-0`) is skipped; spaces and tabs around the numbers are allowed;
 * - when no spec is left the answer is 416 (lighttpd: a Range of garbage is 416, not 200);
 * - after MAX_RANGES valid specs the rest are ignored;
 * - ranges that overlap or lie within COALESCE_GAP_BYTES of each other are merged, in the
 *   client's order otherwise (so `bytes=0-2,5-7` is one range, 0-7);
 * - a zero-length file is served whole (200), whatever the Range.
 */
export function decideRange(value: string, size: number): RangeDecision {
  if (size === 0) return { kind: 'ignore', reason: 'empty representation' };
  if (value.length < 6 || value.slice(0, 6).toLowerCase() !== 'bytes=') return { kind: 'ignore', reason: 'unit is not bytes' };
  const ranges: ByteRange[] = [];
  for (const spec of value.slice(6).split(',')) {
    const r = parseSpec(spec, size);
    if (r === null) continue;
    ranges.push(r);
    if (ranges.length === MAX_RANGES) break;
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

const INT_RANGE = /^[ \t]*([0-9]+)[ \t]*-[ \t]*([0-9]*)[ \t]*$/;
const SUFFIX_RANGE = /^[ \t]*-[ \t]*([0-9]+)[ \t]*$/;

/** One byte-range-spec made to fit a file of `size` (> 0) bytes, or null when it is invalid or unsatisfiable. */
function parseSpec(spec: string, size: number): ByteRange | null {
  const suffix = SUFFIX_RANGE.exec(spec);
  if (suffix) {
    // suffix-range: the last N bytes; N = 0 selects nothing (§14.1.3).
    const n = toInt(suffix[1]!);
    return n === 0 ? null : { start: Math.max(0, size - n), end: size - 1 };
  }
  const m = INT_RANGE.exec(spec);
  if (!m) return null;
  const start = toInt(m[1]!);
  const end = m[2] === '' ? Infinity : toInt(m[2]!);
  if (start >= size || end < start) return null;
  return { start, end: Math.min(end, size - 1) };
}

/** 1*DIGIT; more than MAX_DIGITS digits reads as Infinity ("past any file"). */
function toInt(digits: string): number {
  return digits.length > MAX_DIGITS ? Infinity : Number(digits);
}

/**
 * Merge every two ranges that overlap or are less than COALESCE_GAP_BYTES apart into the earlier
 * one (in the client's order), until no two are left to merge (lighttpd http_range_coalesce). The
 * result never overlaps, so the body is bounded by the file size plus part heads.
 */
export function coalesce(ranges: ByteRange[]): ByteRange[] {
  const out = ranges.map((r) => ({ ...r }));
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        const apart = a.start <= b.start ? a.end < b.start - COALESCE_GAP_BYTES : b.end < a.start - COALESCE_GAP_BYTES;
        if (apart) continue;
        a.start = Math.min(a.start, b.start);
        a.end = Math.max(a.end, b.end);
        out.splice(j, 1);
        merged = true;
        break;
      }
    }
  }
  return out;
}

/** `bytes start-end/size` (§14.4). */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** One piece of a response body: literal bytes, or a byte range of the file. */
export type BodyPiece = Buffer | ByteRange;

export interface MultipartBody {
  /** The Content-Type of the whole response. */
  contentType: string;
  pieces: BodyPiece[];
  /** Exact body length in bytes, for Content-Length. */
  length: number;
}

/**
 * The multipart/byteranges body (§14.6): for each range a part head with Content-Type (when the
 * response has one: lighttpd writes none otherwise) and Content-Range, then the bytes; a closing
 * delimiter at the end. The body starts with the first delimiter itself, as lighttpd's does (no
 * preamble CRLF). The length is computed up front so the response can carry Content-Length (no
 * chunked framing needed).
 */
export function multipartBody(ranges: ByteRange[], size: number, partType: string | undefined, boundary: string): MultipartBody {
  const pieces: BodyPiece[] = [];
  let length = 0;
  const typeLine = partType === undefined ? '' : `Content-Type: ${partType}\r\n`;
  for (const r of ranges) {
    const head = Buffer.from(`${pieces.length === 0 ? '' : '\r\n'}--${boundary}\r\n${typeLine}Content-Range: ${contentRange(r, size)}\r\n\r\n`, 'latin1');
    pieces.push(head, r);
    length += head.length + (r.end - r.start + 1);
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  pieces.push(tail);
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, pieces, length };
}

/**
 * If-Range (§13.1.5) as lighttpd compares it (http_range_rfc7233): a value starting with `"` must
 * equal the response's ETag, anything else (a date, a weak tag) its Last-Modified, byte for byte
 * (§13.1.5: an exact match, also for a date). True when the Range may be honoured; otherwise the
 * whole representation is sent.
 */
export function ifRangeMatches(value: string, etag: string | null | undefined, lastModified: string | null | undefined): boolean {
  const validator = value.charCodeAt(0) === 0x22 /* " */ ? etag : lastModified;
  return validator !== null && validator !== undefined && validator === value;
}

/** What the ranges of a body held in memory become: the 206's body and the fields that describe it. */
export interface RangedBody {
  body: Buffer;
  /** Content-Range of a single range; null for multipart/byteranges. */
  contentRange: string | null;
  /** Content-Type of a multipart/byteranges body; null for a single range (the type is unchanged). */
  contentType: string | null;
}

/**
 * The 206 body for `ranges` (from decideRange) of `body`: one range as a slice of it (no copy),
 * several as one multipart/byteranges buffer whose parts carry `partType` (lighttpd
 * http_range_single, http_range_multi).
 */
export function rangesOfBody(body: Buffer, ranges: ByteRange[], partType: string | undefined, boundary: string): RangedBody {
  const size = body.length;
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return { body: body.subarray(r.start, r.end + 1), contentRange: contentRange(r, size), contentType: null };
  }
  const m = multipartBody(ranges, size, partType, boundary);
  const out = Buffer.allocUnsafe(m.length);
  let at = 0;
  for (const p of m.pieces) at += Buffer.isBuffer(p) ? p.copy(out, at) : body.copy(out, at, p.start, p.end + 1);
  return { body: out, contentRange: null, contentType: m.contentType };
}

// Range requests (RFC 9110 §14): parsing `Range: bytes=...` against a representation's size,
// and the layout of a multipart/byteranges body (§14.6) with its exact length.

/** An inclusive byte range [start, end]. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeDecision =
  /** Serve the whole representation with 200 (no Range, a bad one, or one we choose to ignore). */
  | { kind: 'ignore'; reason: string }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' }
  /** 206: one range, or several for multipart/byteranges. */
  | { kind: 'ranges'; ranges: ByteRange[] };

/**
 * More range-specs than this and the Range is ignored (200 with the whole file). RFC 9110 §14.2
 * lets a server ignore a Range with many ranges (a denial-of-service vector); nginx's default
 * max_ranges is unlimited but Apache's MaxRanges is 200; 10 covers real clients (PDF readers,
 * download resumers) and keeps multipart bodies small.
 */
export const MAX_RANGES = 10;

/** Integers above this are "huge": a first-pos past any file, a last-pos clamped to the end. */
const MAX_DIGITS = 15;

/**
 * Decide what to do with a Range field value for a representation of `size` bytes.
 * - the unit must be `bytes` (compared case-insensitively, §14.1); another unit is ignored (§14.2);
 * - a syntactically invalid range-set (or last-pos < first-pos) makes the whole field ignored;
 * - specs with first-pos ≥ size and `-0` are unsatisfiable; if none is satisfiable → 416 (§15.5.17);
 * - overlapping or adjacent ranges are coalesced into ascending order (§14.2 MAY);
 * - a zero-length file has no satisfiable byte range: its Range is ignored (200, empty body),
 *   as nginx does.
 */
export function decideRange(value: string, size: number): RangeDecision {
  const eq = value.indexOf('=');
  if (eq < 0) return { kind: 'ignore', reason: 'no range unit' };
  if (value.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'ignore', reason: 'unit is not bytes' };
  // RFC 9110 §5.6.1: empty list members are allowed and ignored.
  const specs = value.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'ignore', reason: 'empty range-set' };
  if (specs.length > MAX_RANGES) return { kind: 'ignore', reason: `more than ${MAX_RANGES} ranges` };
  if (size === 0) return { kind: 'ignore', reason: 'empty representation' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const dash = spec.indexOf('-');
    if (dash < 0) return { kind: 'ignore', reason: `bad range-spec "${spec}"` };
    const first = spec.slice(0, dash);
    const last = spec.slice(dash + 1);
    if (first === '') {
      // suffix-range: the last N bytes; N = 0 is unsatisfiable (§14.1.3).
      const n = parseDigits(last);
      if (n === null) return { kind: 'ignore', reason: `bad suffix-range "${spec}"` };
      if (n > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = parseDigits(first);
    const end = last === '' ? Infinity : parseDigits(last);
    if (start === null || end === null || end < start) return { kind: 'ignore', reason: `bad int-range "${spec}"` };
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

/** 1*DIGIT; more than MAX_DIGITS digits reads as Infinity ("past any file"). */
function parseDigits(s: string): number | null {
  if (s === '' || !/^[0-9]+$/.test(s)) return null;
  return s.length > MAX_DIGITS ? Infinity : Number(s);
}

/**
 * Keep the client's order unless some ranges overlap or touch; then merge them all into
 * ascending, disjoint ranges (RFC 9110 §14.2: a server MAY coalesce such ranges regardless of
 * the order they were asked in). This bounds the body at the file size plus part headers.
 */
export function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length < 2) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  let touching = false;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.end + 1) touching = true;
  if (!touching) return ranges;
  const out: ByteRange[] = [{ ...sorted[0]! }];
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i]!;
    const lastRange = out[out.length - 1]!;
    if (r.start <= lastRange.end + 1) lastRange.end = Math.max(lastRange.end, r.end);
    else out.push({ ...r });
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
 * The multipart/byteranges body (§14.6): for each range a part head with Content-Type and
 * Content-Range, then the bytes; a closing delimiter at the end. The length is computed up front
 * so the response can carry Content-Length (no chunked framing needed).
 */
export function multipartBody(ranges: ByteRange[], size: number, partType: string, boundary: string): MultipartBody {
  const pieces: BodyPiece[] = [];
  let length = 0;
  for (const r of ranges) {
    const head = Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`, 'latin1');
    pieces.push(head, r);
    length += head.length + (r.end - r.start + 1);
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  pieces.push(tail);
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, pieces, length };
}

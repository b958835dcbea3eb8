// Conditional requests as lighttpd 1.4 evaluates them for a static file
// (http_response_handle_cachable, http_etag_matches, http_range_rfc7233's If-Range): If-None-Match,
// else If-Modified-Since (RFC 9110 §13.1.2, §13.1.3), and If-Range (§13.1.5). If-Match and
// If-Unmodified-Since are not evaluated for a static file, as in lighttpd: a GET or POST with them
// is answered as without them.
import { ifRangeMatches } from '../../core/http1/range.js';
import { formatHttpDate, parseHttpDate, toHttpSeconds } from './http-date.js';

export interface Validators {
  /** The current strong ETag (quoted), or null when ETags are disabled. */
  etag: string | null;
  /** Last modification time in ms since the epoch. */
  lastModifiedMs: number;
}

/** What the preconditions decide: go on with the request, 304 Not Modified or 412. */
export type PreconditionOutcome = 'proceed' | 304 | 412;

/**
 * For a representation that exists; `header` reads a request field.
 * - If-None-Match (when there is an ETag): `*` or a listed tag that matches → 304 for GET and
 *   HEAD, 412 for other methods; the comparison is weak, except when the request has a Range
 *   (lighttpd: a weak match must not be used for a ranged request). No match: the request
 *   proceeds and If-Modified-Since is not looked at (§13.2.2 step 3).
 * - Otherwise If-Modified-Since, for GET and HEAD only: 304 when it is the Last-Modified string
 *   itself, or a valid HTTP-date not earlier than Last-Modified. A date in the future counts too
 *   (lighttpd http_date_if_modified_since; RFC 9110 §13.1.3 leaves a future date to the server).
 *   An invalid date is ignored.
 */
export function evaluatePreconditions(
  method: string,
  header: (name: string) => string | undefined,
  v: Validators,
): PreconditionOutcome {
  const getOrHead = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch !== undefined && v.etag !== null) {
    if (!etagListMatches(ifNoneMatch, v.etag, header('range') === undefined)) return 'proceed';
    return getOrHead ? 304 : 412;
  }
  if (!getOrHead) return 'proceed';
  const ims = header('if-modified-since');
  if (ims === undefined) return 'proceed';
  if (ims === formatHttpDate(v.lastModifiedMs)) return 304;
  const date = parseHttpDate(ims);
  return date !== null && toHttpSeconds(v.lastModifiedMs) <= date ? 304 : 'proceed';
}

/**
 * Whether an If-None-Match value matches `etag` (lighttpd http_etag_matches): `*` alone or as a
 * member matches; otherwise a member equal to the tag, its `W/` form only when `weakOk`.
 */
export function etagListMatches(value: string, etag: string, weakOk: boolean): boolean {
  if (value.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? (weakOk ? etag.slice(2) : null) : etag;
  if (opaque === null) return false;
  for (const raw of value.split(',')) {
    let member = raw.trim();
    if (member === '*') return true;
    if (member.startsWith('W/')) {
      if (!weakOk) continue;
      member = member.slice(2);
    }
    if (member === opaque) return true;
  }
  return false;
}

/**
 * If-Range (§13.1.5) as lighttpd compares it: a value starting with `"` must be the current ETag,
 * anything else (a date, a weak tag) must be the Last-Modified string, byte for byte. True when
 * the Range may be honoured; otherwise the whole representation is sent.
 */
export function ifRangeAllows(value: string, v: Validators): boolean {
  const s = value.trim();
  return ifRangeMatches(s, v.etag, s.startsWith('"') ? null : formatHttpDate(v.lastModifiedMs));
}

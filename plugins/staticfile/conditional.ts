// Conditional requests (RFC 9110 §13): evaluating If-Match, If-Unmodified-Since, If-None-Match
// and If-Modified-Since in the order of §13.2.2, and If-Range (§13.1.5).
import { parseETag, parseETagList, strongMatch, weakMatch, type EntityTag } from './etag.js';
import { parseHttpDate, toHttpSeconds } from './http-date.js';

export interface Validators {
  /** The current strong ETag (quoted), or null when ETags are disabled. */
  etag: string | null;
  /** Last modification time in ms since the epoch. */
  lastModifiedMs: number;
}

/** What the preconditions decide: go on with the request, 304 Not Modified or 412. */
export type PreconditionOutcome = 'proceed' | 304 | 412;

/**
 * RFC 9110 §13.2.2, for a representation that exists. `header` reads a request field.
 * `nowMs` bounds If-Modified-Since: a date in the future is ignored (RFC 7232 §3.3 called it
 * invalid; Apache and nginx ignore it too), so a client with a fast clock is not stuck on a
 * stale copy.
 */
export function evaluatePreconditions(
  method: string,
  header: (name: string) => string | undefined,
  v: Validators,
  nowMs: number,
): PreconditionOutcome {
  const current: EntityTag | null = v.etag ? { weak: false, opaque: v.etag } : null;
  const lastModified = toHttpSeconds(v.lastModifiedMs);
  const getOrHead = method === 'GET' || method === 'HEAD';

  // Step 1: If-Match, strong comparison (§13.1.1). `*` matches any current representation.
  const ifMatch = header('if-match');
  if (ifMatch !== undefined) {
    const list = parseETagList(ifMatch);
    if (list !== '*' && !(current && list.some((t) => strongMatch(t, current)))) return 412;
  } else {
    // Step 2: If-Unmodified-Since, only without If-Match (§13.1.4); an invalid date is ignored.
    const ius = header('if-unmodified-since');
    const date = ius === undefined ? null : parseHttpDate(ius);
    if (date !== null && lastModified > date) return 412;
  }

  // Step 3: If-None-Match, weak comparison (§13.1.2): a match means "not modified" for
  // GET/HEAD and a failed precondition for other methods.
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch !== undefined) {
    const list = parseETagList(ifNoneMatch);
    if (list === '*' || (current && list.some((t) => weakMatch(t, current)))) return getOrHead ? 304 : 412;
    return 'proceed';
  }

  // Step 4: If-Modified-Since, only without If-None-Match and only for GET/HEAD (§13.1.3).
  if (getOrHead) {
    const ims = header('if-modified-since');
    const date = ims === undefined ? null : parseHttpDate(ims);
    if (date !== null && date <= toHttpSeconds(nowMs) && lastModified <= date) return 304;
  }
  return 'proceed';
}

/**
 * If-Range (§13.1.5): true when the Range may be honoured. An entity-tag must match strongly
 * (a weak tag never does); a date must equal Last-Modified exactly. Anything else: false, and
 * the whole representation is sent.
 */
export function ifRangeAllows(value: string, v: Validators): boolean {
  const s = value.trim();
  if (s.startsWith('"') || s.startsWith('W/')) {
    const tag = parseETag(s);
    return tag !== null && v.etag !== null && strongMatch(tag, { weak: false, opaque: v.etag });
  }
  const date = parseHttpDate(s);
  return date !== null && date === toHttpSeconds(v.lastModifiedMs);
}

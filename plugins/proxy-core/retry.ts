// The retry rule of design.md §3, written once: "retry freely if no byte reached the backend;
// otherwise only idempotent requests whose body is still buffered; never after response bytes
// went to the client" (checklist E1-E8; RFC 9110 §9.2.2, RFC 9112 §9.3.1).
import { ERRORS, type ErrorCode } from '../../core/errors.js';

/** RFC 9110 §9.2.2: methods whose intended effect is the same however often they are sent. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** What went wrong with one attempt. */
export interface AttemptFailure {
  /** The error-table code; its retry class says whether bytes may have reached the backend. */
  code: ErrorCode;
  /** The backend answered 500/502/503/504 (E6): a response, not an error, so `code` is not read. */
  status5xx: boolean;
  /** A reused keep-alive connection died before any response byte (E5: the idle-close race). */
  staleConnection: boolean;
}

/** What the request has been through so far. */
export interface RetryState {
  method: string;
  /** Every request body byte sent so far can be sent again (no body, or all of it kept, E7). */
  bodyReplayable: boolean;
  /** Response bytes went to the client (E4). */
  responseStarted: boolean;
  /** Members not tried yet that maxTries still allows (E8). */
  triesLeft: number;
  /** The one fresh-connection retry of E5 was used already. */
  freshRetryUsed: boolean;
  retryReadTimeout: boolean;
  retryOn5xx: boolean;
}

/** `next-member`: another member (the failed one joins the tried set); `fresh-connection`: the same member on a new connection. */
export type RetryDecision = 'next-member' | 'fresh-connection' | 'fail';

/**
 * The one place that decides whether a failed attempt is tried again (design.md §3):
 * 1. Response bytes already went to the client: never (E4); the response is aborted instead.
 * 2. A reused keep-alive connection that died before any response byte: the backend most likely
 *    closed it while idle, so the request is sent once more on a fresh connection to the same
 *    member (E5) — for idempotent requests whose body can be replayed, since a byte may have
 *    reached the backend.
 * 3. Nothing reached the backend (refused, connect timeout: retry class "always"): any request
 *    goes to the next member, while maxTries allows (E1, E2).
 * 4. Bytes reached the backend (reset, write timeout; a read timeout only with retryReadTimeout,
 *    a 5xx only with retryOn5xx): only idempotent requests whose body is still buffered go to the
 *    next member (E3, E6, E7). A non-idempotent request is never sent twice (RFC 9112 §9.3.1).
 * Everything else (a malformed response, a request that is itself bad) is not retried.
 */
export function retryDecision(f: AttemptFailure, s: RetryState): RetryDecision {
  if (s.responseStarted) return 'fail';
  const idempotentAndReplayable = isIdempotent(s.method) && s.bodyReplayable;
  if (f.staleConnection && !s.freshRetryUsed) return idempotentAndReplayable ? 'fresh-connection' : 'fail';
  if (s.triesLeft <= 0) return 'fail';
  if (f.status5xx) return s.retryOn5xx && idempotentAndReplayable ? 'next-member' : 'fail';
  const retryClass = ERRORS[f.code].retry;
  if (retryClass === 'always') return s.bodyReplayable ? 'next-member' : 'fail';
  if (retryClass !== 'idempotent') return 'fail';
  if (f.code === 'LT_ERR_BACKEND_READ_TIMEOUT' && !s.retryReadTimeout) return 'fail';
  return idempotentAndReplayable ? 'next-member' : 'fail';
}

// What the Basic and Digest checks share: the backend chosen by auth.backend, the cache, logging,
// and the outcome of a check.
import type { Request } from '../../core/request.js';
import type { AuthCache } from './auth-cache.js';
import { AuthBackendError, AuthBusyError, type AuthBackend } from './types.js';

export interface SchemeContext {
  /** The backend auth.backend names for this request; undefined when none is set. */
  readonly backend: AuthBackend | undefined;
  readonly cache: AuthCache | null;
  readonly nowMs: number;
  log(message: string): void;
  /** Log that the backend is overloaded (at most once per interval: it is what an attack looks like). */
  logBusy(message: string): void;
}

/** The user that passed (bytes), or the status that ends the request (its fields already set). */
export type Outcome = { user: string } | number;

/** Seconds a client is asked to wait when the password checks are overloaded. */
export const BUSY_RETRY_AFTER = '2';

/**
 * Log a backend's failure to answer; 500, or 503 with Retry-After when it is overloaded.
 * Anything else thrown is a bug and goes on up.
 */
export function backendFailed(req: Request, sc: SchemeContext, err: unknown): number {
  if (err instanceof AuthBusyError) {
    sc.logBusy(`password check refused: ${err.message} (for ${req.path})`);
    req.setResponseHeader('Retry-After', BUSY_RETRY_AFTER);
    return 503;
  }
  if (!(err instanceof AuthBackendError)) throw err;
  sc.log(`${err.message} (for ${req.path})`);
  return 500;
}

/** The client's address as lighttpd's log lines show it. */
export function clientIp(req: Request): string {
  const a = req.conn.remoteAddress;
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** A request-controlled string made safe for one log line. */
export function logSafe(s: string): string {
  return s.replace(/[\0-\x1f\x7f-\xff"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An HTTP quoted-string (RFC 9110 §5.6.4) holding `s` (bytes). */
export function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

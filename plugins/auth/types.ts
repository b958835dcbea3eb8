// What mod_auth shares with its backends (lighttpd's mod_auth_api.h): a backend registers itself
// by name (auth.backend = "htpasswd"), and mod_auth asks it to check a Basic password or to give
// the Digest HA1 of a user. User names, passwords and realms are byte strings (latin1, one char
// per byte), as the client sent them.
import type { Request } from '../../core/request.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** One entry of auth.require, compiled. */
export interface AuthRequire {
  /** The URL path prefix it protects. */
  readonly prefix: string;
  readonly method: 'basic' | 'digest' | 'extern';
  /** The realm as configured, and as UTF-8 bytes (what goes on the wire and into HA1). */
  readonly realm: string;
  readonly realmBytes: string;
  /** "valid-user": any user the backend knows. */
  readonly validUser: boolean;
  /** user=... names, as UTF-8 bytes. */
  readonly users: ReadonlySet<string>;
  /** group=... names (no file backend has groups: they never match). */
  readonly groups: readonly string[];
  /** Digest algorithms offered, strongest first; "-sess" variants of these are accepted too. */
  readonly algorithms: readonly DigestAlgorithm[];
  /** The nonce secret: nonce-secret from the config, else the server's random one. */
  readonly nonceSecret: string | null;
}

/**
 * The backend cannot answer (a password file that cannot be read, a user file not configured):
 * the request gets 500 and the message goes to the error log.
 */
export class AuthBackendError extends Error {}

/**
 * The backend is too busy to check now (its bounded queue of password checks is full, or a check
 * took too long): the request gets 503 with Retry-After, and the message goes to the error log.
 */
export class AuthBusyError extends Error {}

export interface AuthBackend {
  /** The auth.backend value that selects it. */
  readonly name: string;
  /**
   * Whether `password` is the password of `user`. Throws AuthBackendError when it cannot tell.
   * A costly check returns a promise (computed off the event loop; rejected with AuthBusyError
   * when the backend is overloaded); the backend drops it itself if the client goes away.
   */
  basic?(req: Request, user: string, password: string, require: AuthRequire): boolean | Promise<boolean>;
  /**
   * H(user ":" realm ":" password) in `algorithm` (the Digest HA1), or null for a user it does
   * not know. Throws AuthBackendError when it cannot tell.
   */
  digest?(req: Request, user: string, realm: string, algorithm: DigestAlgorithm): Buffer | null;
}

/** The auth plugin's api (ctx.server.host.api('auth')). */
export interface AuthApi {
  registerBackend(backend: AuthBackend): void;
}

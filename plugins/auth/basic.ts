// HTTP Basic (RFC 7617) as lighttpd 1.4.69's mod_auth checks it: no or another scheme → 401 with
// `WWW-Authenticate: Basic realm="...", charset="UTF-8"`; credentials that are not base64, or
// without ":" → 400; a wrong password, an unknown user or a user the require rules do not name →
// 401 and the connection is not kept alive.
import type { Request } from '../../core/request.js';
import { constantTimeEqual } from './constant-time.js';
import { backendFailed, clientIp, logSafe, quoted, type Outcome, type SchemeContext } from './scheme.js';
import type { AuthRequire } from './types.js';
import { userAllowed } from './require-config.js';

/** lighttpd decodes at most 1023 bytes of user:password (1363 base64 characters). */
const MAX_BASE64 = 1363;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function challengeBasic(req: Request, require: AuthRequire): number {
  req.setResponseHeader('WWW-Authenticate', `Basic realm=${quoted(require.realmBytes)}, charset="UTF-8"`);
  return 401;
}

/** The outcome, or a promise of it when the backend checks the password off the event loop. */
export function checkBasic(req: Request, require: AuthRequire, sc: SchemeContext): Outcome | Promise<Outcome> {
  const backend = sc.backend;
  if (!backend || !backend.basic) {
    sc.log(backend ? `auth.require "method" => "basic" invalid (try "digest"?) for ${req.path}` : `auth.backend not configured for ${req.path}`);
    return 500;
  }
  const header = req.header('authorization');
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return challengeBasic(req, require);
  const b64 = header.slice(6);
  if (b64.length > MAX_BASE64) return challengeBasic(req, require);
  if (!BASE64.test(b64) || b64.replace(/=+$/, '').length % 4 === 1) {
    sc.log(`decoding base64-string failed ${logSafe(b64)}`);
    return 400;
  }
  const decoded = Buffer.from(b64, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    sc.log(`missing ':' in ${logSafe(decoded)}`);
    return 400;
  }
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const cache = sc.cache;
  const tag = cache?.basic(require, user, sc.nowMs);
  if (tag !== undefined && constantTimeEqual(tag, cache!.passwordTag(password))) return judged(req, require, sc, user, true);
  let ok: boolean | Promise<boolean>;
  try {
    ok = backend.basic(req, user, password, require);
  } catch (err) {
    return backendFailed(req, sc, err);
  }
  if (typeof ok === 'boolean') return checked(req, require, sc, user, password, ok);
  // A costly hash, checked off the event loop: the outcome comes later.
  return ok.then((yes) => checked(req, require, sc, user, password, yes), (err: unknown) => backendFailed(req, sc, err));
}

/** The backend's answer: remember a success in auth.cache, then judge it. */
function checked(req: Request, require: AuthRequire, sc: SchemeContext, user: string, password: string, ok: boolean): Outcome {
  if (ok && sc.cache) sc.cache.setBasic(require, user, password, Date.now());
  return judged(req, require, sc, user, ok);
}

/** A wrong password, or a user the require rules do not name: 401 and no keep-alive. */
function judged(req: Request, require: AuthRequire, sc: SchemeContext, user: string, ok: boolean): Outcome {
  if (!ok || !userAllowed(require, user)) {
    sc.log(ok
      ? `user ${logSafe(user)} is not allowed by "require" => "..." for ${req.path}, IP: ${clientIp(req)}`
      : `password doesn't match for ${req.path} username: ${logSafe(user)} IP: ${clientIp(req)}`);
    req.keepAlive = false;
    return challengeBasic(req, require);
  }
  return { user };
}

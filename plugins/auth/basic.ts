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

export function checkBasic(req: Request, require: AuthRequire, sc: SchemeContext): Outcome {
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
  let ok = false;
  const cache = sc.cache;
  const tag = cache?.basic(require, user, sc.nowMs);
  if (tag !== undefined && constantTimeEqual(tag, cache!.passwordTag(password))) ok = true;
  else {
    try {
      ok = backend.basic(req, user, password, require);
    } catch (err) {
      return backendFailed(req, sc, err);
    }
    if (ok && cache) cache.setBasic(require, user, password, sc.nowMs);
  }
  if (!ok || !userAllowed(require, user)) {
    sc.log(ok
      ? `user ${logSafe(user)} is not allowed by "require" => "..." for ${req.path}, IP: ${clientIp(req)}`
      : `password doesn't match for ${req.path} username: ${logSafe(user)} IP: ${clientIp(req)}`);
    req.keepAlive = false;
    return challengeBasic(req, require);
  }
  return { user };
}

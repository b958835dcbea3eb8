// mod_authn_file (lighttpd 1.4.69): the file backends of mod_auth. "htpasswd" checks Basic
// passwords against Apache htpasswd hashes; "htdigest" holds user:realm:HA1 lines (Apache's
// htdigest) and serves Basic and Digest; "plain" holds user:password lines and serves both.
// Files are read again when they change.
import { createHash } from 'node:crypto';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { constantTimeEqual } from '../auth/constant-time.js';
import { AuthBackendError, AuthBusyError, type AuthApi, type DigestAlgorithm } from '../auth/types.js';
import { hashKind, isCostly, verifyHtpasswd } from './password-hash.js';
import { UserFiles, type UserFileFormat } from './user-file.js';
import { VerifyPool } from './verify-pool.js';

const hashName = (a: DigestAlgorithm) => (a === 'MD5' ? 'md5' : 'sha256');
const hexLength = (a: DigestAlgorithm) => (a === 'MD5' ? 32 : 64);
const HEX = /^[0-9a-fA-F]+$/;

const options = {
  'auth.backend.htpasswd.userfile': { type: 'string', default: '', doc: 'The password file of auth.backend = "htpasswd": user:hash lines as Apache\'s htpasswd writes them (bcrypt -B, SHA-256/SHA-512 crypt -2/-5, MD5 $apr1$ -m, SHA-1 -s, DES crypt -d). Read again when it changes. Default: none.' },
  'auth.backend.htdigest.userfile': { type: 'string', default: '', doc: 'The password file of auth.backend = "htdigest": user:realm:HA1 lines as Apache\'s htdigest writes them (HA1 = MD5 of "user:realm:password"; 64 hex digits for SHA-256). Read again when it changes. Default: none.' },
  'auth.backend.plain.userfile': { type: 'string', default: '', doc: 'The password file of auth.backend = "plain": user:password lines, passwords in clear text. Read again when it changes. Default: none.' },
  'auth.backend.plain.groupfile': { type: 'string', default: '', doc: 'Accepted for compatibility and unused, as in lighttpd: no file backend knows groups, so "group=..." rules never match. Default: none.' },
} as const;

export default definePlugin({
  id: 'authn-file',
  aliases: ['mod_authn_file'],
  requires: ['auth'],
  options,
  create(ctx) {
    const files = new UserFiles((m) => ctx.logError(m));
    const warned = new Set<string>();
    /** The entries of the file `key` names for this request; AuthBackendError when unset or unreadable. */
    const entries = (req: Request, key: keyof typeof options, format: UserFileFormat) => {
      const file = ctx.options(req)[key];
      if (file === '') throw new AuthBackendError(`${key} is not set`);
      return { file, map: files.entries(file, format, key) };
    };
    /** The HA1 of user:realm in an htdigest file, for one algorithm (by its length), or null. */
    const htdigestHa1 = (req: Request, user: string, realm: string, algorithm: DigestAlgorithm): Buffer | null => {
      const { map } = entries(req, 'auth.backend.htdigest.userfile', 'htdigest');
      const hex = map.get(`${user}:${realm}`)?.find((h) => h.length === hexLength(algorithm) && HEX.test(h));
      return hex === undefined ? null : Buffer.from(hex, 'hex');
    };
    const ha1Of = (user: string, realm: string, password: string, algorithm: DigestAlgorithm) =>
      createHash(hashName(algorithm)).update(`${user}:${realm}:${password}`, 'latin1').digest();

    // Costly hashes are checked by worker threads, made on the first such check.
    let pool: VerifyPool | null = null;
    const poolNow = () => (pool ??= new VerifyPool());
    ctx.hooks.shutdown.tapPromise(ctx.id, async () => { await pool?.close(); });
    // The pool's state among the server counters (mod_status's statistics page: core.auth-checks-*).
    const counters = ctx.server.counters as unknown as Record<string, number>;
    const gauge = (name: string, read: (p: VerifyPool) => number) =>
      Object.defineProperty(counters, name, { enumerable: true, configurable: true, get: () => (pool === null ? 0 : read(pool)) });
    gauge('authChecksPending', (p) => p.pending);
    gauge('authChecksRefused', (p) => p.refused);
    gauge('authChecksTimedOut', (p) => p.timedOut);
    gauge('authCheckWorkerFailures', (p) => p.workerFailures);

    const api = ctx.server.host.api<AuthApi>('auth')!;
    api.registerBackend({
      name: 'htpasswd',
      basic(req, user, password) {
        const { file, map } = entries(req, 'auth.backend.htpasswd.userfile', 'htpasswd');
        const stored = map.get(user)?.[0];
        if (stored === undefined) return false;
        const kind = hashKind(stored);
        if (kind === null && !warned.has(`${file}\0${user}`)) {
          warned.add(`${file}\0${user}`);
          ctx.logError(`${file}: the password hash of user "${user}" is in a format lantern does not know (it never matches)`);
        }
        if (!isCostly(kind)) return verifyHtpasswd(password, stored);
        const check = poolNow().check(password, stored, req.conn.remoteAddress);
        req.onAbort(() => check.cancel());
        return check.result.catch((err: unknown) => {
          if (err instanceof AuthBusyError) throw err;
          throw new AuthBackendError(err instanceof Error ? err.message : String(err));
        });
      },
    });
    api.registerBackend({
      name: 'htdigest',
      basic(req, user, password, require) {
        // The file's entry decides the algorithm (32 hex digits: MD5, 64: SHA-256), among those
        // the auth.require entry allows.
        for (const algorithm of require.algorithms) {
          const ha1 = htdigestHa1(req, user, require.realmBytes, algorithm);
          if (ha1 !== null) return constantTimeEqual(ha1Of(user, require.realmBytes, password, algorithm), ha1);
        }
        return false;
      },
      digest: htdigestHa1,
    });
    api.registerBackend({
      name: 'plain',
      basic(req, user, password) {
        const stored = entries(req, 'auth.backend.plain.userfile', 'htpasswd').map.get(user)?.[0];
        return stored !== undefined && constantTimeEqual(Buffer.from(stored, 'latin1'), Buffer.from(password, 'latin1'));
      },
      digest(req, user, realm, algorithm) {
        const stored = entries(req, 'auth.backend.plain.userfile', 'htpasswd').map.get(user)?.[0];
        return stored === undefined ? null : ha1Of(user, realm, stored, algorithm);
      },
    });
  },
});

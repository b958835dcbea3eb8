// HTTP Digest (RFC 7616) as lighttpd 1.4.69's mod_auth checks it, with qop="auth" (or none, RFC
// 2069), algorithms MD5 and SHA-256 and their "-sess" variants. The nonce is
// `<hex unix time>:<8 hex random>:<HMAC-SHA-256(secret, time:random)>`: valid for 10 minutes,
// after which the client is told `stale=true`; a nextnonce is offered in Authentication-Info in
// the last minute. The secret is the entry's "nonce-secret", else one the server draws at start.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Request } from '../../core/request.js';
import { constantTimeEqual } from './constant-time.js';
import { parseAlgorithm, userAllowed } from './require-config.js';
import { backendFailed, clientIp, logSafe, quoted, type Outcome, type SchemeContext } from './scheme.js';
import type { AuthRequire, DigestAlgorithm } from './types.js';

/** A nonce is good for 10 minutes; a nextnonce is sent in the last one (lighttpd's numbers). */
const NONCE_MAX_AGE_S = 600;
const NONCE_RENEW_AGE_S = 540;
const NONCE = /^([0-9a-fA-F]{1,16}):([0-9a-f]{8}):([0-9a-f]{64})$/;

const hash = (algorithm: DigestAlgorithm) => createHash(algorithm === 'MD5' ? 'md5' : 'sha256');
const hexLength = (algorithm: DigestAlgorithm) => (algorithm === 'MD5' ? 32 : 64);

export function makeNonce(secret: string, nowSec: number): string {
  const ts = nowSec.toString(16);
  const rnd = randomBytes(4).toString('hex');
  return `${ts}:${rnd}:${createHmac('sha256', secret).update(`${ts}:${rnd}`).digest('hex')}`;
}

/** 401 with one challenge per algorithm offered (strongest first), or the stale one's only. */
export function challengeDigest(req: Request, require: AuthRequire, nowSec: number, stale?: DigestAlgorithm): number {
  req.removeResponseHeader('WWW-Authenticate');
  for (const algorithm of stale ? [stale] : require.algorithms) {
    req.responseHeaders.push('WWW-Authenticate',
      `Digest realm=${quoted(require.realmBytes)}, charset="UTF-8", algorithm=${algorithm}, nonce="${makeNonce(require.nonceSecret!, nowSec)}", qop="auth"${stale ? ', stale=true' : ''}`);
  }
  return 401;
}

/**
 * The auth-params of a Digest Authorization header: `name=token` or `name="quoted string"`,
 * separated by commas; null when it does not parse. The first of a repeated name wins.
 */
export function parseDigestParams(s: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  const n = s.length;
  const ws = () => { while (i < n && (s[i] === ' ' || s[i] === '\t')) i++; };
  for (;;) {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= n) return out;
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    if (i === start) return null;
    const name = s.slice(start, i).toLowerCase();
    ws();
    if (s[i] !== '=') return null;
    i++;
    ws();
    let value = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = s[i++]!;
        if (c === '"') break;
        if (c === '\\') { if (i >= n) return null; value += s[i++]; } else value += c;
      }
    } else {
      const vs = i;
      while (i < n && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
      value = s.slice(vs, i);
      if (value === '') return null;
    }
    if (!out.has(name)) out.set(name, value);
    ws();
    if (i < n && s[i] !== ',') return null;
  }
}

/** Requests whose response gets `Authentication-Info: nextnonce="..."` (responseStart). */
export const nextNonces = new WeakMap<Request, string>();

export function checkDigest(req: Request, require: AuthRequire, sc: SchemeContext): Outcome {
  const backend = sc.backend;
  if (!backend || !backend.digest) {
    sc.log(backend ? `auth.require "method" => "digest" invalid (try "basic"?) for ${req.path}` : `auth.backend not configured for ${req.path}`);
    return 500;
  }
  const nowSec = Math.floor(sc.nowMs / 1000);
  const header = req.header('authorization');
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'digest ') return challengeDigest(req, require, nowSec);
  const p = parseDigestParams(header.slice(7));
  if (!p) {
    sc.log(`digest: malformed Authorization header from ${clientIp(req)}`);
    return 400;
  }
  const user = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  const qop = p.get('qop');
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  if (user === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined
    || (qop !== undefined && (nc === undefined || cnonce === undefined))) {
    sc.log('digest: missing field');
    return 400;
  }
  if (realm !== require.realmBytes) {
    sc.log('digest: realm mismatch');
    return challengeDigest(req, require, nowSec);
  }
  const algo = parseAlgorithm(p.get('algorithm') ?? 'MD5');
  if (!algo || !require.algorithms.includes(algo.algorithm)) {
    sc.log(`digest: (${logSafe(p.get('algorithm') ?? '')}): invalid`);
    return challengeDigest(req, require, nowSec);
  }
  const algorithm = algo.algorithm;
  if (algo.sess && cnonce === undefined) {
    sc.log(`digest: (${logSafe(p.get('algorithm')!)}): missing field`);
    return 400;
  }
  if (response.length !== hexLength(algorithm) || !/^[0-9a-fA-F]+$/.test(response)) {
    sc.log(`digest: (${logSafe(response)}): invalid format`);
    return 400;
  }
  if (qop !== undefined && qop.toLowerCase() !== 'auth') {
    sc.log(`digest: qop=${logSafe(qop)} not supported`);
    return 400;
  }
  // The digest covers the request-target the client sent; a different one is a replay attempt
  // (or a proxy that rewrote it).
  if (uri !== req.head.target) {
    sc.log(`digest: auth failed: uri mismatch (${logSafe(req.head.target)} != ${logSafe(uri)}), IP: ${clientIp(req)}`);
    return 400;
  }
  const ts = /^([0-9a-fA-F]{1,16}):/.exec(nonce);
  const age = ts ? nowSec - parseInt(ts[1]!, 16) : -1;
  if (!ts || age < 0 || age > NONCE_MAX_AGE_S) return challengeDigest(req, require, nowSec, algorithm);
  const m = NONCE.exec(nonce);
  if (!m) {
    sc.log('digest: nonce invalid');
    return 400;
  }
  const mac = createHmac('sha256', require.nonceSecret!).update(`${m[1]}:${m[2]}`).digest();
  if (!constantTimeEqual(mac, Buffer.from(m[3]!, 'hex'))) {
    sc.log('digest: nonce mismatch');
    return challengeDigest(req, require, nowSec);
  }
  let ha1 = sc.cache?.digest(require, user, algorithm, sc.nowMs);
  if (ha1 === undefined) {
    let got: Buffer | null;
    try {
      got = backend.digest(req, user, require.realmBytes, algorithm);
    } catch (err) {
      return backendFailed(req, sc, err);
    }
    if (got === null) {
      sc.log(`digest: auth failed for ${logSafe(user)}: unknown user, IP: ${clientIp(req)}`);
      req.keepAlive = false;
      return challengeDigest(req, require, nowSec);
    }
    ha1 = got;
    sc.cache?.setDigest(require, user, algorithm, ha1, sc.nowMs);
  }
  let a1 = ha1.toString('hex');
  if (algo.sess) a1 = hash(algorithm).update(`${a1}:${nonce}:${cnonce}`, 'latin1').digest('hex');
  const a2 = hash(algorithm).update(`${req.method}:${uri}`, 'latin1').digest('hex');
  const expected = hash(algorithm)
    .update(qop !== undefined ? `${a1}:${nonce}:${nc}:${cnonce}:${qop}:${a2}` : `${a1}:${nonce}:${a2}`, 'latin1')
    .digest();
  if (!constantTimeEqual(expected, Buffer.from(response, 'hex'))) {
    sc.log(`digest: auth failed for ${logSafe(user)}: wrong password, IP: ${clientIp(req)}`);
    req.keepAlive = false;
    return challengeDigest(req, require, nowSec);
  }
  if (!userAllowed(require, user)) {
    sc.log(`user ${logSafe(user)} is not allowed by "require" => "..." for ${req.path}, IP: ${clientIp(req)}`);
    return challengeDigest(req, require, nowSec);
  }
  if (age > NONCE_RENEW_AGE_S) nextNonces.set(req, `nextnonce="${makeNonce(require.nonceSecret!, nowSec)}"`);
  return { user };
}

// auth.cache (lighttpd 1.4.69): successful checks are remembered for "max-age" seconds (600 by
// default), so a bcrypt or SHA-crypt hash is not computed again on every request. Entries are per
// auth.require entry and user; Basic keeps a keyed hash of the password (never the password
// itself), Digest the HA1. A password changed in the file takes effect for a cached user when
// the entry expires, as in lighttpd.
import { createHmac, randomBytes } from 'node:crypto';
import type { ConfigHash } from '../../config/model.js';
import type { AuthRequire, DigestAlgorithm } from './types.js';

interface Entry {
  readonly createdMs: number;
  /** Basic: HMAC of the password; Digest: the HA1. */
  readonly secret: Buffer;
}

export class AuthCache {
  readonly maxAgeMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly key = randomBytes(32);
  private readonly ids = new WeakMap<AuthRequire, number>();
  private nextId = 1;

  constructor(maxAgeSeconds: number) { this.maxAgeMs = maxAgeSeconds * 1000; }

  private id(require: AuthRequire, kind: string, user: string): string {
    let n = this.ids.get(require);
    if (n === undefined) { n = this.nextId++; this.ids.set(require, n); }
    return `${n}\0${kind}\0${user}`;
  }

  private get(k: string, nowMs: number): Buffer | undefined {
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (nowMs - e.createdMs > this.maxAgeMs) { this.entries.delete(k); return undefined; }
    return e.secret;
  }

  /** The keyed hash a Basic password is cached as. */
  passwordTag(password: string): Buffer {
    return createHmac('sha256', this.key).update(password, 'latin1').digest();
  }

  basic(require: AuthRequire, user: string, nowMs: number): Buffer | undefined {
    return this.get(this.id(require, 'basic', user), nowMs);
  }
  setBasic(require: AuthRequire, user: string, password: string, nowMs: number): void {
    this.entries.set(this.id(require, 'basic', user), { createdMs: nowMs, secret: this.passwordTag(password) });
  }
  digest(require: AuthRequire, user: string, algorithm: DigestAlgorithm, nowMs: number): Buffer | undefined {
    return this.get(this.id(require, algorithm, user), nowMs);
  }
  setDigest(require: AuthRequire, user: string, algorithm: DigestAlgorithm, ha1: Buffer, nowMs: number): void {
    this.entries.set(this.id(require, algorithm, user), { createdMs: nowMs, secret: ha1 });
  }

  /** Drop expired entries (the trigger, every 8 s as lighttpd). */
  sweep(nowMs: number): void {
    for (const [k, e] of this.entries) if (nowMs - e.createdMs > this.maxAgeMs) this.entries.delete(k);
  }
}

/** auth.cache's value: ( "max-age" => "600" ); an error message, or undefined when it is fine. */
export function checkCacheOption(value: unknown): string | undefined {
  const hash = value as ConfigHash;
  for (const [k, v] of hash.entries) {
    if (k !== 'max-age') return `unknown key "${k}" (auth.cache = ( "max-age" => "600" ))`;
    if (!(typeof v === 'number' || (typeof v === 'string' && /^[0-9]{1,9}$/.test(v)))) return `"max-age" must be a number of seconds, got ${JSON.stringify(v)}`;
  }
  return undefined;
}

export function cacheMaxAge(hash: ConfigHash): number {
  const v = hash.get('max-age');
  return v === undefined ? 600 : Number(v);
}

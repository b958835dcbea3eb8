// auth.require as lighttpd 1.4.69 parses it (mod_auth_require_parse_array):
//   auth.require = ( "/path" => ( "method" => "basic"|"digest"|"extern", "realm" => "...",
//                                 "require" => "valid-user" | "user=a|user=b|group=g",
//                                 "algorithm" => "MD5|SHA-256", "nonce-secret" => "..." ) )
// The first key that is a prefix of the URL path wins, in the order written (lighttpd's
// array_match_key_prefix).
import { ConfigHash } from '../../config/model.js';
import type { AuthRequire, DigestAlgorithm } from './types.js';

const FIELDS = new Set(['method', 'realm', 'require', 'algorithm', 'nonce-secret', 'nonce_secret', 'userhash']);
const REQUIRE_HINT = '(expecting "valid-user" or "user=a|user=b|group=g")';

export const utf8Bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** "MD5", "MD5-sess", "SHA-256", "SHA-256-sess" (case-insensitive) → the base algorithm, or null. */
export function parseAlgorithm(s: string): { algorithm: DigestAlgorithm; sess: boolean } | null {
  let name = s.toLowerCase();
  const sess = name.endsWith('-sess');
  if (sess) name = name.slice(0, -5);
  if (name === 'md5') return { algorithm: 'MD5', sess };
  if (name === 'sha-256') return { algorithm: 'SHA-256', sess };
  return null;
}

/** Compile auth.require; a string is the first error found (the config is refused). */
export function compileRequire(value: unknown, secret: string): AuthRequire[] | string {
  if (!(value instanceof ConfigHash)) return 'expected auth.require = ( "urlpath" => ( "option" => "value" ) )';
  const out: AuthRequire[] = [];
  for (const [prefix, entry] of value.entries) {
    if (!(entry instanceof ConfigHash)) return `"${prefix}": expected auth.require = ( "urlpath" => ( "option" => "value" ) )`;
    const f = new Map<string, string>();
    for (const [k, v] of entry.entries) {
      if (!FIELDS.has(k)) return `"${prefix}": the field "${k}" is unknown (known: method, realm, require, algorithm, nonce-secret)`;
      if (typeof v !== 'string') return `"${prefix}": a string was expected for "${k}"`;
      f.set(k, v);
    }
    const method = f.get('method') ?? '';
    if (method.trim() === '') return `"${prefix}": the method field is missing or blank`;
    if (method !== 'basic' && method !== 'digest' && method !== 'extern') {
      return `"${prefix}": unknown method "${method}" (e.g. "basic", "digest" or "extern")`;
    }
    const realm = f.get('realm');
    if (realm === undefined) return `"${prefix}": the realm field is missing`;
    if (/[\0-\x1f\x7f]/.test(realm)) return `"${prefix}": the realm must not contain control characters`;
    const require = f.get('require') ?? '';
    if (require.trim() === '') return `"${prefix}": the require field is missing or blank`;
    const rules = parseRules(require);
    if (typeof rules === 'string') return `"${prefix}": ${rules}`;
    const algorithms = new Set<DigestAlgorithm>();
    const algos = f.get('algorithm') ?? '';
    if (algos.trim() === '') algorithms.add('MD5');
    else {
      for (const a of algos.split('|')) {
        const p = a === '' ? { algorithm: 'MD5' as const } : parseAlgorithm(a);
        if (!p) return `"${prefix}": invalid algorithm "${a}" (MD5, MD5-sess, SHA-256, SHA-256-sess, joined with "|")`;
        algorithms.add(p.algorithm);
      }
    }
    const nonceSecret = f.get('nonce-secret') ?? f.get('nonce_secret');
    out.push({
      prefix,
      method,
      realm,
      realmBytes: utf8Bytes(realm),
      validUser: rules.validUser,
      users: new Set(rules.users.map(utf8Bytes)),
      groups: rules.groups,
      algorithms: (['SHA-256', 'MD5'] as const).filter((a) => algorithms.has(a)),
      nonceSecret: nonceSecret !== undefined && nonceSecret !== '' ? nonceSecret : secret,
    });
  }
  return out;
}

/** "valid-user" or "user=a|user=b|group=g|host=h" (host: accepted, never matches, as lighttpd). */
function parseRules(s: string): { validUser: boolean; users: string[]; groups: string[] } | string {
  if (s === 'valid-user') return { validUser: true, users: [], groups: [] };
  const users: string[] = [];
  const groups: string[] = [];
  for (const part of s.split('|')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (part === 'valid-user' || part.startsWith('valid-user=')) return `the require field "${s}": valid-user can not be combined with other rules ${REQUIRE_HINT}`;
    if (eq < 0) return `the require field "${s}": missing '=' near "${part}" ${REQUIRE_HINT}`;
    const kind = part.slice(0, eq);
    const name = part.slice(eq + 1);
    if (name === '') return `the require field "${s}": missing token after '=' near "${part}" ${REQUIRE_HINT}`;
    if (kind === 'user') users.push(name);
    else if (kind === 'group') groups.push(name);
    else if (kind === 'host') continue;
    else return `the require field "${s}": invalid token "${kind}" ${REQUIRE_HINT}`;
  }
  return { validUser: false, users, groups };
}

/** The first entry whose prefix starts the path (lighttpd: first in the order written). */
export function matchRequire(list: readonly AuthRequire[], path: string): AuthRequire | undefined {
  for (const r of list) if (path.startsWith(r.prefix)) return r;
  return undefined;
}

/** Whether an authenticated user (bytes) may pass `require` (lighttpd http_auth_match_rules). */
export function userAllowed(require: AuthRequire, user: string): boolean {
  return require.validUser || require.users.has(user);
}

// lighttpd 1.4.69 mod_expire's expressions, `<base> [plus] {<num> <unit>}*` (mod_expire_get_offset()),
// and its lookup tables: expire.url by URL-path prefix, expire.mimetypes by Content-Type prefix,
// first match in config order (array_match_key_prefix()).
import { ConfigHash } from '../../config/model.js';

/** A parsed expression: from the time of the request ("access", "now") or of the file ("modification"). */
export interface ExpireRule {
  base: 'access' | 'modification';
  /** Seconds added to the base (may be negative: then the response expires at once). */
  seconds: number;
}

/** Seconds per unit; lighttpd 1.4.69 counts a month as 30 days and a year as 12 such months. */
const UNIT_SECONDS: Record<string, number> = {
  year: 60 * 60 * 24 * 30 * 12,
  month: 60 * 60 * 24 * 30,
  week: 60 * 60 * 24 * 7,
  day: 60 * 60 * 24,
  hour: 60 * 60,
  minute: 60,
  second: 1,
};

/** Parse an expression, e.g. "access plus 1 hours", "modification 2 days 3 hours"; throws with the reason. */
export function parseExpire(text: string): ExpireRule {
  const m = /^(access|now|modification) (?:plus )?(.*)$/.exec(text);
  if (m === null) throw new Error('must start with "access", "now" or "modification" and a space');
  const base = m[1] === 'modification' ? 'modification' : 'access';
  const rest = m[2]!.replace(/ +$/, '');
  if (rest === '') throw new Error('a number and a unit must follow (e.g. "access plus 1 hours")');
  let seconds = 0;
  const part = / *([+-]?[0-9]{1,9}) ([a-z]+)(?: +|$)/y;
  let at = 0;
  while (at < rest.length) {
    part.lastIndex = at;
    const p = part.exec(rest);
    if (p === null) throw new Error(`expected "<number> <unit>" at "${rest.slice(at)}"`);
    const unit = p[2]!.endsWith('s') ? p[2]!.slice(0, -1) : p[2]!;
    const mult = UNIT_SECONDS[unit];
    if (mult === undefined) throw new Error(`unknown unit "${p[2]}" (years, months, weeks, days, hours, minutes, seconds)`);
    seconds += Number(p[1]) * mult;
    at = part.lastIndex;
  }
  return { base, seconds };
}

/** A checked expire.url or expire.mimetypes table: keys in config order with their rules. */
export type ExpireTable = ReadonlyArray<readonly [key: string, rule: ExpireRule]>;

const tables = new WeakMap<ConfigHash, ExpireTable>();

/**
 * The table of a hash, parsed once. For expire.mimetypes a trailing "*" of a key is dropped
 * (lighttpd: "text/*" is the prefix "text/").
 */
export function expireTable(hash: ConfigHash, mimetypes: boolean): ExpireTable {
  let t = tables.get(hash);
  if (t === undefined) {
    t = hash.entries.map(([k, v]) => [mimetypes && k.endsWith('*') ? k.slice(0, -1) : k, parseExpire(v as string)] as const);
    tables.set(hash, t);
  }
  return t;
}

/** The option check: every value a string and a valid expression; an error message or undefined. */
export function checkExpireHash(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return 'expected ( "key" => "access plus 1 hours", ... )';
  for (const [k, v] of value.entries) {
    if (typeof v !== 'string') return `the value of "${k}" must be a string`;
    try {
      parseExpire(v);
    } catch (err) {
      return `"${k}" => "${v}": ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** expire.url: the first key that is a prefix of the URL path. */
export function matchUrl(table: ExpireTable, path: string): ExpireRule | undefined {
  for (const [k, rule] of table) if (path.startsWith(k)) return rule;
  return undefined;
}

/**
 * expire.mimetypes: the first key that is a prefix of the Content-Type, else the key "" (also
 * when there is no Content-Type). A key "application/javascript" also matches "text/javascript"
 * (lighttpd 1.4.69 renames that key when the table has neither "text/javascript" nor "text/").
 */
export function matchMimetype(table: ExpireTable, contentType: string | undefined): ExpireRule | undefined {
  if (contentType !== undefined) {
    for (const [k, rule] of table) {
      if (contentType.startsWith(k)) return rule;
      if (k === 'application/javascript' && contentType.startsWith('text/javascript')) return rule;
    }
  }
  for (const [k, rule] of table) if (k === '') return rule;
  return undefined;
}

/**
 * When the response expires (Unix seconds): the base plus the offset, never before `nowSec`.
 * `mtimeSec` is the file's modification time for a "modification" rule (undefined: unknown,
 * then no expiry is set).
 */
export function expiresAt(rule: ExpireRule, nowSec: number, mtimeSec: number | undefined): number | undefined {
  const base = rule.base === 'access' ? nowSec : mtimeSec;
  if (base === undefined) return undefined;
  return Math.max(nowSec, base + rule.seconds);
}

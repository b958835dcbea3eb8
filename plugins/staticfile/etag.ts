// Entity tags (RFC 9110 §8.8.3): making a strong ETag from file metadata, parsing entity-tag
// lists (If-Match, If-None-Match) and the strong and weak comparisons of §8.8.3.2.

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag with its quotes, e.g. `"abc"`. */
  opaque: string;
}

export interface ETagFlags {
  inode: boolean;
  mtime: boolean;
  size: boolean;
}

/** The file facts an ETag is made of (a subset of fs.Stats). */
export interface ETagSource {
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * A strong ETag from the parts the etag.use-* options select, hex-encoded, quoted:
 * `"ino-size-mtime"` (mtime in microseconds so that two writes in one second differ).
 * Null when every part is disabled (lighttpd then sends no ETag either).
 */
export function makeETag(st: ETagSource, flags: ETagFlags): string | null {
  const parts: string[] = [];
  if (flags.inode) parts.push(st.ino.toString(16));
  if (flags.size) parts.push(st.size.toString(16));
  if (flags.mtime) parts.push(Math.trunc(st.mtimeMs * 1000).toString(16));
  return parts.length === 0 ? null : `"${parts.join('-')}"`;
}

/**
 * Parse `*` or a comma-separated list of entity-tags. Malformed members are skipped (a member
 * that is not an entity-tag can never match, which is what the comparison needs), and empty list
 * members are allowed (RFC 9110 §5.6.1).
 */
export function parseETagList(value: string): '*' | EntityTag[] {
  const s = value.trim();
  if (s === '*') return '*';
  const out: EntityTag[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= n) break;
    let weak = false;
    if (s[i] === 'W' && s[i + 1] === '/') { weak = true; i += 2; }
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close < 0) break;
      out.push({ weak, opaque: s.slice(i, close + 1) });
      i = close + 1;
    }
    // Skip whatever is left of this member up to the next comma.
    while (i < n && s[i] !== ',') i++;
  }
  return out;
}

/** Parse one entity-tag (If-Range), or null when the value is not one. */
export function parseETag(value: string): EntityTag | null {
  const s = value.trim();
  const weak = s.startsWith('W/');
  const opaque = weak ? s.slice(2) : s;
  if (opaque.length < 2 || opaque[0] !== '"' || opaque[opaque.length - 1] !== '"' || opaque.indexOf('"', 1) !== opaque.length - 1) {
    return null;
  }
  return { weak, opaque };
}

/** RFC 9110 §8.8.3.2 strong comparison: both strong and the opaque-tags equal. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** RFC 9110 §8.8.3.2 weak comparison: the opaque-tags equal, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

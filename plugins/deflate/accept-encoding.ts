// Content-coding negotiation (RFC 9110 §12.5.3 Accept-Encoding) as lighttpd's mod_deflate does
// it: the server's order (deflate.allowed-encodings) decides among the codings the client
// accepts, not the client's q-values; a coding the client gives q=0 is refused.

/** A content-coding lantern can produce, as the response's Content-Encoding says it. */
export type Coding = 'br' | 'gzip' | 'x-gzip' | 'deflate';

/** Within one allowed-encodings entry, which coding wins (lighttpd's order). */
const PRIORITY: readonly Coding[] = ['br', 'gzip', 'x-gzip', 'deflate'];

/** Encodings lighttpd knows that lantern cannot produce (no zstd in Node 20's zlib; no bzip2). */
export const UNSUPPORTED_CODINGS = ['zstd', 'bzip2'] as const;

/** The default order, lighttpd's "every available encoding": br, then gzip (and x-gzip), then deflate. */
export const DEFAULT_GROUPS: readonly (readonly Coding[])[] = [['br'], ['gzip', 'x-gzip'], ['deflate']];

/**
 * deflate.allowed-encodings to groups of codings, in order. As lighttpd, each entry is matched by
 * substring: "gzip" (and "x-gzip") allows gzip and x-gzip, "deflate" deflate, "br" (or "brotli")
 * br; "zstd" and "bzip2" allow nothing here. An empty list means the default order.
 */
export function codingGroups(entries: readonly string[]): Coding[][] {
  if (entries.length === 0) return DEFAULT_GROUPS.map((g) => [...g]);
  const groups: Coding[][] = [];
  for (const e of entries) {
    if (e.includes('gzip')) groups.push(['gzip', 'x-gzip']);
    if (e.includes('deflate')) groups.push(['deflate']);
    if (e.includes('br')) groups.push(['br']);
  }
  return groups;
}

/** Whether an allowed-encodings entry names something lighttpd knows (else a typo: the start stops). */
export function knownEncodingEntry(e: string): boolean {
  return ['gzip', 'deflate', 'br', ...UNSUPPORTED_CODINGS].some((k) => e.includes(k));
}

/** The codings an Accept-Encoding value accepts (q > 0), lowercased. `*` is not expanded (as lighttpd and nginx). */
export function acceptedCodings(value: string): Set<string> {
  const out = new Set<string>();
  for (const member of value.split(',')) {
    const parts = member.split(';');
    const name = parts[0]!.trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!.trim();
      if (p.length > 2 && (p[0] === 'q' || p[0] === 'Q') && p[1] === '=') {
        const n = Number(p.slice(2).trim());
        if (!Number.isNaN(n)) q = n;
      }
    }
    if (q > 0) out.add(name);
    else out.delete(name);
  }
  return out;
}

/** The coding to use for this Accept-Encoding value, or null (identity). */
export function chooseCoding(acceptEncoding: string, groups: readonly (readonly Coding[])[]): Coding | null {
  const accepted = acceptedCodings(acceptEncoding);
  if (accepted.size === 0) return null;
  for (const group of groups) {
    const hit = group.filter((c) => accepted.has(c));
    if (hit.length > 0) return PRIORITY.find((c) => hit.includes(c)) ?? null;
  }
  return null;
}

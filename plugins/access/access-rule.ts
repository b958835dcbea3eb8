// The url.access-allow / url.access-deny decision (lighttpd 1.4.69 mod_access_check): suffixes of
// the URL path, compared byte for byte, the first one in list order that matches decides.

/**
 * Whether `urlPath` may be served. With a non-empty `allow` list only paths ending in one of its
 * suffixes are allowed, and `deny` is not read (lighttpd: allow wins outright). Otherwise a path
 * ending in one of `deny`'s suffixes is refused. The suffix "" matches every path, so
 * `url.access-deny = ( "" )` refuses everything.
 */
export function accessAllowed(allow: readonly string[], deny: readonly string[], urlPath: string): boolean {
  if (allow.length > 0) return endsWithAny(urlPath, allow);
  if (deny.length > 0) return !endsWithAny(urlPath, deny);
  return true;
}

function endsWithAny(s: string, suffixes: readonly string[]): boolean {
  for (const suffix of suffixes) if (s.endsWith(suffix)) return true;
  return false;
}

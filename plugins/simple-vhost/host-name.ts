// The host of a request as a part of a file system path, for the vhost plugins (simple-vhost,
// evhost): its port stripped, whether it may name a folder at all, and whether the folder made
// from it is there.
import type { StatCache } from '../../core/stat-cache.js';

/**
 * The host part of an authority, without its port: `example.org:8080` → `example.org`,
 * `[::1]:8080` → `[::1]` (lighttpd cuts at the first ':', which leaves `[` of an IPv6 literal).
 */
export function hostWithoutPort(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.indexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/**
 * Whether a host may become part of a file system path. The core already refuses any other
 * Host (core/http1/authority.ts: only [A-Za-z0-9._-] or an IPv6 literal, no empty label, so no
 * `..`); this guards against a plugin that changed req.host after parsing. lighttpd makes the
 * same check (no leading '.', no '/') when its strict host parsing is off.
 */
export function isSafeHostComponent(host: string): boolean {
  return host !== '' && host.charCodeAt(0) !== 0x2e /* . */ && !/[/\\\0]/.test(host);
}

/**
 * Why `root` cannot be a virtual host's document root, for the error log, or null when it is a
 * directory. Through the server's stat cache, a failure kept for a second too: the host is the
 * client's choice, and each new one would otherwise block the event loop for a stat.
 */
export function vhostRootProblem(statCache: StatCache, root: string): string | null {
  const found = statCache.kindSync(root, { keepFailures: true });
  if (found === 'dir') return null;
  return typeof found === 'string' ? 'Not a directory' : found.reason;
}

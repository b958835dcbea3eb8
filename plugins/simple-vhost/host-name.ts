// The host of a request as a part of a file system path, for the vhost plugins (simple-vhost,
// evhost): whether it may name a folder at all, and whether the folder made from it is there
// (the port is stripped by core/http1/authority.ts hostWithoutPort).
import type { StatCache } from '../../core/stat-cache.js';

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

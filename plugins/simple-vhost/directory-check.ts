// Whether a candidate document root is a directory, with a short-lived cache: the vhost plugins
// stat on every request in the (synchronous) docroot phase, as lighttpd's stat_cache_path_isdir()
// does through its stat cache. Used by simple-vhost and evhost.
import fs from 'node:fs';
import { turnMonotonicMs } from '../../core/turn.js';

/** How long an answer is reused (lighttpd's stat cache keeps an entry for about a second). */
const TTL_MS = 1000;
/** Entries kept at most; the cache is emptied when it grows past this (hostile Host fields). */
const MAX_ENTRIES = 1024;

/** A stat answer: a directory, or why not (for the error log). */
export type DirectoryCheck = { isDir: true } | { isDir: false; reason: string };

interface Entry { result: DirectoryCheck; atMs: number }

export class DirectoryCache {
  private readonly entries = new Map<string, Entry>();

  /** Whether `dir` is a directory (symlinks followed), as of at most TTL_MS ago. */
  check(dir: string): DirectoryCheck {
    const now = turnMonotonicMs();
    const hit = this.entries.get(dir);
    if (hit !== undefined && now - hit.atMs < TTL_MS) return hit.result;
    const result = statDirectory(dir);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(dir, { result, atMs: now });
    return result;
  }
}

function statDirectory(dir: string): DirectoryCheck {
  try {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (st === undefined) return { isDir: false, reason: 'No such file or directory' };
    return st.isDirectory() ? { isDir: true } : { isDir: false, reason: 'Not a directory' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { isDir: false, reason: e.code === 'ENOTDIR' ? 'Not a directory' : (e.code ?? e.message) };
  }
}

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

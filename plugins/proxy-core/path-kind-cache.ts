// What check-local learnt about a path (a regular file, a directory, something else), kept for
// one second as lighttpd's stat cache ("simple" engine) keeps a stat. Without it every request
// to a FastCGI/SCGI/CGI script pays an fs.stat() on libuv's thread pool: a hand-over to a worker
// thread and a wake-up of the event loop for the answer, which on a 2-core machine costs more
// than the rest of lantern's work for the request. Only what exists is kept: a missing file is
// asked again on the next request (a file created now is seen at once), as lighttpd does.
import { promises as fsp } from 'node:fs';
import type { PluginContext } from '../../core/plugin.js';

export type PathKind = 'file' | 'dir' | 'other';

/** How long a stat is trusted (lighttpd: until the next whole second; nginx open_file_cache_valid 60 s). */
export const PATH_KIND_TTL_MS = 1000;
/** Most paths kept; beyond it the oldest go first. */
const MAX_ENTRIES = 4096;

interface Entry { kind: PathKind; checkedMs: number }

export class PathKindCache {
  private readonly entries = new Map<string, Entry>();

  /** What the path was at most PATH_KIND_TTL_MS ago, or undefined (ask the file system). */
  get(path: string, nowMs: number): PathKind | undefined {
    const e = this.entries.get(path);
    if (e === undefined) return undefined;
    if (nowMs - e.checkedMs < PATH_KIND_TTL_MS) return e.kind;
    this.entries.delete(path);
    return undefined;
  }

  put(path: string, kind: PathKind, nowMs: number): void {
    this.entries.delete(path);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(path, { kind, checkedMs: nowMs });
  }

  /** Drop what is older than the TTL (called once a second). */
  sweep(nowMs: number): void {
    for (const [path, e] of this.entries) if (nowMs - e.checkedMs >= PATH_KIND_TTL_MS) this.entries.delete(path);
  }

  get size(): number { return this.entries.size; }
}

/** stat() the path: its kind, through `cache` when one is given. Rejects as fs.stat() does. */
export async function statKind(path: string, cache: PathKindCache | null, nowMs: number): Promise<PathKind> {
  const known = cache?.get(path, nowMs);
  if (known !== undefined) return known;
  const st = await fsp.stat(path);
  const kind: PathKind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  cache?.put(path, kind, nowMs);
  return kind;
}

/**
 * A plugin's cache, swept once a second; null when server.stat-cache-engine is "disable" or
 * "none" (every request stats, as lighttpd does then).
 */
export function statCacheFor(ctx: PluginContext): PathKindCache | null {
  const engine = ctx.server.globalValues.get('server.stat-cache-engine');
  if (engine === 'disable' || engine === 'none') return null;
  const cache = new PathKindCache();
  ctx.hooks.trigger.tap(ctx.id, (nowMs) => cache.sweep(nowMs));
  return cache;
}

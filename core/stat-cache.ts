// The server's stat cache (lighttpd's src/stat_cache.c, engine "simple"): what a path is (a
// regular file, a directory, something else), trusted for one second, shared by every plugin
// through `server.statCache`. A stat costs either a hand-over to libuv's thread pool and a
// wake-up of the event loop for the answer (async), or a blocked event loop (sync); on a 2-core
// machine either costs more than the rest of lantern's work for a proxied request.
//
// A failed stat (a missing path, a file where a directory was expected, no permission) is kept
// only when the caller asks for it (`keepFailures`): a gateway must find a script created a
// moment ago (lighttpd stats a missing file again on every request), while the vhost plugins
// stat a path made from the Host field, which a client chooses freely.
import fs from 'node:fs';
import { turnMonotonicMs } from './turn.js';

/** What a path is (symlinks followed). */
export type PathKind = 'file' | 'dir' | 'other';

/** Why a path could not be stat'ed: its errno code ("ENOENT") and the words for an error log. */
export interface StatFailure {
  code: string;
  reason: string;
}

/** How one look-up treats failures. */
export interface StatLookup {
  /**
   * Keep a failed stat for PATH_KIND_TTL_MS too, and answer with a failure kept by an earlier
   * look-up. Default false: a failure is never kept nor reused, so a file created a moment ago
   * is found by the next request (what a gateway's check-local needs). Set it where the path
   * comes from the client (a Host field), so that a stream of made-up names costs one stat per
   * name and second, not one per request.
   */
  keepFailures?: boolean;
}

export interface StatCacheOptions {
  /** false: nothing is kept, every look-up stats (server.stat-cache-engine "disable" or "none"). */
  enabled: boolean;
  /** Most paths kept; beyond it the oldest go first. Default STAT_CACHE_MAX_ENTRIES. */
  maxEntries?: number;
  /** The clock entries are stamped with (monotonic ms). Default: the turn's (core/turn.ts). */
  nowMs?: () => number;
}

/** How long a stat is trusted (lighttpd: until the next whole second; nginx open_file_cache_valid 60 s). */
export const PATH_KIND_TTL_MS = 1000;
/** Paths kept by default. */
export const STAT_CACHE_MAX_ENTRIES = 4096;

interface Entry {
  /** What the path is, or null when the stat failed. */
  kind: PathKind | null;
  failure: StatFailure | null;
  checkedMs: number;
}

/** The errno codes a log names in words (strerror), as lighttpd's log does. */
const REASONS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

const ENOENT: StatFailure = { code: 'ENOENT', reason: REASONS.ENOENT! };

function kindOf(st: fs.Stats): PathKind {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
}

function failureOf(err: unknown): StatFailure {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? 'EIO';
  return code === 'ENOENT' ? ENOENT : { code, reason: REASONS[code] ?? e?.message ?? code };
}

/** An fs-style error for a failure kept earlier (what fs.promises.stat() would reject with). */
function errorOf(path: string, f: StatFailure): NodeJS.ErrnoException {
  return Object.assign(new Error(`${f.code}: ${f.reason}, stat '${path}'`), { code: f.code, syscall: 'stat', path });
}

export class StatCache {
  readonly enabled: boolean;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly nowMs: () => number;

  constructor(opts: StatCacheOptions) {
    this.enabled = opts.enabled;
    this.maxEntries = Math.max(1, opts.maxEntries ?? STAT_CACHE_MAX_ENTRIES);
    this.nowMs = opts.nowMs ?? turnMonotonicMs;
  }

  /** The cache for a server.stat-cache-engine value ("disable"/"none": off; anything else: "simple"). */
  static forEngine(engine: unknown): StatCache {
    return new StatCache({ enabled: engine !== 'disable' && engine !== 'none' });
  }

  /**
   * What `path` is, without blocking the event loop: from the cache when it was stat'ed less
   * than PATH_KIND_TTL_MS ago, else fs.promises.stat(). Rejects as fs.promises.stat() does.
   */
  async kind(path: string, lookup?: StatLookup): Promise<PathKind> {
    const keep = lookup?.keepFailures === true;
    const hit = this.fresh(path, keep);
    if (hit !== undefined) {
      if (hit.kind !== null) return hit.kind;
      throw errorOf(path, hit.failure!);
    }
    let kind: PathKind;
    try {
      kind = kindOf(await fs.promises.stat(path));
    } catch (err) {
      if (keep) this.put(path, null, failureOf(err));
      throw err;
    }
    this.put(path, kind, null);
    return kind;
  }

  /**
   * What `path` is, or why it could not be stat'ed, with fs.statSync() on a miss: for the
   * synchronous phases (docroot). Never throws.
   */
  kindSync(path: string, lookup?: StatLookup): PathKind | StatFailure {
    const keep = lookup?.keepFailures === true;
    const hit = this.fresh(path, keep);
    if (hit !== undefined) return hit.kind ?? hit.failure!;
    let st: fs.Stats | undefined;
    try {
      // No exception for the common failure: a made-up Host names a missing folder.
      st = fs.statSync(path, { throwIfNoEntry: false });
    } catch (err) {
      const failure = failureOf(err);
      if (keep) this.put(path, null, failure);
      return failure;
    }
    if (st === undefined) {
      if (keep) this.put(path, null, ENOENT);
      return ENOENT;
    }
    const kind = kindOf(st);
    this.put(path, kind, null);
    return kind;
  }

  /** Drop what is older than the TTL (the server calls it once a second). */
  sweep(): void {
    const now = this.nowMs();
    for (const [path, e] of this.entries) if (now - e.checkedMs >= PATH_KIND_TTL_MS) this.entries.delete(path);
  }

  /** Paths held now. */
  get size(): number { return this.entries.size; }

  /** The entry for `path` if it is younger than the TTL and of use to this look-up. */
  private fresh(path: string, keepFailures: boolean): Entry | undefined {
    if (!this.enabled) return undefined;
    const e = this.entries.get(path);
    if (e === undefined) return undefined;
    if (this.nowMs() - e.checkedMs >= PATH_KIND_TTL_MS) {
      this.entries.delete(path);
      return undefined;
    }
    return e.kind !== null || keepFailures ? e : undefined;
  }

  private put(path: string, kind: PathKind | null, failure: StatFailure | null): void {
    if (!this.enabled) return;
    // Re-inserted so that the Map's order is the order of the stats: the first key is the oldest.
    this.entries.delete(path);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(path, { kind, failure, checkedMs: this.nowMs() });
  }
}

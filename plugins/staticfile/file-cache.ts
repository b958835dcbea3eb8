// The stat and small-file cache (lighttpd's stat_cache.c, engine "simple"): what a path was
// found to be, and the bytes of small files, trusted for one second. Within that second a GET
// for a cached file is answered synchronously, with no file system call at all.
import type { PreparedFields } from '../../core/request.js';
import type { ETagSource } from './etag.js';
import { formatHttpDate } from './http-date.js';

/** How long a cached stat is trusted (lighttpd: 1 s). */
export const STAT_TTL_MS = 1000;
/** Largest file whose bytes are kept. */
export const CACHED_FILE_MAX_BYTES = 64 * 1024;
/** Bytes of file content kept in all. */
export const CACHE_MAX_BYTES = 32 * 1024 * 1024;
/** Entries kept in all. */
const CACHE_MAX_ENTRIES = 4096;

export interface CachedFile {
  path: string;
  st: ETagSource;
  /** The strong ETag for the default etag.use-* flags. */
  etag: string | null;
  lastModified: string;
  body: Buffer;
  /** The body as a latin1 string: head and body go out in one write. */
  bodyLatin1: string;
  /** The formatted 200 fields, per settings (content type and ETag flags come from config). */
  prepared: WeakMap<object, PreparedFields>;
  /** When the file's metadata was read (ms, Date.now()). */
  checkedMs: number;
}

export class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private bytes = 0;

  /** A cached file whose stat is younger than STAT_TTL_MS, else undefined. */
  get(path: string, nowMs: number): CachedFile | undefined {
    const e = this.entries.get(path);
    if (e === undefined) return undefined;
    if (nowMs - e.checkedMs >= STAT_TTL_MS) {
      this.delete(path);
      return undefined;
    }
    return e;
  }

  /** Remember a small file's bytes and metadata, read at `checkedMs`. */
  put(path: string, st: ETagSource, etag: string | null, body: Buffer, checkedMs: number): void {
    if (body.length > CACHED_FILE_MAX_BYTES || body.length !== st.size) return;
    this.delete(path);
    while (this.entries.size >= CACHE_MAX_ENTRIES || this.bytes + body.length > CACHE_MAX_BYTES) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    this.entries.set(path, {
      path, st: { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }, etag,
      lastModified: formatHttpDate(st.mtimeMs), body, bodyLatin1: body.toString('latin1'),
      prepared: new WeakMap(), checkedMs,
    });
    this.bytes += body.length;
  }

  delete(path: string): void {
    const e = this.entries.get(path);
    if (e === undefined) return;
    this.entries.delete(path);
    this.bytes -= e.body.length;
  }

  /** Drop `dir` and every entry below it (a directory deleted or moved by WebDAV). */
  deleteBelow(dir: string): void {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const path of this.entries.keys()) if (path === dir || path.startsWith(prefix)) this.delete(path);
  }

  /** Drop entries older than the TTL (called once a second). */
  sweep(nowMs: number): void {
    for (const [path, e] of this.entries) if (nowMs - e.checkedMs >= STAT_TTL_MS) this.delete(path);
  }

  get size(): number { return this.entries.size; }
  get totalBytes(): number { return this.bytes; }
}

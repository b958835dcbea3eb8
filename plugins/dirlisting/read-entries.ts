// Reading a directory for a listing: names filtered (dotfiles, excludes), then stat()ed in
// bounded batches (symlinks followed, as lighttpd's listing does; entries that fail are skipped).
import fs from 'node:fs';
import path from 'node:path';
import type { ListingEntry } from './listing-html.js';

/** Concurrent stat() calls per listing: enough to fill libuv's pool, not to flood it. */
const STAT_BATCH = 32;

/** Largest README/HEADER text included in a page. */
export const MAX_NOTE_BYTES = 64 * 1024;

/** stat every kept entry of `dir`; `keep` filters names first, `typeFor` gives a file's type. */
export async function readEntries(dir: string, keep: (name: string) => boolean, typeFor: (name: string) => string): Promise<ListingEntry[]> {
  const names = (await fs.promises.readdir(dir)).filter(keep);
  const out: ListingEntry[] = [];
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names.slice(i, i + STAT_BATCH);
    const stats = await Promise.allSettled(batch.map((n) => fs.promises.stat(path.join(dir, n))));
    stats.forEach((r, j) => {
      if (r.status !== 'fulfilled') return; // a dangling symlink or a file removed meanwhile
      const name = batch[j]!;
      const isDir = r.value.isDirectory();
      out.push({ name, isDir, size: r.value.size, mtimeMs: r.value.mtimeMs, type: isDir ? 'Directory' : typeFor(name) });
    });
  }
  return out;
}

/** The start of a text file (README/HEADER) as UTF-8, or null when it cannot be read. */
export async function readNote(file: string): Promise<string | null> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(file, 'r');
    const buf = Buffer.allocUnsafe(MAX_NOTE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_NOTE_BYTES, 0);
    return buf.toString('utf8', 0, bytesRead);
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/** A name filter for dir-listing.hide-dotfiles, dir-listing.exclude and hidden README/HEADER. */
export function nameFilter(opts: { hideDotfiles: boolean; exclude: readonly RegExp[]; hidden: readonly string[] }): (name: string) => boolean {
  return (name) => {
    if (name === '.' || name === '..') return false;
    if (opts.hideDotfiles && name.startsWith('.')) return false;
    if (opts.hidden.includes(name)) return false;
    for (const re of opts.exclude) if (re.test(name)) return false;
    return true;
  };
}

// deflate.cache-dir: a static file is compressed once per coding and ETag and the result kept as
// <cache-dir><physical path>-<etag>-<coding> (lighttpd's name); later responses replay that file.
// A file is written under a temporary name and renamed into place only when the whole file went
// through the compressor, so a client that goes away never leaves a truncated entry.
import type { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import type { Readable } from 'node:stream';

/** The cache file for a physical path and the response's (already suffixed) strong ETag; null for a weak or empty one. */
export function cacheFileName(cacheDir: string, physicalPath: string, etag: string): string | null {
  if (etag.length <= 2 || !etag.startsWith('"') || !etag.endsWith('"')) return null;
  // '/' in an ETag would make folders (lighttpd 1.4.7x writes '~' too).
  const inner = etag.slice(1, -1).replace(/\//g, '~');
  return `${cacheDir}${physicalPath.startsWith('/') ? '' : '/'}${physicalPath}-${inner}`;
}

/** The size of an existing cache file, or -1. */
export function cachedSize(name: string): number {
  try {
    const st = fs.statSync(name);
    return st.isFile() ? st.size : -1;
  } catch {
    return -1;
  }
}

let tempSerial = 0;

/**
 * Keep what `compressor` puts out in the cache file `name` once the compressor has read exactly
 * `expectedBytesIn` bytes (the whole file) and ended; otherwise (an error, a client gone, a file
 * that changed size) nothing stays. Writes are synchronous, as lighttpd's are.
 */
export function teeToCache(compressor: Readable & { bytesWritten: number }, name: string, expectedBytesIn: number, logError: (msg: string) => void): void {
  let fd = -1;
  const tmp = `${name}.${process.pid}.${++tempSerial}`;
  try {
    fs.mkdirSync(path.dirname(name), { recursive: true, mode: 0o700 });
    fd = fs.openSync(tmp, 'wx', 0o600);
  } catch (err) {
    logError(`deflate.cache-dir: cannot create ${tmp}: ${(err as Error).message}`);
    return;
  }
  let failed = false;
  const drop = () => {
    if (fd >= 0) { try { fs.closeSync(fd); } catch { /* closing a file we opened */ } fd = -1; }
    try { fs.unlinkSync(tmp); } catch { /* already gone */ }
  };
  compressor.on('data', (chunk: Buffer) => {
    if (failed || fd < 0) return;
    try {
      fs.writeSync(fd, chunk);
    } catch (err) {
      failed = true;
      logError(`deflate.cache-dir: writing ${tmp}: ${(err as Error).message}`);
      drop();
    }
  });
  compressor.once('end', () => {
    if (failed || fd < 0) return;
    if (compressor.bytesWritten !== expectedBytesIn) { drop(); return; }
    try {
      fs.closeSync(fd);
      fd = -1;
      fs.renameSync(tmp, name);
    } catch (err) {
      logError(`deflate.cache-dir: keeping ${name}: ${(err as Error).message}`);
      drop();
    }
  });
  compressor.once('close', () => { if (fd >= 0) drop(); });
}

/**
 * The body of a cache hit: what the handler writes (the file itself) is read and dropped, and the
 * cache file is sent instead, as fast as the client takes it. It ends when both are done.
 */
export class CachedBody extends Duplex {
  private readonly file: fs.ReadStream;
  private fileDone = false;
  private inputDone = false;

  constructor(name: string) {
    super();
    this.file = fs.createReadStream(name);
    this.file.on('data', (chunk) => { if (!this.push(chunk)) this.file.pause(); });
    this.file.once('end', () => { this.fileDone = true; this.maybeEnd(); });
    this.file.once('error', (err) => this.destroy(err));
  }

  override _read(): void { this.file.resume(); }

  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void { cb(); }

  override _final(cb: (err?: Error | null) => void): void {
    this.inputDone = true;
    this.maybeEnd();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.file.destroy();
    cb(err);
  }

  private maybeEnd(): void {
    if (this.fileDone && this.inputDone) this.push(null);
  }
}

/** A body replaced by nothing (a 412 from a matching If-None-Match on another method). */
export function emptyBody(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _enc, cb) { cb(); },
    final(cb) { this.push(null); cb(); },
  });
}

/** Create the cache folder at startup (0700, with its parents), as lighttpd does; throws with the reason. */
export function prepareCacheDir(dir: string): void {
  fs.mkdirSync(dir.replace(/\/+$/, '') || '/', { recursive: true, mode: 0o700 });
}

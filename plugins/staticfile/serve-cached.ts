// The fast path of mod_staticfile: a GET or HEAD for a file in the FileCache is answered at
// once, in the subrequestStart tap, without touching the file system (lighttpd's stat cache).
import type { HeaderList } from '../../core/http1/types.js';
import { PreparedFields, type Request } from '../../core/request.js';
import { evaluatePreconditions } from './conditional.js';
import { makeETag } from './etag.js';
import type { CachedFile } from './file-cache.js';
import { contentTypeFor } from './mime-type.js';
import type { StaticSettings } from './serve-file.js';

/**
 * Answer from the cache; false when the request needs the full path (Range, If-Match,
 * If-Unmodified-Since, If-Range, or symlink checks).
 */
export function serveCached(req: Request, e: CachedFile, s: StaticSettings): boolean {
  if (!s.followSymlinks) return false;
  const h = req.head.headers;
  let conditional = false;
  for (let i = 0; i < h.length; i += 2) {
    const c = h[i].charCodeAt(0) | 0x20;
    if (c !== 0x69 /* i */ && c !== 0x72 /* r */) continue;
    const name = h[i].toLowerCase();
    if (name === 'range' || name === 'if-range' || name === 'if-match' || name === 'if-unmodified-since') return false;
    if (name === 'if-none-match' || name === 'if-modified-since') conditional = true;
  }
  const f = s.etag;
  const etag = f === null ? null : f.inode && f.size && f.mtime ? e.etag : makeETag(e.st, f);
  if (conditional) {
    const pre = evaluatePreconditions(req.method, (n) => req.header(n), { etag, lastModifiedMs: e.st.mtimeMs });
    if (pre === 304) {
      const headers: HeaderList = req.responseHeaders.length > 0 ? req.responseHeaders.slice() : [];
      headers.push('Last-Modified', e.lastModified);
      if (etag !== null) headers.push('ETag', etag);
      headers.push('Content-Type', contentTypeFor(e.path, s.mimeAssign));
      req.respond(304, headers);
      return true;
    }
  }
  // Accept-Ranges only from HTTP/1.1 on (lighttpd ignores Range from HTTP/1.0 clients).
  const ranges = s.rangeRequests && req.head.versionMinor >= 1;
  const key = ranges ? s : http10Key(s);
  let fields = e.prepared.get(key);
  if (fields === undefined) {
    const headers: HeaderList = ['Last-Modified', e.lastModified];
    if (etag !== null) headers.push('ETag', etag);
    if (ranges) headers.push('Accept-Ranges', 'bytes');
    headers.push('Content-Type', contentTypeFor(e.path, s.mimeAssign), 'Content-Length', String(e.body.length));
    fields = new PreparedFields(headers);
    e.prepared.set(key, fields);
  }
  req.respondPrepared(200, fields, req.method === 'HEAD' ? undefined : e.body, e.bodyLatin1);
  return true;
}

/** The key of an HTTP/1.0 client's prepared fields, one per settings object (they differ in Accept-Ranges). */
const http10Keys = new WeakMap<StaticSettings, object>();
function http10Key(s: StaticSettings): object {
  let key = http10Keys.get(s);
  if (key === undefined) { key = {}; http10Keys.set(s, key); }
  return key;
}

// X-Sendfile (lighttpd's X-Sendfile / X-LIGHTTPD-send-file; opt-in, docroot-restricted, design.md
// §3): a backend names a file instead of sending it, and the static handler serves it, with its
// own validators, Range support and Content-Type. A path outside the allowed roots is refused.
import fs from 'node:fs';
import path from 'node:path';
import type { HeaderList } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import { serveStatic, type StaticSettings } from '../staticfile/serve-file.js';
import { fieldsKeptForFile } from './response-fields.js';

/** `child` is `root` or lies below it (both already real paths). */
function within(child: string, root: string): boolean {
  return child === root || child.startsWith(root.endsWith('/') ? root : root + '/');
}

/**
 * Serve `file` for `req` if it lies (after resolving `..` and symlinks) within one of `roots`
 * (default: the request's document root). Outside → 403, missing → 404; both logged.
 */
export async function serveXSendfile(req: Request, file: string, roots: readonly string[], backendHeaders: HeaderList, log: (msg: string) => void): Promise<void> {
  const allowed = roots.length > 0 ? roots : req.docRoot !== '' ? [req.docRoot] : [];
  if (!path.isAbsolute(file)) {
    log(`X-Sendfile: "${file}" is not an absolute path`);
    req.sendError(502, 'LT_ERR_BACKEND_BAD_RESPONSE');
    return;
  }
  let real: string;
  try {
    real = await fs.promises.realpath(path.resolve(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log(`X-Sendfile: ${file}: ${code ?? (err as Error).message}`);
    if (!req.finished) req.sendError(code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 403, code === 'ENOENT' || code === 'ENOTDIR' ? 'LT_ERR_NOT_FOUND' : 'LT_ERR_FORBIDDEN');
    return;
  }
  let root: string | null = null;
  for (const r of allowed) {
    let realRoot: string;
    try { realRoot = await fs.promises.realpath(r); } catch { continue; }
    if (within(real, realRoot)) { root = realRoot; break; }
  }
  if (req.finished) return;
  if (root === null) {
    log(`X-Sendfile: ${file} is outside the allowed roots (${allowed.join(', ') || 'none'})`);
    req.sendError(403, 'LT_ERR_FORBIDDEN');
    return;
  }
  req.responseHeaders = fieldsKeptForFile(backendHeaders);
  req.physicalPath = real;
  req.docRoot = root;
  // The backend chose to answer with this file whatever the method: it is served as a GET would be.
  if (req.method !== 'GET' && req.method !== 'HEAD') req.method = 'GET';
  const values = req.config.values;
  const settings: StaticSettings = {
    etag: { inode: true, mtime: true, size: true },
    rangeRequests: values.get('server.range-requests') !== false,
    followSymlinks: true,
    allowPathInfo: false,
    // The backend named the file: static-file.exclude-extensions is about what URLs may show.
    excluded: [],
    mimeAssign: values.get('mimetype.assign'),
  };
  await serveStatic(req, settings, log, null);
}

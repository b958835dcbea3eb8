// COPY and MOVE (RFC 4918 §9.8, §9.9, §10.3 Destination, §10.6 Overwrite), following lighttpd
// 1.4's mod_webdav for statuses and checks: same host only, a destination never inside the source,
// Depth 0 COPY of a collection makes an empty one, a file copied onto a collection goes into it.
import fs from 'node:fs';
import path from 'node:path';
import { encodeUrlPath } from '../staticfile/url-encode.js';
import { absoluteUrl, answer, statOrNull, type DavRequest } from './dav-request.js';
import { resolveDestination } from './destination.js';
import { parseDepth } from './propfind.js';
import { preconditionFails } from './preconditions.js';
import { symlinkBelow } from '../staticfile/file-check.js';
import { copyTree, DIR_MODE, removeTree, statusForFsError, tempNameBeside } from './tree.js';

export async function copyMove(d: DavRequest): Promise<void> {
  const { req, s } = d;
  const move = req.method === 'MOVE';
  const ow = req.header('overwrite')?.trim();
  if (ow !== undefined && ow !== 'T' && ow !== 'F' && ow !== 't' && ow !== 'f') { answer(d, 400); return; }
  const overwrite = ow === undefined || ow === 'T' || ow === 't';
  const dest = resolveDestination(req.header('destination'), {
    scheme: req.scheme, host: req.host, urlPath: req.path, physicalPath: req.physicalPath, docRoot: req.docRoot,
  });
  if (!dest.ok) {
    d.logError(`${req.method} ${req.path}: ${dest.reason}`);
    answer(d, dest.status);
    return;
  }
  // lighttpd checks no config for the Destination; here it must be inside a writable WebDAV area
  // too, so a COPY from /dav/ cannot write into a read-only share or outside WebDAV's reach.
  if (!d.writableAt(dest.urlPath)) {
    d.logError(`${req.method} ${req.path}: Destination ${dest.urlPath} is not in a writable webdav.activate scope`);
    answer(d, 403);
    return;
  }
  let dstPath = dest.physicalPath;
  let dstUrl = dest.urlPath;
  const srcPath = req.physicalPath;
  // Onto itself or inside itself: 403.
  if (isSameOrInside(dstPath, srcPath)) { answer(d, 403); return; }
  if (!s.followSymlinks && (await symlinkBelow(path.dirname(dstPath), req.docRoot)) !== null) { answer(d, 403); return; }
  const src = await statOrNull(srcPath, false);
  if (src.st === null) { answer(d, src.code === 'ENOENT' || src.code === 'ENOTDIR' ? 404 : 403); return; }
  if (preconditionFails(req, src.st, s.props.etag)) { answer(d, 412); return; }

  if (src.st.isDirectory()) {
    if (!req.path.endsWith('/')) {
      // lighttpd: 308 to the collection's URL with its slash.
      answer(d, 308, ['Location', absoluteUrl(req, `${encodeUrlPath(req.path)}/${req.query !== null ? `?${req.query}` : ''}`)]);
      return;
    }
    if (!dstUrl.endsWith('/')) { dstUrl += '/'; dstPath += '/'; }
    // Onto a collection that holds the source: replacing it would delete the source first.
    if (isSameOrInside(srcPath, dstPath)) { answer(d, 403); return; }
    const depth = parseDepth(req.header('depth'));
    // RFC 4918 §9.8.3, §9.9.2: Depth 1 is never valid; MOVE of a collection is Depth: infinity.
    if (depth === 1 || (depth === 0 && move)) { answer(d, 400); return; }
    // Stat without the slash: a file there is replaced too (with Overwrite: T).
    const dst = await statOrNull(stripSlash(dstPath), false);
    if (dst.st !== null && !overwrite) { answer(d, 412); return; }
    if (!(await parentIsCollection(dstPath))) { answer(d, 409); return; }
    await transfer(d, { move, srcPath, dstPath, dstUrl, status: dst.st !== null ? 204 : 201 }, async () => {
      if (depth === 0) {
        // COPY Depth 0: the collection without its members; onto a collection, nothing to do.
        if (dst.st?.isDirectory()) return;
        if (dst.st !== null) await removeTree(stripSlash(dstPath));
        await fs.promises.mkdir(dstPath, DIR_MODE);
      } else {
        if (dst.st !== null) await removeTree(stripSlash(dstPath));
        if (move) await moveTree(stripSlash(srcPath), stripSlash(dstPath));
        else await copyTree(stripSlash(srcPath), stripSlash(dstPath));
      }
    });
    return;
  }

  if (req.path.endsWith('/')) { answer(d, 403); return; }
  let dst = await statOrNull(dstPath, false);
  let intoCollection = false;
  if (dst.st?.isDirectory()) {
    // lighttpd: a file copied or moved onto a collection goes into it, under its own name, and
    // the answer is 204 (the destination collection existed).
    intoCollection = true;
    dstPath = path.join(dstPath, path.basename(srcPath));
    dstUrl = (dstUrl.endsWith('/') ? dstUrl : `${dstUrl}/`) + path.basename(srcPath);
    dst = await statOrNull(dstPath, false);
    if (dstPath === srcPath) { answer(d, 403); return; }
  } else if (dstUrl.endsWith('/')) {
    answer(d, 409);
    return;
  }
  if (dst.st === null && !(await parentIsCollection(dstPath))) { answer(d, 409); return; }
  if (dst.st !== null && !overwrite) { answer(d, 412); return; }
  if (dst.st?.isDirectory()) { answer(d, 409); return; }
  const status = dst.st !== null || intoCollection ? 204 : 201;
  await transfer(d, { move, srcPath, dstPath, dstUrl, status }, () => (move ? moveTree(srcPath, dstPath) : copyFileWhole(srcPath, dstPath)));
}

/** A COPY or MOVE that passed every check. */
interface Transfer {
  move: boolean;
  srcPath: string;
  dstPath: string;
  /** For the error log. */
  dstUrl: string;
  /** The answer when the change succeeds: 204 when the destination existed, else 201. */
  status: 201 | 204;
}

/**
 * Runs the change of a COPY or MOVE and answers it: `t.status`, or a file system error's status
 * (logged). Either way the static file cache forgets the destination (and a moved source), as a
 * failure may have left part of the change done.
 */
async function transfer(d: DavRequest, t: Transfer, change: () => Promise<void>): Promise<void> {
  try {
    await change();
    answer(d, t.status);
  } catch (err) {
    d.logError(`${d.req.method} ${d.req.path} -> ${t.dstUrl}: ${(err as Error).message}`);
    answer(d, statusForFsError(err));
  } finally {
    d.changed(t.dstPath);
    if (t.move) d.changed(t.srcPath);
  }
}

/** Copy beside the destination, then rename over it: the old file or the new, never half. */
async function copyFileWhole(src: string, dst: string): Promise<void> {
  const temp = tempNameBeside(dst);
  try {
    await fs.promises.copyFile(src, temp);
    await fs.promises.rename(temp, dst);
  } catch (err) {
    await fs.promises.unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** rename(); across file systems, copy then remove. */
async function moveTree(src: string, dst: string): Promise<void> {
  try {
    await fs.promises.rename(src, dst);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyTree(src, dst);
    await removeTree(src);
  }
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** `dst` is `src` or lies inside it (RFC 4918 §9.8.5: 403 for a copy onto itself). */
function isSameOrInside(dst: string, src: string): boolean {
  const a = stripSlash(src);
  const b = stripSlash(dst);
  return b === a || b.startsWith(`${a}/`);
}

async function parentIsCollection(p: string): Promise<boolean> {
  const { st } = await statOrNull(path.dirname(stripSlash(p)), true);
  return st !== null && st.isDirectory();
}

// PUT, DELETE and MKCOL (RFC 4918 §9.3, §9.6, §9.7; RFC 9110 §9.3.4) as lighttpd 1.4's
// mod_webdav answers them. PUT streams the body into a temporary file beside the target and
// renames it over the target at the end, so a reader sees the old file or the new one, never half.
import fs from 'node:fs';
import { makeETag } from '../staticfile/etag.js';
import { answer, statOrNull, type DavRequest } from './dav-request.js';
import { parseDepth } from './propfind.js';
import { preconditionFails } from './preconditions.js';
import { DIR_MODE, FILE_MODE, removeTree, statusForFsError, tempNameBeside } from './tree.js';

export async function put(d: DavRequest): Promise<void> {
  const { req, s } = d;
  const target = req.physicalPath;
  // A collection cannot be PUT (lighttpd: 400).
  if (req.path.endsWith('/')) { answer(d, 400); return; }
  // RFC 9110 §9.3.4: a PUT with Content-Range is partial content sent as a whole: 400.
  if (req.header('content-range') !== undefined) { answer(d, 400); return; }
  const before = await statOrNull(target, false);
  if (preconditionFails(req, before.st, s.props.etag, before.code)) { answer(d, 412); return; }
  if (before.st?.isDirectory()) { answer(d, 405); return; }
  // The client gave up while the target was looked at: the core has answered; nothing to write.
  if (req.body.failed !== null) return;
  const temp = tempNameBeside(target);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(temp, 'wx', FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No parent collection (RFC 4918 §9.7.1: 409).
    if (code === 'ENOENT' || code === 'ENOTDIR') answer(d, 409);
    else {
      d.logError(`PUT ${req.path}: ${temp}: ${(err as Error).message}`);
      answer(d, statusForFsError(err) === 507 ? 507 : 500);
    }
    return;
  }
  const dropTemp = () => fs.promises.unlink(temp).catch(() => undefined);
  try {
    await receiveInto(d, fh);
    const st = await fh.stat();
    await fh.close();
    if (req.finished) { await dropTemp(); return; }
    const existed = (await statOrNull(target, false)).st !== null;
    await fs.promises.rename(temp, target);
    d.changed(target);
    const etag = s.props.etag ? makeETag(st, s.props.etag) : null;
    answer(d, existed ? 204 : 201, etag ? ['ETag', etag] : []);
  } catch (err) {
    await fh.close().catch(() => undefined);
    // Removed before this handler answers (when the client gave up, the core answered it already).
    await dropTemp();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') answer(d, 405);
    else if (code !== undefined) {
      d.logError(`PUT ${req.path}: ${(err as Error).message}`);
      answer(d, statusForFsError(err) === 507 ? 507 : 403);
    } else if (!req.finished) {
      // The body did not arrive whole (client gone, bad framing): nothing is kept.
      req.keepAlive = false;
      answer(d, 400);
    }
  }
}

/** Write the request body to `fh`, one chunk at a time, pausing the client meanwhile. */
function receiveInto(d: DavRequest, fh: fs.promises.FileHandle): Promise<void> {
  const body = d.req.body;
  return new Promise((resolve, reject) => {
    let failed = false;
    body.read({
      data: (chunk) => {
        fh.write(chunk).then(() => { if (!failed) body.resume(); }, (err: unknown) => { failed = true; reject(err); });
        return false;
      },
      end: () => resolve(),
      error: (err) => reject(Object.assign(new Error(err.message), { code: undefined })),
    });
  });
}

export async function del(d: DavRequest): Promise<void> {
  const { req, s } = d;
  const { st, code } = await statOrNull(req.physicalPath, false);
  if (st === null) { answer(d, code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 403); return; }
  if (preconditionFails(req, st, s.props.etag)) { answer(d, 412); return; }
  if (st.isDirectory()) {
    // RFC 4918 §9.6.1: DELETE of a collection is Depth: infinity; any other Depth → 400.
    if (req.header('depth') !== undefined && parseDepth(req.header('depth')) !== -1) { answer(d, 400); return; }
  } else if (req.path.endsWith('/')) {
    answer(d, 403);
    return;
  }
  try {
    if (st.isDirectory()) await removeTree(req.physicalPath);
    else await fs.promises.unlink(req.physicalPath);
    d.changed(req.physicalPath);
    answer(d, 204);
  } catch (err) {
    d.changed(req.physicalPath);
    d.logError(`DELETE ${req.path}: ${(err as Error).message}`);
    answer(d, statusForFsError(err));
  }
}

export async function mkcol(d: DavRequest): Promise<void> {
  const { req } = d;
  try {
    await fs.promises.mkdir(req.physicalPath, DIR_MODE);
    answer(d, 201);
  } catch (err) {
    switch ((err as NodeJS.ErrnoException).code) {
      // RFC 4918 §9.3.1: MKCOL only on an unmapped URL (405); a missing parent is 409.
      case 'EEXIST': answer(d, 405); return;
      case 'ENOENT': case 'ENOTDIR': answer(d, 409); return;
      default:
        d.logError(`MKCOL ${req.path}: ${(err as Error).message}`);
        answer(d, statusForFsError(err) === 507 ? 507 : 403);
    }
  }
}

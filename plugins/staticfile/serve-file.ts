// Serving one static file as lighttpd 1.4 does (http_response_send_file, http_range_rfc7233):
// classify the path, answer OPTIONS, check the preconditions and Range, then answer
// 200/206/304/412/416 with Content-Type, ETag, Last-Modified and Accept-Ranges, small files in one
// write, large ones streamed with back-pressure. GET, HEAD and POST are served alike (a POST to a
// static file gets the file, as from lighttpd's mod_staticfile).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { equalsLower } from '../../core/http1/field-lines.js';
import type { ErrorCode } from '../../core/errors.js';
import type { HeaderList } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import { evaluatePreconditions, ifRangeAllows, type Validators } from './conditional.js';
import { makeETag, type ETagFlags } from './etag.js';
import type { FileCache } from './file-cache.js';
import { checkPhysicalPath, statusForOpenErrno, type PathTarget } from './file-check.js';
import { CHUNK_BYTES, FileShrankError, sendPieces } from './file-sender.js';
import { formatHttpDate } from './http-date.js';
import { contentTypeFor } from './mime-type.js';
import { contentRange, decideRange, multipartBody, type BodyPiece } from '../../core/http1/range.js';
import { encodeUrlPath } from './url-encode.js';

/** Bodies up to this size are read at once and sent with the head in one write (design.md §6). */
export const SMALL_FILE_BYTES = CHUNK_BYTES;

/** The methods a static file allows (RFC 9110 §10.2.1 Allow), in lighttpd's words and order. */
export const ALLOW = 'OPTIONS, GET, HEAD, POST';

export interface StaticSettings {
  /** null when static-file.etags is disabled. */
  etag: ETagFlags | null;
  rangeRequests: boolean;
  followSymlinks: boolean;
  allowPathInfo: boolean;
  /** static-file.exclude-extensions: suffixes of files never sent. */
  excluded: readonly string[];
  /** mimetype.assign (a ConfigHash) or undefined. */
  mimeAssign: unknown;
}

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  403: 'LT_ERR_FORBIDDEN', 404: 'LT_ERR_NOT_FOUND', 500: 'LT_ERR_INTERNAL',
};

/**
 * What req.physicalPath is (checkPhysicalPath); a refusal (403, 404, 500) is answered here, the
 * 500 logged, and null returned. Also for the handlers that serve files their own way (ssi).
 */
export async function physicalTargetOrAnswer(req: Request, followSymlinks: boolean, logError: (msg: string) => void): Promise<Exclude<PathTarget, { kind: 'error' }> | null> {
  const target = await checkPhysicalPath(req.physicalPath, req.docRoot, { followSymlinks });
  if (req.finished) return null;
  if (target.kind !== 'error') return target;
  if (target.status === 500) logError(`${req.physicalPath}: ${target.reason}`);
  if (target.status === 404 && req.conn.server.debugFlags.fileNotFound && req.config.values.get('debug.log-file-not-found') === true) {
    logError(`file not found: ${req.path} -> "${req.physicalPath}"`);
  }
  req.sendError(target.status, CODE_FOR_STATUS[target.status]);
  return null;
}

/** Answer `req` from the file system. Never throws; errors become 403/404/500 or an abort. */
export async function serveStatic(req: Request, s: StaticSettings, logError: (msg: string) => void, cache: FileCache | null = null): Promise<void> {
  const startedMs = Date.now();
  const target = await physicalTargetOrAnswer(req, s.followSymlinks, logError);
  if (target === null) return;
  switch (target.kind) {
    case 'special':
      req.sendError(403, 'LT_ERR_FORBIDDEN');
      return;
    case 'dir':
      if (!req.path.endsWith('/')) redirectToDirectory(req);
      // lighttpd answers OPTIONS for a directory as for a file, and 501 to PUT, DELETE...
      else if (req.method === 'OPTIONS') respondOptions(req);
      else if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') req.sendError(501, 'LT_ERR_NOT_IMPLEMENTED');
      // A directory that no index file or listing took: lighttpd answers 403.
      else req.sendError(403, 'LT_ERR_FORBIDDEN');
      return;
    case 'file':
      break;
  }
  // lighttpd: with static-file.disable-pathinfo the file is not handled, and the request ends 403.
  if (target.pathInfo !== '' && !s.allowPathInfo) {
    req.sendError(403, 'LT_ERR_FORBIDDEN');
    return;
  }
  // The excluded suffixes are checked against the file found, not the URL: `/env.pl/x` is the
  // script env.pl with path info, and its source is no more sent than for `/env.pl` (lighttpd
  // checks the physical path after its path-info split the same way).
  if (target.pathInfo !== '' && isExcluded(target.path, s.excluded)) {
    req.sendError(403, 'LT_ERR_FORBIDDEN');
    return;
  }
  if (req.method === 'OPTIONS') {
    respondOptions(req);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
    // PUT, DELETE...: lighttpd's path check passed, and no handler of lighttpd's takes them.
    req.sendError(501, 'LT_ERR_NOT_IMPLEMENTED');
    return;
  }
  let fh: FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in after the stat must not block the open.
    fh = await fs.promises.open(target.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // lighttpd logs every file it found but could not open ("not a regular file").
    if (code !== 'ENOENT') logError(`open ${target.path}: ${(err as Error).message}`);
    const status = statusForOpenErrno(code);
    if (!req.finished) req.sendError(status, CODE_FOR_STATUS[status]);
    return;
  }
  let handedOff = false;
  try {
    // Validators come from the open descriptor, so they describe the bytes actually sent.
    const st = await fh.stat();
    if (req.finished) return;
    if (!st.isFile()) {
      req.sendError(403, 'LT_ERR_FORBIDDEN');
      return;
    }
    const etag = s.etag ? makeETag(st, s.etag) : null;
    const v: Validators = { etag, lastModifiedMs: st.mtimeMs };
    // Headers other plugins set before the handler ran are kept (Request.writeHead replaces the
    // list); a Content-Type among them (an X-Sendfile backend's) is the file's, as lighttpd keeps it.
    const validators: HeaderList = [];
    let given: string | undefined;
    const before = req.responseHeaders;
    for (let i = 0; i < before.length; i += 2) {
      if (before[i]!.length === 12 && equalsLower(before[i]!, 0, 'content-type')) given ??= before[i + 1]!;
      else validators.push(before[i]!, before[i + 1]!);
    }
    validators.push('Last-Modified', formatHttpDate(st.mtimeMs));
    if (etag) validators.push('ETag', etag);

    const type = given ?? contentTypeFor(target.path, s.mimeAssign);
    const pre = evaluatePreconditions(req.method, (n) => req.header(n), v);
    if (pre === 304) {
      // lighttpd sets Content-Type before it evaluates the conditionals, so its 304 has one too.
      req.respond(304, [...validators, 'Content-Type', type]);
      return;
    }
    if (pre === 412) {
      req.sendError(412);
      return;
    }

    const size = st.size;
    const headers: HeaderList = [...validators];
    // lighttpd handles Range for GET (and advertises it for GET and HEAD) from HTTP/1.1 on only.
    const ranges = s.rangeRequests && req.head.versionMinor >= 1 && (req.method === 'GET' || req.method === 'HEAD');
    if (ranges) headers.push('Accept-Ranges', 'bytes');
    let status = 200;
    let pieces: BodyPiece[] = size > 0 ? [{ start: 0, end: size - 1 }] : [];
    let length = size;
    let contentType = type;

    // RFC 9110 §14.2: range handling is defined for GET only; If-Range gates it (§13.1.5).
    const range = ranges && req.method === 'GET' ? req.header('range') : undefined;
    if (range !== undefined) {
      const ifRange = req.header('if-range');
      const decision = ifRange === undefined || ifRangeAllows(ifRange, v) ? decideRange(range, size) : null;
      if (decision?.kind === 'unsatisfiable') {
        // lighttpd answers with its plain error page: no Content-Range, ETag or Last-Modified.
        req.sendError(416, 'LT_ERR_RANGE_NOT_SATISFIABLE');
        return;
      }
      if (decision?.kind === 'ranges') {
        status = 206;
        if (decision.ranges.length === 1) {
          const r = decision.ranges[0]!;
          headers.push('Content-Range', contentRange(r, size));
          pieces = [r];
          length = r.end - r.start + 1;
        } else {
          const body = multipartBody(decision.ranges, size, type, randomBytes(12).toString('hex'));
          pieces = body.pieces;
          length = body.length;
          contentType = body.contentType;
        }
      }
    }
    headers.push('Content-Type', contentType, 'Content-Length', String(length));

    if (req.method === 'HEAD') {
      req.respond(status, headers);
      return;
    }
    if (length <= SMALL_FILE_BYTES) {
      const body = await readPieces(fh, pieces, length);
      // The whole file, read through the descriptor whose stat made the validators: cache it,
      // as of when this request started (a change after that is seen within STAT_TTL_MS).
      if (cache !== null && status === 200 && target.pathInfo === '' && length === size) {
        cache.put(target.path, st, s.etag && s.etag.inode && s.etag.size && s.etag.mtime ? etag : makeETag(st, { inode: true, size: true, mtime: true }), body, startedMs);
      }
      if (!req.finished) req.respond(status, headers, body);
      return;
    }
    req.writeHead(status, headers);
    handedOff = true;
    await sendPieces(req, fh, pieces);
  } catch (err) {
    logError(`${target.path}: ${err instanceof FileShrankError ? err.message : (err as Error).stack ?? err}`);
    if (req.finished) return;
    if (req.headSent) req.abort();
    else req.sendError(500, 'LT_ERR_INTERNAL');
  } finally {
    if (!handedOff) await fh.close();
  }
}

/** Whether `file` ends with one of static-file.exclude-extensions' suffixes. */
export function isExcluded(file: string, excluded: readonly string[]): boolean {
  for (const suffix of excluded) if (suffix !== '' && file.endsWith(suffix)) return true;
  return false;
}

/**
 * A request for an excluded extension (static-file.exclude-extensions) that no handler took: as
 * in lighttpd, where nobody handles a file that exists, 403; a missing one stays 404.
 */
export async function refuseExcluded(req: Request, s: StaticSettings, logError: (msg: string) => void): Promise<void> {
  if (await physicalTargetOrAnswer(req, s.followSymlinks, logError) === null) return;
  req.sendError(403, 'LT_ERR_FORBIDDEN');
}

/** Read every piece into one buffer (small bodies). */
async function readPieces(fh: FileHandle, pieces: BodyPiece[], length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const p of pieces) {
    if (Buffer.isBuffer(p)) {
      at += p.copy(out, at);
      continue;
    }
    let pos = p.start;
    while (pos <= p.end) {
      const { bytesRead } = await fh.read(out, at, p.end - pos + 1, pos);
      if (bytesRead === 0) throw new FileShrankError(`file ended at ${pos}, expected ${p.end + 1}`);
      pos += bytesRead;
      at += bytesRead;
    }
  }
  return out;
}

/**
 * 301 to the path with a slash, query kept (lighttpd http_response_redirect_to_directory). The
 * Location is built from the normalised path, re-encoded, so it can never start with `//`
 * (which a client would read as another host).
 */
function redirectToDirectory(req: Request): void {
  const location = `${encodeUrlPath(req.path)}/${req.query !== null ? `?${req.query}` : ''}`;
  // lighttpd's answer to a HEAD has no Content-Length here (it has no body to measure).
  req.respond(301, req.method === 'HEAD' ? [...req.responseHeaders, 'Location', location] : [...req.responseHeaders, 'Location', location, 'Content-Length', '0']);
}

/** 200 with the methods a static file allows (lighttpd answers OPTIONS for any path it finds). */
function respondOptions(req: Request): void {
  req.respond(200, [...req.responseHeaders, 'Allow', ALLOW, 'Content-Length', '0']);
}

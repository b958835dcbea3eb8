// The conditional request fields WebDAV's writing methods honour (RFC 9110 §13.1.1, §13.1.2,
// §13.1.4), checked as lighttpd's webdav_if_match_or_unmodified_since() checks them: against
// the resource as it is now, where "does not exist" fails If-Match and If-Unmodified-Since.
import type fs from 'node:fs';
import type { Request } from '../../core/request.js';
import { makeETag, parseETagList, strongMatch, weakMatch, type ETagFlags } from '../staticfile/etag.js';
import { parseHttpDate } from '../staticfile/http-date.js';

/**
 * True when the request's If-Match, If-None-Match or If-Unmodified-Since fails for a resource
 * with `stat` (null: it does not exist; `statError` then says why), so the answer is 412.
 * With ETags off (`etag` null) the entity-tag fields are ignored, as lighttpd does.
 */
export function preconditionFails(req: Request, stat: fs.Stats | null, etag: ETagFlags | null, statError?: string): boolean {
  const im = etag ? req.header('if-match') : undefined;
  const inm = etag ? req.header('if-none-match') : undefined;
  const ius = req.header('if-unmodified-since');
  if (im === undefined && inm === undefined && ius === undefined) return false;
  const tagText = stat && etag ? makeETag(stat, etag) : null;
  const tag = tagText === null ? null : { weak: false, opaque: tagText };
  if (im !== undefined) {
    if (stat === null) return true;
    const list = parseETagList(im);
    if (list !== '*' && (tag === null || !list.some((t) => strongMatch(t, tag)))) return true;
  }
  if (inm !== undefined) {
    if (stat === null) {
      // A missing resource matches no tag; any other stat failure is not a clear "absent".
      if (statError !== 'ENOENT' && statError !== 'ENOTDIR') return true;
    } else {
      const list = parseETagList(inm);
      if (list === '*' || (tag !== null && list.some((t) => weakMatch(t, tag)))) return true;
    }
  }
  if (ius !== undefined) {
    if (stat === null) return true;
    const since = parseHttpDate(ius);
    if (since !== null && Math.floor(stat.mtimeMs / 1000) > since) return true;
  }
  return false;
}

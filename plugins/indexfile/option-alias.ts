// Options with an old lighttpd alias (index-file.names / server.indexfiles, dir-listing.activate /
// server.dir-listing): lighttpd merges both keys into one field, so whichever was set last wins.
import type { Request } from '../../core/request.js';

/**
 * Of two keys that mean the same, the one the request's merged config set last: when only one
 * is set it wins; when both are, the later line of the same file wins (across files the
 * primary key does: the merged config keeps no order between them); when neither is, `primary`.
 */
export function laterKey(req: Request, primary: string, alias: string): string {
  const values = req.config.values;
  if (!values.has(alias)) return primary;
  if (!values.has(primary)) return alias;
  const a = req.config.locs.get(primary);
  const b = req.config.locs.get(alias);
  return a && b && a.file === b.file && b.line > a.line ? alias : primary;
}

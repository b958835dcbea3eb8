// mod_indexfile: a request for a directory (path ending in '/') is turned into a request for its
// index file, in the `physical` phase, so that every handler (static, FastCGI, CGI) sees the
// index's path (lighttpd mod_indexfile).
import { definePlugin } from '../../core/plugin.js';
import { findIndexFile } from './index-lookup.js';
import { laterKey } from './option-alias.js';

/**
 * Tap stage in `physical`: after plugins that move the physical path (alias, default stage 0),
 * so the index is looked up where the request really points.
 */
export const INDEXFILE_STAGE = 100;

/** Used when neither index-file.names nor server.indexfiles is set. */
const DEFAULT_NAMES: readonly string[] = ['index.html'];

export default definePlugin({
  id: 'indexfile',
  aliases: ['mod_indexfile'],
  options: {
    'index-file.names': {
      type: 'string-list',
      default: ['index.html'],
      doc: 'Names tried in order for a request whose path ends in "/"; the first that exists in the directory is served instead. A name starting with "/" is a URL path looked up from the document root (e.g. "/index.php" as a front controller). When unset, server.indexfiles is used, and when that is unset too, ( "index.html" ) (lighttpd itself has no default).',
    },
  },
  create(ctx) {
    ctx.hooks.physical.tap({ name: ctx.id, stage: INDEXFILE_STAGE }, (req) => {
      if (req.physicalPath === '' || !req.path.endsWith('/')) return undefined;
      // An explicit setting wins; "unset" must be told apart from "set to the default".
      const key = laterKey(req, 'index-file.names', 'server.indexfiles');
      const names = req.config.values.has(key) ? (req.config.values.get(key) as string[]) : DEFAULT_NAMES;
      if (names.length === 0) return undefined;
      const found = findIndexFile(req.path, req.physicalPath, req.docRoot, names);
      if (found.kind === 'none') return undefined;
      if (found.kind === 'error') {
        if (found.status === 500) ctx.logError(found.reason);
        else ctx.debug('index file refused: %s', found.reason);
        return found.status;
      }
      ctx.debug('%s -> %s', req.path, found.path);
      req.path = found.path;
      req.physicalPath = found.physicalPath;
      return undefined;
    });
  },
});

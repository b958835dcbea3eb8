// mod_access: refuse (403) requests whose URL path ends in a denied suffix, or, with an allow list,
// does not end in an allowed one (lighttpd 1.4.69 mod_access).
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { accessAllowed } from './access-rule.js';

/**
 * Tap stage in subrequestStart: before every handler, status pages included (-100), so a path
 * that an index file changed (`/dir/` → `/dir/index.php`) is checked again before anyone serves it.
 */
export const ACCESS_STAGE = -1000;

export default definePlugin({
  id: 'access',
  aliases: ['mod_access'],
  options: {
    'url.access-deny': {
      type: 'string-list',
      default: [],
      doc: 'Suffixes of the URL path that are refused with 403 (e.g. ( "~", ".inc" )); "" matches every path, so ( "" ) refuses everything. Compared case-sensitively with the decoded path, without the query. Not read when url.access-allow is set. Default: none.',
    },
    'url.access-allow': {
      type: 'string-list',
      default: [],
      doc: 'When not empty, only URL paths ending in one of these suffixes are served; every other path gets 403, whatever url.access-deny says. Compared like url.access-deny. Default: none (no allow list).',
    },
  },
  create(ctx) {
    /** lighttpd runs the same check at uri_clean and again at subrequest_start (after index files). */
    const check = (req: Request): number | undefined => {
      const o = ctx.options(req);
      const allow = o['url.access-allow'];
      const deny = o['url.access-deny'];
      if (accessAllowed(allow, deny, req.path)) return undefined;
      if (ctx.server.debugFlags.requestHandling && req.config.values.get('debug.log-request-handling') === true) {
        ctx.logError(allow.length > 0
          ? `url denied as failed to match any from access_allow ${req.path}`
          : `url denied as we match access_deny ${req.path}`);
      }
      return 403;
    };
    ctx.hooks.uriClean.tap(ctx.id, check);
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: ACCESS_STAGE }, check);
  },
});

// mod_staticfile: the fallback handler that serves req.physicalPath from disk (lighttpd
// mod_staticfile + http_response_send_file; RFC 9110 §13 conditionals, §14 ranges).
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { FileCache } from './file-cache.js';
import { serveCached } from './serve-cached.js';
import { isExcluded, refuseExcluded, serveStatic, type StaticSettings } from './serve-file.js';

/**
 * Tap stage in subrequestStart: after every other handler (default stage 0) and after
 * dirlisting (900), whatever the load order, because the static file is the last resort.
 */
export const STATICFILE_STAGE = 1000;

/**
 * Methods staticfile answers, as lighttpd: GET, HEAD and POST get the file, OPTIONS lists Allow,
 * and the rest of RFC 9110's methods get what lighttpd's path check gives them (404 for a missing
 * file, 301 for a directory without its slash) or else 501. Method tokens nobody knows are left
 * to the core, which answers 501.
 */
const HANDLED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * staticfile's api (`ctx.server.host.api('staticfile')`): a plugin that changes files (WebDAV)
 * tells the cache, so a GET in the next second does not serve what was there before.
 */
export interface StaticFileApi {
  /** Forget what is cached for this physical path. */
  forget(physicalPath: string): void;
  /** Forget a directory's path and everything below it. */
  forgetBelow(dirPath: string): void;
}

export default definePlugin({
  id: 'staticfile',
  aliases: ['mod_staticfile'],
  options: {
    'static-file.exclude-extensions': {
      type: 'string-list',
      default: [],
      doc: 'File name suffixes (e.g. ".php") never served as static files: such requests are left to other handlers, and answered 403 if none takes them (404 when the file is missing), as lighttpd. Compared case-sensitively against the end of the file found, after the path-info split: `/env.pl/info` is the file env.pl, so it is refused as `/env.pl` is. Default: none.',
    },
    'static-file.etags': {
      type: 'boolean',
      default: true,
      doc: 'Send an ETag (built from the parts etag.use-inode, etag.use-mtime and etag.use-size select) and honour If-None-Match and If-Range against it. Default: enabled.',
    },
    'static-file.disable-pathinfo': {
      type: 'boolean',
      default: false,
      doc: 'Refuse (403) a request whose path continues past a regular file (`/file.html/extra`, PATH_INFO). Default: disabled, so such a request is served the file, as lighttpd does.',
    },
    'etag.use-inode': {
      type: 'boolean',
      default: true,
      doc: 'Include the file\'s inode number in its ETag. Disable when several servers share the files through different file systems. Default: enabled.',
    },
    'etag.use-mtime': {
      type: 'boolean',
      default: true,
      doc: 'Include the file\'s modification time (microseconds) in its ETag. Default: enabled.',
    },
    'etag.use-size': {
      type: 'boolean',
      default: true,
      doc: 'Include the file\'s size in its ETag. Default: enabled. With all three etag.use-* disabled no ETag is sent.',
    },
  },
  create(ctx) {
    const cache = ctx.server.globalValues.get('server.stat-cache-engine') === 'disable' || ctx.server.globalValues.get('server.stat-cache-engine') === 'none' ? null : new FileCache();
    if (cache) ctx.hooks.trigger.tap(ctx.id, (now) => cache.sweep(now));
    // Settings depend only on the merged config: build them once per distinct merge.
    const settingsByConfig = new WeakMap<object, StaticSettings>();
    const settings = (req: Request): StaticSettings => {
      const values = req.config.values;
      let s = settingsByConfig.get(values);
      if (s === undefined) { s = buildSettings(req); settingsByConfig.set(values, s); }
      return s;
    };
    const buildSettings = (req: Request): StaticSettings => {
      const o = ctx.options(req);
      const values = req.config.values;
      return {
        etag: o['static-file.etags'] ? { inode: o['etag.use-inode'], mtime: o['etag.use-mtime'], size: o['etag.use-size'] } : null,
        rangeRequests: values.get('server.range-requests') !== false,
        followSymlinks: values.get('server.follow-symlink') !== false,
        allowPathInfo: !o['static-file.disable-pathinfo'],
        excluded: o['static-file.exclude-extensions'],
        mimeAssign: values.get('mimetype.assign'),
      };
    };

    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: STATICFILE_STAGE }, (req) => {
      if (req.physicalPath === '' || !HANDLED_METHODS.has(req.method)) return undefined;
      req.handler = ctx.id;
      const s = settings(req);
      if (isExcluded(req.physicalPath, s.excluded)) {
        // Every other handler ran before this stage and none took it.
        refuseExcluded(req, s, ctx.logError).catch((err: unknown) => {
          ctx.logError(`${req.method} ${req.target}: ${(err as Error).stack ?? err}`);
          if (!req.finished) req.fail(err);
        });
        return true;
      }
      if (cache !== null && (req.method === 'GET' || req.method === 'HEAD')) {
        const now = Date.now();
        const hit = cache.get(req.physicalPath, now);
        if (hit !== undefined && serveCached(req, hit, s)) return true;
      }
      serveStatic(req, s, ctx.logError, cache).catch((err: unknown) => {
        // serveStatic handles its own errors; this is the last net for a bug in it.
        ctx.logError(`${req.method} ${req.target}: ${(err as Error).stack ?? err}`);
        if (!req.finished) req.fail(err);
      });
      return true;
    });
    const api: StaticFileApi = {
      forget: (p) => cache?.delete(p),
      forgetBelow: (p) => cache?.deleteBelow(p),
    };
    return { api };
  },
});

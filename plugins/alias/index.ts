// mod_alias: serve a URL-path prefix from another place in the file system, in the `physical`
// phase (lighttpd 1.4.69 mod_alias).
import { ConfigHash } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { checkAliasOrder, mapAlias, readAliases, type AliasEntry } from './alias-map.js';

/**
 * Tap stage in `physical`: first, so that indexfile (100) looks for the index in the aliased
 * directory and userdir (10) can still claim `/~user/` paths, as lighttpd does with the usual
 * module order (mod_alias listed before mod_userdir).
 */
export const ALIAS_STAGE = 0;

export default definePlugin({
  id: 'alias',
  aliases: ['mod_alias'],
  options: {
    'alias.url': {
      type: 'hash',
      default: new ConfigHash(),
      doc: 'URL-path prefix => file system path, e.g. ( "/cgi-bin/" => "/usr/lib/cgi-bin/" ). The first prefix in list order that the decoded path starts with wins (compared case-sensitively), and the rest of the path is appended to its target; the target becomes the document root of the request (DOCUMENT_ROOT). A prefix listed after a shorter prefix of itself could never match and stops the start. Default: none.',
      check: (value) => {
        const entries = readAliases(value as ConfigHash);
        return typeof entries === 'string' ? entries : checkAliasOrder(entries);
      },
    },
  },
  create(ctx) {
    // The option's check has run: every value is a string. Parse once per distinct hash.
    const parsed = new WeakMap<ConfigHash, AliasEntry[]>();
    const entriesOf = (hash: ConfigHash): AliasEntry[] => {
      let e = parsed.get(hash);
      if (e === undefined) { e = readAliases(hash) as AliasEntry[]; parsed.set(hash, e); }
      return e;
    };

    ctx.hooks.physical.tap({ name: ctx.id, stage: ALIAS_STAGE }, (req) => {
      const hash = ctx.options(req)['alias.url'];
      if (hash.size === 0) return undefined;
      const urlPath = pathBelowDocRoot(req);
      if (urlPath === null) return undefined;
      const r = mapAlias(entriesOf(hash), urlPath);
      if (r.kind === 'none') return undefined;
      if (r.kind === 'forbidden') {
        ctx.debug('%s: refused, it would leave the alias target', req.path);
        return 403;
      }
      ctx.debug('%s -> %s', req.path, r.physicalPath);
      req.physicalPath = r.physicalPath;
      req.docRoot = r.docRoot;
      return undefined;
    });
  },
});

/**
 * The part of the physical path below the document root (lighttpd matches aliases there, so a
 * physical-phase plugin that ran before sees its mapping kept): the URL path unless something
 * moved it. Without a document root, the URL path itself.
 */
function pathBelowDocRoot(req: Request): string | null {
  const physical = req.physicalPath;
  if (physical === '') return req.path;
  const root = req.docRoot.endsWith('/') ? req.docRoot.slice(0, -1) : req.docRoot;
  if (!physical.startsWith(root)) return null;
  return physical.slice(root.length);
}

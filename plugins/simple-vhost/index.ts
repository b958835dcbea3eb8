// mod_simple_vhost: the document root is <server-root>/<host>/<document-root>, chosen in the
// `docroot` phase from the request's host (port stripped); a host without such a directory gets
// the default host's (lighttpd 1.4.69 mod_simple_vhost.c).
import { definePlugin } from '../../core/plugin.js';
import { hostWithoutPort } from '../../core/http1/authority.js';
import { isSafeHostComponent, vhostRootProblem } from './host-name.js';

/** `dir` with one trailing '/'; '' stays '' (lighttpd buffer_append_slash on a set value). */
function withSlash(dir: string): string {
  return dir === '' || dir.endsWith('/') ? dir : dir + '/';
}

/**
 * server-root + host + document-root, each joined by exactly one '/', ending in '/'
 * (lighttpd build_doc_root_path: the result keeps its trailing slash, DOCUMENT_ROOT too).
 */
export function buildVhostRoot(serverRoot: string, host: string, documentRoot: string): string {
  const base = withSlash(serverRoot) + host;
  if (documentRoot === '') return withSlash(base);
  const droot = withSlash(documentRoot);
  if (base.endsWith('/')) return droot.startsWith('/') ? base + droot.slice(1) : base + droot;
  return droot.startsWith('/') ? base + droot : base + '/' + droot;
}

export default definePlugin({
  id: 'simple-vhost',
  aliases: ['mod_simple_vhost'],
  options: {
    'simple-vhost.server-root': {
      type: 'string',
      default: '',
      doc: 'The folder that holds one folder per virtual host; the document root of a request is this folder + the request\'s host (lowercased, port stripped) + simple-vhost.document-root. Empty (the default) turns the module off.',
    },
    'simple-vhost.default-host': {
      type: 'string',
      default: '',
      doc: 'The host folder used when the request has no host or its folder does not exist (or is not a directory). When that folder is missing too, server.document-root stays. Default: empty (then server-root + document-root is tried).',
    },
    'simple-vhost.document-root': {
      type: 'string',
      default: '',
      doc: 'The path inside each host folder that is the document root (e.g. "htdocs"). Default: empty (the host folder itself).',
    },
    'simple-vhost.debug': {
      type: 'integer',
      default: 0,
      min: 0,
      max: 65535,
      doc: 'Above 0, each document root that is tried and not found is written to the error log. Default 0.',
    },
  },
  create(ctx) {
    const statCache = ctx.server.statCache;
    ctx.hooks.docroot.tap(ctx.id, (req) => {
      const o = ctx.options(req);
      const serverRoot = o['simple-vhost.server-root'];
      if (serverRoot === '') return undefined;
      const documentRoot = o['simple-vhost.document-root'];
      const debug = o['simple-vhost.debug'] > 0;
      const tryRoot = (host: string): string | null => {
        const root = buildVhostRoot(serverRoot, host, documentRoot);
        const problem = vhostRootProblem(statCache, root);
        if (problem === null) return root;
        if (debug) ctx.logError(`${root}: ${problem}`);
        return null;
      };
      const host = hostWithoutPort(req.host);
      let root = isSafeHostComponent(host) ? tryRoot(host) : null;
      if (root === null) {
        const fallback = hostWithoutPort(o['simple-vhost.default-host']);
        root = tryRoot(fallback);
      }
      if (root !== null) {
        ctx.debug('%s -> document root %s', req.host, root);
        req.docRoot = root;
      }
      return undefined;
    });
  },
});

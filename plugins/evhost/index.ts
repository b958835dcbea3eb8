// mod_evhost: the document root is built from evhost.path-pattern and the parts of the request's
// host, in the `docroot` phase; when that directory does not exist the error log says so and
// server.document-root stays (lighttpd 1.4.69 mod_evhost.c).
import { definePlugin } from '../../core/plugin.js';
import { hostWithoutPort } from '../../core/http1/authority.js';
import { isSafeHostComponent, vhostRootProblem } from '../simple-vhost/host-name.js';
import { fillPathPattern, parsePathPattern, type PatternPiece } from './path-pattern.js';

export default definePlugin({
  id: 'evhost',
  aliases: ['mod_evhost'],
  options: {
    'evhost.path-pattern': {
      type: 'string',
      default: '',
      doc: 'The document root as a pattern: %% is "%", %_ the whole host (port stripped), %0 the domain with its TLD, %1 the TLD, %2 the label before it, %3 the one before that... up to %9; %{n} is %n and %{n.m} the m-th character of %n (%{3.1} of "www.example.org" is "w"). A part the host does not have is empty. When the resulting directory does not exist, server.document-root is used and the error log names the path. A "%" followed by anything else stops the start. Default: empty (off).',
      check: (v) => {
        const r = parsePathPattern(v as string);
        return typeof r === 'string' ? `invalid evhost.path-pattern: ${r}` : undefined;
      },
    },
  },
  create(ctx) {
    const statCache = ctx.server.statCache;
    // Patterns are checked at boot (check above); parsed once each, by their text.
    const parsed = new Map<string, PatternPiece[]>();
    ctx.hooks.docroot.tap(ctx.id, (req) => {
      if (req.host === '') return undefined;
      const pattern = ctx.options(req)['evhost.path-pattern'];
      if (pattern === '') return undefined;
      if (!isSafeHostComponent(hostWithoutPort(req.host))) return undefined;
      let pieces = parsed.get(pattern);
      if (pieces === undefined) {
        const r = parsePathPattern(pattern);
        if (typeof r === 'string') return undefined; // cannot happen: refused at boot
        pieces = r;
        parsed.set(pattern, pieces);
      }
      const root = fillPathPattern(pieces, req.host);
      const problem = vhostRootProblem(statCache, root);
      if (problem !== null) {
        ctx.logError(`${root}: ${problem}`);
        return undefined;
      }
      ctx.debug('%s -> document root %s', req.host, root);
      req.docRoot = root;
      return undefined;
    });
  },
});

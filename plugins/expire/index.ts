// mod_expire (lighttpd 1.4.69): Cache-Control: max-age=N (HTTP/1.1 clients) or Expires (HTTP/1.0
// clients) on 200/204/206 answers to GET, HEAD and QUERY, chosen by URL-path prefix
// (expire.url) or else by Content-Type prefix (expire.mimetypes), in responseStart.
import fs from 'node:fs';
import type { ConfigHash } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { checkExpireHash, expireTable, expiresAt, matchMimetype, matchUrl, type ExpireRule } from './expire-rule.js';

/** The file's modification time in Unix seconds: its Last-Modified, else a stat of the physical path. */
function mtimeOf(req: Request): number | undefined {
  const lm = req.getResponseHeader('Last-Modified');
  if (lm !== undefined) {
    const ms = Date.parse(lm);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  if (req.physicalPath === '') return undefined;
  try {
    return Math.floor(fs.statSync(req.physicalPath).mtimeMs / 1000);
  } catch {
    return undefined;
  }
}

export default definePlugin({
  id: 'expire',
  aliases: ['mod_expire'],
  options: {
    'expire.url': { type: 'hash', check: checkExpireHash, doc: 'URL-path prefix => expiry: ( "/images/" => "access plus 1 hours", "/static/" => "modification plus 2 days 3 hours" ). An expiry is "access", "now" (the same) or "modification" (the file\'s mtime), an optional "plus", then one or more number-and-unit pairs ("2 days") with units years, months, weeks, days, hours, minutes, seconds (singular too). The first matching key in config order wins. A bad expression stops the start. Default: none.' },
    'expire.mimetypes': { type: 'hash', check: checkExpireHash, doc: 'Content-Type prefix => expiry, used when no expire.url key matches: ( "image/" => "access plus 1 days", "text/css" => "access plus 1 hours" ). A trailing "*" is ignored ("image/*" is "image/"); the key "" applies when nothing else matches. Same expressions as expire.url. Default: none.' },
  },
  create(ctx) {
    ctx.hooks.responseStart.tap(ctx.id, (req) => {
      const status = req.status;
      if (status !== 200 && status !== 204 && status !== 206) return;
      const method = req.method;
      if (method !== 'GET' && method !== 'HEAD' && method !== 'QUERY') return;
      const o = ctx.options(req);
      const urls = o['expire.url'] as ConfigHash | undefined;
      const types = o['expire.mimetypes'] as ConfigHash | undefined;
      if (urls === undefined && types === undefined) return;
      // Set by the handler (or a backend): never overridden.
      if (req.getResponseHeader('Cache-Control') !== undefined) return;
      let rule: ExpireRule | undefined = urls !== undefined ? matchUrl(expireTable(urls, false), req.path) : undefined;
      if (rule === undefined && types !== undefined) rule = matchMimetype(expireTable(types, true), req.getResponseHeader('Content-Type'));
      if (rule === undefined) return;
      const nowSec = Math.floor(Date.now() / 1000);
      const at = expiresAt(rule, nowSec, rule.base === 'modification' ? mtimeOf(req) : undefined);
      if (at === undefined) return;
      // lighttpd 1.4.69: Cache-Control overrides Expires in HTTP/1.1 (RFC 9111 §5.3), so an
      // HTTP/1.1 client gets only Cache-Control and an HTTP/1.0 client only Expires.
      req.responseHeaders = req.responseHeaders.slice();
      if (req.head.versionMinor === 1) req.setResponseHeader('Cache-Control', `max-age=${at - nowSec}`);
      else req.setResponseHeader('Expires', new Date(at * 1000).toUTCString());
    });
  },
});

// mod_ssi: Server Side Includes (lighttpd 1.4 mod_ssi, NCSA/Apache SSI directives): a GET, HEAD
// or POST of a file whose name ends with one of ssi.extension is answered with the file's
// directives run (echo, include, fsize, flastmod, config, set, printenv, if/elif/else/endif,
// exec when enabled).
import fs from 'node:fs';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { serveSsi, type SsiSettings } from './serve-ssi.js';

/**
 * Tap stage in subrequestStart: after the gateways (FastCGI, CGI, proxy: stage 0), which win
 * when they claim the same file, and before dirlisting (900) and staticfile (1000).
 */
export const SSI_STAGE = 500;

export default definePlugin({
  id: 'ssi',
  aliases: ['mod_ssi'],
  options: {
    'ssi.extension': {
      type: 'string-list',
      default: ['.shtml'],
      doc: 'File name suffixes (compared case-sensitively with the end of the physical path) whose GET, HEAD and POST requests are answered with the file\'s SSI directives run. Default: ( ".shtml" ), as lighttpd. An empty list turns SSI off.',
    },
    'ssi.content-type': {
      type: 'string',
      default: '',
      doc: 'Content-Type of a processed document. When unset: the mimetype.assign entry for the file name (its "" catch-all aside), else "text/html" (lighttpd always sends "text/html").',
    },
    'ssi.conditional-requests': {
      type: 'boolean',
      default: false,
      doc: 'Send ETag and Last-Modified, from the newest modification time of the document and of the files it includes, and answer If-None-Match / If-Modified-Since with 304. Enable only for documents whose output depends on nothing else (no exec, dates or request variables). Default: disabled.',
    },
    'ssi.exec': {
      type: 'boolean',
      default: false,
      doc: 'Allow `<!--#exec cmd="..." -->`: the command runs through /bin/sh -c in the document\'s directory and its output is inserted. When disabled the directive inserts the errmsg. Default: disabled (lighttpd 1.4.69 enables it).',
    },
    'ssi.recursion-max': {
      type: 'integer',
      default: 0,
      min: 0,
      max: 32767,
      doc: 'How deep `<!--#include virtual="..." -->` documents are themselves processed for SSI. 0: included documents are inserted as they are, unprocessed (lighttpd\'s default); N: up to N levels, and a deeper include inserts an error text instead. Default: 0.',
    },
  },
  create(ctx) {
    // Settings depend only on the merged config: build them once per distinct merge.
    const settingsByConfig = new WeakMap<object, SsiSettings>();
    const settings = (req: Request): SsiSettings => {
      const values = req.config.values;
      let s = settingsByConfig.get(values);
      if (s === undefined) {
        const o = ctx.options(req);
        s = {
          contentType: o['ssi.content-type'],
          conditionalRequests: o['ssi.conditional-requests'],
          exec: o['ssi.exec'],
          recursionMax: o['ssi.recursion-max'],
          followSymlinks: values.get('server.follow-symlink') !== false,
          mimeAssign: values.get('mimetype.assign'),
          etag: {
            inode: values.get('etag.use-inode') !== false,
            mtime: values.get('etag.use-mtime') !== false,
            size: values.get('etag.use-size') !== false,
          },
        };
        settingsByConfig.set(values, s);
      }
      return s;
    };

    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: SSI_STAGE }, (req) => {
      // POST too, as lighttpd (a form posted to a page): staticfile would send the page's source.
      // Other methods go on (staticfile answers them: OPTIONS, 405/501).
      if (req.physicalPath === '' || (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST')) return undefined;
      if (!isSsiPath(req.physicalPath, ctx.options(req)['ssi.extension'])) return undefined;
      req.handler = ctx.id;
      serveSsi(req, settings(req), ctx.logError).catch((err: unknown) => {
        // serveSsi handles its own errors; this is the last net for a bug in it.
        ctx.logError(`${req.method} ${req.target}: ${(err as Error).stack ?? err}`);
        if (!req.finished) req.fail(err);
      });
      return true;
    });
  },
});

/**
 * The physical path names an SSI document: it ends with one of `extensions`, or such a file is
 * followed by path info (`/page.shtml/extra`, which lighttpd serves as page.shtml): that rare
 * form is checked with one stat here, so that the page's source is never sent as a static file.
 */
function isSsiPath(physicalPath: string, extensions: readonly string[]): boolean {
  for (const ext of extensions) {
    if (ext === '') continue;
    if (physicalPath.endsWith(ext)) return true;
    const at = physicalPath.indexOf(ext + '/');
    if (at < 0) continue;
    try {
      if (fs.statSync(physicalPath.slice(0, at + ext.length)).isFile()) return true;
    } catch {
      // Not there: not a page.
    }
  }
  return false;
}

// mod_dirlisting: an HTML listing for a directory request (path ending in '/') that no index
// file took, when dir-listing.activate (or server.dir-listing) is enabled (lighttpd mod_dirlisting).
import fs from 'node:fs';
import path from 'node:path';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { laterKey } from '../indexfile/option-alias.js';
import { contentTypeFor } from '../staticfile/mime-type.js';
import { physicalTargetOrAnswer } from '../staticfile/serve-file.js';
import { renderListing } from './listing-html.js';
import { nameFilter, readEntries, readNote } from './read-entries.js';

/** Tap stage in subrequestStart: after ordinary handlers (0), before staticfile (1000). */
export const DIRLISTING_STAGE = 900;

const stringOrBool = (v: unknown) => (typeof v === 'string' || typeof v === 'boolean' ? undefined : 'expected "enable", "disable" or a file name');

/** dir-listing.show-readme / show-header: "enable" → the default name, "disable"/"" → none. */
export function noteName(value: unknown, dflt: string): string | null {
  if (value === true || value === 'enable') return dflt;
  if (value === false || value === 'disable' || value === '' || typeof value !== 'string') return null;
  return value;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false; // ENOTDIR, EACCES...: staticfile gives the right status
  }
}

/** Compiled dir-listing.exclude lists, per config value (shared between requests). */
const compiledExcludes = new WeakMap<readonly string[], RegExp[]>();

export default definePlugin({
  id: 'dirlisting',
  aliases: ['mod_dirlisting'],
  options: {
    'dir-listing.activate': { type: 'boolean', default: false, doc: 'List the contents of a directory that has no index file. Also settable as server.dir-listing. Default: disabled: such a request gets 403.' },
    'dir-listing.hide-dotfiles': { type: 'boolean', default: true, doc: 'Leave out names starting with ".". Default: enabled.' },
    'dir-listing.exclude': {
      type: 'string-list',
      default: [],
      doc: 'Regular expressions (JavaScript syntax); entries whose name matches any of them are left out. Default: none.',
      check: (v) => {
        for (const re of v as string[]) {
          try { new RegExp(re); } catch (err) { return `invalid regular expression "${re}": ${(err as Error).message}`; }
        }
        return undefined;
      },
    },
    'dir-listing.encoding': { type: 'string', default: '', doc: 'The charset named in the Content-Type (`text/html;charset=<encoding>`) and the `<meta charset>` of the page. Default: none, as in lighttpd: `text/html` and no `<meta charset>` (file names are sent as the bytes they are).' },
    'dir-listing.show-readme': { type: 'any', default: false, check: stringOrBool, doc: 'Show a text file of the directory below the listing: "enable" for README.txt, or a file name. Default: disabled.' },
    'dir-listing.hide-readme-file': { type: 'boolean', default: false, doc: 'Leave the file shown by dir-listing.show-readme out of the list. Default: disabled.' },
    'dir-listing.show-header': { type: 'any', default: false, check: stringOrBool, doc: 'Show a text file of the directory above the listing: "enable" for HEADER.txt, or a file name. Default: disabled.' },
    'dir-listing.hide-header-file': { type: 'boolean', default: false, doc: 'Leave the file shown by dir-listing.show-header out of the list. Default: disabled.' },
    'dir-listing.encode-readme': { type: 'boolean', default: true, doc: 'HTML-escape the readme text (shown in a `<pre>`). Disable to insert it as HTML. Default: enabled.' },
    'dir-listing.encode-header': { type: 'boolean', default: true, doc: 'HTML-escape the header text (shown in a `<pre>`). Disable to insert it as HTML. Default: enabled.' },
    'dir-listing.external-css': { type: 'string', default: '', doc: 'URL of a stylesheet used instead of the built-in style. Default: none.' },
    'dir-listing.external-js': { type: 'string', default: '', doc: 'URL of a script added to the page. Default: none.' },
    'dir-listing.set-footer': { type: 'string', default: '', doc: 'Footer text of the page. Default: the server tag (server.tag).' },
  },
  create(ctx) {
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: DIRLISTING_STAGE }, (req) => {
      if (req.physicalPath === '' || !req.path.endsWith('/')) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
      const active = laterKey(req, 'dir-listing.activate', 'server.dir-listing') === 'server.dir-listing'
        ? req.config.values.get('server.dir-listing') === true
        : ctx.options(req)['dir-listing.activate'];
      if (!active) return undefined;
      // Only a real directory is listed; anything else (a missing path, `/file.txt/` with
      // PATH_INFO) goes on to staticfile. A sync stat, as indexfile's, on directory requests only.
      if (!isDirectory(req.physicalPath)) return undefined;
      req.handler = ctx.id;
      list(req).catch((err: unknown) => {
        ctx.logError(`${req.physicalPath}: ${(err as Error).stack ?? err}`);
        if (!req.finished) req.sendError(500, 'LT_ERR_INTERNAL');
      });
      return true;
    });

    async function list(req: Request): Promise<void> {
      const o = ctx.options(req);
      const values = req.config.values;
      // A refused path (a symlink with server.follow-symlink disabled, a permission error...)
      // gets staticfile's answer and error-log line.
      const target = await physicalTargetOrAnswer(req, values.get('server.follow-symlink') !== false, ctx.logError);
      if (target === null) return;
      if (target.kind !== 'dir') {
        // Replaced between the check above and now.
        req.sendError(404, 'LT_ERR_NOT_FOUND');
        return;
      }
      const readme = noteName(o['dir-listing.show-readme'], 'README.txt');
      const header = noteName(o['dir-listing.show-header'], 'HEADER.txt');
      const hidden: string[] = [];
      if (readme && o['dir-listing.hide-readme-file']) hidden.push(readme);
      if (header && o['dir-listing.hide-header-file']) hidden.push(header);
      const excludeList = o['dir-listing.exclude'];
      let exclude = compiledExcludes.get(excludeList);
      if (!exclude) {
        exclude = excludeList.map((re) => new RegExp(re));
        compiledExcludes.set(excludeList, exclude);
      }
      const mime = values.get('mimetype.assign');
      const entries = await readEntries(target.path, nameFilter({ hideDotfiles: o['dir-listing.hide-dotfiles'], exclude, hidden }), (n) => contentTypeFor(n, mime));
      const headerText = header ? await readNote(path.join(target.path, header)) : null;
      const readmeText = readme ? await readNote(path.join(target.path, readme)) : null;
      if (req.finished) return;
      const encoding = o['dir-listing.encoding'];
      const html = renderListing({
        urlPath: req.path,
        entries,
        encoding,
        externalCss: o['dir-listing.external-css'],
        externalJs: o['dir-listing.external-js'],
        header: headerText,
        readme: readmeText,
        encodeHeader: o['dir-listing.encode-header'],
        encodeReadme: o['dir-listing.encode-readme'],
        footer: o['dir-listing.set-footer'] || ctx.server.tag,
      });
      const body = Buffer.from(html, 'utf8');
      req.respond(200, [...req.responseHeaders, 'Content-Type', encoding === '' ? 'text/html' : `text/html;charset=${encoding}`, 'Content-Length', String(body.length)], body);
    }
  },
});

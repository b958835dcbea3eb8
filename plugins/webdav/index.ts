// mod_webdav: WebDAV (RFC 4918) on the files below the document root, as lighttpd 1.4's
// mod_webdav serves it, without its SQLite database: no dead properties and no locks, so the
// server is DAV class 1 (and 3), as lighttpd is when no webdav.sqlite-db-name is set.
import { ConfigHash } from '../../config/model.js';
import { booleanValue } from '../../core/options.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { symlinkBelow } from '../staticfile/file-check.js';
import type { StaticFileApi } from '../staticfile/index.js';
import { copyMove } from './copy-move.js';
import { answer, answerXml, type DavRequest, type DavSettings } from './dav-request.js';
import { errorDocument } from './multistatus.js';
import { propfind } from './propfind.js';
import { del, mkcol, put } from './write-methods.js';

/**
 * Tap stage in `physical`: after plugins that move the physical path (alias, default stage 0)
 * and before indexfile (100), which would turn a collection into its index.html. lighttpd's
 * mod_webdav answers in handle_physical too.
 */
export const WEBDAV_STAGE = 50;

/** The webdav.opts keys lighttpd 1.4.69 knows. */
const OPTS = ['deprecated-unsafe-partial-put', 'propfind-depth-infinity', 'unsafe-propfind-follow-symlink', 'partial-put-copy-modify'];

/** Methods that change the tree: 403 with webdav.is-readonly. */
const WRITING = new Set(['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH']);
/** RFC 4918 §8.4: a body the method would ignore → 415. */
const NO_BODY = new Set(['DELETE', 'MKCOL', 'COPY', 'MOVE', 'UNLOCK']);
const DAV_METHODS = new Set(['OPTIONS', 'PROPFIND', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH', 'LOCK', 'UNLOCK']);

/** lighttpd's Allow when a method needs the properties database it does not have. */
const ALLOW_NO_DB = 'GET, HEAD, PROPFIND, DELETE, MKCOL, PUT, MOVE, COPY';

function checkOpts(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return undefined;
  for (const [key, v] of value.entries) {
    if (!OPTS.includes(key)) return `unrecognized webdav.opts: ${key} (known: ${OPTS.join(', ')})`;
    if (booleanValue(v) === undefined) return `webdav.opts "${key}": expected "enable" or "disable"`;
  }
  return undefined;
}

function optEnabled(opts: ConfigHash, key: string): boolean {
  return booleanValue(opts.get(key)) === true;
}

export default definePlugin({
  id: 'webdav',
  aliases: ['mod_webdav'],
  options: {
    'webdav.activate': { type: 'boolean', default: false, doc: 'Answer WebDAV methods (OPTIONS, PROPFIND, and unless read-only PUT, DELETE, MKCOL, COPY, MOVE) for the URLs this setting covers, usually inside $HTTP["url"] =~ "^/dav($|/)". GET and HEAD stay with the static file module. Default: disabled.' },
    'webdav.is-readonly': { type: 'boolean', default: false, doc: 'Refuse the methods that change files (PUT, DELETE, MKCOL, COPY, MOVE, PROPPATCH) with 403; OPTIONS and PROPFIND still answer. Default: disabled.' },
    'webdav.sqlite-db-name': { type: 'string', default: '', doc: 'lighttpd\'s SQLite database of dead properties and locks. Accepted for compatibility and not used: lantern stores no dead properties and grants no locks (PROPPATCH and LOCK answer 405), and warns once at startup when it is set. Default: none.' },
    'webdav.log-xml': { type: 'boolean', default: false, doc: 'Write each XML request body and XML response body to the error log ("XML-request-body: ...", "XML-response-body: ..."), for debugging clients. Default: disabled.' },
    'webdav.opts': {
      type: 'hash',
      default: new ConfigHash(),
      check: checkOpts,
      doc: 'lighttpd\'s extra switches, each "enable" or "disable": "propfind-depth-infinity" answers PROPFIND with Depth: infinity (or no Depth) instead of 403 propfind-finite-depth (at most 100 levels); "deprecated-unsafe-partial-put", "partial-put-copy-modify" and "unsafe-propfind-follow-symlink" are accepted and have no effect (a PUT with Content-Range is always 400; PROPFIND follows symbolic links as server.follow-symlink says). Another key stops the start. Default: none.',
    },
  },
  create(ctx) {
    const dbName = ctx.global['webdav.sqlite-db-name'];
    if (dbName !== '') {
      const loc = ctx.optionLoc('webdav.sqlite-db-name');
      ctx.logError(`${loc ? `${loc.file}:${loc.line}: ` : ''}webdav.sqlite-db-name "${dbName}" is not used: lantern's mod_webdav stores no dead properties and grants no locks`);
    }

    // Looked up on first use: staticfile may be created after this plugin.
    let files: StaticFileApi | undefined;
    const changed = (physicalPath: string): void => {
      files ??= ctx.server.host.api<StaticFileApi>('staticfile');
      files?.forgetBelow(physicalPath.length > 1 && physicalPath.endsWith('/') ? physicalPath.slice(0, -1) : physicalPath);
    };

    // The config blocks that would match a request for `urlPath` (a COPY/MOVE Destination):
    // writing there needs webdav.activate on and webdav.is-readonly off, as for the source.
    const writableAt = (req: Request, urlPath: string): boolean => {
      const server = ctx.server;
      const config = !server.conditional ? req.config : server.merger.merge({
        host: req.host, url: urlPath, querystring: '', remoteip: req.conn.remoteAddress, scheme: req.scheme,
        method: req.method, serverSocket: req.conn.serverSocket, header: (name) => req.header(name),
      });
      // ctx.options() reads only the request's merged config.
      const o = ctx.options({ config } as unknown as Request);
      return o['webdav.activate'] && !o['webdav.is-readonly'];
    };

    const settingsByConfig = new WeakMap<object, DavSettings>();
    const settings = (req: Request): DavSettings => {
      const values = req.config.values;
      let s = settingsByConfig.get(values);
      if (s === undefined) {
        const o = ctx.options(req);
        const etagsOn = values.get('static-file.etags') !== false;
        const etag = { inode: values.get('etag.use-inode') !== false, mtime: values.get('etag.use-mtime') !== false, size: values.get('etag.use-size') !== false };
        s = {
          readOnly: o['webdav.is-readonly'],
          logXml: o['webdav.log-xml'],
          depthInfinity: optEnabled(o['webdav.opts'], 'propfind-depth-infinity'),
          followSymlinks: values.get('server.follow-symlink') !== false,
          props: { etag: etagsOn && (etag.inode || etag.mtime || etag.size) ? etag : null, mimeAssign: values.get('mimetype.assign') },
        };
        settingsByConfig.set(values, s);
      }
      return s;
    };

    ctx.hooks.physical.tap({ name: ctx.id, stage: WEBDAV_STAGE }, (req) => {
      if (!DAV_METHODS.has(req.method) || req.physicalPath === '') return undefined;
      if (!ctx.options(req)['webdav.activate']) return undefined;
      const s = settings(req);
      req.handler = ctx.id;
      const d: DavRequest = { req, s, logError: ctx.logError, changed, writableAt: (urlPath) => writableAt(req, urlPath) };
      handle(d).catch((err: unknown) => {
        ctx.logError(`${req.method} ${req.path}: ${(err as Error).stack ?? err}`);
        if (!req.finished) req.sendError(500, 'LT_ERR_INTERNAL');
      });
      return true;
    });
  },
});

async function handle(d: DavRequest): Promise<void> {
  const { req, s } = d;
  const method = req.method;
  if (method === 'OPTIONS') {
    options(d);
    return;
  }
  if (s.readOnly && WRITING.has(method)) { answer(d, 403); return; }
  if (NO_BODY.has(method) && req.body.present) { answer(d, 415); return; }
  // server.follow-symlink = "disable": no symbolic link on the way below the document root.
  if (!s.followSymlinks && (await symlinkBelow(req.physicalPath, req.docRoot)) !== null) { answer(d, 403); return; }
  switch (method) {
    case 'PROPFIND': return propfind(d);
    case 'PUT': return put(d);
    case 'DELETE': return del(d);
    case 'MKCOL': return mkcol(d);
    case 'COPY':
    case 'MOVE': return copyMove(d);
    case 'PROPPATCH':
    case 'LOCK':
      // Dead properties and locks need lighttpd's database: 405 as lighttpd answers PROPPATCH without one.
      answer(d, 405, ['Allow', ALLOW_NO_DB]);
      return;
    case 'UNLOCK': {
      const token = req.header('lock-token');
      if (token === undefined || !/^<.+>$/.test(token)) { answer(d, 400); return; }
      // No lock is ever granted, so the token names none here (RFC 4918 §9.11.1).
      answerXml(d, 409, errorDocument('lock-token-matches-request-uri'));
      return;
    }
  }
}

/** OPTIONS: the DAV compliance classes (RFC 4918 §10.1, §18) and the methods allowed here. */
function options(d: DavRequest): void {
  const allow = d.s.readOnly
    ? 'GET, HEAD, OPTIONS, PROPFIND'
    : 'GET, HEAD, OPTIONS, PROPFIND, DELETE, MKCOL, PUT, MOVE, COPY';
  // "MS-Author-Via: DAV" makes Microsoft Office's web folders use WebDAV (lighttpd sends it too).
  answer(d, 200, ['DAV', '1,3', 'MS-Author-Via', 'DAV', 'Allow', allow, 'Content-Length', '0']);
}

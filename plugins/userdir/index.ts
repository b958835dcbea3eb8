// mod_userdir: `/~user/x` is served from the user's own directory (`~user/public_html/x`), in the
// `physical` phase (lighttpd 1.4.69 mod_userdir).
import fs from 'node:fs';
import { definePlugin } from '../../core/plugin.js';
import { turnNowMs } from '../../core/turn.js';
import { encodeUrlPath } from '../staticfile/url-encode.js';
import { PasswdFile } from './passwd.js';
import { mapUserdir, type UserdirLookups } from './user-path.js';

/**
 * Tap stage in `physical`: after alias (0), so that `/~user/` paths belong to userdir as with
 * lighttpd's usual module order (mod_alias listed before mod_userdir), and before indexfile (100),
 * which then finds `index.html` in the user's directory.
 */
export const USERDIR_STAGE = 10;

export default definePlugin({
  id: 'userdir',
  aliases: ['mod_userdir'],
  options: {
    'userdir.path': {
      type: 'string',
      doc: 'The directory below each user\'s home that /~user/ serves, e.g. "public_html"; "" serves the home directory itself. userdir does nothing while this is not set. Default: not set.',
    },
    'userdir.basepath': {
      type: 'string',
      default: '',
      doc: 'When set, the home of a user is basepath/user (basepath/u/user with userdir.letterhomes) instead of the home directory in /etc/passwd; only user names of letters, digits, "-", "_" and "." are accepted, and the directory is not checked to exist. Default: "" (the passwd file).',
    },
    'userdir.exclude-user': {
      type: 'string-list',
      default: [],
      doc: 'User names whose /~user/ is not mapped (the path is then served from the document root as it is), e.g. ( "root", "postmaster" ). Compared case-sensitively. Default: none.',
    },
    'userdir.include-user': {
      type: 'string-list',
      doc: 'When set, only these user names are mapped (an empty list maps nobody). Compared case-sensitively. Default: not set (every user).',
    },
    'userdir.letterhomes': {
      type: 'boolean',
      default: false,
      doc: 'With userdir.basepath, put the first letter of the user name between the base path and the name (basepath/j/jan). Default: disabled.',
    },
    'userdir.active': {
      type: 'boolean',
      default: true,
      doc: 'Whether userdir maps /~user/ paths here; "disable" turns it off, e.g. inside a condition. Default: enabled (userdir.path must be set as well).',
    },
  },
  create(ctx) {
    const passwd = new PasswdFile();
    const lookups: UserdirLookups = {
      home: (user) => passwd.home(user, turnNowMs()),
      isDirectory: (dir) => {
        try { return fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true; } catch { return false; }
      },
    };

    ctx.hooks.physical.tap({ name: ctx.id, stage: USERDIR_STAGE }, (req) => {
      if (req.path.charCodeAt(1) !== 126 /* ~ */ || req.path.charCodeAt(0) !== 47) return undefined;
      const o = ctx.options(req);
      if (!o['userdir.active']) return undefined;
      const r = mapUserdir(req.path, {
        path: o['userdir.path'] as string | undefined,
        basepath: o['userdir.basepath'],
        letterhomes: o['userdir.letterhomes'],
        excludeUsers: o['userdir.exclude-user'],
        includeUsers: o['userdir.include-user'] as string[] | undefined,
      }, lookups);
      if (r.kind === 'none') return undefined;
      if (r.kind === 'redirect') {
        // lighttpd http_response_redirect_to_directory(): a relative Location, query kept.
        const location = `${encodeUrlPath(req.path)}/${req.query !== null ? `?${req.query}` : ''}`;
        req.respond(301, [...req.responseHeaders, 'Location', location, 'Content-Length', '0']);
        return true;
      }
      ctx.debug('%s -> %s (user %s)', req.path, r.physicalPath, r.user);
      req.docRoot = r.docRoot;
      req.physicalPath = r.physicalPath;
      return undefined;
    });
  },
});

// mod_secdownload: URLs that open a file for a limited time, signed by the application with a
// shared secret: <uri-prefix><token>/<hex-timestamp>/<path> serves <document-root>/<path>
// (lighttpd mod_secdownload, which lighttpd 1.4.68 removed; this follows 1.4.67's). A bad token
// → 403, an expired timestamp → 410 Gone; a URL of another shape is left alone.
import { definePlugin } from '../../core/plugin.js';
import { MAC_LENGTH, parseSecureUrl, signedText, verifyMac, withinTimeout, type SecdownloadAlgorithm } from './secure-url.js';

export default definePlugin({
  id: 'secdownload',
  aliases: ['mod_secdownload'],
  options: {
    'secdownload.secret': {
      type: 'string',
      default: '',
      doc: 'The secret shared with the application that makes the URLs. Required when secdownload.uri-prefix is set: without it a request under the prefix gets 500 and an error-log line.',
    },
    'secdownload.document-root': {
      type: 'string',
      default: '',
      doc: 'The folder the protected files are served from (keep it outside server.document-root). Required when secdownload.uri-prefix is set: without it a request under the prefix gets 500 and an error-log line.',
    },
    'secdownload.uri-prefix': {
      type: 'string',
      default: '',
      doc: 'The URL path prefix of the secure URLs, e.g. "/dl/": a secure URL is "/dl/{token}/{hex-timestamp}/{path}". Default: empty, which turns the module off (lighttpd\'s old docs say "/", but its code too needs the key set).',
    },
    'secdownload.timeout': {
      type: 'integer',
      default: 60,
      min: 0,
      doc: 'Seconds a URL stays valid after (or before) its timestamp; outside that window the answer is 410 Gone. Default 60.',
    },
    'secdownload.algorithm': {
      type: 'string',
      default: '',
      enum: ['md5', 'hmac-sha1', 'hmac-sha256'],
      doc: 'How the token is made: "md5" (32 hex digits of md5(secret + path + hex-timestamp)), "hmac-sha1" or "hmac-sha256" (base64url without padding of HMAC(secret, "/" + hex-timestamp + path)). Required, as in lighttpd since 1.4.38: without it a request under the prefix gets 500. Another value stops the start.',
    },
    'secdownload.path-segments': {
      type: 'integer',
      default: 0,
      min: 0,
      max: 65535,
      doc: 'When above 0, the token covers only the first that many segments of the path, so one token opens every file below them (1: "/album/a.jpg" is signed as "/album"). Default 0 (the whole path).',
    },
    'secdownload.hash-querystr': {
      type: 'boolean',
      default: false,
      doc: 'Sign the query string too: the token covers the path + "?" + the query as sent, when there is one. Default disabled.',
    },
  },
  create(ctx) {
    ctx.hooks.physical.tap(ctx.id, (req) => {
      if (req.handler !== null) return undefined;
      const o = ctx.options(req);
      const prefix = o['secdownload.uri-prefix'];
      if (prefix === '' || !req.path.startsWith(prefix)) return undefined;
      const secret = o['secdownload.secret'];
      const docRoot = o['secdownload.document-root'];
      const algorithm = o['secdownload.algorithm'] as SecdownloadAlgorithm | '';
      // lighttpd checks these for every request once a prefix is set; only the prefix's own
      // requests are refused here, since the rest of the site does not depend on them.
      if (secret === '' || docRoot === '' || algorithm === '') {
        const key = secret === '' ? 'secdownload.secret' : docRoot === '' ? 'secdownload.document-root' : 'secdownload.algorithm';
        ctx.logError(`${key} has to be set`);
        return 500;
      }
      const url = parseSecureUrl(req.path.slice(prefix.length), MAC_LENGTH[algorithm]);
      if (url === null) return undefined;
      // The timeout is checked first, as lighttpd does: "Gone" since the URL will never be valid again.
      if (!withinTimeout(url.timestampHex, Math.floor(Date.now() / 1000), o['secdownload.timeout'])) return 410;
      const signed = signedText(url, o['secdownload.path-segments'], o['secdownload.hash-querystr'] ? req.query : null);
      if (!verifyMac(algorithm, secret, url, signed)) {
        if (req.config.values.get('debug.log-request-handling') === true) ctx.logError(`mac invalid: ${req.path}`);
        return 403;
      }
      // req.path is normalised (no dot segments), so relPath stays below the document root.
      req.docRoot = docRoot;
      req.physicalPath = docRoot.endsWith('/') ? docRoot + url.relPath.slice(1) : docRoot + url.relPath;
      ctx.debug('%s -> %s', req.path, req.physicalPath);
      return undefined;
    });
  },
});

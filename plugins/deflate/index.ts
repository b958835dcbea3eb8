// mod_deflate (lighttpd 1.4.69; mod_compress loads it too): compresses response bodies, static
// files and backend responses alike, with gzip, deflate or brotli as Accept-Encoding allows
// (RFC 9110 §8.4, §12.5.3), through the core's body filter (docs/hooks.md) with back-pressure.
import os from 'node:os';
import { ConfigError, type ConfigBlock, type ConfigEntry, type ConfigHash } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { chooseCoding, knownEncodingEntry, UNSUPPORTED_CODINGS } from './accept-encoding.js';
import { CachedBody, cachedSize, cacheFileName, emptyBody, prepareCacheDir, teeToCache } from './cache-file.js';
import { compressStream, compressWhole, type EncoderSpec } from './encoder.js';
import { mimetypeMatches, parseLoadavg, parseParams, resolveSettings, type DeflateSettings } from './settings.js';

/** After every other responseStart tap: compression sees the final status and fields. */
export const DEFLATE_STAGE = 1000;

/** Bodies up to this size given whole to end() are compressed at once (and sent with a Content-Length). */
const WHOLE_MAX_BYTES = 64 * 1024;

/** Old compress.* keys and what lighttpd 1.4.69 says replaces them. */
const DEPRECATED: Record<string, string> = {
  'compress.filetype': 'deflate.mimetypes',
  'compress.allowed-encodings': 'deflate.allowed-encodings',
  'compress.cache-dir': 'deflate.cache-dir',
  'compress.max-filesize': 'deflate.max-compress-size',
  'compress.max-loadavg': 'deflate.max-loadavg',
};

function* allEntries(block: ConfigBlock): Generator<ConfigEntry> {
  yield* block.entries;
  for (const child of block.children) {
    for (let link: ConfigBlock | null = child; link; link = link.else) yield* allEntries(link);
  }
}

const checkEncodings = (v: unknown): string | undefined => {
  const bad = (v as string[]).find((e) => !knownEncodingEntry(e));
  return bad === undefined ? undefined : `unknown encoding "${bad}" (lighttpd knows br, gzip, x-gzip, deflate, bzip2, zstd)`;
};
const checkLoadavg = (v: unknown): string | undefined =>
  Number.isNaN(parseLoadavg(v as string)) ? `expected a number such as "3.50", got "${v as string}"` : undefined;
const checkParams = (v: unknown): string | undefined => {
  try { parseParams(v as ConfigHash); return undefined; } catch (err) { return (err as Error).message; }
};

/** A comma-separated field value holds `token` (case-insensitive). */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((t) => t.trim().split('=')[0]!.trim().toLowerCase() === token);
}

/** The body's length if the response says it (Content-Length) or the handler gave it whole, else -1. */
function bodyLength(req: Request): number {
  const cl = req.getResponseHeader('Content-Length');
  if (cl !== undefined && /^[0-9]{1,15}$/.test(cl.trim())) return Number(cl.trim());
  return req.endBodyLength;
}

/** If-None-Match lists `etag` (weak comparison, RFC 9110 §13.1.2). */
function noneMatchHas(ifNoneMatch: string, etag: string): boolean {
  const opaque = (t: string) => (t.startsWith('W/') ? t.slice(2) : t);
  const want = opaque(etag);
  return ifNoneMatch.split(',').some((t) => opaque(t.trim()) === want);
}

/**
 * lighttpd's "ratio" environment value (compressed size in percent of the original), for an
 * access log's %{ratio}e; set when a body was compressed whole.
 */
function noteRatio(req: Request, bytesOut: number, bytesIn: number): void {
  if (bytesIn > 0) req.env.push(['ratio', String(Math.floor((bytesOut * 100) / bytesIn))]);
}

export default definePlugin({
  id: 'deflate',
  aliases: ['mod_deflate', 'mod_compress'],
  options: {
    'deflate.mimetypes': { type: 'string-list', doc: 'Content-Type prefixes of the responses to compress: ( "text/" ) compresses every text/* response, ( "" ) every response; a trailing "*" is ignored and "application/javascript" reads "text/javascript", as in lighttpd. A response without Content-Type is compressed only when the first entry is "". An empty list turns compression off (also inside a condition). Default: ( ), nothing is compressed.' },
    'deflate.allowed-encodings': { type: 'string-list', check: checkEncodings, doc: 'The codings lantern may use, in the order it prefers them (the client\'s q-values do not reorder them; q=0 refuses one): "br", "gzip" (also answers "x-gzip"), "deflate". "bzip2" and "zstd" are accepted and never used (Node 20\'s zlib has no zstd; lantern has no bzip2); any other name stops the start. Default: every available one, ( "br", "gzip", "deflate" ).' },
    'deflate.max-compress-size': { type: 'integer', min: 0, doc: 'The largest body compressed, in KiB; larger ones are sent as they are. 0: no limit. A body whose length is not known in advance (a streamed backend response) is compressed whatever its size. Default: 131072 (128 MiB).' },
    'deflate.min-compress-size': { type: 'integer', min: 0, max: 65535, doc: 'Bodies of this many bytes or fewer are sent as they are. Only applies when the length is known in advance (a file, a backend response with Content-Length). Default: 256.' },
    'deflate.compression-level': { type: 'integer', check: (v) => (v === -1 || ((v as number) >= 1 && (v as number) <= 9) ? undefined : `compression-level must be between 1 and 9 (or -1), got ${String(v)}`), doc: 'The zlib level for gzip and deflate (1 fastest to 9 smallest), also brotli\'s quality; -1: zlib\'s default (6) and brotli quality 5. deflate.params, when set, decides instead. Default: -1.' },
    'deflate.output-buffer-size': { type: 'integer', min: 0, max: 65535, doc: 'Accepted for compatibility. Non-zero: a streamed response is not flushed after each piece (see server.stream-response-body). Default: 0.' },
    'deflate.work-block-size': { type: 'integer', min: 0, max: 65535, doc: 'Accepted for compatibility; no effect (the compressor works in the background and follows the client\'s pace). Default: 2048.' },
    'deflate.max-loadavg': { type: 'string', check: checkLoadavg, doc: 'Do not compress while the 1-minute load average is above this number (a string, e.g. "3.50"). Default: "", no limit.' },
    'deflate.cache-dir': { type: 'string', doc: 'A folder (created 0700 at start) where compressed static files are kept, named cache-dir + file path + "-" + ETag + "-" + coding (lighttpd\'s names), so that each file is compressed once per coding and version; only whole 200 responses of the static file handler with an ETag, no earlier Vary and no Cache-Control private or no-store. Nothing removes old files (as with lighttpd). Default: "", no cache.' },
    'deflate.params': { type: 'hash', check: checkParams, doc: 'Encoder parameters, as in lighttpd: "gzip.level" (1-9), "gzip.windowBits" (9-15), "gzip.memLevel" (1-9), "gzip.strategy" (0-4), "BROTLI_PARAM_QUALITY" (0-11, default 5), "BROTLI_PARAM_LGWIN" (10-24), "BROTLI_PARAM_MODE" (0-2); the zstd and bzip2 ones are accepted and ignored; an unknown name or a value out of range stops the start. When set, deflate.compression-level is not used. Default: none.' },
    'compress.filetype': { type: 'string-list', doc: 'Old name of deflate.mimetypes (mod_compress); warns at start. Of the two, the one set later wins.' },
    'compress.allowed-encodings': { type: 'string-list', check: checkEncodings, doc: 'Old name of deflate.allowed-encodings; warns at start.' },
    'compress.cache-dir': { type: 'string', doc: 'Old name of deflate.cache-dir; warns at start.' },
    'compress.max-filesize': { type: 'integer', min: 0, doc: 'Old name of deflate.max-compress-size (KiB); warns at start.' },
    'compress.max-loadavg': { type: 'string', check: checkLoadavg, doc: 'Old name of deflate.max-loadavg; warns at start.' },
  },
  create(ctx) {
    // At start, as lighttpd: warn about the old names and unusable codings, create cache folders.
    for (const e of allEntries(ctx.server.model.root)) {
      const where = `${e.loc.file}:${e.loc.line}`;
      if (DEPRECATED[e.key]) ctx.logError(`${where}: DEPRECATED: ${e.key} replaced with ${DEPRECATED[e.key]}`);
      if ((e.key === 'deflate.allowed-encodings' || e.key === 'compress.allowed-encodings') && Array.isArray(e.value)) {
        for (const name of UNSUPPORTED_CODINGS) {
          if ((e.value as string[]).some((v) => v.includes(name))) ctx.logError(`${where}: ${e.key}: "${name}" is not available in lantern (ignored)`);
        }
      }
      if ((e.key === 'deflate.cache-dir' || e.key === 'compress.cache-dir') && typeof e.value === 'string' && e.value !== '') {
        try {
          prepareCacheDir(e.value);
        } catch (err) {
          throw new ConfigError(e.loc, `${e.key}: can't create ${e.value}: ${(err as Error).message}`);
        }
      }
    }

    const cache = new WeakMap<object, DeflateSettings>();
    const settingsFor = (req: Request): DeflateSettings => {
      const c = req.config;
      let s = cache.get(c.values);
      if (s === undefined) {
        s = resolveSettings(c);
        cache.set(c.values, s);
      }
      return s;
    };

    ctx.hooks.responseStart.tap({ name: ctx.id, stage: DEFLATE_STAGE }, (req) => {
      // lighttpd answers HEAD with the identity head (its length is the file's).
      if (req.method === 'HEAD') return;
      const status = req.status;
      if (status < 200 || status === 204 || status === 205 || status === 206 || status === 304) return;
      if (req.getResponseHeader('Content-Encoding') !== undefined) return;
      const s = settingsFor(req);
      if (s.mimetypes === null) return;
      // RFC 9110 §7.7: the sender asked that the body reach the client unchanged.
      const cacheControl = req.getResponseHeader('Cache-Control');
      if (hasToken(cacheControl, 'no-transform')) return;
      const length = bodyLength(req);
      if (length >= 0 && (length <= s.minBytes || (s.maxBytes > 0 && length > s.maxBytes))) return;
      const contentType = req.getResponseHeader('Content-Type');
      if (!mimetypeMatches(s.mimetypes, contentType)) return;

      // The response depends on Accept-Encoding from here on, whatever this client sent.
      const vary = req.getResponseHeader('Vary');
      const hadVary = vary !== undefined;
      if (vary === undefined) req.responseHeaders.push('Vary', 'Accept-Encoding');
      else if (!hasToken(vary, 'accept-encoding') && !hasToken(vary, '*')) req.setResponseHeader('Vary', `${vary},Accept-Encoding`);

      const acceptEncoding = req.header('Accept-Encoding');
      if (acceptEncoding === undefined) return;
      const coding = chooseCoding(acceptEncoding, s.groups);
      if (coding === null) return;

      // The compressed body has its own ETag: the identity one with "-<coding>" (lighttpd's form).
      const etag = req.getResponseHeader('ETag');
      const newEtag = etag !== undefined && etag.length >= 2 && etag.endsWith('"') ? `${etag.slice(0, -1)}-${coding}"` : undefined;
      const ifNoneMatch = req.header('If-None-Match');
      if (newEtag !== undefined && ifNoneMatch !== undefined && status < 300 && noneMatchHas(ifNoneMatch, newEtag)) {
        // RFC 9110 §13.1.2: the client has this very representation.
        req.setResponseHeader('ETag', newEtag);
        req.removeResponseHeader('Content-Length');
        if (req.method === 'GET' || req.method === 'QUERY') {
          req.status = 304;
        } else {
          req.status = 412;
          req.setBodyFilter({ outputLength: 0, stream: emptyBody });
        }
        return;
      }

      if (s.maxLoadavg > 0 && os.loadavg()[0]! > s.maxLoadavg) return;

      if (newEtag !== undefined) req.setResponseHeader('ETag', newEtag);
      req.setResponseHeader('Content-Encoding', coding);
      const spec: EncoderSpec = { coding, settings: s, contentType, sizeHint: length };

      // A static file already compressed for this ETag is replayed; one not yet is kept.
      let cacheName: string | null = null;
      if (s.cacheDir !== null && !hadVary && newEtag !== undefined && status === 200 && req.handler === 'staticfile' &&
          req.physicalPath !== '' && req.getResponseHeader('Content-Length') !== undefined &&
          !hasToken(cacheControl, 'private') && !hasToken(cacheControl, 'no-store')) {
        cacheName = cacheFileName(s.cacheDir, req.physicalPath, newEtag);
        if (cacheName !== null) {
          const size = cachedSize(cacheName);
          if (size >= 0) {
            const name = cacheName;
            req.setBodyFilter({ outputLength: size, stream: () => new CachedBody(name) });
            if (length > 0) noteRatio(req, size, length);
            return;
          }
        }
      }
      const keepAs = cacheName;
      req.setBodyFilter({
        whole: keepAs === null ? (body) => {
          if (body.length > WHOLE_MAX_BYTES) return undefined;
          const out = compressWhole(spec, body);
          noteRatio(req, out.length, body.length);
          return out;
        } : undefined,
        stream: () => {
          const z = compressStream(spec);
          if (keepAs !== null) teeToCache(z, keepAs, length, (m) => ctx.logError(m));
          let bytesOut = 0;
          z.on('data', (b: Buffer) => { bytesOut += b.length; });
          z.once('end', () => noteRatio(req, bytesOut, z.bytesWritten));
          return z;
        },
      });
    });
  },
});

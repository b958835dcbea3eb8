// The compressors, through node:zlib: gzip (RFC 1952) and deflate (the zlib format, RFC 1950,
// as lighttpd sends it), and brotli (RFC 7932). No zstd: Node 20's zlib has none.
import type { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import type { Coding } from './accept-encoding.js';
import type { DeflateSettings } from './settings.js';

const { constants } = zlib;

/** How one response is compressed. */
export interface EncoderSpec {
  coding: Coding;
  settings: DeflateSettings;
  contentType: string | undefined;
  /** The body's length when known (brotli's size hint), else -1. */
  sizeHint: number;
}

/** brotli's mode from the Content-Type, as lighttpd picks it: text, font, or generic. */
function brotliModeFor(contentType: string | undefined): number {
  if (contentType === undefined) return constants.BROTLI_MODE_GENERIC;
  const t = contentType.toLowerCase();
  const main = t.split(';')[0]!.trim();
  if (t.startsWith('text/') || /^application\/(javascript|json|xml)/.test(t) || main.endsWith('+json') || main.endsWith('+xml')) {
    return constants.BROTLI_MODE_TEXT;
  }
  if (t.startsWith('font/')) return constants.BROTLI_MODE_FONT;
  return constants.BROTLI_MODE_GENERIC;
}

function zlibOptions(spec: EncoderSpec, streaming: boolean): zlib.ZlibOptions {
  const s = spec.settings;
  const p = s.params;
  const level = p !== null ? (p.gzipLevel > 0 ? p.gzipLevel : constants.Z_DEFAULT_COMPRESSION) : s.level > 0 ? s.level : constants.Z_DEFAULT_COMPRESSION;
  const opts: zlib.ZlibOptions = { level };
  if (p !== null) {
    opts.windowBits = p.gzipWindowBits;
    opts.memLevel = p.gzipMemLevel;
    opts.strategy = p.gzipStrategy;
  }
  if (streaming && s.syncFlush) opts.flush = constants.Z_SYNC_FLUSH;
  return opts;
}

function brotliOptions(spec: EncoderSpec, streaming: boolean): zlib.BrotliOptions {
  const s = spec.settings;
  const p = s.params;
  // lighttpd: deflate.params wins; else deflate.compression-level; else quality 5 (brotli's own
  // default, 11, is very slow).
  const quality = p !== null ? p.brotliQuality : s.level >= 0 ? s.level : 5;
  const params: Record<number, number> = {
    [constants.BROTLI_PARAM_QUALITY]: quality,
    [constants.BROTLI_PARAM_MODE]: p !== null && p.brotliMode !== 0 ? p.brotliMode : brotliModeFor(spec.contentType),
  };
  if (p !== null) params[constants.BROTLI_PARAM_LGWIN] = p.brotliWindow;
  if (spec.sizeHint > 0 && spec.sizeHint < 0x7fffffff) params[constants.BROTLI_PARAM_SIZE_HINT] = spec.sizeHint;
  const opts: zlib.BrotliOptions = { params };
  if (streaming && s.syncFlush) opts.flush = constants.BROTLI_OPERATION_FLUSH;
  return opts;
}

/** A compressing stream for a body written in pieces. */
export function compressStream(spec: EncoderSpec): zlib.Gzip | zlib.Deflate | zlib.BrotliCompress {
  switch (spec.coding) {
    case 'br': return zlib.createBrotliCompress(brotliOptions(spec, true));
    case 'deflate': return zlib.createDeflate(zlibOptions(spec, true));
    default: return zlib.createGzip(zlibOptions(spec, true));
  }
}

/** Compress a whole (small) body at once. */
export function compressWhole(spec: EncoderSpec, body: Buffer): Buffer {
  switch (spec.coding) {
    case 'br': return zlib.brotliCompressSync(body, brotliOptions(spec, false));
    case 'deflate': return zlib.deflateSync(body, zlibOptions(spec, false));
    default: return zlib.gzipSync(body, zlibOptions(spec, false));
  }
}

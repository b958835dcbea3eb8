// mod_deflate's settings for one request, from the deflate.* keys and the old compress.* keys
// lighttpd 1.4.69 still accepts (compress.filetype → deflate.mimetypes, ...). Resolved once per
// merged config and cached.
import { ConfigHash, type ConfigValue } from '../../config/model.js';
import { codingGroups, type Coding } from './accept-encoding.js';

/** deflate.params, as lighttpd 1.4.69 reads them (keys compared ignoring case). */
export interface EncoderParams {
  gzipLevel: number;
  gzipWindowBits: number;
  gzipMemLevel: number;
  gzipStrategy: number;
  brotliQuality: number;
  brotliWindow: number;
  /** 0 generic (then chosen from the Content-Type), 1 text, 2 font. */
  brotliMode: number;
}

export interface DeflateSettings {
  /** Content-Type prefixes to compress; null: compression is off. */
  mimetypes: string[] | null;
  groups: Coding[][];
  /** Largest body compressed, in bytes; 0: no limit. */
  maxBytes: number;
  /** Bodies of this size or smaller are sent as they are. */
  minBytes: number;
  /** deflate.compression-level: -1 (the library's default) or 1-9. */
  level: number;
  params: EncoderParams | null;
  maxLoadavg: number;
  cacheDir: string | null;
  /** Flush the compressor after each piece the handler writes (streamed responses). */
  syncFlush: boolean;
}

/**
 * lighttpd: a trailing `*` is ignored (the match is a prefix anyway) and "application/javascript"
 * reads "text/javascript"; an empty list turns compression off.
 */
export function normalizeMimetypes(list: readonly string[]): string[] | null {
  if (list.length === 0) return null;
  return list.map((m) => {
    let v = m.length > 2 && m.endsWith('*') ? m.slice(0, -1) : m;
    if (v === 'application/javascript') v = 'text/javascript';
    return v;
  });
}

/** Whether a response's Content-Type is one to compress (prefix match; none: only if the first entry is ""). */
export function mimetypeMatches(mimetypes: readonly string[], contentType: string | undefined): boolean {
  if (contentType === undefined) return mimetypes[0] === '';
  return mimetypes.some((m) => contentType.startsWith(m));
}

/** deflate.max-loadavg: lighttpd reads the string with strtod(); "" is 0 (no limit). */
export function parseLoadavg(v: string): number {
  if (v.trim() === '') return 0;
  return Number.parseFloat(v);
}

const PARAM_RANGES: Record<string, [keyof EncoderParams, number, number]> = {
  'gzip.level': ['gzipLevel', 1, 9],
  'gzip.windowbits': ['gzipWindowBits', 9, 15],
  'gzip.memlevel': ['gzipMemLevel', 1, 9],
  'gzip.strategy': ['gzipStrategy', 0, 4],
  'brotli_param_quality': ['brotliQuality', 0, 11],
  'brotli_param_lgwin': ['brotliWindow', 10, 24],
  'brotli_param_mode': ['brotliMode', 0, 2],
};

/** Parameters lighttpd accepts for codings lantern does not produce: accepted and ignored. */
const IGNORED_PARAMS = ['zstd_c_compressionlevel', 'zstd_c_strategy', 'zstd_c_windowlog', 'bzip2.blocksize100k'];

/** deflate.params to encoder parameters; throws with a message naming the bad entry. */
export function parseParams(hash: ConfigHash): EncoderParams {
  const p: EncoderParams = {
    gzipLevel: 0, gzipWindowBits: 15, gzipMemLevel: 8, gzipStrategy: 0,
    // lighttpd: not brotli's own default 11, which is very slow.
    brotliQuality: 5, brotliWindow: 22, brotliMode: 0,
  };
  for (const [key, value] of hash.entries) {
    const k = key.toLowerCase();
    if (IGNORED_PARAMS.includes(k)) continue;
    const range = PARAM_RANGES[k];
    if (!range) throw new Error(`unknown parameter "${key}" (known: gzip.level, gzip.windowBits, gzip.memLevel, gzip.strategy, BROTLI_PARAM_QUALITY, BROTLI_PARAM_LGWIN, BROTLI_PARAM_MODE)`);
    const n = intOf(value);
    if (n === undefined || n < range[1] || n > range[2]) throw new Error(`invalid value for ${key}: must be an integer from ${range[1]} to ${range[2]}`);
    p[range[0]] = n;
  }
  return p;
}

function intOf(v: ConfigValue): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?[0-9]{1,9}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** A merged config: values and where each was set. */
export interface MergedValues {
  values: Map<string, ConfigValue>;
  locs: Map<string, { file: string; line: number }>;
}

/**
 * A deflate.* key or its old compress.* name, which lighttpd merges into one setting: whichever
 * was set last wins (by line within one file; across files the deflate.* key does).
 */
function either<T>(c: MergedValues, key: string, old: string): T | undefined {
  const v = c.values.get(key);
  const w = c.values.get(old);
  if (w === undefined) return v as T | undefined;
  if (v === undefined) return w as T;
  const a = c.locs.get(key);
  const b = c.locs.get(old);
  return (a && b && a.file === b.file && b.line > a.line ? w : v) as T;
}

/** Settings from a merged config (the values are coerced by the option schemas already). */
export function resolveSettings(c: MergedValues): DeflateSettings {
  const o = c.values;
  const mimetypes = either<string[]>(c, 'deflate.mimetypes', 'compress.filetype') ?? [];
  const allowed = either<string[]>(c, 'deflate.allowed-encodings', 'compress.allowed-encodings') ?? [];
  const maxKb = either<number>(c, 'deflate.max-compress-size', 'compress.max-filesize') ?? 131072;
  const loadavg = either<string>(c, 'deflate.max-loadavg', 'compress.max-loadavg') ?? '';
  const cacheDir = either<string>(c, 'deflate.cache-dir', 'compress.cache-dir') ?? '';
  const params = o.get('deflate.params');
  const streamResponseBody = (o.get('server.stream-response-body') as number | undefined) ?? 0;
  const outputBufferSize = (o.get('deflate.output-buffer-size') as number | undefined) ?? 0;
  return {
    mimetypes: normalizeMimetypes(mimetypes),
    groups: codingGroups(allowed),
    maxBytes: maxKb * 1024,
    minBytes: (o.get('deflate.min-compress-size') as number | undefined) ?? 256,
    level: (o.get('deflate.compression-level') as number | undefined) ?? -1,
    params: params instanceof ConfigHash ? parseParams(params) : null,
    maxLoadavg: parseLoadavg(loadavg),
    cacheDir: cacheDir === '' ? null : cacheDir.replace(/\/+$/, '') || '/',
    syncFlush: (streamResponseBody === 1 || streamResponseBody === 2) && outputBufferSize === 0,
  };
}

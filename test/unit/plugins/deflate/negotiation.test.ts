// plugins/deflate: Accept-Encoding negotiation (the server's order, q=0 refuses), the settings
// from deflate.* and compress.* keys, and the option checks that stop a bad config.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash, type ConfigValue } from '../../../../config/model.js';
import { coerceOption, type OptionSpec } from '../../../../core/options.js';
import { moduleToId } from '../../../../core/plugin-host.js';
import deflate from '../../../../plugins/deflate/index.js';
import { acceptedCodings, chooseCoding, codingGroups, DEFAULT_GROUPS } from '../../../../plugins/deflate/accept-encoding.js';
import { mimetypeMatches, normalizeMimetypes, parseParams, resolveSettings } from '../../../../plugins/deflate/settings.js';

const N = suite('deflate negotiation and settings');

N('acceptedCodings: q=0 (in any spelling) refuses, names are case-insensitive, parameters are skipped', () => {
  assert.equal([...acceptedCodings('gzip, deflate;q=0.5, br;q=0')], ['gzip', 'deflate']);
  assert.equal([...acceptedCodings('GZip ; Q=0.000 , x-gzip')], ['x-gzip']);
  assert.equal([...acceptedCodings(' , identity;q=1,')], ['identity']);
  assert.equal([...acceptedCodings('gzip;level=1')], ['gzip']);
});

N('chooseCoding: the server\'s order, not the client\'s q-values; none acceptable is identity (null)', () => {
  assert.is(chooseCoding('gzip;q=1, br;q=0.1', DEFAULT_GROUPS), 'br');
  assert.is(chooseCoding('deflate, gzip', DEFAULT_GROUPS), 'gzip');
  assert.is(chooseCoding('x-gzip', DEFAULT_GROUPS), 'x-gzip');
  assert.is(chooseCoding('*', DEFAULT_GROUPS), null);
  assert.is(chooseCoding('identity', DEFAULT_GROUPS), null);
  assert.is(chooseCoding('', DEFAULT_GROUPS), null);
  assert.is(chooseCoding('br, gzip', codingGroups(['gzip', 'br'])), 'gzip', 'the configured order wins');
  assert.is(chooseCoding('br', codingGroups(['gzip'])), null);
  assert.is(chooseCoding('br', codingGroups(['brotli'])), 'br', 'substring match, as lighttpd');
  assert.is(chooseCoding('gzip', codingGroups(['zstd', 'bzip2'])), null, 'codings lantern cannot make allow nothing');
});

N('mimetypes: trailing * ignored, application/javascript reads text/javascript, empty list is off', () => {
  assert.equal(normalizeMimetypes(['text/*', 'application/javascript', '*']), ['text/', 'text/javascript', '*']);
  assert.is(normalizeMimetypes([]), null);
  assert.ok(mimetypeMatches(['text/'], 'text/html; charset=utf-8'));
  assert.not.ok(mimetypeMatches(['text/'], 'image/png'));
  assert.ok(mimetypeMatches(['', 'text/'], undefined), 'no Content-Type: only when the first entry is ""');
  assert.not.ok(mimetypeMatches(['text/', ''], undefined));
});

function merged(entries: Array<[string, ConfigValue, number]>) {
  const values = new Map<string, ConfigValue>();
  const locs = new Map<string, { file: string; line: number }>();
  for (const [k, v, line] of entries) { values.set(k, v); locs.set(k, { file: 'l.conf', line }); }
  return { values, locs };
}

N('resolveSettings: lighttpd\'s defaults; an old compress.* key set later wins over its deflate.* name', () => {
  const d = resolveSettings(merged([]));
  assert.is(d.mimetypes, null);
  assert.is(d.maxBytes, 131072 * 1024);
  assert.is(d.minBytes, 256);
  assert.is(d.level, -1);
  assert.is(d.cacheDir, null);
  assert.not.ok(d.syncFlush);
  const s = resolveSettings(merged([
    ['deflate.mimetypes', ['text/'], 1], ['compress.filetype', ['text/plain'], 2],
    ['compress.max-filesize', 10, 3], ['deflate.max-compress-size', 20, 4],
    ['compress.cache-dir', '/var/cache/x/', 5], ['server.stream-response-body', 2, 6],
  ]));
  assert.equal(s.mimetypes, ['text/plain']);
  assert.is(s.maxBytes, 20 * 1024);
  assert.is(s.cacheDir, '/var/cache/x');
  assert.ok(s.syncFlush, 'streamed responses are flushed piece by piece');
  assert.not.ok(resolveSettings(merged([['server.stream-response-body', 1, 1], ['deflate.output-buffer-size', 8192, 2]])).syncFlush);
});

N('deflate.params: lighttpd\'s names (any case) and ranges; zstd/bzip2 ones ignored; others refused', () => {
  const p = parseParams(new ConfigHash([['GZIP.LEVEL', 3], ['BROTLI_PARAM_QUALITY', '7'], ['ZSTD_c_compressionLevel', 5]]));
  assert.is(p.gzipLevel, 3);
  assert.is(p.brotliQuality, 7);
  assert.throws(() => parseParams(new ConfigHash([['gzip.level', 10]])), /invalid value for gzip\.level/);
  assert.throws(() => parseParams(new ConfigHash([['gzip.speed', 1]])), /unknown parameter "gzip\.speed"/);
});

N('option checks: what stops the start', () => {
  const o = deflate.options as Record<string, OptionSpec>;
  const err = (key: string, v: ConfigValue) => {
    const r = coerceOption(o[key]!, v);
    return 'error' in r ? r.error : undefined;
  };
  assert.is(err('deflate.compression-level', -1), undefined);
  assert.is(err('deflate.compression-level', 9), undefined);
  assert.match(err('deflate.compression-level', 0)!, /between 1 and 9/);
  assert.match(err('deflate.compression-level', 10)!, /between 1 and 9/);
  assert.match(err('deflate.allowed-encodings', ['gzip', 'gzp'])!, /unknown encoding "gzp"/);
  assert.is(err('deflate.allowed-encodings', ['zstd', 'br']), undefined);
  assert.is(err('deflate.max-loadavg', '3.50'), undefined);
  assert.is(err('deflate.max-loadavg', ''), undefined);
  assert.match(err('deflate.max-loadavg', 'high')!, /expected a number/);
  assert.match(err('deflate.min-compress-size', 'big')!, /expected an integer/);
  assert.match(err('deflate.min-compress-size', 70000)!, /at most 65535/);
  assert.match(err('deflate.params', new ConfigHash([['gzip.level', 42]]))!, /invalid value/);
  assert.match(err('deflate.mimetypes', 3)!, /expected a list of strings/);
});

N('mod_compress and mod_deflate both load the deflate plugin (lighttpd 1.4.56+)', () => {
  assert.is(moduleToId('mod_compress'), 'deflate');
  assert.is(moduleToId('mod_deflate'), 'deflate');
  assert.ok(deflate.aliases!.includes('mod_compress'));
});

N.run();

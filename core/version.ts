// lantern's version (read from package.json, so -v never drifts from the release) and the
// feature list -V prints (lighttpd's `\t+ feature` form).
import fs from 'node:fs';
import path from 'node:path';
import { findPackageRoot } from '../config/default-config.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(findPackageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version === 'string') return pkg.version;
  } catch {
    // an unpacked copy without its package.json: fall through
  }
  return '0.0.0';
}

export const VERSION = packageVersion();

export const FEATURES = [
  'IPv6 support',
  'unix domain sockets',
  'systemd socket activation (LISTEN_FDS)',
  'lighttpd.conf syntax (1.4.69)',
  'native config (JSON, YAML, JS)',
  'strict HTTP/1.1 parser',
  'chunked request bodies',
  'pipelining',
  'ETag, conditional and range requests',
  'worker processes (server.max-worker)',
];

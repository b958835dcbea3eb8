// The bench's temp dir: the files the origins serve and the configs each target starts with
// (nginx templates from bench/peers/, lantern configs in lighttpd syntax), written at run time.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');

/** The 13-byte body of case static13. */
export const STATIC13_BODY = 'hello world!\n';
/** Sizes of the origin's static files (issue 4: 1 MiB and 100 MiB). */
export const ONE_MIB_BYTES = 1 << 20;
export const HUNDRED_MIB_BYTES = 100 << 20;

/** Make the run's temp dir and the files every case serves. */
export function makeBenchDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-bench-'));
  fs.writeFileSync(path.join(dir, 'hello.txt'), STATIC13_BODY);
  // Random bytes: nothing between origin and client may win by compressing or deduplicating.
  fs.writeFileSync(path.join(dir, '1m.bin'), randomBytes(ONE_MIB_BYTES));
  // Sparse: 100 MiB of zeros that cost no disk; sendfile reads them from the page cache.
  fs.closeSync(fs.openSync(path.join(dir, '100m.bin'), 'w'));
  fs.truncateSync(path.join(dir, '100m.bin'), HUNDRED_MIB_BYTES);
  return dir;
}

/** Fill an nginx template from bench/peers/ and write it into `dir`; returns the file. */
export function writeNginxConf(dir: string, template: 'nginx-origin' | 'nginx-proxy' | 'nginx-fastcgi', fields: Record<string, string | number>): string {
  // nginx creates a temp path's last component only.
  fs.mkdirSync(path.join(dir, `${template}-temp`), { recursive: true });
  const text = fs.readFileSync(path.join(BENCH_DIR, 'peers', `${template}.conf.tmpl`), 'utf8')
    .replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const value = key === 'dir' ? dir : fields[key];
      if (value === undefined) throw new Error(`${template}.conf.tmpl: no value for {{${key}}}`);
      return String(value);
    });
  const file = path.join(dir, `${template}.conf`);
  fs.writeFileSync(file, text);
  return file;
}

/** Write a lantern config file (lighttpd syntax) into `dir`; returns the file. */
function writeLanternConf(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, `${name}.conf`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** lantern serving the 13-byte file of case static13. */
export function writeLanternStaticConf(dir: string, port: number): string {
  return writeLanternConf(dir, 'lantern-static', [
    `server.document-root = "${dir}"`,
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    'server.max-keep-alive-requests = 100000',
    'mimetype.assign = ( ".txt" => "text/plain" )',
  ]);
}

/** lantern as a proxy to the origin (issue 4's lighttpd 1.5 proxy-core keys); `workers` > 0 sets server.max-worker. */
export function writeLanternProxyConf(dir: string, name: string, port: number, originPort: number, workers: number): string {
  return writeLanternConf(dir, name, [
    'server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "balancer-rr" )',
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${dir}"`,
    'server.max-keep-alive-requests = 100000',
    ...(workers > 0 ? [`server.max-worker = ${workers}`] : []),
    `proxy-core.backends = ( "127.0.0.1:${originPort}" )`,
    'proxy-core.protocol = "http"',
    'proxy-core.balancer = "round-robin"',
    'proxy-core.max-pool-size = 64',
    'proxy-core.max-keep-alive-requests = 100000',
  ]);
}

/**
 * Case fastcgi: `.php` to php-cgi's unix socket over lighttpd 1.4's mod_fastcgi, the way a user
 * writes it; lantern and lighttpd 1.4 are each given this same file (`name` tells them apart).
 * lantern sizes its pool from php-cgi's FCGI_MAX_CONNS; lighttpd 1.4 opens a connection per request.
 */
export function writeFastcgiConf(dir: string, name: 'lantern-fastcgi' | 'lighttpd-fastcgi', port: number, socket: string): string {
  return writeLanternConf(dir, name, [
    'server.modules = ( "mod_fastcgi" )',
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${dir}"`,
    'server.max-keep-alive-requests = 100000',
    `fastcgi.server = ( ".php" => ( ( "socket" => "${socket}", "check-local" => "disable" ) ) )`,
  ]);
}

/**
 * Case cgi: `.pl` files run by /usr/bin/perl over lighttpd 1.4's mod_cgi, the way a user writes
 * it; lantern and lighttpd 1.4 are each given this same file (`name` tells them apart).
 */
export function writeCgiConf(dir: string, name: 'lantern-cgi' | 'lighttpd-cgi', port: number, perl: string): string {
  return writeLanternConf(dir, name, [
    'server.modules = ( "mod_cgi" )',
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${dir}"`,
    'server.max-keep-alive-requests = 100000',
    `cgi.assign = ( ".pl" => "${perl}" )`,
  ]);
}

// The built-in config lantern serves with when neither -f nor a native config file is found
// (design.md §4): lighttpd syntax, listening on 127.0.0.1:8080, serving <package root>/www.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file name the embedded config reports in errors and in ConfigModel.file. */
export const EMBEDDED_CONFIG_FILE = '<embedded>';

/**
 * The package root: the nearest folder upwards with a package.json named "lantern" (two levels
 * above config/ in the sources, three above dist/config/ when built).
 */
export function findPackageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'lantern') return dir;
    } catch {
      // no or unreadable package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

/** lighttpd strings know one escape, \" (configfile.c); a path can hold no other special char. */
function quote(s: string): string {
  return `"${s.replace(/"/g, '\\"')}"`;
}

/** The welcome page folder served by the embedded config. */
export const EMBEDDED_DOCUMENT_ROOT = path.join(findPackageRoot(), 'www');

export const EMBEDDED_DEFAULT_CONFIG = `# lantern's built-in config: used when no -f is given and no lantern.config.*,
# .lanternrc* or package.json#lantern is found in the working directory.
server.port = 8080
server.bind = "127.0.0.1"
server.modules = ( "indexfile", "staticfile" )
server.document-root = ${quote(EMBEDDED_DOCUMENT_ROOT)}
index-file.names = ( "index.html" )
mimetype.assign = (
  ".html" => "text/html; charset=utf-8",
  ".htm" => "text/html; charset=utf-8",
  ".css" => "text/css; charset=utf-8",
  ".js" => "text/javascript; charset=utf-8",
  ".mjs" => "text/javascript; charset=utf-8",
  ".json" => "application/json",
  ".txt" => "text/plain; charset=utf-8",
  ".xml" => "application/xml",
  ".svg" => "image/svg+xml",
  ".png" => "image/png",
  ".jpg" => "image/jpeg",
  ".jpeg" => "image/jpeg",
  ".gif" => "image/gif",
  ".webp" => "image/webp",
  ".ico" => "image/vnd.microsoft.icon",
  ".woff2" => "font/woff2",
  ".wasm" => "application/wasm",
  ".pdf" => "application/pdf",
)

# The demo: lantern starts two processes of examples/demo-app (a tiny node:http app) and
# proxies /demo/ to them round robin over keep-alive connections; /server-status shows both
# members with their counters (JSON with ?json).
server.modules += ( "mod_proxy_core", "mod_proxy_backend_http", "mod_balancer_rr", "mod_status", "demo-app" )
demo-app.ports = ( 8081, 8082 )
demo-app.script = ${quote(path.join(findPackageRoot(), 'examples', 'demo-app', 'server.mjs'))}
status.status-url = "/server-status"
status.statistics-url = "/server-statistics"
$HTTP["url"] =^ "/demo/" {
  proxy-core.backends = ( "127.0.0.1:8081", "127.0.0.1:8082" )
  proxy-core.protocol = "http"
  proxy-core.balancer = "round-robin"
}
`;

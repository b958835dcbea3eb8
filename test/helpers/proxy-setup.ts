// Test helper: a lantern proxying to fake backends through proxy-core (lighttpd 1.5 keys).
import { startLantern, type LanternHandle } from './lantern.js';

export const PROXY_MODULES = 'server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "mod_balancer_rr", "mod_balancer_hash" )';

/** Start lantern with every request under / proxied to `backends` (addresses like 127.0.0.1:port). */
export function startProxy(backends: string[], extra = '', files: Record<string, string> = { 'index.html': 'static\n' }): Promise<LanternHandle> {
  return startLantern(`
${PROXY_MODULES}
server.document-root = "%DIR%"
server.max-read-idle = 5
proxy-core.backends = ( ${backends.map((b) => `"${b}"`).join(', ')} )
proxy-core.protocol = "http"
proxy-core.balancer = "round-robin"
${extra}
`, { files });
}

/** The proxy-core plugin's API of a running lantern. */
export function proxyApi<T = unknown>(lt: LanternHandle): T {
  const api = lt.server.host.api<T>('proxy-core');
  if (!api) throw new Error('proxy-core is not loaded');
  return api;
}

// mod_proxy_core (lighttpd 1.5, design.md §3): the one backend engine every gateway protocol
// shares. This file declares the plugin and wires it to the core's hooks; the engine is in
// proxy-core.ts, the contracts for protocols and balancers in types.ts, the API in api.ts.
import type { ConfigBlock, ConfigModel } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import { ConfigBackends } from './config-backends.js';
import { PROXY_CORE_OPTIONS } from './config-keys.js';
import { ProxyCore } from './proxy-core.js';
import { backendPassed } from './proxy-request-state.js';

export type {
  BackendHandle, BackendOptions, BackendSnapshot, BackendSpec, ForwardOptions, MemberSnapshot, ProxyCoreApi,
  ProxyHooks, ProxySnapshot,
} from './api.js';
export { DEFAULT_BACKEND_OPTIONS } from './api.js';
export type * from './types.js';

/** The plugin id, for `ctx.server.host.api<ProxyCoreApi>(PROXY_CORE_ID)`. */
export const PROXY_CORE_ID = 'proxy-core';

/** subrequestStart stage: with the other handlers (FastCGI, CGI, proxy), before dirlisting (900) and staticfile (1000). */
export const PROXY_CORE_STAGE = 0;

/** The built-in plugin that registers each protocol and balancer name a config may use. */
const PROTOCOL_PLUGINS: Record<string, string> = {
  http: 'proxy-backend-http', fastcgi: 'proxy-backend-fastcgi', scgi: 'proxy-backend-scgi', uwsgi: 'proxy-backend-scgi', cgi: 'proxy-backend-cgi',
};
const BALANCER_PLUGINS: Record<string, string> = {
  'round-robin': 'balancer-rr', rr: 'balancer-rr', fair: 'balancer-rr', sqf: 'balancer-rr',
  hash: 'balancer-hash', carp: 'balancer-hash', sticky: 'balancer-hash',
};

/**
 * The protocol and balancer plugins a config's proxy-core.* keys name (defaults included, when
 * any block sets proxy-core.backends): a lighttpd 1.5 config that loads only mod_proxy_core and
 * mod_proxy_backend_http still gets its round-robin balancer. Unknown names load nothing: the
 * bind check then names the key's line.
 */
export function impliedPlugins(model: ConfigModel): string[] {
  const out = new Set<string>();
  let used = false;
  const visit = (b: ConfigBlock): void => {
    for (const e of b.entries) {
      if (e.key === 'proxy-core.backends') used = true;
      // lighttpd 1.5's request/response rewriting under proxy-core.* is the rewrite plugin's.
      else if (e.key === 'proxy-core.rewrite-request' || e.key === 'proxy-core.rewrite-response' || e.key === 'proxy-core.allow-x-rewrite') out.add('rewrite');
      else if (e.key === 'proxy-core.protocol' && typeof e.value === 'string' && PROTOCOL_PLUGINS[e.value]) out.add(PROTOCOL_PLUGINS[e.value]!);
      else if (e.key === 'proxy-core.balancer' && typeof e.value === 'string' && BALANCER_PLUGINS[e.value]) out.add(BALANCER_PLUGINS[e.value]!);
    }
    for (const head of b.children) for (let l: ConfigBlock | null = head; l; l = l.else) visit(l);
  };
  visit(model.root);
  if (used) {
    out.add(PROTOCOL_PLUGINS[PROXY_CORE_OPTIONS['proxy-core.protocol'].default]!);
    out.add(BALANCER_PLUGINS[PROXY_CORE_OPTIONS['proxy-core.balancer'].default]!);
  }
  return [...out];
}

export default definePlugin({
  id: PROXY_CORE_ID,
  aliases: ['mod_proxy_core'],
  options: PROXY_CORE_OPTIONS,
  implies: impliedPlugins,
  create(ctx) {
    const core = new ProxyCore(ctx.server, (m) => ctx.logError(m), (fmt, ...args) => ctx.debug(fmt, ...args));
    const fromConfig = new ConfigBackends(core, ctx.server.model);
    // Protocols and balancers register in their own create(), after this one: backends are
    // built and bound at startup, before the first request.
    // The config's backends are built once every plugin exists, so a missing protocol or
    // balancer is a config error under -t/-tt too, not only at the first listen.
    ctx.hooks.configured.tap(ctx.id, () => {
      fromConfig.build();
      core.check();
    });
    ctx.hooks.startup.tapPromise(ctx.id, async () => {
      await core.startup();
    });
    ctx.hooks.primaryStartup.tapPromise(ctx.id, async () => {
      await core.primaryStartup();
    });
    if (fromConfig.used) {
      ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: PROXY_CORE_STAGE }, (req) => {
        const backend = fromConfig.forRequest(req);
        // A backend that fell through for this request leaves it to the next handler.
        if (backend === null || backendPassed(req, backend)) return undefined;
        core.forward(req, backend);
        return true;
      });
    }
    ctx.hooks.trigger.tap(ctx.id, (nowMs) => core.tick(nowMs));
    return { api: core, close: () => core.close() };
  },
});

// mod_proxy: lighttpd 1.4's reverse proxy keys (proxy.server, proxy.balance, proxy.header,
// proxy.forwarded, proxy.replace-http-host, proxy.map-extensions, proxy.debug; src/mod_proxy.c)
// on top of proxy-core: each (proxy.server block, extension) becomes one proxy-core backend at
// boot, and proxy-core does the networking (design.md §3, §4).
import { ConfigError } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { checkProxyForwarded, checkProxyHeader } from './header-options.js';
import { RemapState } from './header-remap.js';
import type { ProxyCoreApi } from '../proxy-core/index.js';
import { BALANCERS, configWarnings, matchRoute, RouteTable, walkBlocks, type Route } from './route-table.js';
import { checkProxyServer } from './server-config.js';

/** What mod_proxy keeps for a request it handed to proxy-core (req.pluginData). */
interface ProxiedRequest {
  route: Route;
  remap: RemapState | null;
  replaceHttpHost: boolean;
  debug: number;
}

/** The request's target in origin-form (an absolute-form target loses its scheme and authority). */
function originForm(req: Request): string {
  const t = req.target;
  if (t.charCodeAt(0) === 47) return t;
  return req.query === null ? req.pathRaw : `${req.pathRaw}?${req.query}`;
}

/**
 * The Host to send when proxy.replace-http-host is enabled: the label of the host entry
 * (`"backend.example" => ( "host" => ... )`). proxy-core picks the member after this plugin
 * has handed the request over, so the label is known only when the key's hosts share one (a
 * warning at boot says when they do not). null: keep the client's Host.
 */
function replacementHost(route: Route): string | null {
  const first = route.hosts[0]!.label;
  return first !== '' && route.hosts.every((h) => h.label === first) ? first : null;
}

const REMAPPED_REQUEST_FIELDS = new Set(['destination', 'content-location']);
const REMAPPED_RESPONSE_FIELDS = new Set(['location', 'content-location']);

export default definePlugin({
  id: 'proxy',
  aliases: ['mod_proxy'],
  requires: ['proxy-core', 'proxy-backend-http', 'balancer-rr', 'balancer-hash'],
  options: {
    'proxy.server': {
      type: 'array',
      check: checkProxyServer,
      doc: 'Where to proxy: ( "<prefix or extension>" => ( "<label>" => ( "host" => "10.0.0.1", "port" => 8080 ), ... ) ), or the hosts as an unlabeled list. A key starting with "/" matches URL paths with that prefix, any other key matches paths ending with it, "" matches every path; the first matching key wins. Per host: "host" (IP address or name, required unless "socket"), "port" (required with "host"), "socket" (unix socket path; also a "host" starting with "/"), "connect-timeout", "read-timeout", "write-timeout" and "disable-time" (seconds), "upgrade", "x-sendfile" and "x-sendfile-docroot". Each key of each block becomes one proxy-core backend whose members are its hosts. Default: none.',
    },
    'proxy.balance': {
      type: 'string',
      default: 'fair',
      enum: Object.keys(BALANCERS),
      doc: 'How requests are spread over the hosts of one key: "fair" (fewest requests in flight; also "least-connection"), "round-robin", "hash" (by URL path: the same path goes to the same host) or "sticky" (by client address). Default: "fair", as lighttpd.',
    },
    'proxy.header': {
      type: 'hash',
      check: checkProxyHeader,
      doc: 'Rewriting between client and backend: "map-urlpath" => ( "/client/prefix/" => "/backend/prefix/" ) for the request target (and back in Location, Content-Location and Set-Cookie Path), "map-host-request" => ( "client.host" => "backend.host" ) for the Host sent (and the Destination/Content-Location request fields), "map-host-response" => ( "backend.host" => "client.host" ) for Location, Content-Location and Set-Cookie Domain ("-" stands for the client\'s Host), "map-urlpath-resp-host-include"/"-exclude" (authorities whose response URLs get map-urlpath), "https-remap" (with a host remap, https:// ↔ http:// for https clients), "force-http10", "upgrade" (WebSocket tunnels) and "connect" (accepted; CONNECT is always answered 405). Default: no rewriting.',
    },
    'proxy.forwarded': {
      type: 'hash',
      check: checkProxyForwarded,
      doc: 'Which RFC 7239 Forwarded parameters to send: ( "for" => 1, "proto" => 1, "host" => 1, "by" => 1 ); "remote_user" is accepted but not sent (a warning says so). X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are always sent. Default: no Forwarded field.',
    },
    'proxy.replace-http-host': {
      type: 'boolean',
      default: false,
      doc: 'Send the label of the chosen host entry as Host instead of the client\'s Host. Default: disabled.',
    },
    'proxy.map-extensions': {
      type: 'hash',
      doc: 'Suffixes handled as another key of proxy.server: ( ".php3" => ".php" ). Default: none.',
    },
    'proxy.debug': {
      type: 'integer',
      default: 0,
      min: 0,
      doc: 'Write to the error log, for each proxied request, the backend that takes it and the rewritten target (1 and more), and the Host sent upstream (2 and more). Default: 0, nothing.',
    },
  },
  create(ctx) {
    const api = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    const model = ctx.server.model;
    const hasServer = [...walkBlocks(model.root)].some(({ block }) => block.entries.some((e) => e.key === 'proxy.server'));
    if (!hasServer) return {};
    if (!api || typeof api.addBackend !== 'function') {
      throw new ConfigError(ctx.optionLoc('proxy.server') ?? { file: model.file, line: 0 }, 'proxy.server: proxy-core is not loaded or exposes no backend API');
    }
    // Values were checked by the option schemas at boot; proxy-core may still refuse a backend
    // (RouteTable turns that into a ConfigError naming the line).
    const table = new RouteTable(model, (spec) => api.addBackend(spec));
    table.createAtBoot();
    for (const w of configWarnings(model, table)) ctx.logError(w);

    ctx.hooks.subrequestStart.tap(ctx.id, (req) => {
      const plan = table.planFor(req.config.values);
      if (plan === null) return undefined;
      const route = matchRoute(plan, req.path);
      // mod_proxy has no authorizers: every route has its backend.
      if (route === null || route.backend === null) return undefined;
      const s = plan.settings;
      const h = s.header;
      let target: string | undefined;
      let remap: RemapState | null = null;
      if (h.urlpaths || h.hostsRequest || h.hostsResponse) {
        remap = new RemapState(h, req.header('host') ?? null, req.scheme === 'https');
        const origin = originForm(req);
        const mapped = remap.remapUrlpath(origin, true);
        if (mapped !== origin) target = mapped;
      }
      if (remap !== null || s.replaceHttpHost || s.debug > 1) {
        const state: ProxiedRequest = { route, remap, replaceHttpHost: s.replaceHttpHost, debug: s.debug };
        req.pluginData.set(ctx.id, state);
      }
      if (s.debug > 0) ctx.logError(`${req.method} ${req.target} → backend "${route.backend.name}" (key "${route.key}")${target ? ` as ${target}` : ''}`);
      api.forward(req, route.backend, target === undefined ? undefined : { target });
      return true;
    });

    // Rewriting taps only when the config asks for rewriting anywhere: no cost otherwise.
    const rewrites = [...walkBlocks(model.root)].some(({ block }) => block.entries.some((e) => e.key === 'proxy.header' || e.key === 'proxy.replace-http-host' || (e.key === 'proxy.debug' && e.value !== 0)));
    if (rewrites) {
      api.hooks.upstreamRequest.tap(ctx.id, (up) => {
        const state = up.req.pluginData.get(ctx.id) as ProxiedRequest | undefined;
        if (!state) return;
        const headers = up.headers;
        for (let i = 0; i < headers.length; i += 2) {
          const name = headers[i].toLowerCase();
          if (name === 'host') {
            const label = state.replaceHttpHost ? replacementHost(state.route) : null;
            if (label !== null) headers[i + 1] = label;
            else if (state.remap && state.remap.opts.hostsRequest) headers[i + 1] = state.remap.remapHost(headers[i + 1], true);
            if (state.debug > 1) ctx.logError(`${up.method} ${up.target}: Host sent upstream: ${headers[i + 1]}`);
          } else if (state.remap && REMAPPED_REQUEST_FIELDS.has(name)) {
            // WebDAV Destination and Content-Location carry URIs of the client's view.
            headers[i + 1] = state.remap.remapUri(headers[i + 1], true);
          }
        }
      });
      api.hooks.upstreamResponse.tap(ctx.id, (head, req) => {
        const state = req.pluginData.get(ctx.id) as ProxiedRequest | undefined;
        if (!state?.remap || (!state.remap.opts.urlpaths && !state.remap.opts.hostsResponse)) return;
        const headers = head.headers;
        for (let i = 0; i < headers.length; i += 2) {
          const name = headers[i].toLowerCase();
          if (REMAPPED_RESPONSE_FIELDS.has(name)) headers[i + 1] = state.remap.remapUri(headers[i + 1], false);
          else if (name === 'set-cookie') headers[i + 1] = state.remap.remapSetCookie(headers[i + 1]);
        }
      });
    }
    return {};
  },
});

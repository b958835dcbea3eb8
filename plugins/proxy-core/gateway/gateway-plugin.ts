// What every CGI-family gateway module (mod_fastcgi, mod_scgi) does with proxy-core, written
// once (lighttpd's gw_backend.c role): the `<prefix>.*` option schemas, the route table built at
// boot, and the subrequestStart tap that sends a request through its authorizer (if the key has
// one), splits script and path info (check-local: 404 when the script is missing), and forwards
// it to the responders. A module is then a dialect: its key names and protocol.
import { ConfigError } from '../../../config/model.js';
import type { OptionSchema } from '../../../core/options.js';
import type { PluginContext, PluginInstance } from '../../../core/plugin.js';
import type { Request } from '../../../core/request.js';
import type { BackendHandle, ProxyCoreApi } from '../api.js';
import { resolveCgiPath, splitCgiPath, type CgiPath, type CgiPathRefusal } from '../cgi-path.js';
import { BALANCERS, GatewayRouteTable, matchRoute, type GatewayDialect, type GatewaySettings, type Route } from './route-table.js';
import { gatewayServerCheck, type GatewayModule } from './server-config.js';

/** The option schema of a gateway module's common keys (`<prefix>.server`, `.balance`, `.debug`, `.map-extensions`). */
export function gatewayOptions(mod: GatewayModule, prefix: string, protocolDoc: string) {
  return {
    [`${prefix}.server`]: {
      type: 'array',
      check: gatewayServerCheck(mod),
      doc: `Where to send requests (lighttpd's ${mod.module}): ( "<prefix or extension>" => ( "<label>" => ( "host" => "127.0.0.1", "port" => 9000 ), ... ) ). A key starting with "/" matches URL paths with that prefix, any other key paths whose script part ends with it ("/index.php/info" matches ".php"), "" every path; the first matching key wins. Per host: "host" and "port", or "socket" (a unix socket path); "bin-path" (lantern starts the backend, listening on that socket or port: "bin-environment", "bin-copy-environment", "max-procs" (default 4), "min-procs", "max-load-per-proc", "idle-timeout", "kill-signal", "listen-backlog"); "check-local" (default enable: the script must exist under the document root, else 404), "docroot", "strip-request-uri", "fix-root-scriptname", "broken-scriptfilename"; "mode" ("responder" or "authorizer"${mod.authorizer ? '' : ': not for this module'}); "connect-timeout", "read-timeout", "write-timeout", "disable-time" (seconds), "x-sendfile", "x-sendfile-docroot"${mod.proto ? '; "proto" ("scgi" or "uwsgi")' : ''}. ${protocolDoc} An unknown per-host option stops the start. Default: none.`,
    },
    [`${prefix}.balance`]: {
      type: 'string',
      default: 'fair',
      enum: Object.keys(BALANCERS),
      doc: 'How requests are spread over the hosts of one key: "fair" (fewest requests in flight; also "least-connection"), "round-robin", "hash" (by URL path) or "sticky" (by client address). Default: "fair", as lighttpd.',
    },
    [`${prefix}.map-extensions`]: {
      type: 'hash',
      doc: `Suffixes handled as another key of ${prefix}.server: ( ".php3" => ".php" ). Default: none.`,
    },
    [`${prefix}.debug`]: {
      type: 'integer',
      default: 0,
      min: 0,
      doc: 'Write to the error log, for each request, the backend that takes it (1 and more) and its script split (2 and more). Default: 0, nothing.',
    },
  } satisfies OptionSchema;
}

/**
 * Wire a gateway module: build its route table at boot (its backends, spawned processes
 * included) and take the requests its keys match.
 */
export function createGateway<S extends GatewaySettings>(ctx: PluginContext, dialect: GatewayDialect<S>): PluginInstance {
  const model = ctx.server.model;
  const api = ctx.server.host.api<ProxyCoreApi>('proxy-core');
  const key = dialect.mod.key;
  if (!api || typeof api.addBackend !== 'function') {
    throw new ConfigError(ctx.optionLoc(key) ?? { file: model.file, line: 0 }, `${key}: proxy-core is not loaded or exposes no backend API`);
  }
  const table = new GatewayRouteTable(model, dialect, (spec) => api.addBackend(spec));
  if (!table.used) return {};
  table.createAtBoot();
  for (const entry of table.entries.values()) for (const w of entry.warnings) ctx.logError(`${entry.loc.file}:${entry.loc.line}: ${key}: ${w}`);
  const authorizedKey = `${ctx.id}:authorized`;
  // check-local's stats go through the server's stat cache (a missing script is asked again).
  const statCache = ctx.server.statCache;

  /** The authorizers this request already passed (kept across the restart that follows a yes). */
  const passed = (req: Request): Set<BackendHandle> | undefined => req.peekPluginData(authorizedKey) as Set<BackendHandle> | undefined;

  /** Forward with the script split: at once without check-local, else after the stats. */
  const forward = (req: Request, route: Route, backend: BackendHandle, authorizer: boolean, debug: number): void => {
    // An authorizer sees the same environment; its script need not exist (it decides access).
    if (authorizer || !route.cgi.checkLocal) {
      send(req, route, backend, authorizer, debug, splitCgiPath(req, route.cgi));
      return;
    }
    resolveCgiPath(req, route.cgi, statCache).then((cgi) => {
      if (!req.finished) send(req, route, backend, authorizer, debug, cgi);
    }, (err: unknown) => {
      if (!req.finished) req.fail(err);
    });
  };

  /** Answer a refused split (check-local), or hand the request to proxy-core. */
  const send = (req: Request, route: Route, backend: BackendHandle, authorizer: boolean, debug: number, cgi: CgiPath | CgiPathRefusal): void => {
    if ('status' in cgi) {
      if (debug > 0) ctx.logError(`${req.method} ${req.path}: no script for key "${route.key}" (check-local) → ${cgi.status}`);
      req.sendError(cgi.status);
      return;
    }
    if (debug > 0) ctx.logError(`${req.method} ${req.target} → ${authorizer ? 'authorizer' : 'backend'} "${backend.name}" (key "${route.key}")`);
    if (debug > 1) ctx.logError(`${req.method} ${req.target}: SCRIPT_NAME "${cgi.scriptName}", PATH_INFO "${cgi.pathInfo}"`);
    api.forward(req, backend, authorizer ? {
      cgi,
      onAuthorized: (r) => {
        const set = passed(r) ?? new Set<BackendHandle>();
        set.add(backend);
        r.pluginData.set(authorizedKey, set);
        r.conn.server.pipeline.restart(r, r.target, { keepPluginData: true });
      },
    } : { cgi });
  };

  ctx.hooks.subrequestStart.tap(ctx.id, (req) => {
    const plan = table.planFor(req.config.values);
    if (plan === null) return undefined;
    const route = matchRoute(plan, req.path, true);
    if (route === null) return undefined;
    const debug = plan.settings.debug;
    if (route.authorizer !== null && passed(req)?.has(route.authorizer) !== true) {
      forward(req, route, route.authorizer, true, debug);
      return true;
    }
    // Authorizers only: once they said yes, the request goes on to the static file.
    if (route.backend === null) return undefined;
    forward(req, route, route.backend, false, debug);
    return true;
  });
  return {};
}

// Which proxy-core backend takes a request under lighttpd 1.4's gateway rules, for every
// `*.server` key (gw_check_extension() in src/gw_backend.c): <module>.map-extensions first, then
// the keys in order, a key starting with "/" as a URL-path prefix, any other key as a suffix of
// the path or of its script part ("/x.php/info" matches ".php"), "" every path. Each (block, key)
// becomes proxy-core backends at boot: one for its responders, one for its authorizers. A plan is
// built once per distinct merged config and cached by its identity.
import path from 'node:path';
import type { ConfigBlock, ConfigModel, ConfigValue, SourceLoc } from '../../../config/model.js';
import { ConfigError, ConfigHash } from '../../../config/model.js';
import type { BackendHandle, BackendOptions, BackendSpec } from '../api.js';
import type { GatewayRoute as CgiRoute } from '../cgi-path.js';
import { optionsFromConfig } from '../config-backends.js';
import { parseGatewayServer, type GatewayExtension, type GatewayHost, type GatewayModule } from './server-config.js';

/** `<module>.balance` → the proxy-core balancer (plugins balancer-rr and balancer-hash). */
export const BALANCERS: Record<string, { balancer: string; hashKey?: string }> = {
  // lighttpd's default: least connections.
  'fair': { balancer: 'fair' },
  'least-connection': { balancer: 'fair' },
  'round-robin': { balancer: 'round-robin' },
  // gw_backend.c hashes the authority and the URL path (not the query): `path` is the closest key.
  'hash': { balancer: 'hash', hashKey: 'path' },
  'sticky': { balancer: 'sticky', hashKey: 'client-ip' },
};

/** One `*.server` assignment of the config, parsed at boot. */
export interface ServerEntry {
  loc: SourceLoc;
  extensions: GatewayExtension[];
  warnings: string[];
}

/** What every gateway module reads from a merged config. */
export interface GatewaySettings {
  balance: string;
  debug: number;
  mapExtensions: Array<[string, string]> | null;
}

export interface Route {
  key: string;
  /** The responders (all hosts when the module has no authorizers). */
  hosts: GatewayHost[];
  /** Their backend; null when the key has authorizers only (the request then goes on to the static file). */
  backend: BackendHandle | null;
  /** The authorizers' backend, if the key has any. */
  authorizer: BackendHandle | null;
  /** The CGI-environment options of the key (from its first responder, else its first host). */
  cgi: CgiRoute;
}

/** What a merged config means for a gateway module: its routes in match order, and the settings. */
export interface Plan<S extends GatewaySettings> {
  routes: Route[];
  settings: S;
}

/** Create a proxy-core backend (api.addBackend). */
export type AddBackend = (spec: BackendSpec) => BackendHandle;

/** How one gateway module turns its keys into proxy-core backends. */
export interface GatewayDialect<S extends GatewaySettings> {
  mod: GatewayModule;
  /** The module's settings in a merged config (its balance, debug, map-extensions and own keys). */
  settingsOf(values: Map<string, ConfigValue>): S;
  /** The proxy-core protocol for these hosts. */
  protocolOf(hosts: GatewayHost[], settings: S): string;
  /** proxy-core options for the module's backends unless a proxy-core.* key in scope says otherwise. */
  defaults?: Partial<BackendOptions>;
  /** proxy-core options for the backend of these hosts (they win over proxy-core.* keys). */
  backendOptions(hosts: GatewayHost[], settings: S): Partial<BackendOptions>;
  /** Protocol options, if any. */
  protocolOptions?(hosts: GatewayHost[], settings: S): Record<string, unknown> | undefined;
}

/** Every block of the tree, parents before children, with its chain of ancestors. */
export function* walkBlocks(block: ConfigBlock, chain: ConfigBlock[] = []): Generator<{ block: ConfigBlock; chain: ConfigBlock[] }> {
  const here = [...chain, block];
  yield { block, chain: here };
  for (const child of block.children) for (let b: ConfigBlock | null = child; b; b = b.else) yield* walkBlocks(b, here);
}

/** The settings every module shares: `<prefix>.balance`, `<prefix>.debug`, `<prefix>.map-extensions`. */
export function commonSettings(prefix: string, values: Map<string, ConfigValue>): GatewaySettings {
  const balance = values.get(`${prefix}.balance`);
  const map = values.get(`${prefix}.map-extensions`);
  const debug = values.get(`${prefix}.debug`);
  return {
    balance: typeof balance === 'string' ? balance : 'fair',
    debug: typeof debug === 'number' ? debug : 0,
    mapExtensions: map instanceof ConfigHash ? map.entries.filter((e): e is [string, string] => typeof e[1] === 'string') : null,
  };
}

/** The proxy-core options every module's per-host keys give a backend (the first host's stand for all). */
export function hostOptions(hosts: GatewayHost[]): Partial<BackendOptions> {
  const h = hosts[0]!;
  const o: Partial<BackendOptions> = {};
  if (h.connectTimeoutSecs !== undefined) o.connectTimeoutMs = h.connectTimeoutSecs * 1000;
  if (h.readTimeoutSecs !== undefined) o.readTimeoutMs = h.readTimeoutSecs * 1000;
  if (h.writeTimeoutSecs !== undefined) o.writeTimeoutMs = h.writeTimeoutSecs * 1000;
  if (h.disableTimeSecs !== undefined) o.disableTimeMs = h.disableTimeSecs * 1000;
  if (h.xSendfile) o.allowXSendfile = true;
  if (h.xSendfileDocroots) o.xSendfileDocroots = h.xSendfileDocroots;
  if (h.tls) o.tls = h.tls;
  return o;
}

/**
 * What the CGI-family modules (mod_fastcgi, mod_scgi) change in proxy-core's defaults: a queue as
 * deep as lighttpd's is in practice (their pools are a few workers; more clients than that wait
 * in lantern's queue, not in 503s), proxy-core.max-backlog-size and queue-timeout still apply.
 */
export const CGI_FAMILY_DEFAULTS: Readonly<Partial<BackendOptions>> = Object.freeze({ maxBacklog: 1024 });

/** Warnings for hosts of one extension whose per-host options differ from the first's. */
export function perHostOptionWarnings(ext: GatewayExtension): string[] {
  const [first, ...rest] = ext.hosts;
  const keys = ['connectTimeoutSecs', 'readTimeoutSecs', 'writeTimeoutSecs', 'disableTimeSecs', 'xSendfile', 'checkLocal', 'docroot', 'stripRequestUri', 'fixRootScriptname', 'proto'] as const;
  const differing: string[] = keys.filter((k) => rest.some((h) => h.mode === first!.mode && h[k] !== first![k]));
  // TLS settings are per backend too (ssl-upstream): compared by value.
  if (rest.some((h) => h.mode === first!.mode && JSON.stringify(h.tls ?? null) !== JSON.stringify(first!.tls ?? null))) differing.push('tls');
  return differing.length === 0 ? [] : [`"${ext.key}": hosts differ in ${differing.join(', ')}; lantern applies the first host's values to all of them`];
}

/** The CGI-environment options of a key, lighttpd's defaults where a host says nothing. */
function cgiRoute(key: string, h: GatewayHost, map: Array<[string, string]> | null): CgiRoute {
  const mapped = map === null || key === '' || key.charCodeAt(0) === 47 ? [] : map.filter(([, target]) => target === key).map(([suffix]) => suffix);
  return {
    key,
    checkLocal: h.checkLocal ?? true,
    fixRootScriptname: h.fixRootScriptname ?? false,
    stripRequestUri: h.stripRequestUri ?? '',
    docroot: h.docroot ?? '',
    brokenScriptFilename: h.brokenScriptFilename ?? false,
    ...(mapped.length > 0 ? { mappedSuffixes: mapped } : {}),
  };
}

/** Extension → backends for every `*.server` of the config, creating backends as needed. */
export class GatewayRouteTable<S extends GatewaySettings> {
  /** `*.server` values (by identity) → their parsed entry. */
  readonly entries = new Map<ConfigValue, ServerEntry>();
  private readonly backends = new Map<string, BackendHandle>();
  private readonly names = new Set<string>();
  private readonly plans = new WeakMap<Map<string, ConfigValue>, Plan<S> | null>();

  constructor(private readonly model: ConfigModel, private readonly dialect: GatewayDialect<S>, private readonly addBackend: AddBackend) {
    const key = dialect.mod.key;
    for (const { block } of walkBlocks(model.root)) {
      for (const e of block.entries) {
        if (e.key !== key || this.entries.has(e.value)) continue;
        const parsed = parseGatewayServer(dialect.mod, e.value);
        const warnings = [...parsed.warnings];
        for (const ext of parsed.extensions) warnings.push(...perHostOptionWarnings(ext));
        this.entries.set(e.value, { loc: e.loc, extensions: parsed.extensions, warnings });
      }
    }
  }

  /** Some block sets the key: the module has work to do. */
  get used(): boolean { return this.entries.size > 0; }

  /**
   * Create the backends a request would get in each block that sets the key, with the settings
   * of that block and its parents (what a request matching just that chain sees).
   */
  createAtBoot(): void {
    const key = this.dialect.mod.key;
    for (const { block, chain } of walkBlocks(this.model.root)) {
      if (!block.entries.some((e) => e.key === key)) continue;
      const values = new Map<string, ConfigValue>();
      for (const b of chain) for (const e of b.entries) values.set(e.key, e.value);
      this.planFor(values);
    }
  }

  /** The plan for a merged config (cached by the identity of its values map); null: the key is not set. */
  planFor(values: Map<string, ConfigValue>): Plan<S> | null {
    let plan = this.plans.get(values);
    if (plan !== undefined) return plan;
    const server = values.get(this.dialect.mod.key);
    const entry = server === undefined ? undefined : this.entries.get(server);
    if (!entry) {
      plan = null;
    } else {
      const settings = this.dialect.settingsOf(values);
      // proxy-core.* keys set in the scope are the defaults of the module's backends there.
      const scoped = { ...this.dialect.defaults, ...optionsFromConfig((k) => values.get(k), true) };
      const routes = entry.extensions.map((ext): Route => {
        const responders = ext.hosts.filter((h) => h.mode !== 'authorizer');
        const authorizers = ext.hosts.filter((h) => h.mode === 'authorizer');
        return {
          key: ext.key,
          hosts: responders,
          backend: responders.length > 0 ? this.backendFor(entry, ext, responders, settings, scoped, '') : null,
          authorizer: authorizers.length > 0 ? this.backendFor(entry, ext, authorizers, settings, scoped, '#auth') : null,
          cgi: cgiRoute(ext.key, responders[0] ?? authorizers[0]!, settings.mapExtensions),
        };
      });
      plan = { routes, settings };
    }
    this.plans.set(values, plan);
    return plan;
  }

  /** One backend per (entry, extension, role, settings that shape the backend). */
  private backendFor(entry: ServerEntry, ext: GatewayExtension, hosts: GatewayHost[], s: S, scoped: Partial<BackendOptions>, role: string): BackendHandle {
    const d = this.dialect;
    const b = BALANCERS[s.balance] ?? BALANCERS.fair!;
    const options = { ...scoped, ...d.backendOptions(hosts, s) };
    if (role === '#auth') options.authorizer = true;
    const protocol = d.protocolOf(hosts, s);
    const protocolOptions = d.protocolOptions?.(hosts, s);
    const spawn = hosts.filter((h) => h.spawn !== undefined).map((h) => ({ member: h.member, ...h.spawn! }));
    const id = `${entry.loc.file}:${entry.loc.line}:${ext.key}${role}|${JSON.stringify([b, protocol, options, protocolOptions])}`;
    let backend = this.backends.get(id);
    if (backend) return backend;
    const file = this.model.file.startsWith('<') ? entry.loc.file : path.relative(path.dirname(this.model.file), entry.loc.file) || path.basename(entry.loc.file);
    const prefix = d.mod.key.slice(0, d.mod.key.indexOf('.'));
    const base = `${prefix}:${file}:${entry.loc.line}:${ext.key}${role}`;
    let name = base;
    for (let n = 2; this.names.has(name); n++) name = `${base}#${n}`;
    this.names.add(name);
    try {
      backend = this.addBackend({
        name,
        protocol,
        balancer: b.balancer,
        ...(b.hashKey ? { hashKey: b.hashKey } : {}),
        // Spawned hosts get their members from the spawner (one per process it starts).
        members: hosts.filter((h) => h.spawn === undefined).map((h) => h.member),
        options,
        loc: entry.loc,
        ...(protocolOptions ? { protocolOptions } : {}),
        ...(spawn.length > 0 ? { spawn } : {}),
      });
    } catch (err) {
      // proxy-core refused the backend (an address it cannot use): name the line that set it.
      throw new ConfigError(entry.loc, `${d.mod.key}: "${ext.key}": ${err instanceof ConfigError ? err.detail : (err as Error).message}`);
    }
    this.backends.set(id, backend);
    return backend;
  }
}

/**
 * Whether a route key takes this decoded path, lighttpd's way: a "/prefix" key matches paths
 * that start with it, "" every path, an extension key a path that ends with it or whose script
 * part does ("/index.php/x/y" for ".php": the path-info split then finds the script).
 */
export function keyMatches(key: string, urlPath: string): boolean {
  if (key === '') return true;
  if (key.charCodeAt(0) === 47 /* / */) return urlPath.startsWith(key);
  if (urlPath.endsWith(key)) return true;
  const i = urlPath.indexOf(key + '/');
  return i > 0 && urlPath.charCodeAt(i - 1) !== 47;
}

/**
 * The route for a decoded URL path (first match in config order; map-extensions first).
 * `pathInfo`: extension keys also match the script part of the path (CGI-family modules; mod_proxy
 * matches the whole path only).
 */
export function matchRoute<S extends GatewaySettings>(plan: Plan<S>, urlPath: string, pathInfo = false): Route | null {
  const map = plan.settings.mapExtensions;
  if (map) {
    // <module>.map-extensions = ( ".php3" => ".php" ): a suffix mapped onto an existing key.
    for (const [suffix, target] of map) {
      // As a key's own suffix: at the end of the path, or of its script part (`/x.php3/info`).
      if (!(pathInfo ? keyMatches(suffix, urlPath) : urlPath.endsWith(suffix))) continue;
      const r = plan.routes.find((x) => x.key === target);
      if (r) return r;
      break;
    }
  }
  for (const r of plan.routes) {
    const k = r.key;
    if (pathInfo ? keyMatches(k, urlPath) : k.charCodeAt(0) === 47 /* / */ ? urlPath.startsWith(k) : urlPath.endsWith(k)) return r;
  }
  return null;
}

// Which proxy-core backend takes a request under lighttpd 1.4's mod_proxy rules
// (gw_check_extension() in src/gw_backend.c): proxy.map-extensions first, then the keys of
// proxy.server in order, a key starting with "/" as a URL-path prefix, any other key as a
// suffix of the path ("" matches every path). A plan is built once per distinct merged config.
import path from 'node:path';
import type { ConfigBlock, ConfigModel, ConfigValue, SourceLoc } from '../../config/model.js';
import { ConfigError, ConfigHash } from '../../config/model.js';
import { NO_FORWARDED, NO_HEADER_OPTIONS, parseProxyForwarded, parseProxyHeader, type ForwardedParams, type ProxyHeaderOptions } from './header-options.js';
import type { BackendHandle, BackendOptions, BackendSpec } from '../proxy-core/index.js';
import { parseProxyServer, type ProxyExtension, type ProxyHost } from './server-config.js';

/** proxy.balance → the proxy-core balancer (plugins balancer-rr and balancer-hash). */
export const BALANCERS: Record<string, { balancer: string; hashKey?: string }> = {
  // lighttpd's default: least connections.
  'fair': { balancer: 'fair' },
  'least-connection': { balancer: 'fair' },
  'round-robin': { balancer: 'round-robin' },
  // gw_backend.c hashes the authority and the URL path (not the query): `path` is the closest key.
  'hash': { balancer: 'hash', hashKey: 'path' },
  'sticky': { balancer: 'sticky', hashKey: 'client-ip' },
};

/** One proxy.server assignment of the config, parsed at boot. */
export interface ServerEntry {
  loc: SourceLoc;
  extensions: ProxyExtension[];
  warnings: string[];
}

/** The mod_proxy settings a request's merged config selects. */
export interface ProxySettings {
  balance: string;
  header: ProxyHeaderOptions;
  forwarded: ForwardedParams;
  replaceHttpHost: boolean;
  debug: number;
  mapExtensions: Array<[string, string]> | null;
}

export interface Route {
  key: string;
  backend: BackendHandle;
  hosts: ProxyHost[];
}

/** What a merged config means for mod_proxy: its routes in match order, and the settings. */
export interface Plan {
  routes: Route[];
  settings: ProxySettings;
}

/** Create a proxy-core backend (api.addBackend). */
export type AddBackend = (spec: BackendSpec) => BackendHandle;

/** Every block of the tree, parents before children, with its chain of ancestors. */
export function* walkBlocks(block: ConfigBlock, chain: ConfigBlock[] = []): Generator<{ block: ConfigBlock; chain: ConfigBlock[] }> {
  const here = [...chain, block];
  yield { block, chain: here };
  for (const child of block.children) for (let b: ConfigBlock | null = child; b; b = b.else) yield* walkBlocks(b, here);
}

/** The proxy-core options proxy.server's per-host keys and proxy.header give a backend. */
export function backendOptions(hosts: ProxyHost[], s: ProxySettings): Partial<BackendOptions> {
  // proxy-core options are per backend: the first host's values stand for the extension's hosts.
  const h = hosts[0];
  const o: Partial<BackendOptions> = {
    // mod_proxy always sends X-Forwarded-For/-Proto/-Host and the client's Host (C3, C4).
    forwardedFor: true,
    preserveHost: true,
    upgrade: s.header.upgrade || hosts.some((x) => x.upgrade === true),
  };
  const params = (['for', 'proto', 'host', 'by'] as const).filter((p) => s.forwarded[p]);
  if (params.length > 0) {
    o.forwarded = true;
    o.forwardedParams = params;
  }
  if (h.connectTimeoutSecs !== undefined) o.connectTimeoutMs = h.connectTimeoutSecs * 1000;
  if (h.readTimeoutSecs !== undefined) o.readTimeoutMs = h.readTimeoutSecs * 1000;
  if (h.writeTimeoutSecs !== undefined) o.writeTimeoutMs = h.writeTimeoutSecs * 1000;
  if (h.disableTimeSecs !== undefined) o.disableTimeMs = h.disableTimeSecs * 1000;
  if (h.xSendfile) o.allowXSendfile = true;
  if (h.xSendfileDocroots) o.xSendfileDocroots = h.xSendfileDocroots;
  return o;
}

/** Warnings for hosts of one extension whose per-host options differ from the first's. */
export function perHostOptionWarnings(ext: ProxyExtension): string[] {
  const [first, ...rest] = ext.hosts;
  const keys = ['connectTimeoutSecs', 'readTimeoutSecs', 'writeTimeoutSecs', 'disableTimeSecs', 'xSendfile'] as const;
  const differing = keys.filter((k) => rest.some((h) => h[k] !== first[k]));
  return differing.length === 0 ? [] : [`"${ext.key}": hosts differ in ${differing.join(', ')}; lantern applies the first host's values to all of them`];
}

/** Extension → backend for every proxy.server of the config, creating backends as needed. */
export class RouteTable {
  /** proxy.server values (by identity) → their parsed entry. */
  readonly entries = new Map<ConfigValue, ServerEntry>();
  private readonly backends = new Map<string, BackendHandle>();
  private readonly names = new Set<string>();
  private readonly plans = new WeakMap<Map<string, ConfigValue>, Plan | null>();
  private readonly headerCache = new WeakMap<object, ProxyHeaderOptions>();
  private readonly forwardedCache = new WeakMap<object, ForwardedParams>();

  constructor(private readonly model: ConfigModel, private readonly addBackend: AddBackend) {
    for (const { block } of walkBlocks(model.root)) {
      for (const e of block.entries) {
        if (e.key !== 'proxy.server' || this.entries.has(e.value)) continue;
        const parsed = parseProxyServer(e.value);
        const warnings = [...parsed.warnings];
        for (const ext of parsed.extensions) warnings.push(...perHostOptionWarnings(ext));
        this.entries.set(e.value, { loc: e.loc, extensions: parsed.extensions, warnings });
      }
    }
  }

  /**
   * Create the backends a request would get in each block that sets proxy.server, with the
   * settings of that block and its parents (what a request matching just that chain sees).
   */
  createAtBoot(): void {
    for (const { block, chain } of walkBlocks(this.model.root)) {
      const server = block.entries.filter((e) => e.key === 'proxy.server').at(-1);
      if (!server) continue;
      const values = new Map<string, ConfigValue>();
      for (const b of chain) for (const e of b.entries) values.set(e.key, e.value);
      this.planFor(values);
    }
  }

  /** The plan for a merged config (cached by the identity of its values map); null: no proxy.server. */
  planFor(values: Map<string, ConfigValue>): Plan | null {
    let plan = this.plans.get(values);
    if (plan !== undefined) return plan;
    const server = values.get('proxy.server');
    const entry = server === undefined ? undefined : this.entries.get(server);
    if (!entry) {
      plan = null;
    } else {
      const settings = this.settingsOf(values);
      const routes = entry.extensions.map((ext) => ({ key: ext.key, hosts: ext.hosts, backend: this.backendFor(entry, ext, settings) }));
      plan = { routes, settings };
    }
    this.plans.set(values, plan);
    return plan;
  }

  private settingsOf(values: Map<string, ConfigValue>): ProxySettings {
    const header = values.get('proxy.header');
    const forwarded = values.get('proxy.forwarded');
    const map = values.get('proxy.map-extensions');
    const debug = values.get('proxy.debug');
    return {
      balance: typeof values.get('proxy.balance') === 'string' ? values.get('proxy.balance') as string : 'fair',
      header: header instanceof ConfigHash ? this.cached(this.headerCache, header, parseProxyHeader) : NO_HEADER_OPTIONS,
      forwarded: forwarded instanceof ConfigHash ? this.cached(this.forwardedCache, forwarded, parseProxyForwarded) : NO_FORWARDED,
      replaceHttpHost: values.get('proxy.replace-http-host') === true,
      debug: typeof debug === 'number' ? debug : 0,
      mapExtensions: map instanceof ConfigHash ? map.entries.filter((e): e is [string, string] => typeof e[1] === 'string') : null,
    };
  }

  private cached<T>(cache: WeakMap<object, T>, key: ConfigHash, parse: (v: ConfigValue) => T): T {
    let v = cache.get(key);
    if (v === undefined) { v = parse(key); cache.set(key, v); }
    return v;
  }

  /** One backend per (proxy.server entry, extension, settings that shape the backend). */
  private backendFor(entry: ServerEntry, ext: ProxyExtension, s: ProxySettings): BackendHandle {
    const b = BALANCERS[s.balance] ?? BALANCERS.fair;
    const options = backendOptions(ext.hosts, s);
    const protocolOptions = s.header.forceHttp10 ? { httpVersion: '1.0' } : undefined;
    const id = `${entry.loc.file}:${entry.loc.line}:${ext.key}|${JSON.stringify([b, options, protocolOptions])}`;
    let backend = this.backends.get(id);
    if (backend) return backend;
    const file = this.model.file.startsWith('<') ? entry.loc.file : path.relative(path.dirname(this.model.file), entry.loc.file) || path.basename(entry.loc.file);
    const base = `proxy:${file}:${entry.loc.line}:${ext.key}`;
    let name = base;
    for (let n = 2; this.names.has(name); n++) name = `${base}#${n}`;
    this.names.add(name);
    try {
      backend = this.addBackend({
        name,
        protocol: 'http',
        balancer: b.balancer,
        ...(b.hashKey ? { hashKey: b.hashKey } : {}),
        members: ext.hosts.map((h) => h.member),
        options,
        loc: entry.loc,
        ...(protocolOptions ? { protocolOptions } : {}),
      });
    } catch (err) {
      // proxy-core refused the backend (an address it cannot use): name the line that set it.
      throw new ConfigError(entry.loc, `proxy.server: "${ext.key}": ${(err as Error).message}`);
    }
    this.backends.set(id, backend);
    return backend;
  }
}

/** The route for a decoded URL path, lighttpd's way (first match in config order). */
export function matchRoute(plan: Plan, urlPath: string): Route | null {
  const map = plan.settings.mapExtensions;
  if (map) {
    // proxy.map-extensions = ( ".php3" => ".php" ): a suffix mapped onto an existing key.
    for (const [suffix, target] of map) {
      if (!urlPath.endsWith(suffix)) continue;
      const r = plan.routes.find((x) => x.key === target);
      if (r) return r;
      break;
    }
  }
  for (const r of plan.routes) {
    const k = r.key;
    if (k.charCodeAt(0) === 47 /* / */ ? urlPath.startsWith(k) : urlPath.endsWith(k)) return r;
  }
  return null;
}

/**
 * Startup warnings, `file:line: key: message`: per-host keys lantern ignores, per-host options
 * that differ within a key, and switches that have no effect (replace-http-host with several
 * labels, Forwarded remote_user, CONNECT).
 */
export function configWarnings(model: ConfigModel, table: RouteTable): string[] {
  const out: string[] = [];
  const entries = [...walkBlocks(model.root)].flatMap(({ block }) => block.entries);
  const replacesHost = entries.some((e) => e.key === 'proxy.replace-http-host' && e.value === true);
  for (const entry of table.entries.values()) {
    const at = `${entry.loc.file}:${entry.loc.line}: proxy.server`;
    for (const w of entry.warnings) out.push(`${at}: ${w}`);
    for (const ext of entry.extensions) {
      if (replacesHost && new Set(ext.hosts.map((h) => h.label)).size > 1) {
        out.push(`${at}: "${ext.key}": proxy.replace-http-host needs one label for all hosts of a key; the client's Host is sent instead`);
      }
    }
  }
  for (const e of entries) {
    if (e.key === 'proxy.header' && parseProxyHeader(e.value).connect) {
      out.push(`${e.loc.file}:${e.loc.line}: proxy.header: "connect" is not supported; CONNECT requests are answered 405`);
    }
    if (e.key === 'proxy.forwarded' && parseProxyForwarded(e.value).remoteUser) {
      out.push(`${e.loc.file}:${e.loc.line}: proxy.forwarded: "remote_user" is not supported; left out of Forwarded`);
    }
  }
  return out;
}

// mod_proxy's view of the shared gateway route table (plugins/proxy-core/gateway/route-table.ts):
// lighttpd 1.4's proxy.* settings (balance, header rewriting, Forwarded, replace-http-host,
// map-extensions, debug) and how they shape the "http" backends of each proxy.server key.
import type { ConfigModel, ConfigValue } from '../../config/model.js';
import { ConfigHash } from '../../config/model.js';
import { NO_FORWARDED, NO_HEADER_OPTIONS, parseProxyForwarded, parseProxyHeader, type ForwardedParams, type ProxyHeaderOptions } from './header-options.js';
import type { BackendOptions } from '../proxy-core/index.js';
import {
  commonSettings, GatewayRouteTable, hostOptions, walkBlocks, type AddBackend, type GatewayDialect, type GatewaySettings,
  type Plan as GatewayPlan,
} from '../proxy-core/gateway/route-table.js';
import { MOD_PROXY, type ProxyHost } from './server-config.js';

export { BALANCERS, matchRoute, perHostOptionWarnings, walkBlocks, type AddBackend, type Route, type ServerEntry } from '../proxy-core/gateway/route-table.js';

/** The mod_proxy settings a request's merged config selects. */
export interface ProxySettings extends GatewaySettings {
  header: ProxyHeaderOptions;
  forwarded: ForwardedParams;
  replaceHttpHost: boolean;
}

export type Plan = GatewayPlan<ProxySettings>;

/** The proxy-core options proxy.server's per-host keys and proxy.header give a backend. */
export function backendOptions(hosts: ProxyHost[], s: ProxySettings): Partial<BackendOptions> {
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
  return { ...o, ...hostOptions(hosts) };
}

function cachedParse<T>(parse: (v: ConfigValue) => T): (v: ConfigHash) => T {
  const cache = new WeakMap<object, T>();
  return (v) => {
    let x = cache.get(v);
    if (x === undefined) { x = parse(v); cache.set(v, x); }
    return x;
  };
}

function proxyDialect(): GatewayDialect<ProxySettings> {
  const header = cachedParse(parseProxyHeader);
  const forwarded = cachedParse(parseProxyForwarded);
  return {
    mod: MOD_PROXY,
    settingsOf(values) {
      const h = values.get('proxy.header');
      const f = values.get('proxy.forwarded');
      return {
        ...commonSettings('proxy', values),
        header: h instanceof ConfigHash ? header(h) : NO_HEADER_OPTIONS,
        forwarded: f instanceof ConfigHash ? forwarded(f) : NO_FORWARDED,
        replaceHttpHost: values.get('proxy.replace-http-host') === true,
      };
    },
    protocolOf: () => 'http',
    backendOptions,
    protocolOptions: (_hosts, s) => (s.header.forceHttp10 ? { httpVersion: '1.0' } : undefined),
  };
}

/** Extension → backend for every proxy.server of the config, creating backends as needed. */
export class RouteTable extends GatewayRouteTable<ProxySettings> {
  constructor(model: ConfigModel, addBackend: AddBackend) {
    super(model, proxyDialect(), addBackend);
  }
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

// lighttpd 1.4 `proxy.header` and `proxy.forwarded` (src/mod_proxy.c:
// mod_proxy_parse_header_opts(), mod_proxy_parse_forwarded()), parsed once per config value.
import { ConfigHash, type ConfigValue } from '../../config/model.js';

/** `proxy.header`: URL and host rewriting between the client and the backend, and protocol switches. */
export interface ProxyHeaderOptions {
  /** `map-urlpath`: path prefix (client side) → path prefix (backend side), first match wins. */
  urlpaths: Array<[string, string]> | null;
  /** `map-host-request`: client Host → backend Host (`-` as key: the client's Host; as value: keep it). */
  hostsRequest: Array<[string, string]> | null;
  /** `map-host-response`: backend authority in Location/Content-Location/Set-Cookie → client authority. */
  hostsResponse: Array<[string, string]> | null;
  /** `map-urlpath-resp-host-include`: only remap response URL paths whose authority is listed. */
  respHostInclude: string[] | null;
  /** `map-urlpath-resp-host-exclude`: never remap response URL paths whose authority is listed. */
  respHostExclude: string[] | null;
  /** `https-remap`: for https clients, https:// ↔ http:// along with a host remap. */
  httpsRemap: boolean;
  /** `force-http10`: speak HTTP/1.0 to the backend. */
  forceHttp10: boolean;
  /** `upgrade`: let `Upgrade: websocket` through as a tunnel. */
  upgrade: boolean;
  /** `connect`: CONNECT tunnels (not supported: the core answers CONNECT with 405). */
  connect: boolean;
}

/** `proxy.forwarded`: which RFC 7239 `Forwarded` parameters to send (none by default). */
export interface ForwardedParams {
  for: boolean;
  proto: boolean;
  host: boolean;
  by: boolean;
  remoteUser: boolean;
}

export const NO_HEADER_OPTIONS: ProxyHeaderOptions = Object.freeze({
  urlpaths: null, hostsRequest: null, hostsResponse: null, respHostInclude: null, respHostExclude: null,
  httpsRemap: false, forceHttp10: false, upgrade: false, connect: false,
});

export const NO_FORWARDED: ForwardedParams = Object.freeze({ for: false, proto: false, host: false, by: false, remoteUser: false });

/** lighttpd's config_plugin_value_to_bool(): enable/disable, 1/0, true/false; throws naming `what`. */
export function toBool(v: ConfigValue, what: string): boolean {
  if (v === true || v === 1 || v === 'enable' || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === 'disable' || v === '0' || v === 'false') return false;
  throw new Error(`${what}: expected "enable" or "disable" (or 1 / 0), got ${JSON.stringify(v)}`);
}

function kvStrings(v: ConfigValue, key: string): Array<[string, string]> {
  if (!(v instanceof ConfigHash) || !v.entries.every(([, x]) => typeof x === 'string')) {
    throw new Error(`"${key}": expected ( "${key}" => ( "key" => "value" ) )`);
  }
  return v.entries as Array<[string, string]>;
}

function stringList(v: ConfigValue, key: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`"${key}": expected ( "${key}" => ( "list" ) )`);
  return list as string[];
}

/** Parse proxy.header; throws an Error naming the bad key (an unknown key is an error, as in lighttpd). */
export function parseProxyHeader(value: ConfigValue): ProxyHeaderOptions {
  if (!(value instanceof ConfigHash)) throw new Error('expected ( "map-urlpath" => ( ... ), "upgrade" => "enable", ... )');
  const o: ProxyHeaderOptions = { ...NO_HEADER_OPTIONS };
  for (const [key, v] of value.entries) {
    switch (key) {
      case 'https-remap': o.httpsRemap = toBool(v, `"${key}"`); break;
      case 'force-http10': o.forceHttp10 = toBool(v, `"${key}"`); break;
      case 'upgrade': o.upgrade = toBool(v, `"${key}"`); break;
      case 'connect': o.connect = toBool(v, `"${key}"`); break;
      case 'map-urlpath': o.urlpaths = kvStrings(v, key); break;
      case 'map-host-request': o.hostsRequest = kvStrings(v, key); break;
      case 'map-host-response': o.hostsResponse = kvStrings(v, key); break;
      case 'map-urlpath-resp-host-include': o.respHostInclude = stringList(v, key); break;
      case 'map-urlpath-resp-host-exclude': o.respHostExclude = stringList(v, key); break;
      default:
        throw new Error(`unexpected key "${key}" (expected map-urlpath, map-host-request, map-host-response, map-urlpath-resp-host-include, map-urlpath-resp-host-exclude, https-remap, force-http10, upgrade or connect)`);
    }
  }
  return o;
}

/** Parse proxy.forwarded: keys by, for, host, proto, remote_user with enable/disable values. */
export function parseProxyForwarded(value: ConfigValue): ForwardedParams {
  if (!(value instanceof ConfigHash)) throw new Error('expected ( "for" => 1, "proto" => 1, ... )');
  const f: ForwardedParams = { ...NO_FORWARDED };
  for (const [key, v] of value.entries) {
    const on = toBool(v, `"${key}"`);
    switch (key) {
      case 'for': f.for = on; break;
      case 'proto': f.proto = on; break;
      case 'host': f.host = on; break;
      case 'by': f.by = on; break;
      case 'remote_user': f.remoteUser = on; break;
      default: throw new Error(`keys must be one of: by, for, host, proto, remote_user, but not: "${key}"`);
    }
  }
  return f;
}

/** The option schema's check() for proxy.header. */
export function checkProxyHeader(value: unknown): string | undefined {
  try { parseProxyHeader(value as ConfigValue); return undefined; } catch (err) { return (err as Error).message; }
}

/** The option schema's check() for proxy.forwarded. */
export function checkProxyForwarded(value: unknown): string | undefined {
  try { parseProxyForwarded(value as ConfigValue); return undefined; } catch (err) { return (err as Error).message; }
}

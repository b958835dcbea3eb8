// lighttpd 1.4 `proxy.server` (src/mod_proxy.c): the gateway-config parser shared by every
// `*.server` key (plugins/proxy-core/gateway/server-config.ts), with mod_proxy's rules: no
// spawning, no authorizers, no CGI environment.
import type { ConfigValue } from '../../config/model.js';
import {
  gatewayServerCheck, GatewayServerError, parseGatewayServer, type GatewayExtension, type GatewayHost, type GatewayModule,
} from '../proxy-core/gateway/server-config.js';

export { memberAddress } from '../proxy-core/gateway/server-config.js';

/** One backend host of one extension, as proxy.server describes it. */
export type ProxyHost = GatewayHost;
/** One key of proxy.server: a URL prefix (starts with "/"), a suffix, or "" (everything). */
export type ProxyExtension = GatewayExtension;
/** A value proxy.server cannot take; the plugin host adds file, line and key. */
export const ProxyServerError = GatewayServerError;

export const MOD_PROXY: GatewayModule = { module: 'mod_proxy', key: 'proxy.server', spawns: false, authorizer: false, cgiEnv: false, proto: false };

/** Parse a proxy.server value (see parseGatewayServer). */
export function parseProxyServer(value: ConfigValue): { extensions: ProxyExtension[]; warnings: string[] } {
  return parseGatewayServer(MOD_PROXY, value);
}

/** A message for the option schema's check(), or undefined when the value is good. */
export const checkProxyServer = gatewayServerCheck(MOD_PROXY);

// lighttpd 1.4 `proxy.server` (src/mod_proxy.c + gw_set_defaults_backend() in src/gw_backend.c):
//   proxy.server = ( "<prefix or extension>" => ( "<label>" => ( "host" => ..., "port" => ... ), ... ) )
// and its unlabeled form `( "<ext>" => ( ( "host" => ... ), ( ... ) ) )`. Checked at boot: a
// message for the first bad value, warnings for keys lantern reads but does not use.
import { ConfigHash, type ConfigValue } from '../../config/model.js';
import { toBool } from './header-options.js';

/** One backend host of one extension, as proxy.server describes it. */
export interface ProxyHost {
  /** The host's label (`"example.org" => ( ... )`), '' in the unlabeled list form. */
  label: string;
  /** proxy-core member address: `127.0.0.1:80`, `[::1]:80`, `backend.example:8080`, `unix:/run/app.sock`. */
  member: string;
  connectTimeoutSecs?: number;
  readTimeoutSecs?: number;
  writeTimeoutSecs?: number;
  disableTimeSecs?: number;
  upgrade?: boolean;
  xSendfile?: boolean;
  xSendfileDocroots?: string[];
}

/** One key of proxy.server: a URL prefix (starts with "/"), a suffix, or "" (everything). */
export interface ProxyExtension {
  key: string;
  hosts: ProxyHost[];
}

/** A value proxy.server cannot take; the plugin host adds file, line and key. */
export class ProxyServerError extends Error {}

/** Per-host keys of gw_backend.c that only matter to spawned or FastCGI backends. */
const IGNORED_HOST_KEYS = new Set([
  'bin-environment', 'bin-copy-environment', 'min-procs', 'max-procs', 'max-load-per-proc', 'idle-timeout',
  'kill-signal', 'listen-backlog', 'check-local', 'docroot', 'broken-scriptfilename', 'strip-request-uri',
  'fix-root-scriptname', 'tcp-fin-propagate',
]);

const isScalar = (v: ConfigValue | undefined) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function where(ext: string, index: number, label: string): string {
  return `"${ext}" => ${label !== '' ? `"${label}"` : `host #${index + 1}`}`;
}

function intValue(v: ConfigValue, what: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ProxyServerError(`${what}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function boolValue(v: ConfigValue, what: string): boolean {
  try {
    return toBool(v, what);
  } catch (err) {
    throw new ProxyServerError((err as Error).message);
  }
}

function stringValue(v: ConfigValue, what: string): string {
  if (typeof v !== 'string') throw new ProxyServerError(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The member address for a host/port pair: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function memberAddress(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

function parseHost(h: ConfigHash, ctx: string, label: string, warnings: string[]): ProxyHost {
  let host = '';
  let port: number | undefined;
  let socket = '';
  const out: ProxyHost = { label, member: '' };
  for (const [key, v] of h.entries) {
    const what = `${ctx}: "${key}"`;
    switch (key) {
      case 'host': host = stringValue(v, what); break;
      case 'port': port = intValue(v, what, 1, 65535); break;
      case 'socket': socket = stringValue(v, what); break;
      case 'connect-timeout': out.connectTimeoutSecs = intValue(v, what, 0, 86400); break;
      case 'read-timeout': out.readTimeoutSecs = intValue(v, what, 0, 86400); break;
      case 'write-timeout': out.writeTimeoutSecs = intValue(v, what, 0, 86400); break;
      case 'disable-time': out.disableTimeSecs = intValue(v, what, 0, 86400); break;
      case 'upgrade': out.upgrade = boolValue(v, what); break;
      case 'allow-x-send-file': case 'x-sendfile': out.xSendfile = boolValue(v, what); break;
      case 'x-sendfile-docroot': {
        const list = Array.isArray(v) ? v : [v];
        out.xSendfileDocroots = list.map((d) => {
          const s = stringValue(d, what);
          // gw_backend.c: "x-sendfile-docroot paths must begin with '/'".
          if (!s.startsWith('/')) throw new ProxyServerError(`${what}: paths must begin with "/", got "${s}"`);
          return s.endsWith('/') ? s : `${s}/`;
        });
        break;
      }
      case 'mode':
        // mod_proxy.c: a proxy can not act as authorizer; gw_backend.c warns on other unknown modes.
        if (v === 'authorizer') throw new ProxyServerError(`${what}: mod_proxy must not define hosts with "mode" = "authorizer"`);
        if (v !== 'responder' && v !== '') warnings.push(`${what}: unknown mode ${JSON.stringify(v)}; taken as "responder"`);
        break;
      case 'bin-path':
        throw new ProxyServerError(`${what}: starting backends from proxy.server is not supported (run the backend yourself and give its host and port)`);
      default:
        if (key.includes('_')) warnings.push(`${what}: incorrect directive contains underscore ('_') instead of dash ('-'); ignored`);
        else if (IGNORED_HOST_KEYS.has(key)) warnings.push(`${what}: not used by mod_proxy; ignored`);
        else warnings.push(`${what}: unknown key; ignored`);
    }
  }
  if (socket !== '' && (host !== '' || port !== undefined)) {
    throw new ProxyServerError(`${ctx}: either "host"/"port" or "socket" has to be set, not both`);
  }
  // gw_backend.c: a "host" starting with "/" is a unix socket path.
  if (socket === '' && host.startsWith('/')) socket = host;
  if (socket !== '') {
    out.member = `unix:${socket}`;
    return out;
  }
  if (host === '') throw new ProxyServerError(`${ctx}: "host" (or "socket") has to be set`);
  // lighttpd falls back to port 80; lantern wants it written, so a forgotten port is not a silent 80.
  if (port === undefined) throw new ProxyServerError(`${ctx}: "port" is missing for host "${host}"`);
  out.member = memberAddress(host, port);
  return out;
}

/** The hosts of one extension, in any of lighttpd's forms. */
function parseHosts(ext: string, v: ConfigValue, warnings: string[]): ProxyHost[] {
  if (Array.isArray(v)) {
    // `"<ext>" => ( ( "host" => ... ), ( ... ) )`: unlabeled hosts.
    return v.map((h, i) => {
      if (!(h instanceof ConfigHash)) throw new ProxyServerError(`${where(ext, i, '')}: expected ( "host" => ..., "port" => ... ), got ${JSON.stringify(h)}`);
      return parseHost(h, where(ext, i, ''), '', warnings);
    });
  }
  if (!(v instanceof ConfigHash)) {
    throw new ProxyServerError(`"${ext}": expected ( "<label>" => ( "host" => ..., "port" => ... ) ), got ${JSON.stringify(v)}`);
  }
  if (v.size > 0 && v.entries.every(([, x]) => isScalar(x) || (Array.isArray(x) && x.every(isScalar)))) {
    // `"<ext>" => ( "host" => ..., "port" => ... )`: one host written without its own brackets.
    // lighttpd refuses this; it is a common slip and means exactly one host, so it is taken.
    return [parseHost(v, where(ext, 0, ''), '', warnings)];
  }
  return v.entries.map(([label, h], i) => {
    if (!(h instanceof ConfigHash)) throw new ProxyServerError(`${where(ext, i, label)}: expected ( "host" => ..., "port" => ... ), got ${JSON.stringify(h)}`);
    if (label.length > 128) throw new ProxyServerError(`"${ext}": a host label is longer than 128 characters`);
    return parseHost(h, where(ext, i, label), label, warnings);
  });
}

/**
 * Parse a proxy.server value. Extensions keep their order (the first matching one wins); a key
 * given twice (from `+=`) adds its hosts to the first, as lighttpd's gw_extension_insert().
 */
export function parseProxyServer(value: ConfigValue): { extensions: ProxyExtension[]; warnings: string[] } {
  if (!(value instanceof ConfigHash)) {
    throw new ProxyServerError('expected ( "<prefix or extension>" => ( "<label>" => ( "host" => ..., "port" => ... ) ) )');
  }
  const warnings: string[] = [];
  const extensions: ProxyExtension[] = [];
  for (const [key, v] of value.entries) {
    const hosts = parseHosts(key, v, warnings);
    if (hosts.length === 0) throw new ProxyServerError(`"${key}": no hosts`);
    const same = extensions.find((e) => e.key === key);
    if (same) same.hosts.push(...hosts);
    else extensions.push({ key, hosts });
  }
  return { extensions, warnings };
}

/** A message for the option schema's check(), or undefined when the value is good. */
export function checkProxyServer(value: unknown): string | undefined {
  try {
    parseProxyServer(value as ConfigValue);
    return undefined;
  } catch (err) {
    if (err instanceof ProxyServerError) return err.message;
    throw err;
  }
}

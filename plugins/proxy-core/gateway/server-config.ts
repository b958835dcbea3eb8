// lighttpd 1.4's `*.server` values (proxy.server, fastcgi.server, scgi.server), parsed once for
// every gateway module as gw_backend.c's gw_set_defaults_backend() does:
//   <module>.server = ( "<prefix or extension>" => ( "<label>" => ( "host" => ..., "port" => ... ), ... ) )
// and the unlabeled form `( "<ext>" => ( ( "host" => ... ), ( ... ) ) )`. Checked at boot: a bad
// value stops the start with a message (the plugin host adds file, line and key); keys that only
// another gateway module reads are warnings.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigHash, type ConfigValue } from '../../../config/model.js';
import { isTlsKey, TlsKeyReader, type UpstreamTlsOptions } from '../../ssl-upstream/tls-options.js';

/** Which gateway module a `*.server` value belongs to, and what its hosts may say. */
export interface GatewayModule {
  /** lighttpd's module name, for messages ("mod_fastcgi"). */
  module: string;
  /** The config key ("fastcgi.server"). */
  key: string;
  /** Hosts may be started by lantern (bin-path and its companions). */
  spawns: boolean;
  /** Hosts may be authorizers ("mode" => "authorizer"). */
  authorizer: boolean;
  /** The CGI-environment keys apply (check-local, docroot, strip-request-uri...). */
  cgiEnv: boolean;
  /** "proto" => "scgi" | "uwsgi" is read (mod_scgi). */
  proto: boolean;
}

/** How lantern starts a host it spawns (lighttpd's bin-path and companions). */
export interface SpawnHostOptions {
  binPath: string;
  env: Record<string, string>;
  copyEnv: string[];
  minProcs: number;
  maxProcs: number;
  maxLoadPerProc: number;
  idleTimeoutSecs: number;
  killSignal: NodeJS.Signals;
  listenBacklog: number;
}

/** One backend host of one extension, as a `*.server` value describes it. */
export interface GatewayHost {
  /** The host's label (`"php-local" => ( ... )`), '' in the unlabeled list form. */
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
  /** "mode": an authorizer answers before the request goes on (mod_fastcgi). */
  mode?: 'responder' | 'authorizer';
  /** CGI environment options (gw_backend.c): absent = lighttpd's default. */
  checkLocal?: boolean;
  docroot?: string;
  brokenScriptFilename?: boolean;
  stripRequestUri?: string;
  fixRootScriptname?: boolean;
  /** mod_scgi "proto": the packet format spoken. */
  proto?: 'scgi' | 'uwsgi';
  /** lantern starts this host (bin-path). */
  spawn?: SpawnHostOptions;
  /** TLS to this host ("tls" => "enable" and the "tls-*" keys; ssl-upstream). */
  tls?: UpstreamTlsOptions;
}

/** One key of a `*.server` value: a URL prefix (starts with "/"), a suffix, or "" (everything). */
export interface GatewayExtension {
  key: string;
  hosts: GatewayHost[];
}

/** A value a `*.server` key cannot take; the plugin host adds file, line and key. */
export class GatewayServerError extends Error {}

/** Per-host keys gw_backend.c knows, by the module feature they belong to. */
const SPAWN_KEYS = new Set(['bin-path', 'bin-environment', 'bin-copy-environment', 'min-procs', 'max-procs', 'max-load-per-proc', 'idle-timeout', 'kill-signal', 'listen-backlog']);
const CGI_ENV_KEYS = new Set(['check-local', 'docroot', 'broken-scriptfilename', 'strip-request-uri', 'fix-root-scriptname']);
/** Accepted everywhere, with no effect in lantern (a warning says so). */
const NO_EFFECT_KEYS = new Set(['tcp-fin-propagate']);

const isScalar = (v: ConfigValue | undefined) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function where(ext: string, index: number, label: string): string {
  return `"${ext}" => ${label !== '' ? `"${label}"` : `host #${index + 1}`}`;
}

function intValue(v: ConfigValue, what: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new GatewayServerError(`${what}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function boolValue(v: ConfigValue, what: string): boolean {
  if (v === true || v === 1 || v === 'enable' || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === 'disable' || v === '0' || v === 'false') return false;
  throw new GatewayServerError(`${what}: expected "enable" or "disable" (or 1 / 0), got ${JSON.stringify(v)}`);
}

function stringValue(v: ConfigValue, what: string): string {
  if (typeof v !== 'string') throw new GatewayServerError(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(v: ConfigValue, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => stringValue(x, what));
}

/** The member address for a host/port pair: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function memberAddress(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** lighttpd's kill-signal is a number (default 15, SIGTERM); a name is taken too. */
function signalValue(v: ConfigValue, what: string): NodeJS.Signals {
  if (typeof v === 'string' && /^SIG[A-Z0-9]+$/.test(v) && v in os.constants.signals) return v as NodeJS.Signals;
  const n = intValue(v, what, 1, 64);
  const name = Object.entries(os.constants.signals).find(([, num]) => num === n)?.[0];
  if (!name) throw new GatewayServerError(`${what}: no signal ${n}`);
  return name as NodeJS.Signals;
}

/** A message when bin-path names no executable program (gw_backend.c checks it at startup too). */
export function binPathProblem(binPath: string): string | null {
  const program = binPath.trim().split(/\s+/)[0] ?? '';
  if (program === '') return 'is empty';
  if (!program.startsWith('/')) return `"${program}" is not an absolute path`;
  try {
    if (!statSync(program).isFile()) return `"${program}" is not a file`;
    accessSync(program, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `"${program}" does not exist` : code === 'EACCES' ? `"${program}" is not executable` : `"${program}": ${code ?? (err as Error).message}`;
  }
  return null;
}

function hashOfStrings(v: ConfigValue, what: string): Record<string, string> {
  // lighttpd: bin-environment = ( "NAME" => "value", ... )
  if (!(v instanceof ConfigHash)) throw new GatewayServerError(`${what}: expected ( "NAME" => "value", ... ), got ${JSON.stringify(v)}`);
  const out: Record<string, string> = {};
  for (const [k, x] of v.entries) {
    if (typeof x !== 'string' && typeof x !== 'number') throw new GatewayServerError(`${what}: "${k}": expected a string, got ${JSON.stringify(x)}`);
    out[k] = String(x);
  }
  return out;
}

function parseHost(mod: GatewayModule, h: ConfigHash, ctx: string, label: string, warnings: string[]): GatewayHost {
  let host = '';
  let port: number | undefined;
  let socket = '';
  const out: GatewayHost = { label, member: '' };
  let spawn: Partial<SpawnHostOptions> | null = null;
  const spawnPart = (): Partial<SpawnHostOptions> => (spawn ??= {});
  const tls = new TlsKeyReader();
  for (const [key, v] of h.entries) {
    const what = `${ctx}: "${key}"`;
    if (isTlsKey(key)) {
      try {
        tls.set(key, v);
      } catch (err) {
        throw new GatewayServerError(`${ctx}: ${(err as Error).message}`);
      }
      continue;
    }
    if (SPAWN_KEYS.has(key) && !mod.spawns) {
      if (key === 'bin-path') throw new GatewayServerError(`${what}: ${mod.module} does not start backends (run the backend yourself and give its host and port)`);
      warnings.push(`${what}: not used by ${mod.module}; ignored`);
      continue;
    }
    if (CGI_ENV_KEYS.has(key) && !mod.cgiEnv) { warnings.push(`${what}: not used by ${mod.module}; ignored`); continue; }
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
        out.xSendfileDocroots = stringList(v, what).map((s) => {
          // gw_backend.c: "x-sendfile-docroot paths must begin with '/'".
          if (!s.startsWith('/')) throw new GatewayServerError(`${what}: paths must begin with "/", got "${s}"`);
          return s.endsWith('/') ? s : `${s}/`;
        });
        break;
      }
      case 'mode':
        if (v === 'authorizer') {
          // mod_proxy.c: a proxy can not act as authorizer.
          if (!mod.authorizer) throw new GatewayServerError(`${what}: ${mod.module} must not define hosts with "mode" = "authorizer"`);
          out.mode = 'authorizer';
        } else if (v === 'responder' || v === '') {
          out.mode = 'responder';
        } else {
          throw new GatewayServerError(`${what}: expected "responder" or "authorizer", got ${JSON.stringify(v)}`);
        }
        break;
      case 'proto':
        if (!mod.proto) { warnings.push(`${what}: not used by ${mod.module}; ignored`); break; }
        if (v !== 'scgi' && v !== 'uwsgi') throw new GatewayServerError(`${what}: expected "scgi" or "uwsgi", got ${JSON.stringify(v)}`);
        out.proto = v;
        break;
      case 'check-local': out.checkLocal = boolValue(v, what); break;
      case 'docroot': out.docroot = stringValue(v, what); break;
      case 'broken-scriptfilename': out.brokenScriptFilename = boolValue(v, what); break;
      case 'strip-request-uri': out.stripRequestUri = stringValue(v, what); break;
      case 'fix-root-scriptname': out.fixRootScriptname = boolValue(v, what); break;
      case 'bin-path': {
        const binPath = stringValue(v, what);
        const problem = binPathProblem(binPath);
        if (problem !== null) throw new GatewayServerError(`${what}: ${problem}`);
        spawnPart().binPath = binPath;
        break;
      }
      case 'bin-environment': spawnPart().env = hashOfStrings(v, what); break;
      case 'bin-copy-environment': spawnPart().copyEnv = stringList(v, what); break;
      case 'min-procs': spawnPart().minProcs = intValue(v, what, 0, 1024); break;
      case 'max-procs': spawnPart().maxProcs = intValue(v, what, 1, 1024); break;
      case 'max-load-per-proc': spawnPart().maxLoadPerProc = intValue(v, what, 1, 1_000_000); break;
      case 'idle-timeout': spawnPart().idleTimeoutSecs = intValue(v, what, 0, 86400); break;
      case 'kill-signal': spawnPart().killSignal = signalValue(v, what); break;
      case 'listen-backlog': spawnPart().listenBacklog = intValue(v, what, 1, 65535); break;
      default:
        if (NO_EFFECT_KEYS.has(key)) { warnings.push(`${what}: accepted, no effect in lantern`); break; }
        if (key.includes('_')) throw new GatewayServerError(`${what}: incorrect directive contains underscore ('_') instead of dash ('-')`);
        throw new GatewayServerError(`${what}: unknown per-host option of ${mod.module}`);
    }
  }
  try {
    const t = tls.result();
    if (t !== null) out.tls = t;
  } catch (err) {
    throw new GatewayServerError(`${ctx}: ${(err as Error).message}`);
  }
  if (socket !== '' && (host !== '' || port !== undefined)) {
    throw new GatewayServerError(`${ctx}: either "host"/"port" or "socket" has to be set, not both`);
  }
  // gw_backend.c: a "host" starting with "/" is a unix socket path.
  if (socket === '' && host.startsWith('/')) socket = host;
  if (spawn !== null) {
    const sp = spawn as Partial<SpawnHostOptions>;
    if (sp.binPath === undefined) throw new GatewayServerError(`${ctx}: bin-environment, max-procs and the other spawn options need "bin-path"`);
    out.spawn = {
      binPath: sp.binPath,
      env: sp.env ?? {},
      copyEnv: sp.copyEnv ?? [],
      minProcs: sp.minProcs ?? 4,
      maxProcs: sp.maxProcs ?? 4,
      maxLoadPerProc: sp.maxLoadPerProc ?? 1,
      idleTimeoutSecs: sp.idleTimeoutSecs ?? 60,
      killSignal: sp.killSignal ?? 'SIGTERM',
      listenBacklog: sp.listenBacklog ?? 1024,
    };
  }
  if (socket !== '') {
    // lantern makes a spawned backend's socket itself: its directory must be there (an external
    // backend's socket may still appear, and is only connected to).
    if (out.spawn && !existsSync(path.dirname(socket))) {
      throw new GatewayServerError(`${ctx}: "socket": the directory ${path.dirname(socket)} does not exist`);
    }
    out.member = `unix:${socket}`;
    return out;
  }
  if (host === '') {
    throw new GatewayServerError(out.spawn ? `${ctx}: "bin-path" needs "socket" (or "host" and "port") for the backend to listen on` : `${ctx}: "host" (or "socket") has to be set`);
  }
  // lighttpd falls back to port 80; lantern wants it written, so a forgotten port is not a silent 80.
  if (port === undefined) throw new GatewayServerError(`${ctx}: "port" is missing for host "${host}"`);
  out.member = memberAddress(host, port);
  return out;
}

/** The hosts of one extension, in any of lighttpd's forms. */
function parseHosts(mod: GatewayModule, ext: string, v: ConfigValue, warnings: string[]): GatewayHost[] {
  if (Array.isArray(v)) {
    // `"<ext>" => ( ( "host" => ... ), ( ... ) )`: unlabeled hosts.
    return v.map((h, i) => {
      if (!(h instanceof ConfigHash)) throw new GatewayServerError(`${where(ext, i, '')}: expected ( "host" => ..., "port" => ... ), got ${JSON.stringify(h)}`);
      return parseHost(mod, h, where(ext, i, ''), '', warnings);
    });
  }
  if (!(v instanceof ConfigHash)) {
    throw new GatewayServerError(`"${ext}": expected ( "<label>" => ( "host" => ..., "port" => ... ) ), got ${JSON.stringify(v)}`);
  }
  if (v.size > 0 && v.entries.every(([, x]) => isScalar(x) || (Array.isArray(x) && x.every(isScalar)))) {
    // `"<ext>" => ( "host" => ..., "port" => ... )`: one host written without its own brackets.
    // lighttpd refuses this; it is a common slip and means exactly one host, so it is taken.
    return [parseHost(mod, v, where(ext, 0, ''), '', warnings)];
  }
  return v.entries.map(([label, h], i) => {
    if (!(h instanceof ConfigHash)) throw new GatewayServerError(`${where(ext, i, label)}: expected ( "host" => ..., "port" => ... ), got ${JSON.stringify(h)}`);
    if (label.length > 128) throw new GatewayServerError(`"${ext}": a host label is longer than 128 characters`);
    return parseHost(mod, h, where(ext, i, label), label, warnings);
  });
}

/**
 * Parse a `*.server` value. Extensions keep their order (the first matching one wins); a key
 * given twice (from `+=`) adds its hosts to the first, as lighttpd's gw_extension_insert().
 */
export function parseGatewayServer(mod: GatewayModule, value: ConfigValue): { extensions: GatewayExtension[]; warnings: string[] } {
  if (!(value instanceof ConfigHash)) {
    throw new GatewayServerError('expected ( "<prefix or extension>" => ( "<label>" => ( "host" => ..., "port" => ... ) ) )');
  }
  const warnings: string[] = [];
  const extensions: GatewayExtension[] = [];
  for (const [key, v] of value.entries) {
    const hosts = parseHosts(mod, key, v, warnings);
    if (hosts.length === 0) throw new GatewayServerError(`"${key}": no hosts`);
    const same = extensions.find((e) => e.key === key);
    if (same) same.hosts.push(...hosts);
    else extensions.push({ key, hosts });
  }
  return { extensions, warnings };
}

/** The option schema's check() for a `*.server` key: a message, or undefined when the value is good. */
export function gatewayServerCheck(mod: GatewayModule): (value: unknown) => string | undefined {
  return (value) => {
    try {
      parseGatewayServer(mod, value as ConfigValue);
      return undefined;
    } catch (err) {
      if (err instanceof GatewayServerError) return err.message;
      throw err;
    }
  };
}

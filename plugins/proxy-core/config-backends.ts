// Backends from lighttpd 1.5's proxy-core.* keys: at startup every block that sets
// proxy-core.backends (with what it inherits from its parents) becomes a backend, blocks with the
// same settings sharing one; per request the merged settings find their backend through a cache
// keyed by the merge result, so the request path does one WeakMap lookup.
import path from 'node:path';
import { ConfigError, ConfigHash, type ConfigBlock, type ConfigModel, type ConfigValue, type SourceLoc } from '../../config/model.js';
import type { Request } from '../../core/request.js';
import type { BackendOptions, BackendSpec } from './api.js';
import type { Backend } from './backend.js';
import { forwardedParams, PROXY_CORE_OPTIONS, secondsValue, type ProxyCoreKey } from './config-keys.js';
import type { ProxyCore } from './proxy-core.js';
import { TLS_KEYS, TlsKeyReader, type TlsKey } from '../ssl-upstream/tls-options.js';

const KEYS = Object.keys(PROXY_CORE_OPTIONS) as ProxyCoreKey[];

export type Lookup = (key: ProxyCoreKey) => ConfigValue | undefined;

function value(get: Lookup, key: ProxyCoreKey): unknown {
  const v = get(key);
  return v !== undefined ? v : PROXY_CORE_OPTIONS[key].default;
}

function ms(get: Lookup, key: ProxyCoreKey): number {
  return Math.round((secondsValue(value(get, key)) ?? 0) * 1000);
}

/** The settings as one string: equal strings share a backend. */
function signature(get: Lookup): string {
  return JSON.stringify(KEYS.map((k) => {
    const v = value(get, k);
    return v instanceof ConfigHash ? v.entries : v;
  }));
}

/**
 * The protocol's own options: proxy-core.protocol-options (names as the protocol declares them,
 * lighttpd-style dashed names accepted: "keep-conn" → keepConn), plus proxy-core.http-version
 * for the "http" protocol.
 */
function protocolOptions(get: Lookup): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const hash = value(get, 'proxy-core.protocol-options');
  if (hash instanceof ConfigHash) {
    for (const [k, v] of hash.entries) {
      const name = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      out[name] = v === 'enable' ? true : v === 'disable' ? false : v;
    }
  }
  if (value(get, 'proxy-core.protocol') === 'http' && out.httpVersion === undefined) out.httpVersion = value(get, 'proxy-core.http-version');
  return out;
}

/** proxy-core.* keys that set one BackendOptions field each, and how the value is read. */
const OPTION_KEYS: ReadonlyArray<readonly [keyof BackendOptions, ProxyCoreKey, 'value' | 'ms']> = [
  ['maxPoolSize', 'proxy-core.max-pool-size', 'value'],
  ['maxKeepAliveRequests', 'proxy-core.max-keep-alive-requests', 'value'],
  ['keepAliveIdleMs', 'proxy-core.keep-alive-idle', 'ms'],
  ['disableTimeMs', 'proxy-core.disable-time', 'ms'],
  ['maxDisableTimeMs', 'proxy-core.max-disable-time', 'ms'],
  ['maxFails', 'proxy-core.max-fails', 'value'],
  ['failureWindowMs', 'proxy-core.failure-window', 'ms'],
  ['failurePercent', 'proxy-core.failure-percent', 'value'],
  ['maxEjectPercent', 'proxy-core.max-eject-percent', 'value'],
  ['maxBacklog', 'proxy-core.max-backlog-size', 'value'],
  ['queueTimeoutMs', 'proxy-core.queue-timeout', 'ms'],
  ['connectTimeoutMs', 'proxy-core.connect-timeout', 'ms'],
  ['readTimeoutMs', 'proxy-core.read-timeout', 'ms'],
  ['writeTimeoutMs', 'proxy-core.write-timeout', 'ms'],
  ['maxTries', 'proxy-core.max-tries', 'value'],
  ['retryReadTimeout', 'proxy-core.retry-read-timeout', 'value'],
  ['abortOnClose', 'proxy-core.abort-on-close', 'value'],
  ['forwardRawTarget', 'proxy-core.forward-raw-target', 'value'],
  ['maxTempFileBytes', 'proxy-core.max-temp-file-size', 'value'],
  ['retryOn5xx', 'proxy-core.retry-on-5xx', 'value'],
  ['retryBodyBufferBytes', 'proxy-core.retry-body-buffer-size', 'value'],
  ['allowXSendfile', 'proxy-core.allow-x-sendfile', 'value'],
  ['xSendfileDocroots', 'proxy-core.x-sendfile-docroot', 'value'],
  ['upgrade', 'proxy-core.upgrade', 'value'],
  ['forwardedFor', 'proxy-core.x-forwarded', 'value'],
  ['trustForwardedFrom', 'proxy-core.trust-forwarded-from', 'value'],
  ['preserveHost', 'proxy-core.preserve-host', 'value'],
  ['resolveIntervalMs', 'proxy-core.resolve-interval', 'ms'],
];

/** proxy-core.tls = "enable" and its proxy-core.tls-* keys → BackendOptions.tls (null: plain sockets). */
function tlsFromConfig(get: Lookup): BackendOptions['tls'] {
  const reader = new TlsKeyReader('proxy-core.');
  for (const key of Object.keys(TLS_KEYS) as TlsKey[]) {
    const v = get(`proxy-core.${key}` as ProxyCoreKey);
    if (v !== undefined) reader.set(key, v);
  }
  return reader.result();
}

/**
 * The backend options the proxy-core.* keys give; with `onlySet`, only those a key in `values`
 * sets (the lighttpd 1.4 gateway modules take them as their scope's defaults).
 */
export function optionsFromConfig(get: Lookup, onlySet = false): Partial<BackendOptions> {
  const options: Record<string, unknown> = {};
  for (const [field, key, kind] of OPTION_KEYS) {
    if (onlySet && get(key) === undefined) continue;
    options[field] = kind === 'ms' ? ms(get, key) : value(get, key);
  }
  // TLS to the backends (ssl-upstream): proxy-core.tls and its proxy-core.tls-* settings.
  if (!onlySet || get('proxy-core.tls') !== undefined) options.tls = tlsFromConfig(get);
  if (!onlySet || get('proxy-core.forwarded') !== undefined) {
    const params = forwardedParams(value(get, 'proxy-core.forwarded'));
    options.forwarded = params.length > 0;
    options.forwardedParams = params;
  }
  return options as Partial<BackendOptions>;
}

/** proxy-core.* values → a backend spec. */
export function specFromConfig(get: Lookup, name: string, loc: SourceLoc | undefined): BackendSpec {
  const options = optionsFromConfig(get);
  const protocolOpts = protocolOptions(get);
  // "role" => "authorizer" is also proxy-core's behaviour (no body; a 200 lets the request go on).
  if (protocolOpts.role === 'authorizer') options.authorizer = true;
  return {
    name,
    protocol: value(get, 'proxy-core.protocol') as string,
    balancer: value(get, 'proxy-core.balancer') as string,
    hashKey: value(get, 'proxy-core.hash-key') as string,
    members: value(get, 'proxy-core.backends') as string[],
    options,
    protocolOptions: protocolOpts,
    loc,
  };
}

export class ConfigBackends {
  private readonly core: ProxyCore;
  private readonly model: ConfigModel;
  private readonly bySignature = new Map<string, Backend>();
  /** Merge result (shared by every request with the same matching blocks) → its backend. */
  private readonly byValues = new WeakMap<Map<string, ConfigValue>, Backend | null>();
  private created = 0;
  /** Some block sets proxy-core.backends: the subrequestStart tap is needed at all. */
  readonly used: boolean;

  constructor(core: ProxyCore, model: ConfigModel) {
    this.core = core;
    this.model = model;
    let used = false;
    const scan = (b: ConfigBlock): void => {
      if (b.entries.some((e) => e.key === 'proxy-core.backends')) used = true;
      for (const head of b.children) for (let l: ConfigBlock | null = head; l; l = l.else) scan(l);
    };
    scan(model.root);
    this.used = used;
  }

  /** At startup: one backend per distinct block settings (pools are made once, here). */
  build(): void {
    const visit = (block: ConfigBlock, inherited: Map<string, ConfigValue>, inheritedLocs: Map<string, SourceLoc>): void => {
      let mine = inherited;
      let locs = inheritedLocs;
      let backendsLoc: SourceLoc | undefined;
      for (const e of block.entries) {
        if (!e.key.startsWith('proxy-core.')) continue;
        if (mine === inherited) { mine = new Map(inherited); locs = new Map(inheritedLocs); }
        mine.set(e.key, e.value);
        locs.set(e.key, e.loc);
        if (e.key === 'proxy-core.backends') backendsLoc = e.loc;
      }
      if (backendsLoc !== undefined) this.backendFor((k) => mine.get(k), backendsLoc, locs);
      for (const head of block.children) for (let l: ConfigBlock | null = head; l; l = l.else) visit(l, mine, locs);
    };
    visit(this.model.root, new Map(), new Map());
  }

  /** The backend for these settings, made on first sight; null when no backends are set. */
  private backendFor(get: Lookup, loc: SourceLoc | undefined, locs?: Map<string, SourceLoc>): Backend | null {
    const members = value(get, 'proxy-core.backends') as string[];
    if (members.length === 0) return null;
    const sig = signature(get);
    let b = this.bySignature.get(sig);
    if (b === undefined) {
      const name = loc ? `${path.basename(loc.file)}:${loc.line}` : `proxy-core#${++this.created}`;
      let spec: BackendSpec;
      try {
        spec = specFromConfig(get, this.core.getBackend(name) ? `${name}#${++this.created}` : name, loc);
      } catch (err) {
        // A bad proxy-core.tls-* combination: named at the block's proxy-core.backends line.
        if (loc) throw new ConfigError(loc, (err as Error).message);
        throw err;
      }
      // A protocol or balancer nobody registered is reported at the line that named it.
      const protocolLoc = locs?.get('proxy-core.protocol');
      const balancerLoc = locs?.get('proxy-core.balancer');
      if (protocolLoc || balancerLoc) spec.keyLocs = { protocol: protocolLoc, balancer: balancerLoc };
      b = this.core.addBackend(spec);
      this.bySignature.set(sig, b);
    }
    return b;
  }

  /** The backend for a request's merged config, or null when its blocks set no backends. */
  forRequest(req: Request): Backend | null {
    const values = req.config.values;
    let b = this.byValues.get(values);
    if (b === undefined) {
      // A combination of blocks startup did not see as one (settings split over sibling blocks).
      b = this.backendFor((k) => values.get(k), undefined);
      this.byValues.set(values, b);
    }
    return b;
  }
}

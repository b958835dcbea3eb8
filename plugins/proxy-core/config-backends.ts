// Backends from lighttpd 1.5's proxy-core.* keys: at startup every block that sets
// proxy-core.backends (with what it inherits from its parents) becomes a backend, blocks with the
// same settings sharing one; per request the merged settings find their backend through a cache
// keyed by the merge result, so the request path does one WeakMap lookup.
import path from 'node:path';
import { ConfigHash, type ConfigBlock, type ConfigModel, type ConfigValue, type SourceLoc } from '../../config/model.js';
import type { Request } from '../../core/request.js';
import type { BackendOptions, BackendSpec } from './api.js';
import type { Backend } from './backend.js';
import { forwardedParams, PROXY_CORE_OPTIONS, secondsValue, type ProxyCoreKey } from './config-keys.js';
import type { ProxyCore } from './proxy-core.js';

const KEYS = Object.keys(PROXY_CORE_OPTIONS) as ProxyCoreKey[];

type Lookup = (key: ProxyCoreKey) => ConfigValue | undefined;

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

/** proxy-core.* values → a backend spec. */
export function specFromConfig(get: Lookup, name: string, loc: SourceLoc | undefined): BackendSpec {
  const options: Partial<BackendOptions> = {
    maxPoolSize: value(get, 'proxy-core.max-pool-size') as number,
    maxKeepAliveRequests: value(get, 'proxy-core.max-keep-alive-requests') as number,
    keepAliveIdleMs: ms(get, 'proxy-core.keep-alive-idle'),
    disableTimeMs: ms(get, 'proxy-core.disable-time'),
    maxDisableTimeMs: ms(get, 'proxy-core.max-disable-time'),
    maxFails: value(get, 'proxy-core.max-fails') as number,
    maxEjectPercent: value(get, 'proxy-core.max-eject-percent') as number,
    maxBacklog: value(get, 'proxy-core.max-backlog-size') as number,
    queueTimeoutMs: ms(get, 'proxy-core.queue-timeout'),
    connectTimeoutMs: ms(get, 'proxy-core.connect-timeout'),
    readTimeoutMs: ms(get, 'proxy-core.read-timeout'),
    writeTimeoutMs: ms(get, 'proxy-core.write-timeout'),
    maxTries: value(get, 'proxy-core.max-tries') as number,
    retryReadTimeout: value(get, 'proxy-core.retry-read-timeout') as boolean,
    retryOn5xx: value(get, 'proxy-core.retry-on-5xx') as boolean,
    retryBodyBufferBytes: value(get, 'proxy-core.retry-body-buffer-size') as number,
    allowXSendfile: value(get, 'proxy-core.allow-x-sendfile') as boolean,
    xSendfileDocroots: value(get, 'proxy-core.x-sendfile-docroot') as string[],
    upgrade: value(get, 'proxy-core.upgrade') as boolean,
    forwardedFor: value(get, 'proxy-core.x-forwarded') as boolean,
    forwarded: forwardedParams(value(get, 'proxy-core.forwarded')).length > 0,
    forwardedParams: forwardedParams(value(get, 'proxy-core.forwarded')),
    trustForwardedFrom: value(get, 'proxy-core.trust-forwarded-from') as string[],
    preserveHost: value(get, 'proxy-core.preserve-host') as boolean,
    resolveIntervalMs: ms(get, 'proxy-core.resolve-interval'),
  };
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
      const spec = specFromConfig(get, this.core.getBackend(name) ? `${name}#${++this.created}` : name, loc);
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

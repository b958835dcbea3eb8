// TLS to backends (ssl-upstream): the settings of one backend, as the native API gives them
// (BackendOptions.tls) and as the lighttpd-style keys spell them: the per-host "tls", "tls-*" of
// proxy.server / fastcgi.server / scgi.server and lighttpd 1.5's proxy-core.tls, proxy-core.tls-*.
// lighttpd 1.4.69 has no TLS to backends (1.5's mod_proxy_core only planned "https://" URLs), so
// the names follow lighttpd's own ssl.* vocabulary (ssl.ca-file, ssl.pemfile/ssl.privkey) and
// nginx's proxy_ssl_* meanings.

/** What a backend says about TLS to its members. Every field is optional. */
export interface UpstreamTlsOptions {
  /**
   * PEM file with the CA certificates the members' certificates must chain to; they are trusted
   * instead of the system's CAs (as nginx's proxy_ssl_trusted_certificate, curl's --cacert).
   * Default: the system's CAs (Node's bundled Mozilla list, or NODE_EXTRA_CA_CERTS added).
   */
  caFile?: string | null;
  /**
   * The server name sent in SNI, which the certificate must also match. Default (undefined or
   * null): the member's host name when it was configured by name; none for an IP address
   * (RFC 6066 §3 allows no address literals), whose certificate must then name that IP. "" sends
   * no SNI (the certificate is still checked against the host name or address).
   */
  sni?: string | null;
  /** PEM client certificate for backends that ask for one (mTLS). Default: none. */
  certFile?: string | null;
  /** PEM private key of certFile. Default: read from certFile (lighttpd's ssl.pemfile convention). */
  keyFile?: string | null;
  /**
   * Do not verify the members' certificates (chain, expiry, name): anyone on the path can then
   * read and change the traffic. For tests and migrations only. Default false.
   */
  insecureSkipVerify?: boolean;
  /** Lowest TLS version accepted: "TLSv1.2" or "TLSv1.3". Default "TLSv1.2". */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

/** The lighttpd-style key names (per host, and after "proxy-core.") and the field each sets. */
export const TLS_KEYS = {
  'tls': null,
  'tls-ca-file': 'caFile',
  'tls-sni': 'sni',
  'tls-cert': 'certFile',
  'tls-key': 'keyFile',
  'tls-insecure-skip-verify': 'insecureSkipVerify',
  'tls-min-version': 'minVersion',
} as const satisfies Record<string, keyof UpstreamTlsOptions | null>;

export type TlsKey = keyof typeof TLS_KEYS;

export function isTlsKey(key: string): key is TlsKey {
  return Object.hasOwn(TLS_KEYS, key);
}

/** "enable"/"disable" as lighttpd writes booleans (and true/false, 1/0); null for anything else. */
function flag(v: unknown): boolean | null {
  if (v === true || v === 1 || v === '1' || v === 'enable' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'disable' || v === 'false') return false;
  return null;
}

/**
 * Collects one backend's TLS keys ("tls" => "enable", "tls-ca-file" => ...). set() throws an Error
 * whose message names the key; result() throws when settings come without "tls" => "enable".
 */
export class TlsKeyReader {
  private enabled: boolean | undefined;
  private readonly given: string[] = [];
  readonly options: UpstreamTlsOptions = {};

  /** `prefix`: '' for per-host keys ("tls-sni"), 'proxy-core.' for lighttpd 1.5's keys; messages name them so. */
  constructor(private readonly prefix: '' | 'proxy-core.' = '') {}

  private name(key: string): string {
    return this.prefix === '' ? `"${key}"` : `${this.prefix}${key}`;
  }

  set(key: TlsKey, v: unknown): void {
    const field = TLS_KEYS[key];
    if (field === null) {
      const on = flag(v);
      if (on === null) throw new Error(`${this.name(key)}: expected "enable" or "disable", got ${JSON.stringify(v)}`);
      this.enabled = on;
      return;
    }
    this.given.push(key);
    if (field === 'insecureSkipVerify') {
      const on = flag(v);
      if (on === null) throw new Error(`${this.name(key)}: expected "enable" or "disable", got ${JSON.stringify(v)}`);
      this.options.insecureSkipVerify = on;
      return;
    }
    if (typeof v !== 'string') throw new Error(`${this.name(key)}: expected a string, got ${JSON.stringify(v)}`);
    if (field === 'minVersion') {
      if (!(TLS_MIN_VERSIONS as readonly string[]).includes(v)) throw new Error(`${this.name(key)}: expected ${TLS_MIN_VERSIONS.map((x) => `"${x}"`).join(' or ')}, got ${JSON.stringify(v)}`);
      this.options.minVersion = v as UpstreamTlsOptions['minVersion'];
      return;
    }
    if (field === 'sni') {
      if (v !== '' && !/^[A-Za-z0-9.-]{1,253}$/.test(v)) throw new Error(`${this.name(key)}: expected a host name (or "" for no SNI), got ${JSON.stringify(v)}`);
      this.options.sni = v;
      return;
    }
    if (v === '') throw new Error(`${this.name(key)}: expected a file name, got ""`);
    this.options[field] = v;
  }

  /** The backend's TLS settings; null when TLS is not enabled. */
  result(): UpstreamTlsOptions | null {
    if (this.enabled === true) return this.options;
    if (this.given.length > 0) throw new Error(`${this.name(this.given[0]!)} needs ${this.prefix === '' ? '"tls" => "enable"' : 'proxy-core.tls = "enable"'}`);
    return null;
  }
}

/** A message when a native `tls` value (BackendOptions.tls) is not an UpstreamTlsOptions; undefined when it is. */
export function tlsOptionsProblem(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return `tls: expected an object, got ${JSON.stringify(v)}`;
  const o = v as Record<string, unknown>;
  const fields = Object.values(TLS_KEYS).filter((f) => f !== null) as string[];
  for (const [k, x] of Object.entries(o)) {
    if (!fields.includes(k)) return `tls: unknown field "${k}" (fields: ${fields.join(', ')})`;
    if (x === undefined || x === null) continue;
    if (k === 'insecureSkipVerify') { if (typeof x !== 'boolean') return `tls.${k}: expected true or false`; continue; }
    if (typeof x !== 'string') return `tls.${k}: expected a string, got ${JSON.stringify(x)}`;
    if (k === 'minVersion' && !(TLS_MIN_VERSIONS as readonly string[]).includes(x)) return `tls.minVersion: expected ${TLS_MIN_VERSIONS.join(' or ')}, got ${JSON.stringify(x)}`;
  }
  return undefined;
}

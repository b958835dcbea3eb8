// lighttpd 1.4.69 mod_extforward's extforward.forwarder: which peers are trusted proxies
// (mod_extforward_parse_forwarder(), is_proxy_trusted()): addresses and CIDR masks => "trust",
// addresses => "untrusted", and "all" => "trust" for any connecting peer.
import { ConfigHash } from '../../config/model.js';
import { formatIp, ipMatches, parseIpInto, parseIpMask, type IpMask } from '../../config/ip-address.js';

export interface TrustList {
  /**
   * "all" => "trust" (1): every connecting peer is trusted (never the addresses inside a header);
   * "all" => "untrusted" (-1): none is, whatever else is listed (lighttpd); 0: not given.
   */
  all: 1 | 0 | -1;
  /** Single addresses, canonical text (formatIp) → trusted. */
  exact: Map<string, boolean>;
  /** Trusted networks. */
  masks: IpMask[];
}

/** The option check for extforward.forwarder: an error message or undefined. */
export function checkForwarder(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return 'expected ( "10.0.0.1" => "trust", "10.0.0.0/8" => "trust", ... ) or ( "all" => "trust" )';
  for (const [k, v] of value.entries) {
    if (typeof v !== 'string' || !/^(trust|untrusted)$/i.test(v)) return `"${k}": expected "trust" or "untrusted", got ${JSON.stringify(v)}`;
    if (k.toLowerCase() === 'all') continue;
    if (parseIpMask(k) === null) return `"${k}" is not an IP address or a CIDR mask (e.g. "10.0.0.0/8")`;
    if (k.includes('/') && !/^trust$/i.test(v)) return `"${k}": a CIDR mask can only be "trust"`;
  }
  return undefined;
}

const lists = new WeakMap<ConfigHash, TrustList>();

/** The trust list of a checked extforward.forwarder hash, built once. */
export function trustList(hash: ConfigHash): TrustList {
  let t = lists.get(hash);
  if (t !== undefined) return t;
  t = { all: 0, exact: new Map(), masks: [] };
  for (const [k, v] of hash.entries) {
    const trusted = /^trust$/i.test(v as string);
    if (k.toLowerCase() === 'all') { t.all = trusted ? 1 : -1; continue; }
    const mask = parseIpMask(k)!;
    if (k.includes('/')) t.masks.push(mask);
    else t.exact.set(formatIp(mask.addr), trusted);
  }
  lists.set(hash, t);
  return t;
}

const scratch = new Uint8Array(16);

/** Whether an address taken from a header (or a peer) is a trusted proxy; "all" does not count here. */
export function isTrustedAddress(t: TrustList, address: string): boolean {
  if (!parseIpInto(address, scratch)) return false;
  const exact = t.exact.get(formatIp(scratch));
  if (exact !== undefined) return exact;
  for (const m of t.masks) if (ipMatches(m, scratch)) return true;
  return false;
}

/** Whether the connecting peer is trusted: "all", or its address. */
export function isTrustedPeer(t: TrustList, peer: string): boolean {
  return t.all !== 0 ? t.all === 1 : isTrustedAddress(t, peer);
}

/**
 * A numeric IPv4 or IPv6 address as lantern shows a client address (IPv4-mapped IPv6 as the
 * dotted quad, IPv6 lowercased); null when `text` is not one.
 */
export function clientAddress(text: string): string | null {
  if (text === '' || text.length > 64 || text.includes('%') || !parseIpInto(text, scratch)) return null;
  if (!text.includes(':')) return text;
  const lower = text.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

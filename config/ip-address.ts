// IPv4 / IPv6 text → 16-byte address for `$HTTP["remoteip"]` CIDR matching and
// `$SERVER["socket"]` normalisation: RFC 4291 §2.2 text forms (with `::` and a dotted-quad tail),
// IPv4 stored IPv4-mapped (RFC 4291 §2.5.5.2) so one compare serves both families (RFC 4632 masks).

export interface IpMask {
  /** The network address, 16 bytes (IPv4 as ::ffff:a.b.c.d). */
  addr: Uint8Array;
  /** Prefix length over the 16-byte form: 128 for a single address, /8 on IPv4 is 104. */
  bits: number;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Dotted quad in text[start, end) → out[offset .. offset+4). */
function parseV4(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** RFC 4291 §2.2 forms in text[start, end) → out[0..16). */
function parseV6(text: string, start: number, end: number, out: Uint8Array): boolean {
  let i = start;
  let groups = 0;
  let gap = -1; // group index where `::` stood
  if (text.charCodeAt(i) === 0x3a) {
    if (text.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    let j = i;
    let value = 0;
    while (j < end && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < end && text.charCodeAt(j) === 0x2e) {
      // Dotted-quad tail (::ffff:1.2.3.4) fills the last two groups.
      if (groups > 6 || !parseV4(text, i, end, out, groups * 2)) return false;
      groups += 2;
      i = end;
      break;
    }
    if (j === i || j - i > 4 || groups >= 8) return false;
    out[groups * 2] = value >> 8;
    out[groups * 2 + 1] = value & 0xff;
    groups++;
    i = j;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return groups === 8;
  if (groups > 7) return false;
  const tailBytes = (groups - gap) * 2;
  out.copyWithin(16 - tailBytes, gap * 2, groups * 2);
  out.fill(0, gap * 2, 16 - tailBytes);
  return true;
}

/**
 * Parse an address (no brackets, no mask; an IPv6 zone `%eth0` is ignored) into out[0..16).
 * Allocation-free, so it can run per request.
 */
export function parseIpInto(text: string, out: Uint8Array): boolean {
  let end = text.indexOf('%');
  if (end < 0) end = text.length;
  if (end === 0) return false;
  if (text.indexOf(':') < 0) {
    out.fill(0, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    return parseV4(text, 0, end, out, 12);
  }
  return parseV6(text, 0, end, out);
}

function isMappedV4(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** `10.0.0.0/8`, `2001:db8::/32`, `192.168.1.7`, `[::1]`, `[fe80::]/10` → mask; null if not an address. */
export function parseIpMask(text: string): IpMask | null {
  let addrText = text;
  let bitsText: string | null = null;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    addrText = text.slice(0, slash);
    bitsText = text.slice(slash + 1);
  }
  if (addrText.startsWith('[') && addrText.endsWith(']')) addrText = addrText.slice(1, -1);
  const isV6 = addrText.includes(':');
  const addr = new Uint8Array(16);
  if (!parseIpInto(addrText, addr)) return null;
  let bits = 128;
  if (bitsText !== null) {
    if (!/^\d{1,3}$/.test(bitsText)) return null;
    const n = Number(bitsText);
    if (n > (isV6 ? 128 : 32)) return null;
    bits = isV6 ? n : n + 96;
  }
  return { addr, bits };
}

/** Whether `addr` (16 bytes) lies inside `mask`. */
export function ipMatches(mask: IpMask, addr: Uint8Array): boolean {
  const full = mask.bits >> 3;
  for (let i = 0; i < full; i++) if (mask.addr[i] !== addr[i]) return false;
  const rest = mask.bits & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (mask.addr[full] & m) === (addr[full] & m);
}

/** One canonical text per address (dotted quad for IPv4, 8 uncompressed groups for IPv6). */
export function formatIp(a: Uint8Array): string {
  if (isMappedV4(a)) return `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  return groups.join(':');
}

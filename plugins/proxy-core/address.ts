// Backend member addresses (design.md §3): `host:port`, `[v6]:port` (RFC 3986 §3.2.2 IP-literal),
// `unix:/path`, and `hostname:port`, which is resolved to all its addresses.
import net from 'node:net';
import type { MemberAddress } from './types.js';

/** A parsed member entry: a literal address, or a hostname still to be resolved. */
export type MemberEntry =
  | { kind: 'address'; address: MemberAddress; key: string }
  | { kind: 'hostname'; host: string; port: number; key: string };

/** Parse `text`; returns a message when it is not an address lantern can connect to. */
export function parseMemberEntry(text: string): MemberEntry | { error: string } {
  const s = text.trim();
  if (s.startsWith('exec:')) {
    // A process per request (CGI): `exec:/usr/bin/perl` runs the script with that program,
    // `exec:` runs the script itself.
    const program = s.slice(5);
    if (program.includes('\0') || (program !== '' && !program.startsWith('/'))) return { error: `exec: needs an absolute program path or nothing, got "${text}"` };
    return { kind: 'address', address: { kind: 'exec', program }, key: `exec:${program}` };
  }
  if (s.startsWith('unix:')) {
    const path = s.slice(5);
    if (path === '' || path.includes('\0')) return { error: `invalid unix socket path in "${text}"` };
    return { kind: 'address', address: { kind: 'unix', path }, key: `unix:${path}` };
  }
  if (s.startsWith('/')) return { kind: 'address', address: { kind: 'unix', path: s }, key: `unix:${s}` };
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return { error: `expected [v6]:port, got "${text}"` };
    host = s.slice(1, close);
    portText = s.slice(close + 2);
    if (net.isIPv6(host) === false) return { error: `invalid IPv6 address in "${text}"` };
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0) return { error: `expected host:port, got "${text}"` };
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return { error: `an IPv6 address needs brackets: "[${host}]:${portText}"` };
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return { error: `invalid port in "${text}"` };
  }
  const port = Number(portText);
  if (net.isIP(host) !== 0) return { kind: 'address', address: { kind: 'tcp', host, port }, key: tcpKey(host, port) };
  // RFC 1123 host names: letters, digits, hyphens and dots.
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(host)) {
    return { error: `invalid host name in "${text}"` };
  }
  return { kind: 'hostname', host: host.toLowerCase(), port, key: `${host.toLowerCase()}:${port}` };
}

/** The member key of a TCP address: `1.2.3.4:80`, `[::1]:80`. */
export function tcpKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The Host value to send when preserveHost is off (RFC 9110 §7.2): the member's authority. */
export function hostFieldFor(address: MemberAddress): string {
  return address.kind === 'tcp' ? tcpKey(address.host, address.port) : 'localhost';
}

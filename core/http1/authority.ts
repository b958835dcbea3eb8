// Validation of an authority `host [":" port]` from a Host header, an absolute-form target or a
// CONNECT target (RFC 9110 §4.2.3, §7.2; RFC 9112 §3.2; RFC 3986 §3.2.2; checklist B3).
import { isIPv6 } from 'node:net';

/**
 * Bytes allowed in a reg-name host. Narrower than RFC 3986 (no sub-delims, no pct-encoding):
 * the host picks virtual hosts and document roots, so only what DNS names and IPv4 literals use
 * is accepted (lighttpd's host normalisation makes the same cut).
 */
const HOST_CHAR = new Uint8Array(256);
for (const ch of '-._0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') {
  HOST_CHAR[ch.charCodeAt(0)] = 1;
}

const MAX_PORT = 65535;

/**
 * The host part of an authority, without its port: `example.org:8080` → `example.org`,
 * `[::1]:8080` → `[::1]` (lighttpd cuts at the first ':', which leaves `[` of an IPv6 literal).
 */
export function hostWithoutPort(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.indexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/**
 * Checks `host[:port]` and returns it lowercased with a trailing dot removed from the host
 * (`Example.COM.:80` → `example.com:80`), or null when it is invalid: empty host, empty label
 * (`..a`, `.a`), a byte outside [A-Za-z0-9._-], userinfo (`@`), an unterminated or malformed
 * `[IPv6]`, an empty port (`a:`), a port of more than 5 digits or above 65535.
 * With `requirePort` (CONNECT's authority-form, RFC 9112 §3.2.3) a missing port is invalid too.
 */
export function normalizeAuthority(s: string, requirePort: boolean): string | null {
  // Clients send the same Host on every request: the last answer is kept (one entry).
  if (s === lastInput && requirePort === lastRequirePort) return lastResult;
  const r = checkAuthority(s, requirePort);
  lastInput = s;
  lastRequirePort = requirePort;
  lastResult = r;
  return r;
}

let lastInput = '';
let lastRequirePort = false;
let lastResult: string | null = null;

function checkAuthority(s: string, requirePort: boolean): string | null {
  const len = s.length;
  if (len === 0) return null;
  let hostEnd: number;
  let trailingDot = false;
  let hasUpper = false;
  if (s.charCodeAt(0) === 0x5b) {
    // IP-literal (RFC 3986 §3.2.2). IPvFuture and zone ids (`%eth0`, which isIPv6 accepts) are not.
    hostEnd = s.indexOf(']');
    if (hostEnd < 0) return null;
    for (let i = 1; i < hostEnd; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x25) return null;
      if (c >= 0x41 && c <= 0x5a) hasUpper = true;
    }
    if (!isIPv6(s.slice(1, hostEnd))) return null;
    hostEnd++;
  } else {
    let i = 0;
    let prev = 0x2e; // a leading '.' counts as an empty label
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (HOST_CHAR[c] !== 1) break;
      if (c === 0x2e && prev === 0x2e) return null;
      if (c >= 0x41 && c <= 0x5a) hasUpper = true;
      prev = c;
    }
    hostEnd = i;
    if (hostEnd === 0) return null;
    trailingDot = prev === 0x2e;
    // A lone "." has no label at all.
    if (trailingDot && hostEnd === 1) return null;
  }
  if (hostEnd === len) {
    if (requirePort) return null;
  } else {
    if (s.charCodeAt(hostEnd) !== 0x3a) return null;
    const digits = len - hostEnd - 1;
    if (digits < 1 || digits > 5) return null;
    let port = 0;
    for (let i = hostEnd + 1; i < len; i++) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return null;
      port = port * 10 + d;
    }
    if (port > MAX_PORT) return null;
  }
  let out = s;
  if (trailingDot) out = s.slice(0, hostEnd - 1) + s.slice(hostEnd);
  return hasUpper ? out.toLowerCase() : out;
}

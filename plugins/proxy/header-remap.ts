// URL and host rewriting of lighttpd 1.4 mod_proxy's proxy.header (src/mod_proxy.c:
// http_header_remap_host_match, _urlpath, _uri, _setcookie): the request's Host, target and
// Destination/Content-Location going up; Location, Content-Location and Set-Cookie coming back.
// One RemapState per proxied request: what the request direction mapped is tried first in reverse.
import type { ProxyHeaderOptions } from './header-options.js';

export class RemapState {
  /** The first host value the request direction mapped to (`-` keys in the response match it). */
  private forwardedHost: string | null = null;
  /** The first map-urlpath pair the request used (tried first in reverse for the response). */
  private forwardedUrlpath: [string, string] | null = null;
  private readonly httpsRemap: boolean;

  /**
   * `httpHost`: the client's Host (null without one). `clientHttps`: the client used https (the
   * https-remap switch only acts then: mod_proxy talks http to backends).
   */
  constructor(readonly opts: ProxyHeaderOptions, private readonly httpHost: string | null, clientHttps: boolean) {
    this.httpsRemap = opts.httpsRemap && clientHttps;
  }

  /** The replacement authority for `authority`, or null (no match, or a match with an empty value). */
  private hostMatch(authority: string, isReq: boolean): string | null {
    const hosts = isReq ? this.opts.hostsRequest : this.opts.hostsResponse;
    if (!hosts) return null;
    const lower = authority.toLowerCase();
    for (const [key, value] of hosts) {
      let k: string | null = key;
      // `-` matches the client's Host (request) or the host sent upstream (response).
      if (key === '-') k = isReq || this.forwardedHost === null ? this.httpHost : this.forwardedHost;
      if (k === null || k.toLowerCase() !== lower) continue;
      if (value === '-') return this.httpHost;
      if (value.trim() === '') return null; // leave as is and stop matching
      if (isReq && this.forwardedHost === null) this.forwardedHost = value;
      return value;
    }
    return null;
  }

  /** map-host-request / map-host-response on a bare authority (Host value, cookie Domain). */
  remapHost(authority: string, isReq: boolean): string {
    return this.hostMatch(authority, isReq) ?? authority;
  }

  /**
   * map-urlpath on the start of `s` (a path, possibly followed by a query or cookie attributes):
   * going up, the first key that is a prefix is replaced by its value; coming back, values are
   * replaced by keys, the pair the request used first.
   */
  remapUrlpath(s: string, isReq: boolean): string {
    const paths = this.opts.urlpaths;
    if (!paths) return s;
    if (isReq) {
      for (const pair of paths) {
        if (!s.startsWith(pair[0])) continue;
        if (this.forwardedUrlpath === null) this.forwardedUrlpath = pair;
        return pair[1] + s.slice(pair[0].length);
      }
      return s;
    }
    const first = this.forwardedUrlpath;
    if (first && s.startsWith(first[1])) return first[0] + s.slice(first[1].length);
    for (const [from, to] of paths) if (s.startsWith(to)) return from + s.slice(to.length);
    return s;
  }

  /** A URI (absolute `scheme://authority/path` or an absolute path) in a header value. */
  remapUri(uri: string, isReq: boolean): string {
    if (uri.startsWith('/')) return this.remapUrlpath(uri, isReq);
    const colon = uri.indexOf(':');
    if (colon < 0 || uri[colon + 1] !== '/' || uri[colon + 2] !== '/') return uri;
    let scheme = uri.slice(0, colon);
    const authStart = colon + 3;
    const slash = uri.indexOf('/', authStart);
    let authority = slash < 0 ? uri.slice(authStart) : uri.slice(authStart, slash);
    if (authority === '') return uri; // "http:///"
    // lighttpd appends the "/" a bare authority lacks.
    let rest = slash < 0 ? '/' : uri.slice(slash);
    const mapped = this.hostMatch(authority, isReq);
    if (mapped !== null) {
      if (this.httpsRemap) {
        if (isReq && scheme === 'https') scheme = 'http';
        else if (!isReq && scheme === 'http') scheme = 'https';
      }
      authority = mapped;
    }
    if (!isReq) {
      const a = authority.toLowerCase();
      const include = this.opts.respHostInclude;
      const exclude = this.opts.respHostExclude;
      const rebuilt = `${scheme}://${authority}${rest}`;
      if (include && !include.some((h) => h.toLowerCase() === a)) return rebuilt;
      if (exclude && exclude.some((h) => h.toLowerCase() === a)) return rebuilt;
    }
    rest = this.remapUrlpath(rest, isReq);
    return `${scheme}://${authority}${rest}`;
  }

  /** Set-Cookie: the Path attribute through map-urlpath, the Domain attribute through map-host-response. */
  remapSetCookie(value: string): string {
    let out = '';
    let i = value.indexOf(';');
    if (i < 0) return value;
    out = value.slice(0, i);
    // Each attribute after the first `;` (RFC 6265 §4.1.1: `; Name=value`).
    while (i >= 0) {
      const next = value.indexOf(';', i + 1);
      const attr = next < 0 ? value.slice(i) : value.slice(i, next);
      out += this.remapCookieAttribute(attr);
      i = next;
    }
    return out;
  }

  private remapCookieAttribute(attr: string): string {
    const m = /^(;[ \t]*)([A-Za-z]+)(=)("?)(\.?)(.*)$/s.exec(attr);
    if (!m) return attr;
    const [, lead, name, eq, quote, dot, rest] = m;
    const lower = name.toLowerCase();
    if (lower === 'path' && rest.startsWith('/') && dot === '') {
      return lead + name + eq + quote + this.remapUrlpath(rest, false);
    }
    if (lower === 'domain') {
      const end = rest.search(/[ \t\r"]|$/);
      return lead + name + eq + quote + dot + this.remapHost(rest.slice(0, end), false) + rest.slice(end);
    }
    return attr;
  }
}

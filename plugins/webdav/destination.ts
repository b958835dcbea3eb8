// The Destination field of COPY and MOVE (RFC 4918 §10.3): an absolute URI on this very server
// (scheme and authority as the request's) or an absolute path; mapped to the file system the way
// lighttpd's mod_webdav maps it, from the request's own URL-path → file mapping.
import { normalizePath } from '../../core/http1/url.js';

export type Destination =
  | { ok: true; urlPath: string; physicalPath: string }
  | { ok: false; status: 400 | 403 | 502; reason: string };

export interface DestinationSource {
  scheme: string;
  /** The request's authority (host[:port]), lowercased. */
  host: string;
  /** The request's decoded URL path. */
  urlPath: string;
  /** Its physical path (maybe moved by an alias). */
  physicalPath: string;
  docRoot: string;
}

/**
 * Parse `value` and find the physical path it names. Another host → 502 (lighttpd: the server
 * cannot act for another one); a value that is not a URI or decodes badly → 400. The query is
 * dropped. The physical path reuses the source's mapping: the longest common directory prefix
 * of both URL paths is replaced by what it maps to for the source (so a webdav root moved by
 * mod_alias moves the destination too); otherwise the document root is used.
 */
export function resolveDestination(value: string | undefined, src: DestinationSource): Destination {
  if (value === undefined || value === '') return { ok: false, status: 400, reason: 'no Destination' };
  let rest = value.trim();
  if (!rest.startsWith('/')) {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(rest);
    if (!m || m[1]!.toLowerCase() !== src.scheme) return { ok: false, status: 400, reason: 'Destination is not an absolute URI of this scheme' };
    let authority = m[2]!.toLowerCase();
    const at = authority.lastIndexOf('@');
    if (at >= 0) authority = authority.slice(at + 1);
    if (authority !== src.host && stripDefaultPort(authority, src.scheme) !== stripDefaultPort(src.host, src.scheme)) {
      return { ok: false, status: 502, reason: `Destination on another host (${authority})` };
    }
    rest = m[3]!;
    if (!rest.startsWith('/')) return { ok: false, status: 400, reason: 'Destination has no path' };
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const decoded = normalizePath(rest);
  if ('error' in decoded) return { ok: false, status: 400, reason: `Destination path: ${decoded.error.detail}` };
  const urlPath = decoded.path;
  return { ok: true, urlPath, physicalPath: mapLikeSource(urlPath, src) };
}

function stripDefaultPort(authority: string, scheme: string): string {
  const port = scheme === 'https' ? ':443' : ':80';
  return authority.endsWith(port) ? authority.slice(0, -port.length) : authority;
}

function mapLikeSource(dstPath: string, src: DestinationSource): string {
  const a = src.urlPath;
  let i = 0;
  while (i < a.length && i < dstPath.length && a[i] === dstPath[i]) i++;
  // Back to the last '/' both share: a whole directory prefix.
  while (i > 0 && a[i - 1] !== '/') i--;
  const remain = a.slice(i);
  if (i > 0 && src.physicalPath.endsWith(remain) && src.physicalPath.length > remain.length) {
    return src.physicalPath.slice(0, src.physicalPath.length - remain.length) + dstPath.slice(i);
  }
  const root = src.docRoot.endsWith('/') ? src.docRoot.slice(0, -1) : src.docRoot;
  return root + dstPath;
}

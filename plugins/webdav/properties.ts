// PROPFIND (RFC 4918 §9.1): what the request body asks for (allprop, propname, prop) and the
// live properties of one resource (§15), written as lighttpd 1.4's mod_webdav writes them.
// No dead properties are stored (no properties database): a dead property is always 404.
import type fs from 'node:fs';
import { makeETag, type ETagFlags } from '../staticfile/etag.js';
import { formatHttpDate } from '../staticfile/http-date.js';
import { contentTypeFor } from '../staticfile/mime-type.js';
import { hrefElement, statusElement, xmlEscape } from './multistatus.js';
import { childElements, type XmlElement } from './xml-parser.js';

export const DAV_NS = 'DAV:';

/** lighttpd's limit on properties named in one PROPFIND ("too many properties"). */
export const MAX_PROPS = 32;

/** A property named in a request: its namespace and local name. */
export interface PropName {
  ns: string;
  name: string;
}

export type PropfindRequest =
  | { kind: 'allprop' }
  | { kind: 'propname' }
  | { kind: 'prop'; props: PropName[] };

/** The live properties lantern computes, in the order allprop lists them. */
export const LIVE_PROPS = [
  'creationdate', 'displayname', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified',
  'lockdiscovery', 'resourcetype', 'supportedlock',
] as const;
const LIVE = new Set<string>(LIVE_PROPS);

/**
 * Read a PROPFIND body. As lighttpd does, elements are matched by local name (`propfind`,
 * `allprop`, `propname`, `prop`, `include`) and a root that is not `propfind` means allprop;
 * more than 32 named properties → 400.
 */
export function readPropfind(root: XmlElement | null): PropfindRequest | { status: number; reason: string } {
  if (root === null || root.name !== 'propfind') return { kind: 'allprop' };
  let propname = false;
  let allprop = false;
  const props: PropName[] = [];
  for (const cmd of childElements(root)) {
    if (cmd.name === 'allprop') allprop = true;
    else if (cmd.name === 'propname') propname = true;
    else if (cmd.name === 'prop') {
      for (const p of childElements(cmd)) {
        if (props.length === MAX_PROPS) return { status: 400, reason: `too many properties in request (> ${MAX_PROPS})` };
        props.push({ ns: p.ns, name: p.name });
      }
    }
    // `include` names dead properties to add to allprop: there are none to add.
  }
  if (propname) return { kind: 'propname' };
  if (allprop || props.length === 0) return { kind: 'allprop' };
  return { kind: 'prop', props };
}

/** What the live properties are computed from. */
export interface PropSettings {
  /** etag.use-* flags; null when ETags are off. */
  etag: ETagFlags | null;
  /** mimetype.assign. */
  mimeAssign: unknown;
}

/** One resource as PROPFIND reports it. */
export interface Resource {
  /** Decoded URL path (a collection's ends in '/'). */
  urlPath: string;
  /** The file's name, for displayname. */
  name: string;
  stat: fs.Stats;
}

/** The value of one live property as XML, or null when the resource does not have it. */
function liveProp(name: string, r: Resource, s: PropSettings): string | null {
  const st = r.stat;
  const dir = st.isDirectory();
  switch (name) {
    case 'creationdate': {
      // RFC 4918 §15.1: a server that cannot record the creation time leaves it undefined.
      if (!(st.birthtimeMs > 0)) return null;
      const iso = new Date(Math.floor(st.birthtimeMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      return `<D:creationdate ns0:dt="dateTime.tz">${iso}</D:creationdate>`;
    }
    case 'displayname':
      return `<D:displayname>${xmlEscape(r.name)}</D:displayname>`;
    case 'getcontentlength':
      return `<D:getcontentlength>${st.size}</D:getcontentlength>`;
    case 'getcontenttype':
      return `<D:getcontenttype>${dir ? 'httpd/unix-directory' : xmlEscape(contentTypeFor(r.name, s.mimeAssign))}</D:getcontenttype>`;
    case 'getetag': {
      const tag = s.etag ? makeETag(st, s.etag) : null;
      return tag === null ? null : `<D:getetag>${xmlEscape(tag)}</D:getetag>`;
    }
    case 'getlastmodified':
      return `<D:getlastmodified ns0:dt="dateTime.rfc1123">${formatHttpDate(st.mtimeMs)}</D:getlastmodified>`;
    case 'lockdiscovery':
      // No locks are ever held (see LOCK).
      return '<D:lockdiscovery/>';
    case 'resourcetype':
      return dir ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>';
    case 'supportedlock':
      // LOCK is not offered, so no lock entry is (RFC 4918 §15.10 allows an empty list).
      return '<D:supportedlock/>';
    default:
      return null;
  }
}

/** `<name xmlns="ns"/>`, as lighttpd names a property it does not have. */
function emptyProp(p: PropName): string {
  return p.ns === DAV_NS ? `<D:${p.name}/>` : `<${p.name} xmlns="${xmlEscape(p.ns)}"/>`;
}

function propstat(props: string[], status: number): string {
  return `<D:propstat>\n<D:prop>\n${props.join('\n')}\n</D:prop>\n${statusElement(status)}</D:propstat>\n`;
}

/** The `<D:response>` element for one resource. */
export function resourceResponse(r: Resource, req: PropfindRequest, s: PropSettings): string {
  const found: string[] = [];
  const missing: string[] = [];
  if (req.kind === 'propname') {
    for (const name of LIVE_PROPS) if (liveProp(name, r, s) !== null) found.push(`<D:${name}/>`);
  } else if (req.kind === 'allprop') {
    for (const name of LIVE_PROPS) {
      const v = liveProp(name, r, s);
      if (v !== null) found.push(v);
    }
  } else {
    for (const p of req.props) {
      const v = p.ns === DAV_NS && LIVE.has(p.name) ? liveProp(p.name, r, s) : null;
      if (v !== null) found.push(v);
      else missing.push(emptyProp(p));
    }
  }
  let out = `<D:response>\n${hrefElement(r.urlPath)}`;
  if (found.length > 0) out += propstat(found, 200);
  if (missing.length > 0) out += propstat(missing, 404);
  return `${out}</D:response>\n`;
}

/** A member that could not be read: `<D:propstat>` with only a 403 status, as lighttpd writes it. */
export function forbiddenResponse(urlPath: string): string {
  return `<D:response>\n${hrefElement(urlPath)}<D:propstat>\n${statusElement(403)}</D:propstat>\n</D:response>\n`;
}

// PROPFIND (RFC 4918 §9.1) as lighttpd 1.4's mod_webdav answers it: Depth 0 and 1, Depth
// infinity (or no Depth) refused with 403 propfind-finite-depth unless webdav.opts allows it
// (then at most 100 levels deep), 207 Multi-Status with one response per resource.
import fs from 'node:fs';
import path from 'node:path';
import { encodeUrlPath } from '../staticfile/url-encode.js';
import { absoluteUrl, answer, answerXml, isXmlContentType, statOrNull, type DavRequest } from './dav-request.js';
import { errorDocument, multistatusDocument } from './multistatus.js';
import { forbiddenResponse, readPropfind, resourceResponse, type PropfindRequest, type Resource } from './properties.js';
import { readXmlBody } from './xml-body.js';
import { TEMP_PREFIX } from './tree.js';

/** lighttpd's recursion limit for Depth: infinity (symlink loops, resource use). */
const MAX_RECURSION = 100;

/** Depth as lighttpd reads it: "0", "1", anything else (or none) is infinity (-1). */
export function parseDepth(value: string | undefined): 0 | 1 | -1 {
  const c = value?.trim()[0];
  return c === '0' ? 0 : c === '1' ? 1 : -1;
}

export async function propfind(d: DavRequest): Promise<void> {
  const { req, s } = d;
  // lighttpd refuses a body without an XML Content-Type; a body with none at all is read as XML
  // here (neon-based clients such as litmus send it so), only another declared type is refused.
  const type = req.header('content-type');
  if (req.body.present && type !== undefined && !isXmlContentType(type)) {
    answer(d, 415);
    return;
  }
  let depth = parseDepth(req.header('depth'));
  if (depth === -1 && !s.depthInfinity) {
    answerXml(d, 403, errorDocument('propfind-finite-depth'));
    return;
  }
  const { st, code } = await statOrNull(req.physicalPath, s.followSymlinks);
  if (st === null) {
    answer(d, code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 403);
    return;
  }
  let urlPath = req.path;
  const fields: string[] = [];
  if (st.isDirectory()) {
    if (!urlPath.endsWith('/')) {
      // lighttpd answers for the collection and says where it is, instead of redirecting.
      urlPath += '/';
      fields.push('Content-Location', absoluteUrl(req, encodeUrlPath(urlPath) + (req.query !== null ? `?${req.query}` : '')));
    }
  } else if (urlPath.endsWith('/')) {
    answer(d, 403);
    return;
  } else {
    depth = 0;
  }
  let ask: PropfindRequest = { kind: 'allprop' };
  if (req.body.present) {
    const body = await readXmlBody(d);
    if (body === undefined) return; // answered
    const r = readPropfind(body);
    if ('status' in r) {
      d.logError(r.reason);
      answer(d, r.status);
      return;
    }
    ask = r;
  }
  const self: Resource = { urlPath, name: displayName(urlPath), stat: st };
  let out = '';
  if (depth === 0) out = resourceResponse(self, ask, s.props);
  else out = await listCollection(d, self, req.physicalPath, ask, depth, 1);
  if (req.finished) return;
  answerXml(d, 207, multistatusDocument(out, true), fields);
}

/** The collection's own response, then its members' (recursing for Depth: infinity). */
async function listCollection(d: DavRequest, dir: Resource, dirPath: string, ask: PropfindRequest, depth: 1 | -1, level: number): Promise<string> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dirPath);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? '' : forbiddenResponse(dir.urlPath);
  }
  let out = resourceResponse(dir, ask, d.s.props);
  names.sort();
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const p = path.join(dirPath, name);
    const { st } = await statOrNull(p, d.s.followSymlinks);
    // Gone meanwhile; or, with server.follow-symlink disabled, a link (never served either).
    if (st === null || st.isSymbolicLink()) continue;
    const member: Resource = { urlPath: dir.urlPath + name + (st.isDirectory() ? '/' : ''), name, stat: st };
    if (st.isDirectory() && depth === -1 && level < MAX_RECURSION) out += await listCollection(d, member, p, ask, depth, level + 1);
    else out += resourceResponse(member, ask, d.s.props);
  }
  return out;
}

/** The last segment of a decoded URL path ("" for the root). */
function displayName(urlPath: string): string {
  const trimmed = urlPath.endsWith('/') ? urlPath.slice(0, -1) : urlPath;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

// Where `include`, `fsize` and `flastmod` look (lighttpd mod_ssi): `file=` is a path relative to
// the current document's directory that must stay inside the document root; `virtual=` is a URL
// path (relative to the current document's URL directory unless it starts with "/"), mapped to
// the file system next to the current document when their URLs share a directory (so a
// document served through an alias finds its neighbours), else below the document root.
import path from 'node:path';
import { fromUtf8Bytes, percentDecode } from './ssi-values.js';

/** The document being processed: the requested one or an included one. */
export interface DocumentPlace {
  /** Its file (Unicode). */
  physicalPath: string;
  /** Its URL path, decoded and normalised (Unicode). */
  uriPath: string;
}

export type IncludeTarget =
  | { ok: true; physicalPath: string; uriPath: string }
  | { ok: false; reason: string };

/** `file=` or `virtual=`, as written in the document (a byte string). */
export function resolveIncludeTarget(kind: 'file' | 'virtual', value: string, doc: DocumentPlace, docRoot: string): IncludeTarget {
  let bytes = value;
  if (kind === 'virtual') {
    // A query is not part of the file name (Apache passes it to the subrequest; there is none here).
    const q = bytes.indexOf('?');
    if (q >= 0) bytes = bytes.slice(0, q);
  }
  const decoded = fromUtf8Bytes(percentDecode(bytes));
  if (decoded === null) return { ok: false, reason: `invalid UTF-8 after url-decode: ${JSON.stringify(value)}` };
  if (decoded === '' || decoded.includes('\0')) return { ok: false, reason: `bad ${kind} path ${JSON.stringify(value)}` };
  if (kind === 'file') {
    const root = path.resolve(docRoot);
    const target = path.resolve(path.dirname(doc.physicalPath), decoded);
    const rel = path.relative(root, target);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      return { ok: false, reason: `file="${decoded}" is outside the document root` };
    }
    return { ok: true, physicalPath: target, uriPath: '' };
  }
  const joined = decoded.startsWith('/') ? decoded : doc.uriPath.slice(0, doc.uriPath.lastIndexOf('/') + 1) + decoded;
  // posix.normalize removes "." and ".." segments and never climbs above "/".
  const uriPath = path.posix.normalize(joined);
  if (uriPath.endsWith('/')) return { ok: false, reason: `virtual="${decoded}" names a directory` };
  return { ok: true, physicalPath: mapUriToFile(uriPath, doc, docRoot), uriPath };
}

/**
 * The file for `uriPath`: the part of the current document's URL from the last directory the two
 * URLs share is replaced in its physical path (lighttpd's remap); when the physical path does not
 * end with that part (a rewrite, a lowercased name) or they share only "/", the document root plus
 * the URL path.
 */
function mapUriToFile(uriPath: string, doc: DocumentPlace, docRoot: string): string {
  const cur = doc.uriPath;
  let i = 0;
  while (i < cur.length && i < uriPath.length && cur[i] === uriPath[i]) i++;
  while (i > 0 && cur[--i] !== '/');
  const remain = cur.slice(i);
  // i = 0: only "/" is shared, and the document root is the base (lighttpd would take the
  // alias's parent directory there).
  if (i > 0 && doc.physicalPath.endsWith(remain)) {
    return doc.physicalPath.slice(0, doc.physicalPath.length - remain.length) + uriPath.slice(i);
  }
  const root = docRoot.endsWith('/') ? docRoot.slice(0, -1) : docRoot;
  return root + uriPath;
}

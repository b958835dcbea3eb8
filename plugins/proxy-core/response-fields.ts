// Hop-by-hop fields of a backend's response (RFC 9110 §7.6.1; checklist D13): removed before the
// core re-frames the response, so the backend's Connection, Keep-Alive, Transfer-Encoding,
// Upgrade (except on a 101 we tunnel) and every field its Connection header names never reach
// the client. Also the X-Sendfile lookup (lighttpd's X-Sendfile / X-LIGHTTPD-send-file).
import { connectionOption, equalsLower, hasToken, listElement, listScan } from '../../core/http1/field-lines.js';
import type { HeaderList } from '../../core/http1/types.js';

const enum Hop { No, Always, Connection, Upgrade }

/**
 * What a field name is to hop-by-hop removal (RFC 9110 §7.6.1, plus the pre-standard
 * Proxy-Connection): by length first, then compared ignoring case without a lowercase copy (the
 * names came through a strict parser: tokens).
 */
function hopKind(name: string): Hop {
  switch (name.length) {
    case 2: return equalsLower(name, 0, 'te') ? Hop.Always : Hop.No;
    case 7: return equalsLower(name, 0, 'upgrade') ? Hop.Upgrade : Hop.No;
    case 10:
      if (equalsLower(name, 0, 'connection')) return Hop.Connection;
      return equalsLower(name, 0, 'keep-alive') ? Hop.Always : Hop.No;
    case 16: return equalsLower(name, 0, 'proxy-connection') ? Hop.Always : Hop.No;
    case 17: return equalsLower(name, 0, 'transfer-encoding') ? Hop.Always : Hop.No;
    default: return Hop.No;
  }
}

/** Adds to `named` the lowercased field names a Connection value lists (its options aside). */
function connectionNamed(v: string, named: string[] | null): string[] | null {
  let i = 0;
  while (i <= v.length) {
    i = listElement(v, i);
    const { start, end } = listScan;
    if (end > start && connectionOption(v, start, end - start) === null) (named ??= []).push(v.slice(start, end).toLowerCase());
  }
  return named;
}

/**
 * Removes the hop-by-hop fields from `headers`, in place, and returns it: the list is the one a
 * response parser just made for this response, so nobody else holds it. The common head (a
 * `Connection: keep-alive` and nothing it names) costs no lowercase copy and no set lookup.
 * `keepUpgrade`: a 101 we tunnel keeps its Upgrade field.
 */
export function stripHopByHop(headers: HeaderList, keepUpgrade: boolean): HeaderList {
  let found = false;
  let named: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const kind = hopKind(headers[i]!);
    if (kind === Hop.No) continue;
    found = true;
    if (kind === Hop.Connection) named = connectionNamed(headers[i + 1]!, named);
  }
  if (!found) return headers;
  let j = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const kind = hopKind(name);
    if (kind === Hop.Always || kind === Hop.Connection || (kind === Hop.Upgrade && !keepUpgrade)) continue;
    if (named !== null && hasToken(named, name.toLowerCase())) continue;
    headers[j] = name;
    headers[j + 1] = headers[i + 1]!;
    j += 2;
  }
  // pop(), not `length = j`: setting an array's length is a runtime call in V8.
  while (headers.length > j) headers.pop();
  return headers;
}

/** The file an X-Sendfile (or X-LIGHTTPD-send-file) field names, or null. */
export function xSendfilePath(headers: HeaderList): string | null {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== 10 && name.length !== 20) continue;
    const lower = name.toLowerCase();
    if (lower === 'x-sendfile' || lower === 'x-lighttpd-send-file') return headers[i + 1]!;
  }
  return null;
}

/**
 * Fields a file served for X-Sendfile describes itself: the backend's values are dropped. Its
 * Content-Type is kept (the file's type from mimetype.assign only when it sent none), as lighttpd.
 */
const FILE_FIELDS = new Set([
  'x-sendfile', 'x-lighttpd-send-file', 'content-length', 'content-range',
  'last-modified', 'etag', 'accept-ranges', 'content-encoding',
]);

/** The backend's fields to keep on an X-Sendfile answer (Content-Disposition, Cache-Control, Set-Cookie...). */
export function fieldsKeptForFile(headers: HeaderList): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!FILE_FIELDS.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

// Hop-by-hop fields of a backend's response (RFC 9110 §7.6.1; checklist D13): removed before the
// core re-frames the response, so the backend's Connection, Keep-Alive, Transfer-Encoding,
// Upgrade (except on a 101 we tunnel) and every field its Connection header names never reach
// the client. Also the X-Sendfile lookup (lighttpd's X-Sendfile / X-LIGHTTPD-send-file).
import type { HeaderList } from '../../core/http1/types.js';

/** Always hop-by-hop (RFC 9110 §7.6.1), plus the pre-standard Proxy-Connection. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']);

/** Tokens of Connection that name no field to remove. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade']);

/** Only these name lengths can be a hop-by-hop field: te 2, upgrade 7, connection and keep-alive 10, proxy-connection 16, transfer-encoding 17. */
function maybeHopByHop(len: number): boolean {
  return len === 2 || len === 7 || len === 10 || len === 16 || len === 17;
}

/**
 * `headers` without hop-by-hop fields. Returns `headers` itself when there is nothing to remove
 * (the common case: no copy). `keepUpgrade`: a 101 we tunnel keeps its Upgrade field.
 */
export function stripHopByHop(headers: HeaderList, keepUpgrade: boolean): HeaderList {
  let found = false;
  let named: Set<string> | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!maybeHopByHop(name.length)) continue;
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower)) continue;
    found = true;
    if (lower === 'connection') {
      const v = headers[i + 1]!;
      // One token (`keep-alive`, `close`) is the common case: no split.
      const tokens = v.indexOf(',') < 0 ? [v] : v.split(',');
      for (const t of tokens) {
        const token = t.trim().toLowerCase();
        if (token !== '' && !CONNECTION_OPTIONS.has(token)) (named ??= new Set()).add(token);
      }
    }
  }
  if (!found) return headers;
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const lower = maybeHopByHop(name.length) || named !== null ? name.toLowerCase() : '';
    if (HOP_BY_HOP.has(lower) && !(keepUpgrade && lower === 'upgrade')) continue;
    if (named !== null && named.has(lower)) continue;
    out.push(name, headers[i + 1]!);
  }
  return out;
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

/** Fields a file served for X-Sendfile describes itself: the backend's values are dropped. */
const FILE_FIELDS = new Set([
  'x-sendfile', 'x-lighttpd-send-file', 'content-length', 'content-type', 'content-range',
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

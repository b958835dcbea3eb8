// The CGI/1.1 environment (RFC 3875 §4.1) proxy-core builds once for CGI-family protocols
// (FastCGI, SCGI, CGI, uwsgi): the meta-variables, HTTP_* from the upstream fields, then req.env.
import { VERSION } from '../../core/version.js';
import type { UpstreamRequest } from './types.js';

/** Header fields that never become HTTP_* variables. */
function skipField(lower: string): boolean {
  // §4.1.18: Content-Length and Content-Type are CONTENT_LENGTH / CONTENT_TYPE already.
  // C5 (httpoxy, CVE-2016-5385): HTTP_PROXY would be read as a proxy setting by the application.
  return lower === 'content-length' || lower === 'content-type' || lower === 'proxy';
}

/** `X-Forwarded-For` → `HTTP_X_FORWARDED_FOR` (§4.1.18). */
function envName(field: string): string {
  let out = 'HTTP_';
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    out += c === 45 ? '_' : c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : field[i];
  }
  return out;
}

export function buildCgiEnv(up: UpstreamRequest): Array<[string, string]> {
  const req = up.req;
  const conn = req.conn;
  const vars = new Map<string, string>();
  const q = up.target.indexOf('?');
  const hostNoPort = req.host.startsWith('[') ? req.host.slice(0, req.host.indexOf(']') + 1) : req.host.split(':')[0] ?? '';
  const serverName = (req.config.values.get('server.name') as string | undefined) || hostNoPort;
  vars.set('GATEWAY_INTERFACE', 'CGI/1.1');
  vars.set('SERVER_SOFTWARE', `lantern/${VERSION}`);
  vars.set('SERVER_NAME', serverName);
  vars.set('SERVER_PROTOCOL', `HTTP/1.${req.head.versionMinor}`);
  vars.set('SERVER_PORT', String(conn.socket.localPort ?? ''));
  vars.set('SERVER_ADDR', conn.socket.localAddress ?? '');
  vars.set('REQUEST_METHOD', up.method);
  vars.set('REQUEST_URI', up.target);
  vars.set('REQUEST_SCHEME', req.scheme);
  if (req.scheme === 'https') vars.set('HTTPS', 'on');
  // §4.1.7: QUERY_STRING is always set, "" when there is no query.
  vars.set('QUERY_STRING', q < 0 ? '' : up.target.slice(q + 1));
  vars.set('SCRIPT_NAME', req.path);
  if (req.physicalPath !== '') vars.set('SCRIPT_FILENAME', req.physicalPath);
  if (req.docRoot !== '') vars.set('DOCUMENT_ROOT', req.docRoot);
  vars.set('REMOTE_ADDR', conn.remoteAddress);
  vars.set('REMOTE_PORT', String(conn.remotePort));
  // §4.1.2: CONTENT_LENGTH only when there is a body, and its length after de-chunking.
  if (up.bodyLength > 0) vars.set('CONTENT_LENGTH', String(up.bodyLength));
  const h = up.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const lower = name.toLowerCase();
    if (lower === 'content-type') { vars.set('CONTENT_TYPE', h[i + 1]!); continue; }
    // B12: a name with `_` would collide with the `-` form.
    if (skipField(lower) || name.indexOf('_') >= 0) continue;
    const key = envName(name);
    const prev = vars.get(key);
    // C4: repeated fields are joined; Cookie with "; " (RFC 6265 §5.4).
    vars.set(key, prev === undefined ? h[i + 1]! : prev + (lower === 'cookie' ? '; ' : ', ') + h[i + 1]!);
  }
  for (const [k, v] of req.env) vars.set(k, v);
  return [...vars];
}

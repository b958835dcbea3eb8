// What a hashing balancer hashes (design.md §3, BalancerOptions.hashKey): `url`, `path`, `host`,
// `client-ip`, `header:<Name>`, `cookie:<name>`. Parsed once per backend at create(); reading a
// key is then one property read (or one header scan) per request.
import type { Request } from '../../core/request.js';

/** Reads the key of one request; '' when the request has none (no such header or cookie). */
export type HashKeyReader = (req: Request) => string;

/** RFC 9110 §5.6.2 token: header field names (§5.1) and cookie names (RFC 6265 §4.1.1) are tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const HASH_KEY_FORMS = '"url", "path", "host", "client-ip", "header:<Name>" or "cookie:<name>"';

const readUrl: HashKeyReader = (req) => req.target;
const readPath: HashKeyReader = (req) => req.path;
const readHost: HashKeyReader = (req) => req.host;
const readClientIp: HashKeyReader = (req) => req.conn.remoteAddress;

/**
 * Compile a hashKey value into its reader. Throws an Error that names the value and the accepted
 * forms when the value is not one of them (proxy-core reports it as a config error).
 */
export function compileHashKey(spec: string): HashKeyReader {
  switch (spec) {
    case 'url': return readUrl;
    case 'path': return readPath;
    case 'host': return readHost;
    case 'client-ip': return readClientIp;
  }
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const name = colon < 0 ? '' : spec.slice(colon + 1);
  if ((kind === 'header' || kind === 'cookie') && !TOKEN.test(name)) {
    throw new Error(`invalid hash key "${spec}": ${kind}: must be followed by a ${kind} name (an RFC 9110 token), e.g. "${kind}:${kind === 'header' ? 'X-Tenant' : 'session'}"`);
  }
  // Header names are case-insensitive (RFC 9110 §5.1): req.header() compares them so.
  if (kind === 'header') return (req) => req.header(name) ?? '';
  // Cookie names are case-sensitive (RFC 6265 §5.4 compares them octet by octet).
  if (kind === 'cookie') return (req) => cookieValue(req.header('cookie') ?? '', name);
  throw new Error(`invalid hash key "${spec}": expected ${HASH_KEY_FORMS}`);
}

const SP = 0x20;
const HTAB = 0x09;

function isSpace(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §4.2.1: `a=1; b=2`; several Cookie
 * fields arrive joined with "; " by req.header()). Whitespace around names and values is
 * ignored, as user agents and servers differ on it; a value in DQUOTEs keeps them (§4.1.1 makes
 * them part of the value). The first pair with the name wins (§4.2.2: user agents send the
 * most specific path first). '' when absent.
 */
export function cookieValue(header: string, name: string): string {
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(header.charCodeAt(i))) i++;
    let end = header.indexOf(';', i);
    if (end < 0) end = n;
    const eq = header.indexOf('=', i);
    if (eq >= 0 && eq < end) {
      let nameEnd = eq;
      while (nameEnd > i && isSpace(header.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd - i === name.length && header.startsWith(name, i)) {
        let from = eq + 1;
        let to = end;
        while (from < to && isSpace(header.charCodeAt(from))) from++;
        while (to > from && isSpace(header.charCodeAt(to - 1))) to--;
        return header.slice(from, to);
      }
    }
    i = end + 1;
  }
  return '';
}

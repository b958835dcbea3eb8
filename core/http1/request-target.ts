// The four request-target forms (RFC 9112 §3.2.1-§3.2.4) and what each one means for routing:
// origin-form, absolute-form (its authority wins over Host, §3.2.2), authority-form (CONNECT
// only) and asterisk-form (OPTIONS only). Checklist rows B2, B4.
import { normalizeAuthority } from './authority.js';
import { equalsLower } from './field-lines.js';
import type { FramingError } from './types.js';

function badTarget(detail: string): FramingError {
  return { code: 'LT_ERR_BAD_TARGET', detail };
}

/** Target form, authority and path of the request (RFC 9112 §3.2.1-§3.2.4). */
export interface TargetInfo {
  pathAndQuery: string;
  absoluteHost: string | null;
  scheme: string | null;
}

/**
 * Classifies `target` (already checked to hold only VCHARs) for `method`: returns the
 * path-and-query to route on, the normalised authority and scheme of an absolute-form target,
 * or LT_ERR_BAD_TARGET.
 */
export function classifyTarget(method: string, target: string): TargetInfo | FramingError {
  const first = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // §3.2.3: CONNECT takes authority-form only, and the port is not optional there.
    if (normalizeAuthority(target, true) === null) return badTarget('CONNECT needs host:port');
    return { pathAndQuery: target, absoluteHost: null, scheme: null };
  }
  if (first === 0x2f) return { pathAndQuery: target, absoluteHost: null, scheme: null };
  if (first === 0x2a && target.length === 1) {
    // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    if (method !== 'OPTIONS') return badTarget('* with a method other than OPTIONS');
    return { pathAndQuery: target, absoluteHost: null, scheme: null };
  }
  // §3.2.2 absolute-form, http and https only (case-insensitive scheme, RFC 3986 §3.1).
  let schemeLen = 0;
  if (target.length > 7 && equalsLower(target, 0, 'http://')) schemeLen = 7;
  else if (target.length > 8 && equalsLower(target, 0, 'https://')) schemeLen = 8;
  else return badTarget('not origin-, absolute-, authority- or asterisk-form');
  let authorityEnd = schemeLen;
  for (; authorityEnd < target.length; authorityEnd++) {
    const c = target.charCodeAt(authorityEnd);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
  }
  // RFC 9110 §4.2.1, §4.2.4: an empty host or userinfo makes the http(s) URI invalid.
  const host = normalizeAuthority(target.slice(schemeLen, authorityEnd), false);
  if (host === null) return badTarget('invalid authority in absolute-form target');
  const rest = target.slice(authorityEnd);
  return {
    pathAndQuery: rest.length > 0 && rest.charCodeAt(0) === 0x2f ? rest : '/' + rest,
    absoluteHost: host,
    scheme: schemeLen === 7 ? 'http' : 'https',
  };
}

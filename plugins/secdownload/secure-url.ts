// The URL and token rules of lighttpd's mod_secdownload (last shipped in lighttpd 1.4.67):
//   <uri-prefix><mac>/<timestamp><rel-path>
// mac: md5 = 32 hex digits of md5(secret + rel-path + timestamp); hmac-sha1 (27 chars) and
// hmac-sha256 (43 chars) = base64url without padding of HMAC(secret, "/" timestamp rel-path).
// timestamp: 1 to 16 hex digits, seconds since the epoch. rel-path: "/" and the file's path.
import crypto from 'node:crypto';

export type SecdownloadAlgorithm = 'md5' | 'hmac-sha1' | 'hmac-sha256';

/** The token's length in the URL for each algorithm. */
export const MAC_LENGTH: Record<SecdownloadAlgorithm, number> = { md5: 32, 'hmac-sha1': 27, 'hmac-sha256': 43 };

/** The parts of a path under the prefix, or null when it does not have the secure-URL shape. */
export interface SecureUrl {
  mac: string;
  /** The timestamp as written in the URL (hex digits). */
  timestampHex: string;
  /** `/<timestamp><rel-path>`: what the HMAC algorithms sign. */
  protectedPath: string;
  /** `/<path>`: the file below secdownload.document-root. */
  relPath: string;
}

/** Characters of a base64url token (md5's hex digits are among them). */
const TOKEN_CHAR = /^[A-Za-z0-9_-]*$/;
const HEX_DIGIT = /[0-9A-Fa-f]/;

/**
 * Splits `rest` (the path after the prefix) into token, timestamp and relative path. lighttpd
 * leaves a path of another shape to the other modules (usually a 404), so does this.
 */
export function parseSecureUrl(rest: string, macLength: number): SecureUrl | null {
  const mac = rest.slice(0, macLength);
  if (mac.length !== macLength || !TOKEN_CHAR.test(mac)) return null;
  if (rest.charCodeAt(macLength) !== 0x2f /* / */) return null;
  const tsStart = macLength + 1;
  let tsEnd = tsStart;
  while (tsEnd - tsStart < 16 && tsEnd < rest.length && HEX_DIGIT.test(rest[tsEnd]!)) tsEnd++;
  if (tsEnd === tsStart || rest.charCodeAt(tsEnd) !== 0x2f) return null;
  return { mac, timestampHex: rest.slice(tsStart, tsEnd), protectedPath: rest.slice(macLength), relPath: rest.slice(tsEnd) };
}

/**
 * Whether the timestamp lies within `timeoutSecs` of now, either way (a clock ahead of the
 * server's counts the same as one behind).
 */
export function withinTimeout(timestampHex: string, nowSecs: number, timeoutSecs: number): boolean {
  // Up to 16 hex digits: beyond 2^53 the number is inexact, but then it is far out of range anyway.
  const ts = parseInt(timestampHex, 16);
  return Math.abs(nowSecs - ts) <= timeoutSecs;
}

/**
 * What the token covers: the protected path, cut after `pathSegments` segments of the relative
 * path when that is set (0 = all of it; one token then opens a whole folder), then `?query` when
 * `query` is given and not empty (secdownload.hash-querystr).
 */
export function signedText(url: SecureUrl, pathSegments: number, query: string | null): string {
  let text = url.protectedPath;
  if (pathSegments > 0) {
    const relStart = 1 + url.timestampHex.length;
    let end = relStart;
    let count = pathSegments;
    do {
      end = text.indexOf('/', end + 1);
    } while (end >= 0 && --count > 0);
    if (end >= 0) text = text.slice(0, end);
  }
  if (query !== null && query !== '') text += '?' + query;
  return text;
}

/** Checks the URL's token against `signed` (from signedText) in constant time. */
export function verifyMac(algorithm: SecdownloadAlgorithm, secret: string, url: SecureUrl, signed: string): boolean {
  if (url.mac.length !== MAC_LENGTH[algorithm]) return false;
  if (algorithm === 'md5') {
    // md5(secret + rel-path + timestamp): the rel-path as signed (cut, with its query).
    if (!/^[0-9A-Fa-f]{32}$/.test(url.mac)) return false;
    const rel = signed.slice(1 + url.timestampHex.length);
    const expected = crypto.createHash('md5').update(secret + rel + url.timestampHex).digest();
    return crypto.timingSafeEqual(expected, Buffer.from(url.mac, 'hex'));
  }
  const hash = algorithm === 'hmac-sha1' ? 'sha1' : 'sha256';
  const expected = Buffer.from(crypto.createHmac(hash, secret).update(signed).digest('base64url'), 'latin1');
  const given = Buffer.from(url.mac, 'latin1');
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

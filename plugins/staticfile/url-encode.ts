// Percent-encoding of decoded paths for Location headers and links (RFC 3986 §2.1, §3.3):
// UTF-8 bytes outside the segment character set become %XX.

/** pchar without ':' (RFC 3986 §3.3 segment-nz-nc), so a relative link never reads as a scheme. */
const SEGMENT_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=@]/;

/** Encode one path segment (a file name): everything but unreserved and some sub-delims. */
export function encodePathSegment(name: string): string {
  let out = '';
  for (const ch of name) {
    if (ch.length === 1 && SEGMENT_SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of Buffer.from(ch, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}

/** Encode a decoded absolute path, keeping its `/` separators. */
export function encodeUrlPath(path: string): string {
  return path.split('/').map(encodePathSegment).join('/');
}

// WebDAV XML responses (RFC 4918 §13 Multi-Status, §14 XML elements), written in the form
// lighttpd 1.4's mod_webdav writes them: the `D:` prefix for "DAV:", one element a line.
import { statusText } from '../../core/errors.js';
import { encodeUrlPath } from '../staticfile/url-encode.js';

/** lighttpd's Content-Type for WebDAV XML bodies. */
export const XML_CONTENT_TYPE = 'application/xml;charset=utf-8';

export const XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n';

/** The Microsoft datatypes namespace lighttpd declares for the `dt` attributes of dates. */
export const NS0 = 'urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escape text for element content or an attribute value. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** `<D:href>` with the decoded URL path percent-encoded (RFC 4918 §8.3.1, §14.7). */
export function hrefElement(urlPath: string): string {
  return `<D:href>${xmlEscape(encodeUrlPath(urlPath))}</D:href>\n`;
}

/** `<D:status>HTTP/1.1 404 Not Found</D:status>` (RFC 4918 §14.28). */
export function statusElement(status: number): string {
  return `<D:status>HTTP/1.1 ${status} ${statusText(status)}</D:status>\n`;
}

/** A whole multistatus document around `responses` (each a `<D:response>` element). */
export function multistatusDocument(responses: string, withNs0: boolean): string {
  return `${XML_DECL}<D:multistatus xmlns:D="DAV:"${withNs0 ? ` xmlns:ns0="${NS0}"` : ''}>\n${responses}</D:multistatus>\n`;
}

/** `<D:response>` for one href and one status (errors inside DELETE/COPY/MOVE of a collection). */
export function statusResponse(urlPath: string, status: number): string {
  return `<D:response>\n${hrefElement(urlPath)}${statusElement(status)}</D:response>\n`;
}

/** An RFC 4918 §16 error body: `<D:error><D:name/></D:error>`. */
export function errorDocument(condition: string): string {
  return `${XML_DECL}<D:error xmlns:D="DAV:"><D:${condition}/></D:error>\n`;
}

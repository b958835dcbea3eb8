// Reading a WebDAV XML request body: bounded in size (413 past the limit), decoded as UTF-8,
// parsed strictly (400 when not well-formed, RFC 4918 §8.3), logged with webdav.log-xml.
import { isUtf8 } from 'node:buffer';
import { LanternError } from '../../core/errors.js';
import { answer, type DavRequest } from './dav-request.js';
import { parseXml, XmlError, type XmlElement } from './xml-parser.js';

/** The largest XML body read (PROPFIND, PROPPATCH, LOCK bodies are a few hundred bytes). */
export const MAX_XML_BODY_BYTES = 1024 * 1024;

/**
 * The body's root element; null for an empty body; undefined when the request was answered
 * (400, 413) or went away.
 */
export async function readXmlBody(d: DavRequest): Promise<XmlElement | null | undefined> {
  let raw: Buffer;
  try {
    raw = await d.req.body.buffer(MAX_XML_BODY_BYTES);
  } catch (err) {
    if (LanternError.is(err) && err.status === 413) {
      d.req.keepAlive = false;
      answer(d, 413);
    } else if (!d.req.finished) {
      d.req.keepAlive = false;
      answer(d, 400);
    }
    return undefined;
  }
  if (d.req.finished) return undefined;
  const text = raw.toString('utf8');
  if (d.s.logXml) d.logError(`XML-request-body: ${text}`);
  if (raw.length === 0) return null;
  if (!isUtf8(raw)) {
    d.logError(`${d.req.method} ${d.req.path}: request body is not UTF-8`);
    answer(d, 400);
    return undefined;
  }
  try {
    return parseXml(text);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    d.logError(`${d.req.method} ${d.req.path}: XML request body: ${err.message}`);
    answer(d, 400);
    return undefined;
  }
}

// What every WebDAV method handler gets: the request, the settings its config block gives, and
// the ways to answer (an empty status, an XML body, the error log for webdav.log-xml).
import fs from 'node:fs';
import type { ErrorCode } from '../../core/errors.js';
import type { Request } from '../../core/request.js';
import { XML_CONTENT_TYPE } from './multistatus.js';
import type { PropSettings } from './properties.js';

export interface DavSettings {
  readOnly: boolean;
  logXml: boolean;
  /** webdav.opts "propfind-depth-infinity". */
  depthInfinity: boolean;
  /** server.follow-symlink. */
  followSymlinks: boolean;
  props: PropSettings;
}

export interface DavRequest {
  req: Request;
  s: DavSettings;
  logError(message: string): void;
  /**
   * A path (and, for a collection, all below it) changed: the static file cache forgets it, so
   * a GET right after a PUT, DELETE, COPY or MOVE sees the change (lighttpd updates its stat cache).
   */
  changed(physicalPath: string): void;
  /** Whether the config for this URL path (on this host) has WebDAV on and writable. */
  writableAt(urlPath: string): boolean;
}

const ERROR_CODES: Partial<Record<number, ErrorCode>> = {
  403: 'LT_ERR_FORBIDDEN', 404: 'LT_ERR_NOT_FOUND', 405: 'LT_ERR_METHOD_NOT_ALLOWED',
  413: 'LT_ERR_BODY_TOO_LARGE', 500: 'LT_ERR_INTERNAL', 501: 'LT_ERR_NOT_IMPLEMENTED',
};

/** Answer with a status and no body (an error status gets the standard error page). */
export function answer(d: DavRequest, status: number, fields: string[] = []): void {
  const req = d.req;
  if (req.finished) return;
  if (status >= 400) {
    for (let i = 0; i < fields.length; i += 2) req.setResponseHeader(fields[i]!, fields[i + 1]!);
    req.sendError(status, ERROR_CODES[status]);
    return;
  }
  req.respond(status, [...req.responseHeaders, ...fields]);
}

/** Answer with an XML document; logged to the error log with webdav.log-xml. */
export function answerXml(d: DavRequest, status: number, xml: string, fields: string[] = []): void {
  const req = d.req;
  if (req.finished) return;
  if (d.s.logXml) d.logError(`XML-response-body: ${xml}`);
  const body = Buffer.from(xml, 'utf8');
  req.respond(status, [...req.responseHeaders, ...fields, 'Content-Type', XML_CONTENT_TYPE, 'Content-Length', String(body.length)], body);
}

/** lstat or stat (server.follow-symlink) that answers null and the errno instead of throwing. */
export async function statOrNull(p: string, follow: boolean): Promise<{ st: fs.Stats | null; code: string | undefined }> {
  try {
    return { st: follow ? await fs.promises.stat(p) : await fs.promises.lstat(p), code: undefined };
  } catch (err) {
    return { st: null, code: (err as NodeJS.ErrnoException).code };
  }
}

/** The absolute URL of `urlPath` on this server (Content-Location, Location). */
export function absoluteUrl(req: Request, encodedPath: string): string {
  return `${req.scheme}://${req.host}${encodedPath}`;
}

/** Whether the Content-Type names an XML body (lighttpd: application/xml or text/xml). */
export function isXmlContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/xml' || type === 'text/xml';
}

// Error responses the way lighttpd 1.4.69 makes them (src/response.c): the static error document
// (server.errorfile-prefix, else the built-in page: http_response_static_errdoc) and the error
// handlers (server.error-handler, server.error-handler-404: http_response_has_error_handler).
import fs from 'node:fs';
import { ConfigHash, type ConfigValue } from '../config/model.js';

/** An errorfile larger than this is not read into memory: the built-in page is sent instead. */
const ERRORFILE_MAX_BYTES = 1024 * 1024;

/**
 * The URI of the error handler for `status`, or null: server.error-handler for any status from
 * 400 up, else server.error-handler-404 for 404 and 403 (lighttpd 1.4.69 sends both there).
 * `general` says which of the two it is: lighttpd keeps the original status for the general one,
 * and only replaces a 404/403 of the 404 handler's own answer.
 */
export function errorHandlerFor(values: Map<string, ConfigValue>, status: number): { uri: string; general: boolean } | null {
  if (status < 400) return null;
  const general = values.get('server.error-handler');
  if (typeof general === 'string' && general !== '') return { uri: general, general: true };
  if (status !== 404 && status !== 403) return null;
  const notFound = values.get('server.error-handler-404');
  if (typeof notFound === 'string' && notFound !== '') return { uri: notFound, general: false };
  return null;
}

/**
 * The status the client gets while an error handler answers (lighttpd's error_handler_saved_status
 * `saved`: the original status, negative for server.error-handler-404): the general handler's
 * answer always carries the original status; the 404 handler's carries it only when it answers
 * 404 or 403 itself, else its own status (a 200 page is a 200).
 */
export function statusUnderErrorHandler(saved: number, status: number): number {
  if (saved > 0) return saved;
  if (saved < 0 && (status === 404 || status === 403)) return -saved;
  return status;
}

/**
 * `<server.errorfile-prefix><status>.html` when it is a regular file (read now: error paths are
 * rare and the file small), with its Content-Type from mimetype.assign (none when no key
 * matches, as lighttpd sends none then); null when there is no such file.
 */
export function errorFile(values: Map<string, ConfigValue>, status: number): { body: Buffer; contentType: string | null } | null {
  const prefix = values.get('server.errorfile-prefix');
  if (typeof prefix !== 'string' || prefix === '') return null;
  const file = `${prefix}${status}.html`;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > ERRORFILE_MAX_BYTES) return null;
    if (values.get('server.follow-symlink') === false && fs.lstatSync(file).isSymbolicLink()) return null;
    const body = Buffer.alloc(st.size);
    let got = 0;
    while (got < body.length) {
      const n = fs.readSync(fd, body, got, body.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { body: got === body.length ? body : body.subarray(0, got), contentType: mimeTypeOf(file, values.get('mimetype.assign')) };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** mimetype.assign's longest key that ends the file's base name, compared ignoring case. */
function mimeTypeOf(file: string, assign: ConfigValue | undefined): string | null {
  if (!(assign instanceof ConfigHash)) return null;
  const base = file.slice(file.lastIndexOf('/') + 1).toLowerCase();
  let best: string | null = null;
  let bestLength = -1;
  for (const [key, type] of assign.entries) {
    if (typeof type !== 'string') continue;
    const k = key.toLowerCase();
    // Later entries win over an equal key, as in lighttpd's hash assignment.
    if (k.length >= bestLength && base.endsWith(k)) { best = type; bestLength = k.length; }
  }
  return best;
}

// The config keys the core itself owns (lighttpd's server.* and friends), with their schemas.
import { ConfigHash } from '../config/model.js';
import { booleanValue, type OptionSchema } from './options.js';

/** server.http-parseopts keys, as lighttpd 1.4.69's configfile.c knows them. */
const HTTP_PARSEOPTS = new Set([
  'url-normalize', 'url-normalize-unreserved', 'url-normalize-required', 'url-ctrls-reject', 'url-path-backslash-trans',
  'url-path-2f-decode', 'url-path-2f-reject', 'url-path-dotseg-remove', 'url-path-dotseg-reject', 'url-query-20-plus',
  'url-invalid-utf8-reject', 'header-strict', 'host-strict', 'host-normalize', 'method-get-body',
]);

/** An error handler is restarted at its value: a path on this server. */
function localUri(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && !v.startsWith('/') ? `expected a local URI starting with "/", got "${v}"` : undefined;
}

/** What lighttpd refuses at start in server.http-parseopts: unknown keys, non-boolean values, conflicting pairs. */
function checkHttpParseopts(v: unknown): string | undefined {
  if (!(v instanceof ConfigHash)) return undefined;
  for (const [key, value] of v.entries) {
    if (!HTTP_PARSEOPTS.has(key)) return `unrecognized key "${key}"`;
    if (booleanValue(value) === undefined) return `unrecognized value for "${key}" (expect "enable" or "disable")`;
  }
  const on = (k: string) => booleanValue(v.get(k)) === true;
  if (on('url-path-2f-decode') && on('url-path-2f-reject')) return 'conflicting options url-path-2f-decode, url-path-2f-reject';
  if (on('url-path-dotseg-remove') && on('url-path-dotseg-reject')) return 'conflicting options url-path-dotseg-remove, url-path-dotseg-reject';
  return undefined;
}

export const CORE_OPTIONS = {
  'server.modules': { type: 'string-list', default: [], conditional: false, doc: 'Plugins to load, by lighttpd module name (`mod_staticfile`), lantern plugin id, npm package name or path. `indexfile`, `dirlisting` and `staticfile` are always loaded after the listed ones, as lighttpd does.' },
  'server.port': { type: 'integer', default: 80, min: 0, max: 65535, conditional: false, doc: 'TCP port to listen on. Default 80.' },
  'server.bind': { type: 'string', default: '', conditional: false, doc: 'Address to listen on (IPv4, IPv6, or a unix socket path starting with "/"). Default: every IPv4 address.' },
  'server.use-ipv6': { type: 'boolean', default: false, doc: 'Listen on IPv6 too (`[::]` when server.bind is not set).' },
  'server.document-root': { type: 'string', default: '', doc: 'The directory files are served from.' },
  'server.tag': { type: 'string', default: 'lantern', doc: 'The Server response header; may differ per condition block. Empty: none.', check: (v) => (/[\r\n\0]/.test(String(v)) ? 'CR, LF and NUL are not allowed' : undefined) },
  'server.compat-module-load': { type: 'boolean', default: true, conditional: false, doc: 'Load mod_indexfile, mod_dirlisting and mod_staticfile even when server.modules does not list them, and mod_openssl (with a warning) when ssl.* keys are set, as lighttpd 1.4.69 does; mod_deflate is never loaded by itself. "disable": only the listed modules (ssl.engine then needs mod_openssl listed). Default: enabled.' },
  'server.name': { type: 'string', default: '', doc: 'The server name: SERVER_NAME for CGI, FastCGI and SCGI when the request has no Host (else the Host without its port; with neither, the local address), and the access log\'s %v. Default: empty.' },
  'server.errorfile-prefix': { type: 'string', default: '', doc: 'Error pages from files: an error response with status 4xx or 5xx made by the server gets the file `<prefix><status>.html` as its body (e.g. "/srv/errors/status-" → /srv/errors/status-404.html) when it is a regular file (at most 1 MiB), with its Content-Type from mimetype.assign; else the built-in page. Read at each error; server.follow-symlink "disable" refuses a symbolic link. Default: empty (the built-in page).' },
  'server.error-handler': { type: 'string', default: '', check: localUri, doc: 'A local URI (e.g. "/error.php"; a value not starting with "/" stops the start) that serves every error response of status 400 and up that the server makes itself, as an internal redirect: the request is restarted at that URI as a GET (HEAD stays HEAD), with REDIRECT_STATUS (the original status), REQUEST_URI (the client\'s) and REDIRECT_URI (the handler\'s) in the CGI environment; the answer keeps the original status when the handler is a static file (or server.error-intercept is enabled), while a CGI, FastCGI, SCGI or proxied handler\'s answer goes out with its own status, as in lighttpd 1.4.69. An error while the handler runs gets the errorfile or the built-in page, never the handler again. Errors about the request framing (400, 408, 411, 413, 414, 417, 431, 505) get no handler. Default: empty.' },
  'server.error-handler-404': { type: 'string', default: '', check: localUri, doc: 'Like server.error-handler, for 404 and 403 only (lighttpd 1.4.69), used when server.error-handler is empty: the method is kept, and the handler\'s own status is sent; a static file handler\'s (or, with server.error-intercept, any handler\'s) 404 or 403 becomes the original status. Default: empty.' },
  'server.error-intercept': { type: 'boolean', default: false, doc: 'Also send the error responses (status 400 and up) of a handler (a FastCGI, SCGI, CGI or HTTP backend, or another plugin that answers with its own head) through server.error-handler / server.error-handler-404, or replace their body by the errorfile or the built-in page; the handler\'s body is dropped. Default: disabled.' },
  'server.force-lowercase-filenames': { type: 'boolean', default: false, doc: 'Lowercase the part of the physical path below the document root (for a document tree stored in lower case, as on a case-insensitive file system); the URL path and the document root are kept as they are. Default: disabled.' },
  'server.errorlog': { type: 'string', default: '', conditional: false, doc: 'Error log file, or `|command` to pipe into. Empty: standard error.' },
  'server.errorlog-use-syslog': { type: 'boolean', default: false, conditional: false, doc: 'Accepted for compatibility; lantern always writes server.errorlog.' },
  'server.breakagelog': { type: 'string', default: '', conditional: false, doc: 'File (appended, reopened on SIGHUP) that CGI scripts\' stderr lines go to, in the error log\'s format, instead of the error log; `|command` pipes into a command. Default: empty (the error log).' },
  'server.max-request-size': { type: 'integer', default: 0, min: 0, doc: 'Largest request body in KiB (0: no limit); larger bodies get 413.' },
  'server.max-request-field-size': { type: 'integer', default: 8192, min: 256, conditional: false, doc: 'Largest request head in bytes, as in lighttpd 1.4.69: when the config sets it, a request head (request line and fields) over it gets 431, whatever server.max-request-head-size says; a single field over it always does. Not set: fields up to 8192 bytes each, the whole head up to server.max-request-head-size. Default: 8192.' },
  'server.max-worker': { type: 'integer', default: 0, min: 0, max: 64, conditional: false, doc: 'Worker processes sharing the listeners (0: serve in this process).' },
  'server.max-keep-alive-requests': { type: 'integer', default: 1000, min: 0, doc: 'Requests per connection before it is closed (0: no keep-alive).' },
  'server.max-keep-alive-idle': { type: 'integer', default: 5, min: 0, doc: 'Seconds an idle keep-alive connection is kept.' },
  'server.max-read-idle': { type: 'integer', default: 60, min: 1, doc: 'Seconds allowed to receive a complete request head, or between body bytes, before 408.' },
  'server.max-write-idle': { type: 'integer', default: 360, min: 1, doc: 'Seconds a client may go without reading response bytes before the connection is closed.' },
  'server.max-connections': { type: 'integer', default: 0, min: 0, conditional: false, doc: 'Most concurrent client connections; past it new ones are closed at once, and the error log says so (once every 10 s at most). 0 (unset): a third of the process\'s open-files limit (ulimit -n), as lighttpd derives its limit from its descriptors, so that the connections in, their backends and files never run out of them; no limit where that limit cannot be read. Default: 0.' },
  'server.max-fds': { type: 'integer', default: 0, min: 0, conditional: false, doc: 'Accepted for compatibility.' },
  'server.pid-file': { type: 'string', default: '', conditional: false, doc: 'File the process id is written to once the listeners are open (by the primary with server.max-worker), and removed at exit. A file that cannot be written stops the start. Default: empty.' },
  'server.username': { type: 'string', default: '', conditional: false, doc: 'When started as root: the user (a name from /etc/passwd, or a number) the process runs as once its listeners are open, as lighttpd drops its privileges; its primary group too unless server.groupname is set. Ignored when not started as root. An unknown user stops the start. Default: empty (no change).' },
  'server.groupname': { type: 'string', default: '', conditional: false, doc: 'When started as root: the group (a name from /etc/group, or a number) the process runs as once its listeners are open; supplementary groups are dropped. An unknown group stops the start. Default: empty.' },
  'server.chroot': { type: 'string', default: '', conditional: false, doc: 'Not supported; must be empty.', check: (v) => (v ? 'chroot is not supported' : undefined) },
  'server.event-handler': { type: 'string', default: '', conditional: false, doc: 'Accepted for compatibility (Node picks the event mechanism).' },
  'server.network-backend': { type: 'string', default: '', conditional: false, doc: 'Accepted for compatibility.' },
  'server.follow-symlink': { type: 'boolean', default: true, doc: 'Serve files reached through symbolic links. "disable": a symbolic link anywhere in the path below the document root (the file or a directory on the way) is answered 403 by the static file, directory listing and WebDAV handlers, and no errorfile is read through one. Default: enabled.' },
  'server.stat-cache-engine': { type: 'string', default: 'simple', enum: ['simple', 'disable', 'none', 'fam', 'inotify'], conditional: false, doc: 'File metadata cache: "simple" (default) trusts a stat and the bytes of files up to 64 KiB for one second, as lighttpd does; "disable" or "none" stats every request. "fam"/"inotify" act as "simple".' },
  'server.range-requests': { type: 'boolean', default: true, doc: 'Answer Range requests with 206.' },
  'server.upload-dirs': { type: 'string-list', default: ['/var/tmp'], conditional: false, doc: 'Directories for the temp files that hold a request body read whole before it goes to a backend (a chunked upload for FastCGI/SCGI, which need CONTENT_LENGTH): above 64 KiB the body is written there, to a file unlinked at once, never kept in memory. Tried in order. Default: ( "/var/tmp" ).' },
  'server.stream-request-body': { type: 'integer', default: 0, min: 0, max: 2, doc: 'How a request body goes to a backend, as in lighttpd. 0: read whole before a backend connection is taken (memory up to 64 KiB, then a temp file in server.upload-dirs), so a slow uploader never holds a backend connection; 1 and 2: streamed as it arrives, with back-pressure (a body of unknown length to a backend that needs a length: 411). Default: 0.' },
  'server.request-body-timeout': { type: 'integer', default: 60, min: 0, conditional: false, doc: 'Seconds a request body may take to arrive, plus one second per server.request-body-min-rate bytes received; then 408 and the connection is closed. server.max-read-idle still limits each pause. 0: no limit. Default: 60.' },
  'server.request-body-min-rate': { type: 'integer', default: 500, min: 1, conditional: false, doc: 'Bytes per second by which a request body extends server.request-body-timeout (as Apache mod_reqtimeout\'s MinRate). Default: 500.' },
  'server.stream-response-body': { type: 'integer', default: 0, min: 0, max: 2, doc: 'How a backend response reaches a slower client, as in lighttpd. 0 and 1: the backend is read as fast as it sends and what the client has not taken waits in memory (64 KiB) and then a temp file in server.upload-dirs (up to proxy-core.max-temp-file-size), so the backend connection is free once the response is read; the client still gets every byte as soon as it can take it. 2: pure streaming, the backend is read only as fast as the client takes. Default: 0.' },
  'server.kbytes-per-second': { type: 'integer', default: 0, min: 0, doc: 'Accepted for compatibility (no throttling).' },
  'server.http-parseopts': { type: 'hash', conditional: false, check: checkHttpParseopts, doc: 'lighttpd\'s request parsing options, each "enable" or "disable". url-normalize, url-normalize-unreserved, url-path-dotseg-remove and url-path-2f-decode choose how the target forwarded to an HTTP backend is normalised; url-ctrls-reject (default enable) answers 400 to a query holding an encoded control character (%00-%1F, %7F; the path\'s are refused in any case); the others (header-strict, host-strict, host-normalize, url-normalize-required, url-path-backslash-trans, url-path-2f-reject, url-path-dotseg-reject, url-query-20-plus, url-invalid-utf8-reject, method-get-body) are accepted and lantern parses as they would be enabled, except the other -reject ones and url-query-20-plus, which have no effect. An unknown key, a value other than enable/disable, or both of url-path-2f-decode and url-path-2f-reject (or dotseg-remove and dotseg-reject) enabled stops the start. Default: lighttpd\'s.' },
  'server.systemd-socket-activation': { type: 'boolean', default: true, conditional: false, doc: 'Use sockets passed by LISTEN_FDS/LISTEN_PID instead of binding.' },
  'server.feature-flags': { type: 'hash', conditional: false, doc: 'lighttpd\'s feature flags (server.graceful-shutdown-timeout, server.graceful-restart-bg, server.clock-jump-restart, server.h2proto, server.h2c, server.metadata-cache, server.errorlog-high-precision, ...): accepted and logged nowhere; none changes what lantern does (server.graceful-shutdown-timeout is a key of its own here). Default: empty.' },
  'server.core-files': { type: 'boolean', default: false, conditional: false, doc: 'Accepted for compatibility.' },
  'server.max-request-head-size': { type: 'integer', default: 32768, min: 1024, conditional: false, doc: 'Largest whole request head in bytes before 431 (lantern\'s own key; server.max-request-field-size, when set, lowers it). Default: 32768.' },
  'server.dir-listing': { type: 'boolean', default: false, doc: 'Alias of dir-listing.activate.' },
  'server.indexfiles': { type: 'string-list', default: [], doc: 'Alias of index-file.names (old lighttpd name).' },
  'server.set-v6only': { type: 'boolean', default: true, conditional: false, doc: 'Accepted for compatibility.' },
  'server.listen-backlog': { type: 'integer', default: 1024, min: 1, conditional: false, doc: 'Listen backlog of each socket.' },
  'server.graceful-shutdown-timeout': { type: 'integer', default: 8, min: 0, conditional: false, doc: 'Seconds SIGTERM waits for requests in flight before closing them.' },
  'server.reject-expect-100-with-417': { type: 'boolean', default: false, doc: 'Answer any Expect: 100-continue with 417 (lighttpd compatibility).' },
  'mimetype.assign': { type: 'hash', doc: 'File extension (or name suffix) → Content-Type. The longest matching suffix wins.' },
  'mimetype.use-xattr': { type: 'boolean', default: false, doc: 'Accepted for compatibility.' },
  'debug.log-request-header-on-error': { type: 'boolean', default: false, doc: 'Accepted for compatibility (no effect).' },
  'debug.log-state-handling': { type: 'boolean', default: false, doc: 'Accepted for compatibility (no effect).' },
  'debug.log-timeouts': { type: 'boolean', default: false, doc: 'Accepted for compatibility (no effect).' },
  'debug.log-request-header': { type: 'boolean', default: false, doc: 'Write every request head to the error log.' },
  'debug.log-response-header': { type: 'boolean', default: false, doc: 'Write every response head to the error log.' },
  'debug.log-request-handling': { type: 'boolean', default: false, doc: 'Write which plugin handled each request, and its physical path, to the error log.' },
  'debug.log-file-not-found': { type: 'boolean', default: false, doc: 'Write requests that end in 404 to the error log.' },
  'debug.log-condition-handling': { type: 'boolean', default: false, doc: 'Write which condition blocks matched each request to the error log.' },
} as const satisfies OptionSchema;

// mod_accesslog: one line per finished request, in accesslog.format, to accesslog.filename (a
// file or `|command`); several files when condition blocks name different ones (lighttpd mod_accesslog).
import type { ConfigBlock, ConfigEntry, MergedConfig } from '../../config/model.js';
import { ConfigError } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { escapeDefault, escapeJson, utf8Bytes } from './log-escape.js';
import { DEFAULT_FORMAT, parseFormat, renderLine, type FormatField, type LogRecord } from './log-format.js';
import { LogTarget } from './log-target.js';

/** Every entry of the config tree, condition blocks and else-links included. */
function* allEntries(block: ConfigBlock): Generator<ConfigEntry> {
  yield* block.entries;
  for (const child of block.children) {
    for (let link: ConfigBlock | null = child; link; link = link.else) yield* allEntries(link);
  }
}

function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** The LogRecord view of a finished request (byte strings, see LogRecord). */
function recordOf(req: Request, values: Map<string, unknown> | undefined): LogRecord {
  const conn = req.conn;
  const socket = conn.socket;
  const durationMs = performance.now() - req.startMs;
  const serverName = values?.get('server.name');
  const env = req.env;
  return {
    remoteAddr: conn.remoteAddress,
    remotePort: conn.remotePort,
    localAddr: socket.localAddress ? stripV4Mapped(socket.localAddress) : conn.serverSocket,
    localPort: socket.localPort ?? 0,
    method: req.method,
    targetOrig: req.head.target,
    target: req.target,
    query: req.query ?? '',
    protocol: `HTTP/1.${req.head.versionMinor}`,
    status: req.status,
    bodyBytesOut: req.bytesOut,
    wireBytesOut: req.wireBytesOut,
    bytesIn: req.head.headBytes + req.body.received,
    requestHeader: (n) => req.header(n),
    responseHeader: (n) => req.getResponseHeader(n),
    env: (n) => {
      for (const [k, v] of env) if (k === n) return utf8Bytes(v);
      return undefined;
    },
    authority: req.host,
    serverName: typeof serverName === 'string' && serverName !== '' ? utf8Bytes(serverName) : req.host,
    filename: utf8Bytes(req.physicalPath),
    connStatus: req.incomplete || !req.finished ? 'X' : req.keepAlive ? '+' : '-',
    keepAliveCount: Math.max(0, conn.requests - 1),
    startMs: req.startDate,
    endMs: req.startDate + durationMs,
  };
}

export default definePlugin({
  id: 'accesslog',
  aliases: ['mod_accesslog'],
  options: {
    'accesslog.filename': { type: 'string', default: '', doc: 'Where to log: a file (opened for append, created 0644, reopened on SIGHUP) or "|command" (run with /bin/sh, lines on its stdin). Different values in different condition blocks log to different files. Default: empty, no access log.' },
    'accesslog.format': { type: 'string', default: DEFAULT_FORMAT, doc: `The line format: text with Apache/lighttpd % specifiers (listed in docs/modules.md); an unknown specifier stops the start. Default: lighttpd's, \`${DEFAULT_FORMAT}\`.` },
    'accesslog.use-syslog': { type: 'boolean', default: false, doc: 'Accepted for compatibility; lantern does not log to syslog and warns at startup (lines still go to accesslog.filename if it is set).' },
    'accesslog.syslog-level': { type: 'integer', default: 6, min: 0, max: 7, doc: 'Accepted for compatibility (syslog is not supported).' },
    'accesslog.escaping': { type: 'string', default: 'default', enum: ['default', 'json'], doc: 'How request-controlled text is escaped: "default" writes \\xHH for control and non-ASCII bytes, "json" writes \\u00HH for control characters only. `"` and `\\` are always backslash-escaped. Default: "default".' },
  },
  create(ctx) {
    const targets = new Map<string, LogTarget>();
    const formats = new Map<string, FormatField[]>();
    const onError = (msg: string) => ctx.logError(msg);

    const targetFor = (name: string): LogTarget => {
      let t = targets.get(name);
      if (!t) {
        t = new LogTarget(name, onError);
        t.open();
        targets.set(name, t);
      }
      return t;
    };
    const formatFor = (format: string): FormatField[] => {
      let f = formats.get(format);
      if (!f) {
        f = parseFormat(format);
        formats.set(format, f);
      }
      return f;
    };

    // Open every file and parse every format the config names, at startup as lighttpd does:
    // a log that cannot be opened or a bad format stops the start, naming the line.
    formatFor(DEFAULT_FORMAT);
    let syslogWarned = false;
    for (const e of allEntries(ctx.server.model.root)) {
      try {
        if (e.key === 'accesslog.filename' && typeof e.value === 'string' && e.value !== '') targetFor(e.value);
        else if (e.key === 'accesslog.format' && typeof e.value === 'string') formatFor(e.value);
      } catch (err) {
        throw new ConfigError(e.loc, `${e.key}: ${(err as Error).message}`);
      }
      if (e.key === 'accesslog.use-syslog' && e.value === true && !syslogWarned) {
        syslogWarned = true;
        ctx.logError(`${e.loc.file}:${e.loc.line}: accesslog.use-syslog is not supported; ignored`);
      }
    }
    const flushAll = () => { for (const t of targets.values()) t.flush(); };
    if (targets.size === 0) return {};

    ctx.hooks.requestDone.tap(ctx.id, (req) => {
      // A request refused before routing (400, 413, 417...) has no merged config: use the global one.
      const config = req.config as MergedConfig | undefined;
      const o = config ? ctx.options(req) : ctx.global;
      const name = o['accesslog.filename'];
      if (name === '') return;
      const line = renderLine(formatFor(o['accesslog.format']), recordOf(req, config?.values),
        o['accesslog.escaping'] === 'json' ? escapeJson : escapeDefault);
      targetFor(name).write(`${line}\n`);
    });
    ctx.hooks.trigger.tap(ctx.id, flushAll);
    ctx.hooks.sighup.tap(ctx.id, () => { for (const t of targets.values()) t.reopen(); });
    ctx.hooks.shutdown.tapPromise(ctx.id, async () => flushAll());

    return {
      api: { flush: flushAll },
      async close() {
        await Promise.all([...targets.values()].map((t) => t.close()));
      },
    };
  },
});

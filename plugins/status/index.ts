// mod_status: the server status page (HTML for a person; `?json`/`Accept: application/json`,
// `?jsonp=fn` and `?auto` for tools), the statistics page (sorted `key: value` lines) and the
// config page (loaded plugins and their options), as lighttpd 1.4's mod_status.c, plus
// proxy-core's backends and members (design.md §3 "Status").
import { ConfigHash, type ConfigBlock, type ConfigValue } from '../../config/model.js';
import type { OptionSpec } from '../../core/options.js';
import type { PluginDefinition } from '../../core/plugin.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import type { Server } from '../../core/server.js';
import { renderConfigHtml, renderStatusHtml, type PluginConfigReport } from './status-html.js';
import { buildReport, TrafficWindow, type SnapshotSource } from './status-report.js';
import { jsonpCallback, statisticsText, statusAutoText, statusJson } from './status-text.js';

/**
 * Tap stage in subrequestStart: before every handler (proxy-core and mod_proxy take at stage 0),
 * so a status URL inside a proxied prefix is still answered here. Access and auth rules run
 * earlier, in uriClean, and protect these pages like any other.
 */
export const STATUS_STAGE = -100;

const NO_STORE = 'no-store';

function wantsJson(req: Request): boolean {
  const q = req.query;
  if (q !== null && (q.startsWith('json') || q.startsWith('jsonp='))) return true;
  const accept = req.header('accept');
  return accept !== undefined && /(^|,)\s*application\/json\s*(;|,|$)/i.test(accept);
}

function send(req: Request, contentType: string, body: string): true {
  const buf = Buffer.from(body, 'utf8');
  req.respond(200, ['Content-Type', contentType, 'Cache-Control', NO_STORE, 'Content-Length', String(buf.length)], buf);
  return true;
}

function sendJson(req: Request, value: unknown): true {
  const callback = jsonpCallback(req.query);
  const json = JSON.stringify(value, null, 2);
  if (callback) return send(req, 'application/javascript; charset=utf-8', `${callback}(${json});\n`);
  return send(req, 'application/json', `${json}\n`);
}

/** A config value on one line, in lighttpd's notation. */
export function formatConfigValue(v: ConfigValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '"enable"' : '"disable"';
  if (v instanceof ConfigHash) return `( ${v.entries.map(([k, x]) => `${JSON.stringify(k)} => ${formatConfigValue(x)}`).join(', ')} )`;
  return `( ${v.map(formatConfigValue).join(', ')} )`;
}

/** The core's options, then every loaded plugin (once, in load order), with where each option was set. */
function configReport(server: Server): PluginConfigReport[] {
  const settings = new Map<string, Array<{ where: string; value: string }>>();
  const visit = (block: ConfigBlock) => {
    const where = block.condition ? block.condition.text : block.id === 0 ? 'global' : 'else';
    for (const e of block.entries) {
      let list = settings.get(e.key);
      if (!list) settings.set(e.key, (list = []));
      list.push({ where: `${where} (${e.loc.file}:${e.loc.line})`, value: formatConfigValue(e.value) });
    }
    for (const child of block.children) for (let b: ConfigBlock | null = child; b; b = b.else) visit(b);
  };
  visit(server.model.root);
  const optionRows = (options: Array<[string, OptionSpec]>) => options.map(([key, spec]) => ({
    key,
    type: spec.type,
    default: spec.default === undefined ? '' : JSON.stringify(spec.default),
    settings: settings.get(key) ?? [],
  }));
  const core = [...server.host.specs].filter(([, s]) => s.owner === 'core').map(([key, s]): [string, OptionSpec] => [key, s.spec]);
  const out: PluginConfigReport[] = [{ id: 'core', aliases: [], requires: [], options: optionRows(core) }];
  const seen = new Set<PluginDefinition>();
  for (const p of server.host.plugins.values()) {
    if (seen.has(p.def)) continue;
    seen.add(p.def);
    out.push({
      id: p.def.id,
      aliases: [...(p.def.aliases ?? [])],
      requires: [...(p.def.requires ?? [])],
      options: optionRows(Object.entries(p.def.options ?? {})),
    });
  }
  return out;
}

export default definePlugin({
  id: 'status',
  aliases: ['mod_status'],
  options: {
    'status.status-url': {
      type: 'string',
      default: '',
      doc: 'URL path of the status page, e.g. "/server-status": HTML with the server counters, every proxy-core backend (requests, active, idle, queued, queue overflows and timeouts, retries) with its members (state, active, idle, connections, requests, failures by kind, last error), and the open connections; `?json` or `Accept: application/json` gives the same as JSON, `?jsonp=name` as a JSONP call, `?auto` as lighttpd\'s plain text. Compared with the decoded path exactly. Default: empty, no status page.',
    },
    'status.statistics-url': {
      type: 'string',
      default: '',
      doc: 'URL path of the statistics page: every counter as a `key: value` line, sorted by key (core counters, then `proxy-core.backend.<name>.<member>.*`). Default: empty, no statistics page.',
    },
    'status.config-url': {
      type: 'string',
      default: '',
      doc: 'URL path of the config page: the loaded plugins with their aliases, requirements and options (type, default, and every place the config sets it); `?json` gives it as JSON. Default: empty, no config page.',
    },
    'status.enable-sort': {
      type: 'boolean',
      default: true,
      doc: 'Let a click on a column head of the status page\'s tables sort the table by that column (a small inline script). Default: enabled, as lighttpd.',
    },
  },
  create(ctx) {
    const traffic = new TrafficWindow();
    const startedAtMs = Date.now();
    const server = ctx.server;
    // proxy-core is looked up per request: it may be created after this plugin, or not loaded.
    const report = () => buildReport(server, traffic, startedAtMs, server.host.api<SnapshotSource>('proxy-core'));

    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: STATUS_STAGE }, (req) => {
      const o = ctx.options(req);
      const path = req.path;
      const statusUrl = o['status.status-url'];
      const statisticsUrl = o['status.statistics-url'];
      const configUrl = o['status.config-url'];
      if (path !== statusUrl && path !== statisticsUrl && path !== configUrl) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        req.setResponseHeader('Allow', 'GET, HEAD');
        return 405;
      }
      if (path === statusUrl) {
        const r = report();
        if (wantsJson(req)) return sendJson(req, statusJson(r));
        if (req.query === 'auto') return send(req, 'text/plain; charset=utf-8', statusAutoText(r));
        return send(req, 'text/html; charset=utf-8', renderStatusHtml(r, o['status.enable-sort']));
      }
      if (path === statisticsUrl) return send(req, 'text/plain; charset=utf-8', statisticsText(report()));
      const plugins = configReport(server);
      if (wantsJson(req)) return sendJson(req, { configFile: server.model.file, plugins });
      return send(req, 'text/html; charset=utf-8', renderConfigHtml(server.tag, server.model.file, plugins));
    });

    ctx.hooks.requestDone.tap(ctx.id, (req) => traffic.count(req.wireBytesOut));
    ctx.hooks.trigger.tap(ctx.id, () => traffic.tick());
    return { api: { traffic } };
  },
});

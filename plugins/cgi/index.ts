// mod_cgi: lighttpd 1.4's cgi.* keys (src/mod_cgi.c) on proxy-core. A request whose script file
// ends with a cgi.assign key runs that script as a process (proxy-core's exec: transport) through
// the "cgi" protocol: one backend per (cgi.assign value, key, settings), its one member
// `exec:<interpreter>`. The script is found as lighttpd's physical-path check finds it (the
// longest existing regular file of the path; the rest is PATH_INFO); the CGI environment is
// proxy-core's, the same as FastCGI's and SCGI's.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ConfigHash, type ConfigValue } from '../../config/model.js';
import { booleanValue } from '../../core/options.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import type { BackendHandle, BackendOptions, ProxyCoreApi } from '../proxy-core/api.js';
import { resolveCgiPath, type GatewayRoute } from '../proxy-core/cgi-path.js';

/** The cgi.* settings of one merged config. */
interface CgiSettings {
  /** cgi.assign in order: file name suffix → interpreter ('' = run the script itself). */
  assign: Array<[string, string]>;
  executeXOnly: boolean;
  options: Partial<BackendOptions>;
  /** Stable text of `options`, for the backend cache. */
  signature: string;
}

/** The path rules of lighttpd's mod_cgi: always check-local (the script must exist), no docroot override. */
const CGI_ROUTE: GatewayRoute = { key: '', checkLocal: true, fixRootScriptname: false, stripRequestUri: '', docroot: '', brokenScriptFilename: false };

/** Set on a request CGI passed on (not a script, or not executable): the restarted request goes to the next handler. */
const DECLINED = 'cgi:declined';

function checkAssign(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return undefined;
  for (const [key, v] of value.entries) {
    if (typeof v !== 'string') return `cgi.assign: "${key}": expected a program path (or "" to run the script itself)`;
    if (v !== '' && !path.isAbsolute(v)) return `cgi.assign: "${key}" => "${v}": the program needs an absolute path (or "" to run the script itself)`;
    if (v.includes('\0')) return `cgi.assign: "${key}": the program path holds a NUL`;
  }
  return undefined;
}

const LIMIT_KEYS = new Set(['read-timeout', 'write-timeout', 'tcp-fin-propagate']);

function checkLimits(value: unknown): string | undefined {
  if (!(value instanceof ConfigHash)) return undefined;
  for (const [key, v] of value.entries) {
    const k = key.toLowerCase();
    if (!LIMIT_KEYS.has(k)) return `cgi.limits: unknown limit "${key}" (known: ${[...LIMIT_KEYS].join(', ')})`;
    if (k !== 'tcp-fin-propagate' && !(typeof v === 'number' || (typeof v === 'string' && /^[0-9]+$/.test(v)))) return `cgi.limits: "${key}" expects seconds, got ${JSON.stringify(v)}`;
  }
  return undefined;
}

function settingsOf(values: Map<string, ConfigValue>): CgiSettings | null {
  const assign = values.get('cgi.assign');
  if (!(assign instanceof ConfigHash) || assign.size === 0) return null;
  const options: Partial<BackendOptions> = {
    // A process per request: as many at once as requests come (lighttpd has no limit); the
    // queue only holds what exceeds that.
    maxPoolSize: 1024,
    maxBacklog: 1024,
    forwardedFor: false,
    localRedirect: booleanValue(values.get('cgi.local-redir')) === true,
    allowXSendfile: booleanValue(values.get('cgi.x-sendfile')) === true,
    upgrade: booleanValue(values.get('cgi.upgrade')) === true,
  };
  const docroots = values.get('cgi.x-sendfile-docroot');
  if (Array.isArray(docroots)) options.xSendfileDocroots = docroots.filter((d): d is string => typeof d === 'string');
  else if (typeof docroots === 'string') options.xSendfileDocroots = [docroots];
  const limits = values.get('cgi.limits');
  if (limits instanceof ConfigHash) {
    for (const [key, v] of limits.entries) {
      const k = key.toLowerCase();
      if (k === 'read-timeout') options.readTimeoutMs = Number(v) * 1000;
      else if (k === 'write-timeout') options.writeTimeoutMs = Number(v) * 1000;
      // A client's FIN ends the script (lighttpd signals it; SIGTERM here, then SIGKILL).
      else if (k === 'tcp-fin-propagate') options.abortOnClose = true;
    }
  }
  return {
    assign: assign.entries.filter((e): e is [string, string] => typeof e[1] === 'string'),
    executeXOnly: booleanValue(values.get('cgi.execute-x-only')) === true,
    options,
    signature: JSON.stringify(options),
  };
}

/** The first key that is a suffix of `file` (lighttpd array_match_key_suffix; "" matches every file). */
function assignedFor(s: CgiSettings, file: string): [string, string] | null {
  for (const e of s.assign) if (file.endsWith(e[0])) return e;
  return null;
}

/** Whether the decoded URL path may name a script for some key (before any stat). */
function mayMatch(s: CgiSettings, urlPath: string): boolean {
  for (const [key] of s.assign) {
    if (key === '' || urlPath.endsWith(key) || urlPath.includes(key + '/')) return true;
  }
  return false;
}

export default definePlugin({
  id: 'cgi',
  aliases: ['mod_cgi'],
  requires: ['proxy-core', 'proxy-backend-cgi', 'balancer-rr'],
  options: {
    'cgi.assign': {
      type: 'hash',
      check: checkAssign,
      doc: 'Which files run as CGI scripts, and with what: ( ".pl" => "/usr/bin/perl", ".cgi" => "" ). A key is compared with the end of the script\'s file name ("" matches every file, e.g. inside $HTTP["url"] =~ "^/cgi-bin/"); the value is the program that runs the script (an absolute path), or "" to execute the script itself. The script is the longest existing regular file of the request path; the rest is PATH_INFO. It runs in its own directory with the CGI/1.1 environment, the request body on stdin, its stderr in the error log. A script that cannot be executed is answered 403, a missing one 404, one that sends no valid header block 500. Default: none.',
    },
    'cgi.execute-x-only': {
      type: 'boolean',
      default: false,
      doc: 'Run only scripts with an execute permission bit; other matching files are left to the next handler (usually the static file module, so exclude their extensions there with static-file.exclude-extensions). Default: disabled.',
    },
    'cgi.x-sendfile': {
      type: 'boolean',
      default: false,
      doc: 'Honour X-Sendfile (and X-LIGHTTPD-send-file) from a script: the named file is served instead of the script\'s body. Default: disabled.',
    },
    'cgi.x-sendfile-docroot': {
      type: 'string-list',
      default: [],
      doc: 'Directories X-Sendfile may serve from. Default: none, meaning the request\'s document root.',
    },
    'cgi.local-redir': {
      type: 'boolean',
      default: false,
      doc: 'A script\'s `Location: /local/path` without a Status is served by lantern itself, as if the client had asked for that path (RFC 3875 §6.2.2). Disabled: the client gets a 302 to it. Default: disabled, as lighttpd.',
    },
    'cgi.upgrade': {
      type: 'boolean',
      default: false,
      doc: 'Pass WebSocket upgrades to scripts: after the script answers Status: 101, bytes are relayed both ways between the client and the script\'s stdin/stdout. Default: disabled.',
    },
    'cgi.limits': {
      type: 'hash',
      check: checkLimits,
      doc: '( "read-timeout" => seconds, "write-timeout" => seconds, "tcp-fin-propagate" => "SIGTERM" ). read-timeout: longest wait for output from the script before it is ended (SIGTERM, then SIGKILL 2 s later) and the client answered 504; write-timeout: longest wait for the script to take request body bytes; both default to proxy-core\'s (60 s; lighttpd has none). tcp-fin-propagate: a client\'s FIN (half-close) ends the script. Default: none.',
    },
  },
  create(ctx) {
    const api = ctx.server.host.api<ProxyCoreApi>('proxy-core');
    if (!api || typeof api.addBackend !== 'function') throw new Error('cgi: proxy-core is not loaded or exposes no backend API');
    const settingsCache = new WeakMap<Map<string, ConfigValue>, CgiSettings | null>();
    const backends = new Map<string, BackendHandle>();
    let count = 0;

    const settingsFor = (values: Map<string, ConfigValue>): CgiSettings | null => {
      let s = settingsCache.get(values);
      if (s === undefined) {
        s = settingsOf(values);
        settingsCache.set(values, s);
      }
      return s;
    };

    /** One backend per interpreter and settings: its one member runs that interpreter. */
    const backendFor = (s: CgiSettings, program: string): BackendHandle => {
      const id = `${program}|${s.signature}`;
      let b = backends.get(id);
      if (b === undefined) {
        b = api.addBackend({
          name: `cgi:${program === '' ? '(script)' : program}${count++ === 0 ? '' : `#${count}`}`,
          protocol: 'cgi',
          balancer: 'round-robin',
          members: [`exec:${program}`],
          options: s.options,
        });
        backends.set(id, b);
      }
      return b;
    };

    const statCache = ctx.server.statCache;

    /** Not ours after all: the request starts again and goes to the next handler. */
    const decline = (req: Request): void => {
      req.pluginData.set(DECLINED, true);
      req.conn.server.pipeline.restart(req, req.target, { keepPluginData: true });
    };

    const run = async (req: Request, s: CgiSettings): Promise<void> => {
      const cgi = await resolveCgiPath(req, CGI_ROUTE, statCache);
      if (req.finished) return;
      if ('status' in cgi) {
        // A directory is not a script (lighttpd: not S_ISREG, go on): the index file or listing.
        if (cgi.status === 403) { decline(req); return; }
        req.sendError(cgi.status);
        return;
      }
      const assigned = assignedFor(s, cgi.scriptFilename);
      if (assigned === null) { decline(req); return; }
      if (s.executeXOnly) {
        const st = await fsp.stat(cgi.scriptFilename);
        if (req.finished) return;
        if ((st.mode & 0o111) === 0) { decline(req); return; }
      }
      api.forward(req, backendFor(s, assigned[1]), { cgi });
    };

    ctx.hooks.subrequestStart.tap(ctx.id, (req) => {
      const s = settingsFor(req.config.values);
      if (s === null || req.peekPluginData(DECLINED) !== undefined || !mayMatch(s, req.path)) return undefined;
      run(req, s).catch((err: unknown) => { if (!req.finished) req.fail(err); });
      return true;
    });
    return {};
  },
});

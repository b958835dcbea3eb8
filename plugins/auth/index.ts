// mod_auth (lighttpd 1.4.69): HTTP authentication for URL path prefixes (auth.require), checked
// in the uriClean phase with Basic (RFC 7617), Digest (RFC 7616) or "extern" (a REMOTE_USER set
// before, e.g. by a TLS client certificate). Passwords come from a backend named by auth.backend;
// mod_authn_file (plugins/authn-file) registers "plain", "htpasswd" and "htdigest". After success
// REMOTE_USER and AUTH_TYPE are in the request environment (CGI, FastCGI, the access log's %u).
// A backend may check a costly password asynchronously (authn-file's worker threads): the request
// then waits and, once it passed, is restarted with a mark so the check is not made twice.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { ConfigError, type ConfigBlock, type ConfigEntry, type ConfigHash, type ConfigModel } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { AuthCache, cacheMaxAge, checkCacheOption } from './auth-cache.js';
import { checkBasic } from './basic.js';
import { checkDigest, nextNonces } from './digest.js';
import { compileRequire, matchRequire, userAllowed } from './require-config.js';
import type { Outcome, SchemeContext } from './scheme.js';
import type { AuthApi, AuthBackend, AuthRequire } from './types.js';

/** auth.backend values mod_authn_file serves (lighttpd loads it for them when it is not listed). */
const FILE_BACKENDS = new Set(['plain', 'htpasswd', 'htdigest']);

/** Every entry of the config tree with this key, condition blocks and else-links included. */
function* entriesOf(block: ConfigBlock, key: string): Generator<ConfigEntry> {
  for (const e of block.entries) if (e.key === key) yield e;
  for (const child of block.children) {
    for (let link: ConfigBlock | null = child; link; link = link.else) yield* entriesOf(link, key);
  }
}

function usesFileBackend(model: ConfigModel): boolean {
  for (const e of entriesOf(model.root, 'auth.backend')) if (typeof e.value === 'string' && FILE_BACKENDS.has(e.value)) return true;
  return false;
}

function envGet(req: Request, name: string): string | undefined {
  for (const [k, v] of req.env) if (k === name) return v;
  return undefined;
}

/** What a request that passed an asynchronous check carries across its restart. */
interface Passed { readonly require: AuthRequire; readonly authorization: string | undefined; readonly user: string; readonly type: string }
const PASSED_KEY = 'auth:passed';

/** How often "password check refused" is logged while checks are overloaded. */
const BUSY_LOG_INTERVAL_MS = 10_000;

function envSet(req: Request, name: string, value: string): void {
  const env = req.env;
  for (const pair of env) if (pair[0] === name) { pair[1] = value; return; }
  env.push([name, value]);
}

export default definePlugin({
  id: 'auth',
  aliases: ['mod_auth'],
  implies: (model) => (usesFileBackend(model) ? ['authn-file'] : []),
  options: {
    'auth.backend': { type: 'string', default: '', doc: 'Where users and passwords come from: "plain", "htpasswd" or "htdigest" (mod_authn_file, loaded automatically for these). A value no loaded module provides stops the start. Default: none; a protected path then answers 500.' },
    'auth.require': {
      type: 'hash',
      check: (v) => { const r = compileRequire(v, 'x'); return typeof r === 'string' ? r : undefined; },
      doc: 'The protected URL path prefixes: ( "/path" => ( "method" => "basic" | "digest" | "extern", "realm" => "...", "require" => "valid-user" | "user=a|user=b|group=g", "algorithm" => "MD5" | "SHA-256" | "MD5|SHA-256", "nonce-secret" => "..." ) ). The first key (in the order written) that starts the decoded URL path applies. Default: none, nothing is protected.',
    },
    'auth.extern-authn': { type: 'boolean', default: false, doc: 'Let a request pass without asking for credentials when REMOTE_USER is already set (by a module that ran before, e.g. a TLS client certificate) and the require rules allow that user. Default: disabled.' },
    'auth.cache': { type: 'hash', check: checkCacheOption, doc: 'Remember successful checks: ( "max-age" => "600" ) keeps each for that many seconds, so bcrypt and SHA-crypt hashes are not computed on every request. A password changed in the file takes effect for a cached user when the entry expires. Default: none, every request is checked against the backend.' },
  },
  create(ctx) {
    const secret = randomBytes(32).toString('hex');
    const backends = new Map<string, AuthBackend>();
    const compiled = new WeakMap<ConfigHash, AuthRequire[]>();
    const caches = new Map<ConfigHash, AuthCache>();
    const log = (m: string) => ctx.logError(m);
    let busyLoggedMs = 0;
    let busySuppressed = 0;
    const logBusy = (m: string) => {
      const now = Date.now();
      if (now - busyLoggedMs < BUSY_LOG_INTERVAL_MS) { busySuppressed++; return; }
      busyLoggedMs = now;
      log(busySuppressed > 0 ? `${m}; ${busySuppressed} more refused since the last message (503)` : `${m} (503)`);
      busySuppressed = 0;
    };
    const model = ctx.server.model;

    const requireList = (hash: ConfigHash): AuthRequire[] => {
      let list = compiled.get(hash);
      if (!list) {
        const r = compileRequire(hash, secret);
        list = typeof r === 'string' ? [] : r; // checked at boot: cannot be a string here
        compiled.set(hash, list);
      }
      return list;
    };
    const cacheFor = (hash: ConfigHash | undefined): AuthCache | null => {
      if (!hash) return null;
      let c = caches.get(hash);
      if (!c) { c = new AuthCache(cacheMaxAge(hash)); caches.set(hash, c); }
      return c;
    };

    ctx.hooks.configured.tap(ctx.id, () => {
      for (const e of entriesOf(model.root, 'auth.backend')) {
        const name = e.value as string;
        if (name !== '' && !backends.has(name)) {
          const known = new Set([...FILE_BACKENDS, ...backends.keys()]);
          throw new ConfigError(e.loc, `auth.backend: not supported: "${name}" (lantern's backends: ${[...known].map((b) => `"${b}"`).join(', ')})`);
        }
      }
      const listed = [...entriesOf(model.root, 'server.modules')].some((e) =>
        (Array.isArray(e.value) ? e.value : [e.value]).some((m) => m === 'mod_authn_file' || m === 'authn-file'));
      if (!listed && usesFileBackend(model)) {
        log('Warning: please add "mod_authn_file" to server.modules (lantern loads it for auth.backend = "plain", "htpasswd" or "htdigest", as lighttpd 1.4 does)');
      }
    });

    ctx.hooks.uriClean.tap(ctx.id, (req) => {
      const o = ctx.options(req);
      const hash = o['auth.require'] as ConfigHash | undefined;
      if (hash === undefined) return undefined;
      const require = matchRequire(requireList(hash), req.path);
      if (!require) return undefined;
      if (o['auth.extern-authn'] || require.method === 'extern') {
        const user = envGet(req, 'REMOTE_USER');
        if (user !== undefined && userAllowed(require, user)) return undefined;
        if (require.method === 'extern') return 401;
      }
      // Back from an asynchronous check (restarted): it passed for these credentials.
      const passed = req.peekPluginData(PASSED_KEY) as Passed | undefined;
      if (passed !== undefined && passed.require === require && passed.authorization === req.header('authorization')) {
        envSet(req, 'REMOTE_USER', passed.user);
        envSet(req, 'AUTH_TYPE', passed.type);
        return undefined;
      }
      const sc: SchemeContext = {
        backend: o['auth.backend'] === '' ? undefined : backends.get(o['auth.backend']),
        cache: cacheFor(o['auth.cache'] as ConfigHash | undefined),
        nowMs: Date.now(),
        log,
        logBusy,
      };
      const type = require.method === 'basic' ? 'Basic' : 'Digest';
      const out = require.method === 'basic' ? checkBasic(req, require, sc) : checkDigest(req, require, sc);
      if (out instanceof Promise) {
        // Checked off the event loop: the request waits, then goes on from its start (the
        // earlier phases run again; this check is not repeated) or gets its answer.
        out.then((r) => resume(req, require, type, r)).catch((err: unknown) => {
          if (!req.finished) req.fail(err);
          else log(`${req.method} ${req.path}: ${err instanceof Error ? err.message : String(err)}`);
        });
        return true;
      }
      if (typeof out === 'number') return out;
      envSet(req, 'REMOTE_USER', out.user);
      envSet(req, 'AUTH_TYPE', type);
      return undefined;
    });

    const resume = (req: Request, require: AuthRequire, type: string, out: Outcome): void => {
      if (req.finished) return; // the client went away meanwhile
      if (typeof out === 'number') {
        if (out >= 400) req.sendError(out);
        else req.respond(out, ['Content-Length', '0']);
        return;
      }
      const passed: Passed = { require, authorization: req.header('authorization'), user: out.user, type };
      req.pluginData.set(PASSED_KEY, passed);
      req.conn.server.pipeline.restart(req, req.target, { keepPluginData: true });
    };

    // Authentication-Info: nextnonce="..." when a Digest nonce nears its end. Set here because a
    // handler's writeHead() replaces the fields set before it.
    const digestEntries = [...entriesOf(model.root, 'auth.require')]
      .flatMap((e) => (e.value as ConfigHash).entries.map(([, v]) => v as ConfigHash))
      .filter((v) => v.get('method') === 'digest');
    const digestUsed = digestEntries.length > 0;
    const workers = Number(ctx.server.globalValues.get('server.max-worker') ?? 0);
    if (workers > 0 && cluster.isPrimary && digestEntries.some((v) => !v.get('nonce-secret') && !v.get('nonce_secret'))) {
      // Each worker draws its own secret: a nonce one worker made fails in another.
      log('Warning: with server.max-worker, give each Digest entry of auth.require a "nonce-secret": otherwise a nonce made by one worker is refused by the others');
    }
    if (digestUsed) {
      ctx.hooks.responseStart.tap(ctx.id, (req) => {
        const v = nextNonces.get(req);
        if (v !== undefined) req.setResponseHeader('Authentication-Info', v);
      });
    }

    let lastSweep = 0;
    ctx.hooks.trigger.tap(ctx.id, () => {
      if (caches.size === 0) return;
      const now = Date.now();
      if (now - lastSweep < 8000) return;
      lastSweep = now;
      for (const c of caches.values()) c.sweep(now);
    });

    const api: AuthApi = { registerBackend: (b) => { backends.set(b.name, b); } };
    return { api };
  },
});

// The frozen hook table (design.md §2): lighttpd's plugin.h phases as tapable hooks.
// Bail hooks: the first tap that returns a value ends the phase. Sync hooks on the hot path.
// Taps are registered at startup only: tapable recompiles a hook on every tap.
import tapable from 'tapable';
import type { Connection } from './connection.js';
import type { Request } from './request.js';
import type { Server } from './server.js';

const { SyncHook, SyncBailHook, AsyncSeriesHook } = tapable;

/**
 * Set by a server.max-worker primary for its workers: the primary ran `primaryStartup` (started
 * the spawned backends), so a worker's `startup` only connects to them.
 */
export const SPAWNED_BY_PRIMARY_ENV = 'LANTERN_SPAWNED_BY_PRIMARY';

/** Set by a server.max-worker primary for its workers: how many workers share the backends. */
export const WORKER_COUNT_ENV = 'LANTERN_WORKER_COUNT';

/**
 * What a request-phase tap returns: `undefined` to go on to the next tap/phase; `true` when the
 * plugin has answered the request (or will answer it asynchronously); a number to end the request
 * with that status and the standard error page.
 */
export type HookResult = true | number | undefined | void;

export function createHooks() {
  return Object.freeze({
    /** A client connected. Return `false` to refuse it (the socket is closed at once). */
    connectionAccept: new SyncBailHook<[Connection], false | undefined | void>(['conn']),
    /** The head is parsed and `req.target` is the raw target; URL rewriting happens here. */
    uriRaw: new SyncBailHook<[Request], HookResult>(['req']),
    /** `req.path` is decoded and normalised; redirects, access rules and auth run here. */
    uriClean: new SyncBailHook<[Request], HookResult>(['req']),
    /** Choose `req.docRoot` (virtual hosting); the default is `server.document-root`. */
    docroot: new SyncBailHook<[Request], HookResult>(['req']),
    /** `req.physicalPath` is set from docroot + path; aliases and index files adjust it here. */
    physical: new SyncBailHook<[Request], HookResult>(['req']),
    /** Build `req.env` for CGI-family handlers (setenv). */
    requestEnv: new SyncHook<[Request]>(['req']),
    /** Pick the handler: the first plugin that returns `true` owns the request and answers it. */
    subrequestStart: new SyncBailHook<[Request], HookResult>(['req']),
    /** The response head is about to be written: change `req.status` / `req.responseHeaders`. */
    responseStart: new SyncHook<[Request]>(['req']),
    /** The request is over (answered or aborted): access log, counters. */
    requestDone: new SyncHook<[Request]>(['req']),
    /** Per-request plugin state is dropped; the connection goes on to keep-alive or close. */
    requestReset: new SyncHook<[Request]>(['req']),
    /** A connection is about to be closed. */
    connectionClose: new SyncHook<[Connection]>(['conn']),
    /** Once a second, with the current time in ms: timeouts, health checks, log flushing. */
    trigger: new SyncHook<[number]>(['nowMs']),
    /** SIGHUP: reopen log files. */
    sighup: new SyncHook<[]>([]),
    /** A child process exited; the plugin that spawned it returns `true`. */
    waitpid: new SyncBailHook<[number, number | null, string | null], true | undefined | void>(['pid', 'code', 'signal']),
    /**
     * Every plugin is created: cross-plugin config checks (a backend naming a balancer no plugin
     * registered). Runs under -t/-tt too; throw a ConfigError to stop the start.
     */
    configured: new SyncHook<[Server]>(['server']),
    /** After the config is loaded and plugins are created, before the first listen. */
    startup: new AsyncSeriesHook<[Server]>(['server']),
    /**
     * Only in a server.max-worker primary, which serves no requests (its workers run `startup`):
     * start what must exist once for all workers (spawned backends). `shutdown` stops it.
     */
    primaryStartup: new AsyncSeriesHook<[Server]>(['server']),
    /** Graceful stop: listeners are closed; stop spawned processes, flush logs. */
    shutdown: new AsyncSeriesHook<[Server]>(['server']),
  });
}

export type Hooks = ReturnType<typeof createHooks>;

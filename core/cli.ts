// The command line, as lighttpd has it (design.md §5): -f -m -D -t -tt -p -v -V -h -i -1.
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { socketBlocks } from '../config/merge.js';
import { ConfigError, type ConfigModel } from '../config/model.js';
import { printConfig } from '../config/print.js';
import { activatedFds, parseSocketName, probeListen, WORKER_LISTEN_FDS_ENV } from './listeners.js';
import { SPAWNED_BY_PRIMARY_ENV, WORKER_COUNT_ENV } from './hooks.js';
import { PluginHost } from './plugin-host.js';
import { Server } from './server.js';
import { featureReport } from './features.js';
import { openBreakageLog, reopenBreakageLog } from './error-log.js';
import { dropPrivileges } from './privileges.js';
import { VERSION } from './version.js';

const HELP = `lantern ${VERSION} - a lighttpd-style web server and application gateway

usage: lantern [options]
  -f <name>  filename of the config file (.conf: lighttpd syntax; .json/.yaml/.js: native)
  -m <name>  extra directory to load plugins from (searched before the built-in ones)
  -p         print the parsed config file in internal form, and exit
  -t         test the config file, and exit
  -tt        test the config file, load and initialize the plugins, and exit
  -D         don't go to background (lantern never daemonizes; accepted for lighttpd compatibility)
  -i <secs>  graceful shutdown after <secs> of inactivity
  -1         process a single (one) request on the stdin socket, then exit
  -v         show version
  -V         show compile-time features
  -h         show this help

Without -f, lantern looks for lantern.config.{json,yaml,yml,js,mjs,cjs}, .lanternrc* or a
"lantern" key in package.json, and falls back to an embedded default that serves a welcome
page on http://127.0.0.1:8080/.
`;

interface CliArgs {
  file?: string;
  pluginDirs: string[];
  print: boolean;
  test: number;
  idleSecs: number;
  single: boolean;
}

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}

export function parseArgs(argv: string[]): CliArgs | { exit: number; out: string } {
  const a: CliArgs = { pluginDirs: [], print: false, test: 0, idleSecs: 0, single: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`option ${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-f': a.file = value(); break;
      case '-m': a.pluginDirs.push(value()); break;
      case '-p': a.print = true; break;
      case '-t': a.test++; break;
      case '-tt': a.test += 2; break;
      case '-D': break;
      case '-i': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new Error(`-i needs a number of seconds, got "${v}"`);
        a.idleSecs = Number(v);
        break;
      }
      case '-1': a.single = true; break;
      case '-v': return { exit: 0, out: `lantern/${VERSION} (Node ${process.version})\n` };
      case '-V': return { exit: 0, out: featureReport(a.pluginDirs) };
      case '-h': case '--help': case '-?': return { exit: 0, out: HELP };
      default: throw new Error(`unknown option: ${arg}\n\n${HELP}`);
    }
  }
  return a;
}

export async function main(argv: string[]): Promise<void> {
  let args: CliArgs;
  try {
    const r = parseArgs(argv);
    if ('exit' in r) { process.stdout.write(r.out); process.exit(r.exit); }
    args = r;
  } catch (err) {
    fail(`lantern: ${(err as Error).message}`, 2);
  }
  const cwd = process.cwd();
  let model: ConfigModel;
  try {
    model = await loadConfig(args.file ? path.resolve(cwd, args.file) : undefined, { cwd });
  } catch (err) {
    fail(errorText(err));
  }
  if (args.print) {
    process.stdout.write(printConfig(model));
    return;
  }
  // Workers do not repeat the warnings their primary printed already.
  const warn = cluster.isWorker ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  if (args.test === 1) {
    // -t: the syntax, the modules and every option against its plugin's schema (so a wrong type
    // or an unknown module is caught), without initializing the plugins: that is -tt.
    try {
      const host = new PluginHost({ pluginDirs: args.pluginDirs, cwd });
      await host.load(model);
      for (const w of model.warnings) warn(w);
      host.validate(model, warn);
      for (const s of socketBlocks(model)) {
        if (!parseSocketName(s.value, 0)) throw new ConfigError(s.loc, `$SERVER["socket"]: cannot parse "${s.value}"`);
      }
    } catch (err) {
      fail(errorText(err));
    }
    process.stdout.write('Syntax OK\n');
    return;
  }
  if (args.single && !stdinIsSocket()) fail('lantern: -1 needs a connected socket on stdin (as inetd or systemd Accept=yes pass it)');
  const maxWorker = Number(model.root.entries.filter((e) => e.key === 'server.max-worker').at(-1)?.value ?? 0);
  const asPrimary = cluster.isPrimary && maxWorker > 0 && !args.single && args.test === 0;
  let server: Server;
  try {
    server = await Server.create({
      model, cwd, pluginDirs: args.pluginDirs, warn,
      listen: args.single ? [] : undefined,
    });
    openBreakage(server);
    if (args.test >= 2) {
      await server.stop(0);
      process.stdout.write('Syntax OK\n');
      return;
    }
    if (asPrimary) {
      // The primary checked the config (errors and warnings once, not once per worker); the
      // workers serve.
      const specs = server.listenSpecs();
      // What exists once for all workers (spawned backends) starts here; the primary's own
      // stop (when its workers are gone) ends it.
      await server.hooks.primaryStartup.promise(server);
      // node:cluster binds only when the first worker asks, and every worker would report an
      // address in use: try each address once here (this also clears a stale unix socket).
      for (const spec of specs) {
        if (spec.fd === undefined) await probeListen(spec);
      }
      runPrimary(maxWorker, server);
      announce(server);
      return;
    }
    await server.start();
  } catch (err) {
    fail(errorText(err));
  }
  // lighttpd logs neither line in its one-request mode (-1); workers leave them to their primary.
  if (!args.single && !cluster.isWorker) announce(server);
  if (!cluster.isWorker) writePidFile(server);
  // After binding, as lighttpd does; a primary of workers keeps root (node:cluster binds for them).
  changeUser(server);
  installSignals(server);
  if (args.single) {
    const socket = new net.Socket({ fd: 0, allowHalfOpen: true, readable: true, writable: true });
    server.adopt(socket, { single: true, onDone: () => void server.stop(1000).then(() => process.exit(0)) });
  }
  if (args.idleSecs > 0) watchIdle(server, args.idleSecs);
  if (cluster.isWorker) process.send?.({ lantern: 'ready' });
}

/** Why the server is stopping, for its last error-log line (lighttpd's server.c wording). */
let stopReason = '';

/**
 * lighttpd's "server started (lighttpd/1.4.69)" in the error log, and at the end "server stopped
 * by UID = .. PID = .." (lantern names the signal: Node cannot see who sent it) or "server stopped
 * after idle timeout" (-i), written once the connections are done, before the plugins close.
 */
function announce(server: Server): void {
  server.logError(`server started (lantern/${VERSION})`);
  server.hooks.shutdown.tap({ name: 'core-stopped', stage: 1000 }, () => {
    server.logError(stopReason === 'idle' ? 'server stopped after idle timeout' : stopReason ? `server stopped by ${stopReason}` : 'server stopped');
  });
}

function stdinIsSocket(): boolean {
  try {
    return fs.fstatSync(0).isSocket();
  } catch {
    return false; // stdin closed
  }
}

/** What the user sees for a startup error: `file:line: message`, never a stack trace. */
function errorText(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  return `lantern: ${err instanceof Error ? err.message : String(err)}`;
}

/** server.pid-file: written once listening (by the primary with workers), removed at exit. */
function writePidFile(server: Server): void {
  const pidFile = server.globalValues.get('server.pid-file');
  if (typeof pidFile !== 'string' || pidFile === '') return;
  try {
    fs.writeFileSync(pidFile, `${process.pid}\n`);
  } catch (err) {
    const loc = server.globalLocs.get('server.pid-file');
    fail(`${loc ? `${loc.file}:${loc.line}:` : 'lantern:'} server.pid-file: cannot write ${pidFile}: ${(err as Error).message}`);
  }
  process.once('exit', () => { try { fs.unlinkSync(pidFile); } catch { /* gone */ } });
}

/** server.breakagelog: opened before the listeners (a bad path stops the start), reopened on SIGHUP. */
function openBreakage(server: Server): void {
  const target = server.globalValues.get('server.breakagelog');
  if (typeof target !== 'string' || target === '') return;
  try {
    openBreakageLog(target);
  } catch (err) {
    const loc = server.globalLocs.get('server.breakagelog');
    throw new ConfigError(loc ?? { file: server.model.file, line: 0 }, `server.breakagelog: cannot open "${target}": ${(err as Error).message}`);
  }
  server.hooks.sighup.tap('core-breakagelog', () => reopenBreakageLog());
}

/** server.username / server.groupname (root only); a user that cannot be had stops the server. */
function changeUser(server: Server): void {
  const user = server.globalValues.get('server.username');
  const group = server.globalValues.get('server.groupname');
  const why = dropPrivileges(typeof user === 'string' ? user : '', typeof group === 'string' ? group : '');
  if (why === null) return;
  const loc = server.globalLocs.get(typeof user === 'string' && user !== '' ? 'server.username' : 'server.groupname');
  server.logError(why);
  fail(`${loc ? `${loc.file}:${loc.line}:` : 'lantern:'} ${why}`);
}

function installSignals(server: Server): void {
  let stopping = false;
  const stop = (graceMs: number, signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stopReason ||= signal;
    server.stop(graceMs).then(() => process.exit(0), () => process.exit(1));
  };
  // SIGTERM: stop accepting, finish in-flight requests up to the grace period (design.md §5).
  process.on('SIGTERM', () => stop(server.limits.gracefulStopMs, 'SIGTERM'));
  // SIGINT: the same, faster.
  process.on('SIGINT', () => stop(Math.min(1000, server.limits.gracefulStopMs), 'SIGINT'));
  process.on('SIGHUP', () => server.reopenLogs());
  process.on('uncaughtException', (err) => {
    // A bug in a plugin's async callback must not take the whole server down silently.
    server.counters.pluginErrors++;
    server.logError(`uncaught exception: ${err.stack ?? err}`);
  });
}

function watchIdle(server: Server, secs: number): void {
  let idleSince = Date.now();
  server.hooks.trigger.tap('core-idle', (now) => {
    if (server.connections.size > 0) idleSince = now;
    else if (now - idleSince >= secs * 1000) {
      stopReason ||= 'idle';
      void server.stop(0).then(() => process.exit(0));
    }
  });
}

/**
 * server.max-worker: the primary keeps N workers running; they share the listeners
 * (node:cluster: the primary binds, or opens the inherited fds, on the workers' behalf).
 */
function runPrimary(count: number, server: Server): void {
  let stopping = false;
  const spawnTimes: number[] = [];
  const inherited = activatedFds();
  // Workers inherit none of our fds and have their own pid: tell them how many sockets the
  // primary holds from 3 up, which their listen({ fd }) resolves in the primary.
  const env: NodeJS.ProcessEnv = inherited.length > 0
    ? { [WORKER_LISTEN_FDS_ENV]: String(inherited.length), LISTEN_FDS: '', LISTEN_PID: '' }
    : { [WORKER_LISTEN_FDS_ENV]: '' };
  // Backends the primary spawned are the workers' to use, not to start again.
  env[SPAWNED_BY_PRIMARY_ENV] = '1';
  // A backend's announced capacity is shared by all workers (proxy-core divides it).
  env[WORKER_COUNT_ENV] = String(count);
  const fork = () => {
    const now = Date.now();
    spawnTimes.push(now);
    while (spawnTimes.length > 0 && now - spawnTimes[0]! > 10_000) spawnTimes.shift();
    if (spawnTimes.length > count * 5) {
      process.stderr.write('lantern: workers keep dying; giving up\n');
      process.exit(1);
    }
    cluster.fork(env);
  };
  // A worker leaves cluster.workers only once its IPC channel is closed too, which may come
  // after its 'exit': ask each worker whether its process is gone instead.
  const allDead = () => Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead());
  writePidFile(server);
  // The primary's plugins (its spawned backends) stop once no worker can use them any more.
  const exit = (code: number) => void server.stop(0).finally(() => process.exit(code));
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (_worker, code) => {
    if (stopping) {
      if (allDead()) exit(0);
      return;
    }
    if (code === 1 && spawnTimes.length <= count) {
      // A worker that cannot start (port in use) fails at once: so does the primary.
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      exit(1);
      return;
    }
    fork();
  });
  const forward = (sig: NodeJS.Signals) => {
    if (sig !== 'SIGHUP') { stopping = true; stopReason ||= sig; }
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    if (stopping && allDead()) exit(0);
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGHUP', () => forward('SIGHUP'));
}

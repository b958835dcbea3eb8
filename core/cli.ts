// The command line, as lighttpd has it (design.md §5): -f -m -D -t -tt -p -v -V -h -i -1.
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { ConfigError, type ConfigModel } from '../config/model.js';
import { printConfig } from '../config/print.js';
import { Server } from './server.js';
import { VERSION, FEATURES } from './version.js';

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
      case '-V': return { exit: 0, out: `lantern/${VERSION} (Node ${process.version})\n\nFeatures:\n\n${FEATURES.map((f) => `\t+ ${f}`).join('\n')}\n` };
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
    fail(err instanceof ConfigError ? err.message : `lantern: ${(err as Error).message}`);
  }
  if (args.print) {
    process.stdout.write(printConfig(model));
    return;
  }
  const warn = (m: string) => process.stderr.write(`${m}\n`);
  const maxWorker = Number(model.root.entries.filter((e) => e.key === 'server.max-worker').at(-1)?.value ?? 0);
  if (args.test === 1) {
    // -t: the syntax; plus the plugin schemas, so a wrong type is caught too.
    try {
      await Server.create({ model, cwd, pluginDirs: args.pluginDirs, warn: () => {} }).then((s) => s.stop(0));
    } catch (err) {
      fail(err instanceof ConfigError ? err.message : `lantern: ${(err as Error).message}`);
    }
    process.stdout.write('Syntax OK\n');
    return;
  }
  if (cluster.isPrimary && maxWorker > 0 && !args.single && args.test === 0) {
    runPrimary(maxWorker);
    return;
  }
  let server: Server;
  try {
    server = await Server.create({
      model, cwd, pluginDirs: args.pluginDirs, warn,
      listen: args.single ? [] : undefined,
    });
    if (args.test >= 2) {
      await server.stop(0);
      process.stdout.write('Syntax OK\n');
      return;
    }
    await server.start();
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : `lantern: ${(err as Error).message}`);
  }
  writePidFile(server);
  installSignals(server);
  if (args.single) {
    const socket = new net.Socket({ fd: 0, allowHalfOpen: true, readable: true, writable: true });
    server.adopt(socket, { single: true, onDone: () => void server.stop(1000).then(() => process.exit(0)) });
  }
  if (args.idleSecs > 0) watchIdle(server, args.idleSecs);
  if (cluster.isWorker) process.send?.({ lantern: 'ready' });
}

function writePidFile(server: Server): void {
  const pidFile = server.globalValues.get('server.pid-file');
  if (typeof pidFile === 'string' && pidFile && !cluster.isWorker) {
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    server.hooks.shutdown.tap('core', () => { try { fs.unlinkSync(pidFile); } catch { /* gone */ } });
  }
}

function installSignals(server: Server): void {
  let stopping = false;
  const stop = (graceMs: number) => {
    if (stopping) return;
    stopping = true;
    server.stop(graceMs).then(() => process.exit(0), () => process.exit(1));
  };
  // SIGTERM: stop accepting, finish in-flight requests up to the grace period (design.md §5).
  process.on('SIGTERM', () => stop(server.limits.gracefulStopMs));
  // SIGINT: the same, faster.
  process.on('SIGINT', () => stop(Math.min(1000, server.limits.gracefulStopMs)));
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
    else if (now - idleSince >= secs * 1000) void server.stop(0).then(() => process.exit(0));
  });
}

/** server.max-worker: the primary keeps N workers running; they share the listeners (node:cluster). */
function runPrimary(count: number): void {
  let stopping = false;
  const spawnTimes: number[] = [];
  const fork = () => {
    const now = Date.now();
    spawnTimes.push(now);
    while (spawnTimes.length > 0 && now - spawnTimes[0] > 10_000) spawnTimes.shift();
    if (spawnTimes.length > count * 5) {
      process.stderr.write('lantern: workers keep dying; giving up\n');
      process.exit(1);
    }
    cluster.fork();
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (code === 1 && spawnTimes.length <= count) {
      // A worker that cannot start (bad config, port in use) fails at once: so does the primary.
      process.exit(1);
    }
    fork();
  });
  const forward = (sig: NodeJS.Signals) => {
    if (sig !== 'SIGHUP') stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGHUP', () => forward('SIGHUP'));
}

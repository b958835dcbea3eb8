// demo-app: starts examples/demo-app/server.mjs once per configured port when lantern starts,
// restarts a copy that dies (with spin protection) and stops them all on shutdown (SIGTERM, then
// SIGKILL after 2 s). It exists for the embedded default config's /demo/ until proxy-core's
// unified spawner (design.md §3) comes with FastCGI/CGI.
import path from 'node:path';
import { EMBEDDED_CONFIG_FILE, findPackageRoot } from '../../config/default-config.js';
import { definePlugin } from '../../core/plugin.js';
import { SupervisedProcess } from './supervised-process.js';

/** The app the plugin runs when demo-app.script is not set. */
export const DEFAULT_DEMO_SCRIPT = path.join(findPackageRoot(), 'examples', 'demo-app', 'server.mjs');

/** What the demo app prints once it listens (examples/demo-app/server.mjs). */
const READY_LINE = /^listening on /;

/** `( 8081, 8082 )`, `8081` or numeric strings → ports; an error message for anything else. */
export function parsePorts(value: unknown): number[] | string {
  const list = Array.isArray(value) ? value : [value];
  const ports: number[] = [];
  for (const v of list) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,5}$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) return `expected a list of TCP ports (1-65535), got ${JSON.stringify(v)}`;
    if (ports.includes(n)) return `port ${n} is listed twice`;
    ports.push(n);
  }
  return ports;
}

export default definePlugin({
  id: 'demo-app',
  options: {
    'demo-app.ports': {
      type: 'any',
      default: [],
      conditional: false,
      check: (v) => { const r = parsePorts(v); return typeof r === 'string' ? r : undefined; },
      doc: 'The TCP ports on 127.0.0.1 to run the demo app on, one process per port, e.g. ( 8081, 8082 ). Default: none, so nothing is started.',
    },
    'demo-app.script': {
      type: 'string',
      default: '',
      conditional: false,
      doc: 'The Node.js script to run as `node <script> <port>`; it must print a line starting with "listening on " once it accepts connections. A relative path is taken from the directory of the config file. Default: the package\'s examples/demo-app/server.mjs.',
    },
  },
  create(ctx) {
    const ports = parsePorts(ctx.global['demo-app.ports']) as number[];
    if (ports.length === 0) return {};
    const configured = ctx.global['demo-app.script'];
    const configDir = ctx.server.model.file === EMBEDDED_CONFIG_FILE ? findPackageRoot() : path.dirname(ctx.server.model.file);
    const script = configured === '' ? DEFAULT_DEMO_SCRIPT : path.resolve(configDir, configured);
    const processes = ports.map((port) => new SupervisedProcess({
      argv: [process.execPath, script, String(port)],
      cwd: path.dirname(script),
      readyPattern: READY_LINE,
      logError: (m) => ctx.logError(m),
      debug: (fmt, ...args) => ctx.debug(fmt, ...args),
    }));
    // If lantern itself exits without a graceful stop, take the children along.
    const killAll = () => { for (const p of processes) p.killNow(); };

    ctx.hooks.startup.tapPromise(ctx.id, async () => {
      process.once('exit', killAll);
      // Wait for every copy to listen, so the first proxied request does not meet a refusal
      // (which would disable that member for disable-time).
      await Promise.all(processes.map((p) => p.start()));
    });
    const stopAll = async () => {
      await Promise.all(processes.map((p) => p.stop()));
      process.off('exit', killAll);
    };
    ctx.hooks.shutdown.tapPromise(ctx.id, stopAll);

    return {
      api: {
        /** The running children's pids, in port order (undefined while one restarts). */
        pids: () => processes.map((p) => p.pid),
        ports,
      },
      close: stopAll,
    };
  },
});

// Test fixture for the proxy-core tests: a plugin registering two tiny balancers ("test-rr":
// round robin over the available, untried members; "test-first": the first such member), so the
// engine is tested without balancer-rr / balancer-hash, plus helpers to start lantern with it.
import { definePlugin } from '../../core/plugin.js';
import type { ProxyCoreApi } from '../../plugins/proxy-core/api.js';
import type { Balancer, MemberView } from '../../plugins/proxy-core/types.js';
import { startLantern, type LanternHandle, type LanternOptions } from '../helpers/lantern.js';

class RoundRobin implements Balancer {
  private next = 0;
  select(members: readonly MemberView[], _req: unknown, tried: ReadonlySet<MemberView>, nowMs: number): MemberView | null {
    const n = members.length;
    for (let k = 0; k < n; k++) {
      const m = members[(this.next + k) % n]!;
      if (!tried.has(m) && m.available(nowMs)) { this.next = (this.next + k + 1) % n; return m; }
    }
    return null;
  }
}

const firstAvailable: Balancer = {
  select(members, _req, tried, nowMs) {
    for (const m of members) if (!tried.has(m) && m.available(nowMs)) return m;
    return null;
  },
};

export default definePlugin({
  id: 'proxy-core-test-balancers',
  requires: ['proxy-core'],
  create(ctx) {
    const core = ctx.server.host.api<ProxyCoreApi>('proxy-core')!;
    core.registerBalancer({ name: 'test-rr', create: () => new RoundRobin() });
    core.registerBalancer({ name: 'test-first', create: () => firstAvailable });
    // `/api/<backend>/...` goes to the backend of that name, as a mapping plugin would send it.
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: -5 }, (req) => {
      if (!req.path.startsWith('/api/')) return undefined;
      const backend = core.getBackend(req.path.split('/')[2] ?? '');
      if (backend === undefined) return 404;
      core.forward(req, backend);
      return true;
    });
  },
});

export const FIXTURE = new URL('./proxy-core-fixtures.ts', import.meta.url).pathname;

/** lighttpd.conf text loading proxy-core, the http protocol and the test balancers, then `rest`. */
export function proxyConf(rest: string): string {
  return `server.modules = ( "mod_proxy_core", "mod_proxy_backend_http", "${FIXTURE}" )
server.document-root = "%DIR%"
server.errorlog = "%DIR%/error.log"
proxy-core.balancer = "test-rr"
${rest}
`;
}

export interface ProxyHandle extends LanternHandle {
  api: ProxyCoreApi;
}

export async function startProxy(rest: string, opts: LanternOptions = {}): Promise<ProxyHandle> {
  const lt = await startLantern(proxyConf(rest), opts);
  const api = lt.server.host.api<ProxyCoreApi>('proxy-core')!;
  return Object.assign(lt, { api });
}

/**
 * A TCP address where connecting hangs (E2): a child process listens with backlog 1 and never
 * accepts (its event loop is blocked), and two connections fill the accept queue, so the kernel
 * drops every further SYN.
 */
export async function blackhole(): Promise<{ address: string; close(): void }> {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const child = spawn(process.execPath, ['-e', `
const net = require('net');
const s = net.createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(String(s.address().port) + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
});`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  const fillers = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
  await Promise.all(fillers.map((s) => new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); })));
  return {
    address: `127.0.0.1:${port}`,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

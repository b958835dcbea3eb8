// The local backends proxy-core starts (lighttpd's bin-path, design.md §3 "Unified process
// spawning"): one Spawner per spawned host, each process it runs a member of its backend, capped
// at what the process serves (PHP_FCGI_CHILDREN). Started once: by the process that serves, or
// by a server.max-worker primary, whose workers then only connect to the same addresses.
//
// Adaptive spawning (lighttpd's gw_handle_trigger_host): with min-procs below max-procs, min-procs
// processes start; once a second a process is added when every one has more than
// max-load-per-proc requests in flight, and one beyond min-procs that served nothing for
// idle-timeout is stopped. Members follow: a process is a member while it runs. As in lighttpd,
// a server.max-worker setup starts max-procs at once (the workers cannot share the load count).
import { turnNowMs } from '../../core/turn.js';
import { buildChildEnv, procCapacity, procRequestsPerConnection, Spawner, type SpawnSpec } from './spawner.js';
import { procSocket, formatSocket, type SpawnSocket } from './spawn-socket.js';
import type { SpawnHostOptions } from './gateway/server-config.js';
import type { Backend } from './backend.js';

export { SPAWNED_BY_PRIMARY_ENV } from '../../core/hooks.js';

/** Grace before SIGKILL when spawned backends are stopped. */
const STOP_GRACE_MS = 2000;

/** A spawned host as the gateway config gives it: the listen address and how to start it. */
export type SpawnHost = SpawnHostOptions & { member: string };

function spawnSocket(member: string): SpawnSocket {
  if (member.startsWith('unix:')) return { kind: 'unix', path: member.slice(5) };
  const i = member.lastIndexOf(':');
  const host = member.slice(0, i);
  return { kind: 'tcp', host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(member.slice(i + 1)) };
}

function specOf(h: SpawnHost, adaptive = false): SpawnSpec {
  return {
    binPath: h.binPath,
    env: h.env,
    copyEnv: h.copyEnv,
    socket: spawnSocket(h.member),
    maxProcs: h.maxProcs,
    minProcs: adaptive ? Math.min(h.minProcs, h.maxProcs) : h.maxProcs,
    maxLoadPerProc: h.maxLoadPerProc,
    idleTimeoutMs: h.idleTimeoutSecs * 1000,
    killSignal: h.killSignal,
    listenBacklog: h.listenBacklog,
  };
}

/** The addresses of a spawned host's processes: socket-N or port+N, N < max-procs. */
function procAddresses(h: SpawnHost): string[] {
  const base = specOf(h).socket;
  return Array.from({ length: h.maxProcs }, (_, i) => formatSocket(procSocket(base, i)));
}

/**
 * The processes' addresses become members, each capped at what one process serves
 * (PHP_FCGI_CHILDREN, else 1) and told after how many requests it closes a connection.
 */
function addMembers(b: Backend, h: SpawnHost, addresses: string[]): void {
  const childEnv = buildChildEnv({ env: h.env, copyEnv: h.copyEnv });
  const cap = procCapacity(childEnv);
  const perConnection = procRequestsPerConnection(childEnv);
  for (const a of addresses) {
    b.addMember(a);
    const m = b.memberFor(a);
    if (m) {
      m.setCapacity(cap);
      m.requestsPerConnection = perConnection;
    }
  }
}

/** A host this process spawned, and the backends whose members its processes are. */
interface Spawned {
  host: SpawnHost;
  spawner: Spawner;
  backends: Backend[];
}

export class SpawnedBackends {
  private readonly spawners: Spawner[] = [];
  /** The hosts started here, by listen address. */
  private readonly byMember = new Map<string, Spawned>();
  private adaptTimer: NodeJS.Timeout | null = null;
  constructor(private readonly log: (m: string) => void, private readonly debug: (fmt: string, ...args: unknown[]) => void) {}

  /**
   * Start the spawned hosts of `backends` and make each process a member. In a worker of a
   * server.max-worker primary, nothing is started: the primary did, at the same addresses.
   */
  async start(backends: Iterable<Backend>, startProcesses: boolean): Promise<void> {
    for (const b of backends) {
      for (const h of b.spawnHosts) {
        if (!startProcesses) { addMembers(b, h, procAddresses(h)); continue; }
        const known = this.byMember.get(h.member);
        if (known !== undefined) { this.joinSpawned(b, known); continue; }
        const spawner = this.startOne(h, b.name, true);
        const s: Spawned = { host: h, spawner, backends: [b] };
        this.byMember.set(h.member, s);
        addMembers(b, h, (await spawner.start()).map((p) => p.address));
        if (h.minProcs < h.maxProcs) this.adaptEverySecond();
      }
    }
  }

  /**
   * A backend made after startup for hosts the startup spawned (the same fastcgi.server under
   * other settings, met at the first request that combines them): its members are those
   * processes' addresses; nothing is started twice.
   */
  join(b: Backend): void {
    for (const h of b.spawnHosts) {
      const s = this.byMember.get(h.member);
      if (s !== undefined) this.joinSpawned(b, s);
      else addMembers(b, h, procAddresses(h));
    }
  }

  private joinSpawned(b: Backend, s: Spawned): void {
    if (!s.backends.includes(b)) s.backends.push(b);
    addMembers(b, s.host, s.spawner.procs.map((p) => p.address));
  }

  private adaptEverySecond(): void {
    if (this.adaptTimer !== null) return;
    this.adaptTimer = setInterval(() => this.adapt(), 1000);
    this.adaptTimer.unref();
  }

  /** One step of adaptive spawning for every host whose min-procs is below its max-procs. */
  private adapt(): void {
    const now = turnNowMs();
    for (const s of this.byMember.values()) {
      if (s.host.minProcs >= s.host.maxProcs) continue;
      const loadOf = (address: string) => {
        let active = 0;
        let lastUsedMs = 0;
        for (const b of s.backends) {
          const m = b.memberFor(address);
          if (m === undefined) continue;
          // lighttpd's load counts what waits at the process; here it waits in lantern's queue.
          active += m.active + Math.ceil(b.queue.length / Math.max(1, b.members.length));
          if (m.lastUsedMs > lastUsedMs) lastUsedMs = m.lastUsedMs;
        }
        return { active, lastUsedMs };
      };
      s.spawner.adapt(loadOf, now, {
        added: (address) => { for (const b of s.backends) addMembers(b, s.host, [address]); },
        retiring: (address) => { for (const b of s.backends) void b.removeMember(address); },
      }).catch((err: Error) => this.log(`adaptive spawning: ${err.message}`));
    }
  }

  /** The max-worker primary: start every spawned host, add no members (it serves nothing). */
  async startOnly(backends: Iterable<Backend>): Promise<void> {
    for (const b of backends) for (const h of b.spawnHosts) await this.startOne(h, b.name).start();
  }

  private startOne(h: SpawnHost, backendName: string, adaptive = false): Spawner {
    const sp = new Spawner(specOf(h, adaptive), {
      log: (m) => this.log(`backend "${backendName}": ${m}`),
      debug: this.debug,
    });
    this.spawners.push(sp);
    return sp;
  }

  /** Stop every process (killSignal, then SIGKILL after the grace time) and remove their sockets. */
  async stop(): Promise<void> {
    if (this.adaptTimer !== null) { clearInterval(this.adaptTimer); this.adaptTimer = null; }
    this.byMember.clear();
    await Promise.all(this.spawners.splice(0).map((s) => s.stop(STOP_GRACE_MS)));
  }
}

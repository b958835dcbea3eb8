// The local backends proxy-core starts (lighttpd's bin-path, design.md §3 "Unified process
// spawning"): one Spawner per spawned host, each process it runs a member of its backend, capped
// at what the process serves (PHP_FCGI_CHILDREN). Started once: by the process that serves, or
// by a server.max-worker primary, whose workers then only connect to the same addresses.
import { buildChildEnv, procCapacity, Spawner, type SpawnSpec } from './spawner.js';
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

function specOf(h: SpawnHost): SpawnSpec {
  return {
    binPath: h.binPath,
    env: h.env,
    copyEnv: h.copyEnv,
    socket: spawnSocket(h.member),
    // Every process is started at once (lighttpd 1.4 no longer adapts the count to the load).
    maxProcs: h.maxProcs,
    minProcs: h.maxProcs,
    maxLoadPerProc: h.maxLoadPerProc,
    idleTimeoutMs: h.idleTimeoutSecs * 1000,
    killSignal: h.killSignal,
    listenBacklog: h.listenBacklog,
  };
}

/** What one process of a spawned host serves at once (PHP_FCGI_CHILDREN, else 1). */
function perProcCapacity(h: SpawnHost): number {
  return procCapacity(buildChildEnv({ env: h.env, copyEnv: h.copyEnv }));
}

/** The addresses of a spawned host's processes: socket-N or port+N, N < max-procs. */
function procAddresses(h: SpawnHost): string[] {
  const base = specOf(h).socket;
  return Array.from({ length: h.maxProcs }, (_, i) => formatSocket(procSocket(base, i)));
}

/** The processes' addresses become members, each capped at what one process serves. */
function addMembers(b: Backend, h: SpawnHost, addresses: string[]): void {
  const cap = perProcCapacity(h);
  for (const a of addresses) {
    b.addMember(a);
    b.memberFor(a)?.setCapacity(cap);
  }
}

export class SpawnedBackends {
  private readonly spawners: Spawner[] = [];
  constructor(private readonly log: (m: string) => void, private readonly debug: (fmt: string, ...args: unknown[]) => void) {}

  /**
   * Start the spawned hosts of `backends` and make each process a member. In a worker of a
   * server.max-worker primary, nothing is started: the primary did, at the same addresses.
   */
  async start(backends: Iterable<Backend>, startProcesses: boolean): Promise<void> {
    for (const b of backends) {
      for (const h of b.spawnHosts) {
        if (startProcesses) addMembers(b, h, (await this.startOne(h, b.name).start()).map((p) => p.address));
        else addMembers(b, h, procAddresses(h));
      }
    }
  }

  /**
   * A backend made after startup for hosts the startup spawned (the same fastcgi.server under
   * other settings, met at the first request that combines them): its members are those
   * processes' addresses; nothing is started twice.
   */
  join(b: Backend): void {
    for (const h of b.spawnHosts) addMembers(b, h, procAddresses(h));
  }

  /** The max-worker primary: start every spawned host, add no members (it serves nothing). */
  async startOnly(backends: Iterable<Backend>): Promise<void> {
    for (const b of backends) for (const h of b.spawnHosts) await this.startOne(h, b.name).start();
  }

  private startOne(h: SpawnHost, backendName: string): Spawner {
    const sp = new Spawner(specOf(h), {
      log: (m) => this.log(`backend "${backendName}": ${m}`),
      debug: this.debug,
    });
    this.spawners.push(sp);
    return sp;
  }

  /** Stop every process (killSignal, then SIGKILL after the grace time) and remove their sockets. */
  async stop(): Promise<void> {
    await Promise.all(this.spawners.splice(0).map((s) => s.stop(STOP_GRACE_MS)));
  }
}

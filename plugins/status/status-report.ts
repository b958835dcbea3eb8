// The data behind mod_status's pages (lighttpd mod_status.c): server counters, traffic averages
// over 5 s, open connections, and proxy-core's per-backend/member snapshot (design.md §3
// "Status"). Built once per status request; the HTML, JSON and text renderers only format it.
import type { Server } from '../../core/server.js';
import type { BackendSnapshot, ProxySnapshot } from '../proxy-core/index.js';

export interface ConnectionReport {
  remote: string;
  requests: number;
  /** `handling` while a request is in progress, else `keep-alive`. */
  state: string;
  method: string;
  host: string;
  target: string;
}

export interface StatusReport {
  tag: string;
  uptimeSecs: number;
  startedAt: string;
  requestsTotal: number;
  trafficBytesTotal: number;
  requestAverage5s: number;
  trafficBytesAverage5s: number;
  connectionsOpen: number;
  maxConnections: number;
  /** server.counters as they are (connections, requests, responses, badRequests, ...). */
  counters: Record<string, number>;
  /** proxy-core's backends as its snapshot() gives them; null when proxy-core is not loaded. */
  backends: BackendSnapshot[] | null;
  connections: ConnectionReport[];
}

/** The part of proxy-core's API the status plugin reads. */
export interface SnapshotSource {
  snapshot(): ProxySnapshot;
}

/** Requests and bytes per second over the last 5 s (lighttpd's requests_5s / traffic_out_5s). */
export class TrafficWindow {
  requestsTotal = 0;
  bytesTotal = 0;
  private requestsThisSecond = 0;
  private bytesThisSecond = 0;
  private readonly requests5s = [0, 0, 0, 0, 0];
  private readonly bytes5s = [0, 0, 0, 0, 0];
  private slot = 0;

  count(bytes: number): void {
    this.requestsTotal++;
    this.bytesTotal += bytes;
    this.requestsThisSecond++;
    this.bytesThisSecond += bytes;
  }

  /** Once a second (the trigger hook). */
  tick(): void {
    this.requests5s[this.slot] = this.requestsThisSecond;
    this.bytes5s[this.slot] = this.bytesThisSecond;
    this.slot = (this.slot + 1) % 5;
    this.requestsThisSecond = 0;
    this.bytesThisSecond = 0;
  }

  get requestAverage(): number { return Math.floor(this.requests5s.reduce((a, b) => a + b, 0) / 5); }
  get bytesAverage(): number { return Math.floor(this.bytes5s.reduce((a, b) => a + b, 0) / 5); }
}

export function buildReport(server: Server, traffic: TrafficWindow, startedAtMs: number, proxy: SnapshotSource | undefined): StatusReport {
  const now = Date.now();
  const connections: ConnectionReport[] = [];
  for (const c of server.connections) {
    const req = c.req;
    connections.push({
      remote: c.remoteAddress,
      requests: c.requests,
      state: req ? 'handling' : 'keep-alive',
      method: req ? req.method : '',
      host: req ? req.host : '',
      target: req ? req.target : '',
    });
  }
  return {
    tag: server.tag,
    uptimeSecs: Math.floor((now - startedAtMs) / 1000),
    startedAt: new Date(startedAtMs).toISOString(),
    requestsTotal: traffic.requestsTotal,
    trafficBytesTotal: traffic.bytesTotal,
    requestAverage5s: traffic.requestAverage,
    trafficBytesAverage5s: traffic.bytesAverage,
    connectionsOpen: server.connections.size,
    maxConnections: server.limits.maxConnections,
    counters: { ...server.counters } as unknown as Record<string, number>,
    backends: proxy ? proxy.snapshot().backends : null,
    connections,
  };
}

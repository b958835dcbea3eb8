// Machine-readable forms of mod_status (lighttpd mod_status.c): `?json` (lighttpd's fields plus
// lantern's counters and backends), `?auto` (Apache-style `Key: value` text) and the
// statistics-url's sorted `key: value` lines.
import type { StatusReport } from './status-report.js';

/**
 * The JSON document: lighttpd's own keys first (RequestsTotal, TrafficTotal in kB, Uptime,
 * BusyServers, IdleServers, RequestAverage5s, TrafficAverage5s in kB/s) so scripts written for
 * lighttpd keep working, then lantern's detail.
 */
export function statusJson(r: StatusReport): Record<string, unknown> {
  return {
    RequestsTotal: r.requestsTotal,
    TrafficTotal: Math.floor(r.trafficBytesTotal / 1024),
    Uptime: r.uptimeSecs,
    BusyServers: r.connectionsOpen,
    IdleServers: r.maxConnections > 0 ? Math.max(0, r.maxConnections - r.connectionsOpen) : 0,
    RequestAverage5s: r.requestAverage5s,
    TrafficAverage5s: Math.floor(r.trafficBytesAverage5s / 1024),
    server: {
      tag: r.tag,
      startedAt: r.startedAt,
      uptimeSecs: r.uptimeSecs,
      connectionsOpen: r.connectionsOpen,
      requestsTotal: r.requestsTotal,
      trafficBytesTotal: r.trafficBytesTotal,
      counters: r.counters,
    },
    backends: r.backends,
    connections: r.connections,
  };
}

/**
 * lighttpd's `?jsonp=<name>`: only a name of letters, digits and `_` starting with a letter is
 * accepted (it is not URL-decoded, so nothing else can reach the script); else plain JSON.
 */
export function jsonpCallback(query: string | null): string | null {
  if (query === null || !query.startsWith('jsonp=')) return null;
  const name = query.slice(6);
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) ? name : null;
}

/** `?auto`: the text lighttpd writes (Total Accesses, Total kBytes, Uptime, BusyServers, IdleServers). */
export function statusAutoText(r: StatusReport): string {
  const idle = r.maxConnections > 0 ? Math.max(0, r.maxConnections - r.connectionsOpen) : 0;
  return `Total Accesses: ${r.requestsTotal}\nTotal kBytes: ${Math.floor(r.trafficBytesTotal / 1024)}\nUptime: ${r.uptimeSecs}\nBusyServers: ${r.connectionsOpen}\nIdleServers: ${idle}\n`;
}

/** `badRequests` → `bad-requests`: lighttpd's statistics keys are lowercase with dashes. */
const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Member states as numbers, for tools that graph the statistics lines. */
const STATE_NUMBER: Record<string, number> = { up: 0, disabled: 1, probing: 2 };

/**
 * statistics-url: every counter as `key: integer`, sorted by key (lighttpd sorts plugin_stats).
 * Keys: `core.<counter>`, `status.*`, and `proxy-core.backend.<name>.<field>` per backend and
 * `proxy-core.backend.<name>.<member>.<field>` per member (state: 0 up, 1 disabled, 2 probing).
 */
export function statisticsText(r: StatusReport): string {
  const lines: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(r.counters)) lines.push([`core.${kebab(k)}`, v]);
  lines.push(['core.connections-open', r.connectionsOpen]);
  lines.push(['core.uptime', r.uptimeSecs]);
  lines.push(['status.requests', r.requestsTotal]);
  lines.push(['status.traffic-bytes', r.trafficBytesTotal]);
  if (r.backends !== null) {
    let active = 0;
    for (const b of r.backends) {
      const base = `proxy-core.backend.${b.name}`;
      active += b.active;
      for (const k of ['requests', 'active', 'idle', 'queued', 'queueFull', 'queueTimeouts', 'allDown', 'retries'] as const) lines.push([`${base}.${kebab(k)}`, b[k]]);
      for (const m of b.members) {
        const mb = `${base}.${m.key}`;
        lines.push([`${mb}.state`, STATE_NUMBER[m.state] ?? -1]);
        for (const k of ['active', 'idle', 'connections', 'requests'] as const) lines.push([`${mb}.${k}`, m[k]]);
        for (const [kind, n] of Object.entries(m.failures)) lines.push([`${mb}.failures.${kebab(kind)}`, n]);
      }
    }
    lines.push(['proxy-core.active-requests', active]);
  }
  // Names come from the config (backend names) and may hold any character but a line break
  // would split a line: replace CR/LF so every line stays one `key: value`.
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return lines.map(([k, v]) => `${k.replace(/[\r\n]/g, '_')}: ${v}\n`).join('');
}

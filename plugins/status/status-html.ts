// HTML pages of mod_status (lighttpd mod_status.c: the status page and the config page), for a
// person to read. Every value that comes from a request, the config or a backend is escaped.
import { escapeHtml } from '../../core/html.js';
import type { BackendSnapshot } from '../proxy-core/index.js';
import type { StatusReport } from './status-report.js';

export { escapeHtml };

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
  table { border-collapse: collapse; margin-bottom: 1.5rem; }
  th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; vertical-align: top; }
  th { background: #f0f0f0; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .up { color: #176f2c; } .disabled { color: #b00020; font-weight: 600; } .probing { color: #a15c00; }
  code { font-family: ui-monospace, monospace; }`;

/** lighttpd's status.enable-sort: click a column head to sort the table by it. */
const SORT_SCRIPT = `<script>
for (const th of document.querySelectorAll('table.sortable th')) {
  th.style.cursor = 'pointer';
  th.addEventListener('click', () => {
    const table = th.closest('table'), col = th.cellIndex, body = table.tBodies[0];
    const dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    const key = (tr) => { const t = tr.cells[col].textContent; const n = Number(t); return t !== '' && !isNaN(n) ? n : t; };
    [...body.rows].sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; }).forEach((r) => body.appendChild(r));
  });
}
</script>`;

function page(title: string, tag: string, body: string, sortable: boolean): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}
</style>
</head>
<body>
<h1>${escapeHtml(tag || 'lantern')}: ${escapeHtml(title)}</h1>
${body}${sortable ? SORT_SCRIPT : ''}
</body>
</html>
`;
}

/** A table cell: text, a number (right-aligned), text with a CSS class, or several lines. */
type Cell = string | number | { text: string; cls: string } | { lines: string[] };

function cell(c: Cell): string {
  if (typeof c === 'number') return `<td class="n">${c}</td>`;
  if (typeof c === 'string') return `<td>${escapeHtml(c)}</td>`;
  if ('lines' in c) return `<td>${c.lines.map(escapeHtml).join('<br>')}</td>`;
  return `<td class="${escapeHtml(c.cls)}">${escapeHtml(c.text)}</td>`;
}

function table(head: string[], rows: Cell[][], sortable: boolean): string {
  const th = head.length === 0 ? '' : `<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n`;
  const tr = rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return `<table${sortable ? ' class="sortable"' : ''}>\n${th}<tbody>\n${tr}\n</tbody>\n</table>\n`;
}

function formatDuration(secs: number): string {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${d > 0 ? `${d}d ` : ''}${h}h ${m}m ${s}s`;
}

/** `lastFailure` → `last failure`: counter names as words. */
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** Failure kinds whose name does not read well as words. */
const FAILURE_LABELS: Record<string, string> = { status5xx: '5xx', tls: 'TLS handshake' };

function backendSection(b: BackendSnapshot, sortable: boolean): string {
  const kinds = Object.keys(b.failures) as Array<keyof BackendSnapshot['failures']>;
  const head = ['member', 'state', 'active', 'idle', 'connections', 'requests', ...kinds.map((k) => `failed: ${FAILURE_LABELS[k] ?? words(k)}`), 'last error'];
  // The state cell carries its name as a class, so "disabled" stands out.
  const rows: Cell[][] = b.members.map((m) => [
    m.hostname ? `${m.key} (${m.hostname})` : m.key,
    { text: m.disabledUntilMs > 0 ? `${m.state} until ${new Date(m.disabledUntilMs).toISOString()}` : m.state, cls: m.state },
    m.active, m.idle, m.connections, m.requests,
    ...kinds.map((k) => m.failures[k]),
    m.lastError ? `${m.lastError} (${new Date(m.lastErrorAtMs).toISOString()})` : '',
  ]);
  const summary = table(['requests', 'active', 'idle', 'queued', 'queue full (503)', 'queue timeouts (504)', 'all down (503)', 'retries'],
    [[b.requests, b.active, b.idle, b.queued, b.queueFull, b.queueTimeouts, b.allDown, b.retries]], false);
  return `<h3>backend <code>${escapeHtml(b.name)}</code></h3>
<p>protocol ${escapeHtml(b.protocol)}, balancer ${escapeHtml(b.balancer)}</p>
${summary}${b.members.length > 0 ? table(head, rows, sortable) : '<p>no members</p>\n'}`;
}

/** The status page (status.status-url). */
export function renderStatusHtml(r: StatusReport, sortable: boolean): string {
  const server = table([], [
    ['uptime', formatDuration(r.uptimeSecs)],
    ['started', r.startedAt],
    ['requests (finished)', r.requestsTotal],
    ['traffic out (bytes)', r.trafficBytesTotal],
    ['requests per second (5 s average)', r.requestAverage5s],
    ['bytes per second (5 s average)', r.trafficBytesAverage5s],
    ['connections open', r.connectionsOpen],
    ['connection limit', r.maxConnections > 0 ? r.maxConnections : 'none'],
  ], false);
  const counters = table(['core counter', 'value'], Object.entries(r.counters).map(([k, v]) => [words(k), v]), sortable);
  const backends = r.backends === null
    ? '<p>proxy-core is not loaded: no backends.</p>\n'
    : r.backends.length === 0 ? '<p>No backends are configured.</p>\n'
      : r.backends.map((b) => backendSection(b, sortable)).join('');
  const conns = r.connections.length === 0 ? '<p>none</p>\n'
    : table(['client', 'requests', 'state', 'method', 'host', 'target'],
      r.connections.map((c) => [c.remote, c.requests, c.state, c.method, c.host, c.target]), sortable);
  return page('server status', r.tag, `<h2>Server</h2>\n${server}${counters}<h2>Backends</h2>\n${backends}<h2>Connections</h2>\n${conns}`, sortable);
}

export interface PluginConfigReport {
  id: string;
  aliases: string[];
  requires: string[];
  options: Array<{ key: string; type: string; default: string; settings: Array<{ where: string; value: string }> }>;
}

/** The config page (status.config-url): loaded plugins and their options. */
export function renderConfigHtml(tag: string, configFile: string, plugins: PluginConfigReport[]): string {
  const sections = plugins.map((p) => {
    const meta = [p.aliases.length ? `aliases: ${p.aliases.join(', ')}` : '', p.requires.length ? `requires: ${p.requires.join(', ')}` : ''].filter(Boolean).join('; ');
    const rows: Cell[][] = p.options.map((o) => [o.key, o.type, o.default, o.settings.length === 0 ? '(default)' : { lines: o.settings.map((s) => `${s.where}: ${s.value}`) }]);
    return `<h2>${escapeHtml(p.id)}</h2>\n${meta ? `<p>${escapeHtml(meta)}</p>\n` : ''}${rows.length ? table(['option', 'type', 'default', 'set'], rows, false) : '<p>no options</p>\n'}`;
  }).join('');
  const body = `<p>config file: <code>${escapeHtml(configFile)}</code>; loaded plugins: ${plugins.filter((p) => p.id !== 'core').map((p) => `<code>${escapeHtml(p.id)}</code>`).join(', ')}</p>\n${sections}`;
  return page('configuration', tag, body, false);
}

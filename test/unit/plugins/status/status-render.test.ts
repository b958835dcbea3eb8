// Unit tests of plugins/status/status-html.ts and status-text.ts: every output form from one report, with hostile names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackendSnapshot } from '../../../../plugins/proxy-core/index.js';
import { escapeHtml, renderConfigHtml, renderStatusHtml } from '../../../../plugins/status/status-html.js';
import type { StatusReport } from '../../../../plugins/status/status-report.js';
import { TrafficWindow } from '../../../../plugins/status/status-report.js';
import { jsonpCallback, statisticsText, statusAutoText, statusJson } from '../../../../plugins/status/status-text.js';

const T = suite('status/render');

const failures = { refused: 2, connectTimeout: 0, readTimeout: 1, writeTimeout: 0, reset: 0, badResponse: 0, status5xx: 0, tls: 0 };

const backend: BackendSnapshot = {
  name: 'proxy:<evil>"&\n:1:/app/', protocol: 'http', balancer: 'round-robin',
  requests: 7, active: 1, idle: 2, queued: 3, queueFull: 0, queueTimeouts: 0, allDown: 1, retries: 2, responseBytesToDisk: 0, failures,
  members: [
    { key: '127.0.0.1:8001', hostname: null, weight: 1, state: 'up', requests: 5, active: 1, idle: 2, connections: 3, failures: { ...failures, refused: 0, readTimeout: 0 }, lastError: null, lastErrorAtMs: 0, disabledUntilMs: 0 },
    { key: '10.0.0.2:80', hostname: 'app.internal', weight: 1, state: 'disabled', requests: 2, active: 0, idle: 0, connections: 0, failures, lastError: 'LT_ERR_BACKEND_REFUSED: <connect ECONNREFUSED>', lastErrorAtMs: Date.UTC(2024, 0, 2), disabledUntilMs: Date.UTC(2024, 0, 2, 0, 1) },
  ],
};

const report = (backends: BackendSnapshot[] | null): StatusReport => ({
  tag: 'lantern', uptimeSecs: 90061, startedAt: '2024-01-01T00:00:00.000Z', requestsTotal: 12, trafficBytesTotal: 4096,
  requestAverage5s: 2, trafficBytesAverage5s: 2048, connectionsOpen: 3, maxConnections: 10,
  counters: { connections: 4, requests: 13, badRequests: 1 },
  backends,
  connections: [{ remote: '127.0.0.1', requests: 1, state: 'handling', method: 'GET', host: 'h"ost', target: "/x?<a>&'" }],
});

T('escapeHtml covers the five characters', () => {
  assert.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.is(escapeHtml(5), '5');
});

T('HTML: backends with per-member failures by kind, state class, last error; everything escaped', () => {
  const html = renderStatusHtml(report([backend]), false);
  assert.ok(html.includes('<h3>backend <code>proxy:&lt;evil&gt;&quot;&amp;\n:1:/app/</code></h3>'));
  assert.ok(html.includes('<th>failed: refused</th><th>failed: connect timeout</th><th>failed: read timeout</th>'));
  assert.ok(html.includes('<th>failed: bad response</th><th>failed: 5xx</th><th>failed: TLS handshake</th><th>last error</th>'));
  assert.ok(html.includes('<td>10.0.0.2:80 (app.internal)</td><td class="disabled">disabled until 2024-01-02T00:01:00.000Z</td>'));
  assert.ok(html.includes('<td class="n">2</td><td class="n">0</td><td class="n">1</td>'), 'refused 2, connect timeout 0, read timeout 1');
  assert.ok(html.includes('<td>LT_ERR_BACKEND_REFUSED: &lt;connect ECONNREFUSED&gt; (2024-01-02T00:00:00.000Z)</td>'));
  assert.ok(html.includes('<td>/x?&lt;a&gt;&amp;&#39;</td>'));
  assert.ok(html.includes('<td>h&quot;ost</td>'));
  assert.ok(html.includes('<td>uptime</td><td>1d 1h 1m 1s</td>'));
  assert.not.ok(html.includes('<evil>'));
  assert.not.ok(html.includes('<script>'), 'no sort script when sorting is off');
  assert.ok(renderStatusHtml(report([backend]), true).includes('<script>'));
  assert.match(renderStatusHtml(report(null), false), /proxy-core is not loaded/);
  assert.match(renderStatusHtml(report([]), false), /No backends are configured/);
});

T('JSON: lighttpd keys first, then counters and the snapshot as is', () => {
  const j = statusJson(report([backend]));
  assert.equal(Object.keys(j).slice(0, 7), ['RequestsTotal', 'TrafficTotal', 'Uptime', 'BusyServers', 'IdleServers', 'RequestAverage5s', 'TrafficAverage5s']);
  assert.equal([j.RequestsTotal, j.TrafficTotal, j.Uptime, j.BusyServers, j.IdleServers, j.RequestAverage5s, j.TrafficAverage5s], [12, 4, 90061, 3, 7, 2, 2]);
  assert.is((j.backends as BackendSnapshot[])[0], backend);
});

T('jsonp callback names: letters, digits, underscore, starting with a letter', () => {
  assert.is(jsonpCallback('jsonp=cb_1'), 'cb_1');
  assert.is(jsonpCallback('jsonp=1cb'), null);
  assert.is(jsonpCallback('jsonp=a.b'), null);
  assert.is(jsonpCallback('jsonp=a%28'), null);
  assert.is(jsonpCallback('json'), null);
  assert.is(jsonpCallback(null), null);
});

T('?auto text and statistics lines', () => {
  assert.is(statusAutoText(report(null)), 'Total Accesses: 12\nTotal kBytes: 4\nUptime: 90061\nBusyServers: 3\nIdleServers: 7\n');
  const text = statisticsText(report([backend]));
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.every((l) => /^[^\n]+: -?\d+$/.test(l)), 'one key: value per line, even with a newline in a backend name');
  const keys = lines.map((l) => l.slice(0, l.lastIndexOf(': ')));
  assert.equal(keys, [...keys].sort());
  assert.ok(lines.includes('core.bad-requests: 1'));
  assert.ok(lines.includes('proxy-core.active-requests: 1'));
  assert.ok(lines.includes('proxy-core.backend.proxy:<evil>"&_:1:/app/.10.0.0.2:80.state: 1'));
  assert.ok(lines.includes('proxy-core.backend.proxy:<evil>"&_:1:/app/.10.0.0.2:80.failures.refused: 2'));
  assert.ok(lines.includes('proxy-core.backend.proxy:<evil>"&_:1:/app/.queue-full: 0'));
  assert.not.ok(statisticsText(report(null)).includes('proxy-core'));
});

T('config page: options with every place they are set', () => {
  const html = renderConfigHtml('lantern', '/etc/<x>.conf', [
    { id: 'core', aliases: [], requires: [], options: [{ key: 'server.port', type: 'integer', default: '80', settings: [] }] },
    { id: 'status', aliases: ['mod_status'], requires: [], options: [{ key: 'status.status-url', type: 'string', default: '""', settings: [{ where: 'global (a:1)', value: '"/s"' }, { where: '$HTTP["url"] =^ "/x" (a:2)', value: '"/t"' }] }] },
  ]);
  assert.ok(html.includes('<code>/etc/&lt;x&gt;.conf</code>; loaded plugins: <code>status</code></p>'));
  assert.ok(html.includes('<td>global (a:1): &quot;/s&quot;<br>$HTTP[&quot;url&quot;] =^ &quot;/x&quot; (a:2): &quot;/t&quot;</td>'));
  assert.ok(html.includes('<td>server.port</td><td>integer</td><td>80</td><td>(default)</td>'));
});

T('TrafficWindow: totals and the 5-second averages', () => {
  const w = new TrafficWindow();
  for (let i = 0; i < 10; i++) w.count(100);
  w.tick();
  assert.equal([w.requestsTotal, w.bytesTotal, w.requestAverage, w.bytesAverage], [10, 1000, 2, 200]);
  for (let i = 0; i < 5; i++) w.tick();
  assert.equal([w.requestAverage, w.bytesAverage], [0, 0], 'a second older than 5 s drops out');
});

T.run();

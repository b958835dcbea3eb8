// Case tls-static: a 13-byte static file over HTTPS with keep-alive, lantern (mod_openssl) against
// nginx serving the same file over TLS, in interleaved rounds of the same run; ratio to nginx.
// Both use a certificate made for the run (openssl req) and TLS 1.3 as the client negotiates it.
// wrk-rounds.ts measures http:// URLs: the rounds here are the same loop with https://.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../processes.js';
import { runWrk, type WrkResult } from '../wrk.js';
import { ROOT } from './fixtures.js';
import { launch } from './launch.js';
import { fmt, fmtRatio, type CaseReport } from './report.js';
import { adopt, stopTargets, usable, type Target } from './targets.js';
import { errorsOf, medianOf, roundOrder, sameRoundRatio, type LoadOptions } from './wrk-rounds.js';

function writeTlsFiles(dir: string, lanternPort: number, nginxPort: number): { lanternConf: string; nginxConf: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt',
    '-days', '1', '-subj', '/CN=localhost'], { cwd: dir, stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, 'tls.pem'), fs.readFileSync(path.join(dir, 'tls.crt'), 'latin1') + fs.readFileSync(path.join(dir, 'tls.key'), 'latin1'));
  const lanternConf = path.join(dir, 'lantern-tls.conf');
  fs.writeFileSync(lanternConf, [
    'server.modules = ( "mod_openssl" )',
    `server.document-root = "${dir}"`,
    `server.port = ${lanternPort}`,
    'server.bind = "127.0.0.1"',
    'server.max-keep-alive-requests = 100000',
    'mimetype.assign = ( ".txt" => "text/plain" )',
    'ssl.engine = "enable"',
    `ssl.pemfile = "${dir}/tls.pem"`,
  ].join('\n') + '\n');
  fs.mkdirSync(path.join(dir, 'nginx-tls-temp'), { recursive: true });
  const nginxConf = path.join(dir, 'nginx-tls.conf');
  fs.writeFileSync(nginxConf, `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx-tls.pid;
error_log ${dir}/nginx-tls.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-tls-temp/body;
  proxy_temp_path ${dir}/nginx-tls-temp/proxy;
  fastcgi_temp_path ${dir}/nginx-tls-temp/fastcgi;
  uwsgi_temp_path ${dir}/nginx-tls-temp/uwsgi;
  scgi_temp_path ${dir}/nginx-tls-temp/scgi;
  types { text/plain txt; }
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${nginxPort} ssl;
    ssl_certificate ${dir}/tls.crt;
    ssl_certificate_key ${dir}/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir};
  }
}
`);
  return { lanternConf, nginxConf };
}

export async function runTlsStatic(dir: string, nginx: string | undefined, opts: LoadOptions): Promise<CaseReport> {
  const lantern: Target = { name: 'lantern', port: await freePort() };
  const nginxTls: Target = { name: 'nginx', port: await freePort() };
  const { lanternConf, nginxConf } = writeTlsFiles(dir, lantern.port, nginxTls.port);
  adopt(lantern, await launch(process.execPath, [path.join(ROOT, 'bin/lantern'), '-D', '-f', lanternConf], lantern.port));
  if (nginx) adopt(nginxTls, await launch(nginx, ['-p', dir, '-c', nginxConf, '-e', 'stderr'], nginxTls.port));
  else nginxTls.failure = 'nginx is missing (apt-get install nginx)';
  const targets = [lantern, nginxTls];
  try {
    const results = new Map<string, Array<WrkResult | undefined>>(targets.map((t) => [t.name, []]));
    const url = (t: Target) => `https://127.0.0.1:${t.port}/hello.txt`;
    const measure = async (t: Target, sec: number) => {
      try { return await runWrk(url(t), { threads: 1, connections: opts.connections, durationSec: sec }); } catch (err) {
        t.failure = `wrk failed: ${(err as Error).message.split('\n')[0]}`;
        return undefined;
      }
    };
    for (const t of targets) if (usable(t)) await measure(t, opts.warmupSec);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const t of roundOrder(targets, round)) {
        const r = usable(t) ? await measure(t, opts.durationSec) : undefined;
        results.get(t.name)!.push(r);
        process.stdout.write(`tls-static round ${round} ${t.name.padEnd(10)} ${r ? `${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}` : t.failure}\n`);
      }
    }
    const base = results.get('nginx')!;
    return {
      title: `case tls-static: 13-byte static file over HTTPS (TLS 1.3, P-256 certificate), keep-alive, wrk -t1 -c${opts.connections} -d${opts.durationSec}s, ${opts.rounds} interleaved rounds, medians; target: lantern >= 0.5x nginx`,
      header: ['target', 'req/s', 'p99 ms', 'errors', 'ratio to nginx'],
      rows: targets.map((t) => {
        const rs = results.get(t.name)!;
        if (t.failure && !rs.some(Boolean)) return [t.name, t.failure, '', '', ''];
        return [t.name, fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(errorsOf(rs)), fmtRatio(sameRoundRatio(rs, base, 'rps'))];
      }),
      notes: ['nginx: one worker, `ssl_protocols TLSv1.2 TLSv1.3`, its default ciphers; lantern: mod_openssl with lighttpd\'s defaults. Handshakes happen once per connection (keep-alive), so this measures TLS record encryption plus the static path.'],
    };
  } finally {
    await stopTargets(targets);
  }
}

// Case tls-upstream (ssl-upstream): hello through each proxy to an HTTPS origin. The origin is
// nginx over TLS (`return 200 "hello\n"`, a certificate signed by a CA made for the run); lantern
// (proxy.server with "tls" => "enable", the CA file, SNI localhost) and nginx (`proxy_pass
// https://`, upstream keepalive 64, `proxy_ssl_session_reuse on`, verification on with the same
// CA and name) proxy plain HTTP to it, measured in interleaved rounds of the same run; the ratio
// is to nginx. Goal: lantern >= 0.6x nginx. Clients speak plain HTTP: what is measured is TLS
// record work on pooled backend connections (handshakes happen once per pooled connection).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../processes.js';
import { ROOT } from './fixtures.js';
import { launch } from './launch.js';
import { fmt, fmtRatio, verdict, type CaseReport } from './report.js';
import { adopt, checkAnswer, stopTargets, type Target } from './targets.js';
import { errorsOf, medianOf, sameRoundRatio, wrkRounds, type LoadOptions } from './wrk-rounds.js';

const GOAL_VS_NGINX = 0.6;

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA and an origin certificate it signs (localhost, 127.0.0.1), EC P-256. */
function writeCerts(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'up-ca.key', '-out', 'up-ca.crt', '-days', '1', '-subj', '/CN=bench CA']);
  openssl(dir, ['req', ...ec, '-keyout', 'up-origin.key', '-out', 'up-origin.csr', '-subj', '/CN=localhost']);
  fs.writeFileSync(path.join(dir, 'up-origin.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, ['x509', '-req', '-in', 'up-origin.csr', '-CA', 'up-ca.crt', '-CAkey', 'up-ca.key', '-CAcreateserial', '-out', 'up-origin.crt', '-days', '1', '-extfile', 'up-origin.ext']);
}

function nginxHead(dir: string, name: string): string {
  fs.mkdirSync(path.join(dir, `${name}-temp`), { recursive: true });
  return `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-temp/body;
  proxy_temp_path ${dir}/${name}-temp/proxy;
  fastcgi_temp_path ${dir}/${name}-temp/fastcgi;
  uwsgi_temp_path ${dir}/${name}-temp/uwsgi;
  scgi_temp_path ${dir}/${name}-temp/scgi;
  keepalive_requests 100000;
`;
}

function writeConfs(dir: string, originPort: number, lanternPort: number, nginxPort: number): { origin: string; lantern: string; nginx: string } {
  const origin = path.join(dir, 'tls-origin.conf');
  fs.writeFileSync(origin, `${nginxHead(dir, 'tls-origin')}  server {
    listen 127.0.0.1:${originPort} ssl;
    ssl_certificate ${dir}/up-origin.crt;
    ssl_certificate_key ${dir}/up-origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "hello\\n"; }
  }
}
`);
  const nginx = path.join(dir, 'tls-nginx-proxy.conf');
  fs.writeFileSync(nginx, `${nginxHead(dir, 'tls-nginx-proxy')}  upstream o {
    server 127.0.0.1:${originPort};
    keepalive 64;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass https://o;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_session_reuse on;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${dir}/up-ca.crt;
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
    }
  }
}
`);
  const lantern = path.join(dir, 'tls-lantern.conf');
  fs.writeFileSync(lantern, [
    'server.modules = ( "mod_proxy" )',
    `server.port = ${lanternPort}`,
    'server.bind = "127.0.0.1"',
    `server.document-root = "${dir}"`,
    'server.max-keep-alive-requests = 100000',
    'proxy-core.max-pool-size = 64',
    'proxy-core.max-keep-alive-requests = 100000',
    `proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${originPort}, "tls" => "enable", "tls-ca-file" => "${dir}/up-ca.crt", "tls-sni" => "localhost" ) ) )`,
  ].join('\n') + '\n');
  return { origin, lantern, nginx };
}

export async function runTlsUpstream(dir: string, nginx: string | undefined, opts: LoadOptions): Promise<CaseReport> {
  const origin: Target = { name: 'tls-origin', port: await freePort() };
  const lantern: Target = { name: 'lantern', port: await freePort() };
  const nginxProxy: Target = { name: 'nginx-proxy', port: await freePort() };
  const targets = [lantern, nginxProxy];
  writeCerts(dir);
  const confs = writeConfs(dir, origin.port, lantern.port, nginxProxy.port);
  try {
    if (!nginx) {
      for (const t of targets) t.failure = 'nginx is missing (apt-get install nginx): it is the origin';
    } else {
      adopt(origin, await launch(nginx, ['-p', dir, '-c', confs.origin, '-e', 'stderr'], origin.port));
      if (origin.failure) for (const t of targets) t.failure = `origin ${origin.failure}`;
      else {
        adopt(lantern, await launch(process.execPath, [path.join(ROOT, 'bin/lantern'), '-D', '-f', confs.lantern], lantern.port));
        adopt(nginxProxy, await launch(nginx, ['-p', dir, '-c', confs.nginx, '-e', 'stderr'], nginxProxy.port));
        for (const t of targets) {
          if (t.failure) continue;
          const failed = await checkAnswer(t.port, '/hello', 'hello\n');
          if (failed !== null) t.failure = failed;
        }
      }
    }
    for (const t of targets) if (t.failure) process.stdout.write(`target ${t.name}: ${t.failure}\n`);
    const results = await wrkRounds('tls-upstream', targets, '/hello', opts);
    const ref = results.get('nginx-proxy')!;
    const ratio = sameRoundRatio(results.get('lantern')!, ref, 'rps');
    return {
      title: `case tls-upstream: origin \`return 200 "hello\\n"\` over HTTPS (TLS 1.3, P-256, verified), through each proxy over pooled TLS connections, wrk -t1 -c${opts.connections} -d${opts.durationSec}s, ${opts.rounds} interleaved rounds, medians; target: lantern >= ${GOAL_VS_NGINX}x nginx`,
      header: ['target', 'req/s', 'p99 ms', 'errors', 'ratio to nginx-proxy'],
      rows: targets.map((t) => {
        const rs = results.get(t.name)!;
        if (!rs.some(Boolean)) return [t.name, t.failure ?? 'not measured', '', '', ''];
        return [t.name, fmt(medianOf(rs, 'rps'), 0), fmt(medianOf(rs, 'p99Ms'), 2), String(errorsOf(rs)), fmtRatio(sameRoundRatio(rs, ref, 'rps'))];
      }),
      notes: [
        `lantern / nginx-proxy: ${fmtRatio(ratio)} (goal >= ${GOAL_VS_NGINX}x: ${verdict(Number.isFinite(ratio) ? ratio >= GOAL_VS_NGINX : undefined)})`,
        'nginx: one worker, upstream keepalive 64, proxy_ssl_session_reuse on, proxy_ssl_verify on; lantern: proxy.server with "tls" => "enable" and the same CA and name, proxy-core.max-pool-size 64. The origin is nginx over TLS with one worker.',
      ],
    };
  } finally {
    await stopTargets([...targets, origin]);
  }
}

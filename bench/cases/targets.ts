// The servers the proxy cases measure (issue 4): an nginx origin, and lantern (1 and 2 workers),
// nginx, http-proxy and undici each proxying to it, plus raw-relay (bench/peers/raw-relay.mjs):
// a Node process copying raw bytes with no parsing, the ceiling for one Node process, neither a
// proxy nor a Node peer. A target that cannot start, or does not answer /hello through the
// origin, is kept with its failure so the tables can say why.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort } from '../processes.js';
import { ROOT, writeLanternProxyConf, writeNginxConf } from './fixtures.js';
import { alive, launch, stop, type Launch } from './launch.js';

/** One server under test; `failure` says why it is left out of the measurements. */
export interface Target {
  name: string;
  port: number;
  child?: ChildProcess;
  pid?: number;
  failure?: string;
}

export const PROXY_TARGET_NAMES = ['lantern', 'lantern-2w', 'nginx-proxy', 'http-proxy', 'undici', 'raw-relay'] as const;
export type ProxyTargetName = (typeof PROXY_TARGET_NAMES)[number];
/** Measured in the hello case only (lantern with 2 workers; the raw relay, its reference). */
export const HELLO_ONLY: ProxyTargetName[] = ['lantern-2w', 'raw-relay'];
/** The reference every ratio is taken against, measured in the same round. */
export const REFERENCE: ProxyTargetName = 'nginx-proxy';
/** The Node proxies lantern's 2x goal is stated against (raw-relay is not one: it does no HTTP). */
export const NODE_PEERS: ProxyTargetName[] = ['http-proxy', 'undici'];
/** Each Node peer's script in bench/peers/ and the npm package it needs. */
const NODE_PEER_SCRIPTS: Record<string, { script: string; pkg: string }> = {
  'http-proxy': { script: 'http-proxy.mjs', pkg: 'http-proxy' },
  undici: { script: 'undici-proxy.mjs', pkg: 'undici' },
};
export const PEER_INSTALL_COMMAND = 'npm install --no-save http-proxy undici@7';

const PROBE_TIMEOUT_MS = 5000;

/** Where nginx is, or undefined: Debian puts it in /usr/sbin, outside a user's PATH. */
export function findNginx(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
  }
}

/** The npm packages a Node peer needs that do not resolve from the project. */
export function missingPeerPackages(): string[] {
  const require = createRequire(path.join(ROOT, 'package.json'));
  return ['http-proxy', 'undici'].filter((name) => {
    try { require.resolve(name); return false; } catch { return true; }
  });
}

/** Keep a launch's outcome on the target. */
export function adopt(target: Target, launched: Launch): Target {
  if (launched.ok) { target.child = launched.child; target.pid = launched.pid; } else target.failure = launched.reason;
  return target;
}

/** GET `urlPath` once; resolves with status and body, or an error message. Bounded by 5 s. */
/** GET `urlPath` once: null when it answers 200 with `body`, else why not ("failed check: ..."). */
export async function checkAnswer(port: number, urlPath: string, body: string): Promise<string | null> {
  const answer = await probe(port, urlPath);
  if ('error' in answer) return `failed check: GET ${urlPath}: ${answer.error}`;
  if (answer.status !== 200 || answer.body !== body) return `failed check: GET ${urlPath} answered ${answer.status} ${JSON.stringify(answer.body.slice(0, 60))}`;
  return null;
}

export function probe(port: number, urlPath: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 256) body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

/** Whether a target is measured: started, answered its probe, and has not died since. */
export function usable(t: Target): boolean {
  if (t.failure) return false;
  if (t.child && !alive(t.child)) { t.failure = `died during the run (${t.child.exitCode ?? t.child.signalCode})`; return false; }
  return true;
}

export interface ProxySetup { origin: Target; targets: Target[] }

/** Start the origin, then each wanted proxy target; check each answers /hello with "hello\n". */
export async function startProxyTargets(dir: string, nginx: string, wanted: readonly ProxyTargetName[]): Promise<ProxySetup> {
  const origin: Target = { name: 'nginx-origin', port: await freePort() };
  const originConf = writeNginxConf(dir, 'nginx-origin', { port: origin.port });
  adopt(origin, await launch(nginx, ['-p', dir, '-c', originConf, '-e', 'stderr'], origin.port));
  const missing = missingPeerPackages();
  const targets: Target[] = [];
  for (const name of wanted) {
    const t: Target = { name, port: await freePort() };
    targets.push(t);
    if (origin.failure) { t.failure = `origin ${origin.failure}`; continue; }
    const node = process.execPath;
    if (name === 'lantern' || name === 'lantern-2w') {
      const conf = writeLanternProxyConf(dir, name, t.port, origin.port, name === 'lantern-2w' ? 2 : 0);
      adopt(t, await launch(node, [path.join(ROOT, 'bin/lantern'), '-D', '-f', conf], t.port));
    } else if (name === 'raw-relay') {
      adopt(t, await launch(node, [path.join(ROOT, 'bench/peers/raw-relay.mjs'), String(t.port), String(origin.port)], t.port));
    } else if (name === 'nginx-proxy') {
      const conf = writeNginxConf(dir, 'nginx-proxy', { port: t.port, originPort: origin.port });
      adopt(t, await launch(nginx, ['-p', dir, '-c', conf, '-e', 'stderr'], t.port));
    } else {
      const peer = NODE_PEER_SCRIPTS[name];
      if (missing.includes(peer.pkg)) { t.failure = `skipped: npm package ${peer.pkg} is missing (${PEER_INSTALL_COMMAND})`; continue; }
      adopt(t, await launch(node, [path.join(ROOT, 'bench/peers', peer.script), String(t.port), String(origin.port)], t.port));
    }
    if (t.failure) continue;
    const failed = await checkAnswer(t.port, '/hello', 'hello\n');
    if (failed !== null) t.failure = failed;
  }
  return { origin, targets };
}

/** Stop every started process of a setup (bounded: 7 s each at most). */
export async function stopTargets(ts: Target[]): Promise<void> {
  await Promise.all(ts.filter((t) => t.child).map((t) => stop(t.child!)));
}

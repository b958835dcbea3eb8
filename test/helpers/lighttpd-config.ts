// Test helper: lantern run as a harness runs lighttpd (`lantern -D -f lighttpd.conf`, the listening
// socket the test made inherited as fd 3, sd_listen_fds(3)), from config text written into a
// fresh temp dir, with raw requests to it (rawRequest() of ./raw-client.ts).
//
// The module tests each had a copy of this: make the dir, write the config, open the socket,
// start and wait, stop with SIGTERM expecting exit code 0, kill and remove the dir whatever
// happened.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ListeningSocket } from './ports.js';
import { rawRequest, rawRequests, type RawRequestOptions, type RawResponse, type RequestBytes } from './raw-client.js';
import { makeTempDir, removeDir, startLanternProcess, type LanternProcess } from './spawn-lantern.js';

export interface LighttpdConfigOptions {
  /** Name part of the temp dir (`lantern-<prefix>-XXXXXX`); default "conf". */
  prefix?: string;
  /** Files written into the temp dir first: relative path → content. */
  files?: Record<string, string | Buffer>;
  /**
   * A temp dir the test made already (makeTempDir), for setups that need it before the config
   * can be written (certificates, backends on sockets in it); used instead of a new one and
   * removed by stop() the same way. Its files come from makeTempDir(), not `files`.
   */
  dir?: string;
  /**
   * Runs once the files are written, before the config is written and lantern starts: for what a
   * plain file cannot say (modes, mtimes, htpasswd files, a `lantern -t` run started meanwhile).
   */
  prepare?: (dir: string) => void | Promise<void>;
  /** The config file's name in the dir; default "lighttpd.conf" (e.g. "lantern.config.json" for a native one). */
  confName?: string;
  /** Arguments after `-D -f <conf>`. */
  args?: string[];
  /** Added to the child's environment (made from the dir where it names files in it). */
  env?: NodeJS.ProcessEnv | ((dir: string) => NodeJS.ProcessEnv);
  /** More sockets lantern inherits after the first one (fds 4, 5... in this order), e.g. for `$SERVER["socket"]`. */
  sockets?: ListeningSocket[];
}

export interface GetOptions {
  version?: '1.0' | '1.1';
  host?: string;
  fields?: string;
}

/** A lantern child serving a lighttpd config on a socket it inherited. */
export interface LighttpdConfigServer {
  /** The port of the inherited socket (127.0.0.1). */
  readonly port: number;
  readonly proc: LanternProcess;
  /** The temp dir: the files, the config, whatever the server writes there; stop() removes it. */
  readonly dir: string;
  /** The config file's path. */
  readonly conf: string;
  /** rawRequest() to this server. */
  request(send: RequestBytes, opts?: RawRequestOptions): Promise<RawResponse>;
  /**
   * One GET of `target`: HTTP/1.1 (or `version`) with `Host: t.test` (or `host`); an HTTP/1.0
   * request has no Host unless `host` is given. `fields`: more field lines, each ending in CRLF.
   */
  get(target: string, opts?: GetOptions): Promise<RawResponse>;
  /** rawRequests() to this server. */
  requests(send: RequestBytes, count: number, opts?: RawRequestOptions): Promise<RawResponse[]>;
  /**
   * Stops lantern with SIGTERM if it still runs and fails unless it exited with code 0 (now or
   * before: a crash during the tests shows here too); kills what is left of its process tree and
   * removes the dir in any case. `afterExit` runs once it exited cleanly and before the dir goes,
   * for checks of what lantern leaves behind (its pid file removed...). Only the first call does anything.
   */
  stop(afterExit?: () => void | Promise<void>): Promise<void>;
}

/**
 * Writes `config` (text, or made from the dir and the port) into a fresh temp dir (or `dir`) and
 * starts `lantern -D -f <conf>` there on a socket of its own, inherited as fd 3; resolves once
 * lantern accepts on it. If the start fails, the child is killed and the dir removed before it rejects.
 */
export async function startLighttpdConfig(
  config: string | ((dir: string, port: number) => string),
  opts: LighttpdConfigOptions = {},
): Promise<LighttpdConfigServer> {
  if (opts.dir !== undefined && opts.files !== undefined) throw new Error('startLighttpdConfig: `files` go to makeTempDir() when the test makes the `dir`');
  const dir = opts.dir ?? makeTempDir(opts.prefix ?? 'conf', opts.files);
  let socket: ListeningSocket | undefined;
  try {
    await opts.prepare?.(dir);
    socket = await ListeningSocket.open();
    const port = socket.port;
    const conf = path.join(dir, opts.confName ?? 'lighttpd.conf');
    fs.writeFileSync(conf, typeof config === 'string' ? config : config(dir, port));
    const proc = await startLanternProcess(['-D', '-f', conf, ...(opts.args ?? [])], socket, {
      cwd: dir,
      env: typeof opts.env === 'function' ? opts.env(dir) : opts.env,
      sockets: [socket, ...(opts.sockets ?? [])],
    });
    let stopped = false;
    return {
      port,
      proc,
      dir,
      conf,
      request: (send, requestOpts) => rawRequest(port, send, requestOpts),
      get(target, getOpts = {}) {
        const version = getOpts.version ?? '1.1';
        const host = version === '1.0' && getOpts.host === undefined ? '' : `Host: ${getOpts.host ?? 't.test'}\r\n`;
        return rawRequest(port, `GET ${target} HTTP/${version}\r\n${host}${getOpts.fields ?? ''}\r\n`);
      },
      requests: (send, count, requestOpts) => rawRequests(port, send, count, requestOpts),
      async stop(afterExit) {
        if (stopped) return;
        stopped = true;
        try {
          // proc.stop() signals only a child still running, and resolves with its exit code either way.
          assert.is(await proc.stop('SIGTERM'), 0, proc.stderr);
          await afterExit?.();
        } finally {
          proc.kill();
          removeDir(dir);
        }
      },
    };
  } catch (err) {
    // startLanternProcess killed a child that did not come up; the sockets were handed over or are closed here.
    socket?.close();
    for (const s of opts.sockets ?? []) s.close();
    removeDir(dir);
    throw err;
  }
}

// Test helper: lantern run as a harness runs lighttpd (`lantern -D -f lighttpd.conf`, the listening
// socket the test made inherited as fd 3, sd_listen_fds(3)), from config text written into a
// fresh temp dir; and one raw exchange with it (RFC 9112 framing read by test/helpers/http-bytes.ts).
//
// The module tests each had a copy of this: make the dir, write the config, open the socket,
// start and wait, stop with SIGTERM expecting exit code 0, kill and remove the dir whatever
// happened; send a request (HTTP/1.0 or 1.1, the client half-closing after it, or several on one
// kept-alive connection) and insist on an answer within a hard timeout.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ListeningSocket } from './ports.js';
import { rawExchange, type RawResponse } from './raw-client.js';
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
 * Writes `config` (text, or made from the dir and the port) into a fresh temp dir and starts
 * `lantern -D -f <conf>` there on a socket of its own, inherited as fd 3; resolves once lantern
 * accepts on it. If the start fails, the child is killed and the dir removed before it rejects.
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

/** What a raw request sends: literal bytes, or pieces written one after the other. */
export type RequestBytes = string | Buffer | Array<string | Buffer>;

export interface RawRequestOptions {
  /**
   * Half-close (send FIN) after the request, as a harness's HTTP/1.0-style client does; default
   * true. A kept-alive connection (false) is read until the answers expected are all there.
   */
  halfClose?: boolean;
  /** Read until the server closes instead of stopping at the last answer expected. */
  untilClose?: boolean;
  /** Indexed by request: true for a HEAD, whose answer has no body. */
  headRequests?: boolean[];
  /** Hard cap on the whole exchange; default 10 000 ms (a lantern child under tsx on a loaded machine). */
  timeoutMs?: number;
}

/** The first line of what was sent, for messages. */
function firstLine(send: RequestBytes): string {
  const first = Array.isArray(send) ? send[0] ?? '' : send;
  return (typeof first === 'string' ? first : first.toString('latin1')).split('\r\n')[0]!;
}

/** A printable start of the bytes received, for messages. */
const received = (raw: Buffer, chars: number) => JSON.stringify(raw.toString('latin1').slice(0, chars));

/**
 * Sends `send` to 127.0.0.1:`port` and returns the first response to it (status, header fields,
 * body bytes with chunked framing removed); fails when none came within the timeout.
 */
export async function rawRequest(port: number, send: RequestBytes, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const r = await rawExchange({
    port,
    send,
    halfClose: opts.halfClose ?? true,
    expectResponses: opts.untilClose ? undefined : 1,
    headRequests: opts.headRequests,
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  assert.ok(r.responses[0], `a response to ${JSON.stringify(firstLine(send))} (timed out: ${r.timedOut}, closed: ${r.closed}): ${received(r.raw, 200)}`);
  return r.responses[0]!;
}

/**
 * Sends `send` (requests one after the other, on one connection) and returns exactly `count`
 * responses; fails when another number came within the timeout.
 */
export async function rawRequests(port: number, send: RequestBytes, count: number, opts: RawRequestOptions = {}): Promise<RawResponse[]> {
  const r = await rawExchange({
    port,
    send,
    halfClose: opts.halfClose ?? true,
    expectResponses: opts.untilClose ? undefined : count,
    headRequests: opts.headRequests,
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  assert.is(r.responses.length, count, `responses to ${JSON.stringify(firstLine(send))} (timed out: ${r.timedOut}, closed: ${r.closed}): ${received(r.raw, 300)}`);
  return r.responses;
}

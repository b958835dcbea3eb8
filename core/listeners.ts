// Listeners (design.md §2): TCP v4/v6, unix sockets, and systemd socket activation
// (sd_listen_fds(3): LISTEN_FDS/LISTEN_PID, fds from 3 up). Every listener has lighttpd's
// $SERVER["socket"] name.
import { Buffer } from 'node:buffer';
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import type { ConfigBlock } from '../config/model.js';
import { formatIp, parseIpInto } from '../config/ip-address.js';
import { SocketReader } from './socket-reader.js';

/** Bytes a client socket buffers before back-pressure (see listen()). */
export const CLIENT_HIGH_WATER_BYTES = 256 * 1024;

export interface ListenSpec {
  /** lighttpd's socket name: `127.0.0.1:8080`, `[::1]:80`, `0.0.0.0:80`, `/run/x.sock`. */
  name: string;
  host?: string;
  port?: number;
  unixPath?: string;
  /** An inherited file descriptor (socket activation). */
  fd?: number;
  scheme: 'http' | 'https';
  /** Where it was configured, for error messages. */
  origin: string;
  /** listen(2) backlog (server.listen-backlog), default 1024. */
  backlog?: number;
  /** IPV6_V6ONLY for an IPv6 wildcard; lighttpd sets it unless server.use-ipv6 alone asked for `[::]`. */
  ipv6Only?: boolean;
  /** The `$SERVER["socket"]` block this listener comes from (its ssl.* keys); none for the global one. */
  block?: ConfigBlock;
  /** TLS on this listener (mod_openssl, set before listen()): every accepted socket is wrapped. */
  tls?: ListenerTls;
}

/**
 * TLS for a listener, provided by a plugin (plugins/openssl). A TLS socket cannot be read through
 * `onread`, so its connections read through 'data' events; plain TCP listeners keep the
 * SocketReader path untouched.
 */
export interface ListenerTls {
  /** Wrap an accepted (paused) TCP socket of `listener` in a server-side TLS socket. */
  wrap(accepted: net.Socket, listener: Listener): tls.TLSSocket;
}

export interface Listener extends ListenSpec {
  server: net.Server;
  /** The bound port (useful with port 0). */
  boundPort: number;
}

/** Parse a lighttpd socket string: `:8080`, `127.0.0.1:80`, `[::1]:8080`, `/path/to/sock`, `unix:/path`. */
export function parseSocketName(text: string, defaultPort: number): { host?: string; port?: number; unixPath?: string } | null {
  if (text.startsWith('unix:')) return { unixPath: text.slice(5) };
  if (text.startsWith('/')) return { unixPath: text };
  let m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (m) return { host: m[1], port: m[2] !== undefined ? Number(m[2]) : defaultPort };
  m = /^([^:\s]*)(?::(\d{1,5}))?$/.exec(text);
  if (m) return { host: m[1] === '' ? undefined : m[1], port: m[2] !== undefined ? Number(m[2]) : defaultPort };
  return null;
}

export function socketName(host: string | undefined, port: number, unixPath?: string): string {
  if (unixPath) return unixPath;
  const h = host ?? '0.0.0.0';
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

/**
 * The environment variable a server.max-worker primary sets for its workers: how many sockets
 * it inherited. A worker cannot pass the LISTEN_PID check (its pid differs), and it need not:
 * in a node:cluster worker, listen({ fd }) is performed by the primary, on the primary's fds.
 */
export const WORKER_LISTEN_FDS_ENV = 'LANTERN_WORKER_LISTEN_FDS';

/**
 * File descriptors handed over by socket activation, if they are for us: sd_listen_fds(3) requires
 * LISTEN_PID to be our pid; lighttpd also accepts `parent:<ppid>` (a wrapper that does not exec).
 */
export function activatedFds(
  env: NodeJS.ProcessEnv = process.env,
  self: { pid: number; ppid: number; isWorker: boolean } = { pid: process.pid, ppid: process.ppid, isWorker: cluster.isWorker },
): number[] {
  const range = (n: number) => Array.from({ length: n }, (_, i) => 3 + i);
  if (self.isWorker) {
    const n = Number(env[WORKER_LISTEN_FDS_ENV]);
    return Number.isInteger(n) && n > 0 ? range(n) : [];
  }
  const pid = env.LISTEN_PID ?? '';
  const count = Number(env.LISTEN_FDS);
  // sd_listen_fds caps nothing, lighttpd refuses 5000 or more: a garbage value must not loop.
  if (!/^\d+$/.test(env.LISTEN_FDS ?? '') || count < 1 || count >= 5000) return [];
  const forUs = pid.startsWith('parent:') ? Number(pid.slice(7)) === self.ppid : pid !== '' && Number(pid) === self.pid;
  return forUs ? range(count) : [];
}

/** The local address of an inherited socket, when the platform lets us read it without using the fd. */
export type SocketAddress = { host: string; port: number } | { unixPath: string };

/**
 * Reads where an inherited listening socket is bound, from /proc (Linux). Node cannot
 * getsockname() a bare fd without wrapping it in a handle that closes it, so the socket's inode
 * is looked up in /proc/net/{tcp,tcp6,unix}. Null when unknown (not Linux, not a socket).
 */
export function inheritedAddress(fd: number, procRoot = '/proc'): SocketAddress | null {
  let inode: string;
  try {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`${procRoot}/self/fd/${fd}`));
    if (!m) return null;
    inode = m[1]!;
  } catch {
    return null;
  }
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try { text = fs.readFileSync(`${procRoot}/net/${table}`, 'latin1'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const cols = line.trim().split(/\s+/);
      if (cols[9] !== inode) continue;
      const [hexAddr, hexPort] = (cols[1] ?? '').split(':');
      const bytes = procAddressBytes(hexAddr ?? '');
      if (!bytes) return null;
      return { host: formatIp(bytes), port: parseInt(hexPort ?? '', 16) };
    }
  }
  try {
    for (const line of fs.readFileSync(`${procRoot}/net/unix`, 'latin1').split('\n').slice(1)) {
      // Num RefCount Protocol Flags Type St Inode Path
      const cols = line.trim().split(/\s+/);
      if (cols[6] === inode && cols[7]) return { unixPath: cols.slice(7).join(' ') };
    }
  } catch { /* no /proc/net/unix */ }
  return null;
}

/**
 * /proc/net/tcp prints an address as 32-bit words in host byte order (`0100007F` is 127.0.0.1
 * on little-endian); → the 16-byte form of config/ip-address.ts (IPv4 as ::ffff:a.b.c.d).
 */
function procAddressBytes(hex: string): Uint8Array | null {
  if (hex.length !== 8 && hex.length !== 32) return null;
  const raw = Buffer.from(hex, 'hex');
  if (os.endianness() === 'LE') for (let i = 0; i < raw.length; i += 4) raw.subarray(i, i + 4).reverse();
  const out = new Uint8Array(16);
  if (raw.length === 4) { out[10] = 0xff; out[11] = 0xff; out.set(raw, 12); } else out.set(raw);
  return out;
}

/** Whether a configured listen spec names the same address as an inherited socket. */
export function sameAddress(spec: ListenSpec, addr: SocketAddress): boolean {
  if ('unixPath' in addr) return spec.unixPath === addr.unixPath;
  if (spec.unixPath !== undefined || spec.port !== addr.port) return false;
  const bytes = new Uint8Array(16);
  return parseIpInto(spec.host ?? '0.0.0.0', bytes) && formatIp(bytes) === addr.host;
}

/**
 * A unix socket path left behind by a previous run is removed; one that still accepts
 * connections belongs to a running server and is an error (lighttpd network.c does the same).
 */
export async function removeStaleUnixSocket(unixPath: string): Promise<void> {
  try {
    if (!fs.statSync(unixPath).isSocket()) return; // not a socket: let bind() report EADDRINUSE
  } catch {
    return; // not there
  }
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path: unixPath });
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (inUse) throw Object.assign(new Error('server socket is still in use'), { code: 'EADDRINUSE' });
  fs.unlinkSync(unixPath);
}

/**
 * An accepted socket read through a SocketReader. net.Server has no `onread` option for the
 * sockets it accepts, so the accepted socket (still paused: pauseOnConnect) gives its handle to a
 * new net.Socket made with one, and the empty shell is destroyed, which also tells the net.Server
 * that this connection is gone (the core counts and closes its own connections). Where the handle
 * cannot be taken (a socket without one), the accepted socket is read through 'data' events.
 */
export function withReader(accepted: net.Socket): { socket: net.Socket; reader: SocketReader } {
  const reader = new SocketReader();
  const shell = accepted as unknown as { _handle: object | null };
  const handle = shell._handle;
  if (handle === null || handle === undefined) {
    reader.listen(accepted);
    accepted.resume();
    return { socket: accepted, reader };
  }
  shell._handle = null;
  const socket = new net.Socket({
    handle, allowHalfOpen: true, highWaterMark: CLIENT_HIGH_WATER_BYTES, onread: reader.onread,
  } as net.SocketConstructorOpts);
  accepted.destroy();
  return { socket, reader };
}

/**
 * Whether `spec` can be listened on, checked once by a cluster primary before its workers bind
 * (node:cluster binds when the first worker asks, and every worker would report the error). A
 * TCP address is bound and closed again. A unix path is not: closing removes the file, and a
 * client connecting between the probe and the workers' bind would find no socket (or the probe's
 * reset), so a stale socket is cleared, one in use is refused, and the directory must let us
 * create the socket.
 */
export async function probeListen(spec: ListenSpec): Promise<void> {
  const unixPath = spec.unixPath;
  if (unixPath === undefined) {
    const probe = await listen(spec, (socket) => socket.destroy());
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    return;
  }
  try {
    await removeStaleUnixSocket(unixPath);
    fs.accessSync(path.dirname(path.resolve(unixPath)), fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw listenError(spec, err as NodeJS.ErrnoException);
  }
}

/**
 * Why a unix socket could not be bound at `socketPath`, in words: libuv reports a missing
 * directory as EACCES (for Windows' sake), which sends a user looking at permissions.
 */
export function unixBindProblem(socketPath: string, err: NodeJS.ErrnoException): string {
  const dir = path.dirname(socketPath);
  if ((err.code === 'EACCES' || err.code === 'ENOENT') && !fs.existsSync(dir)) return `the directory ${dir} does not exist`;
  return `${err.code ?? ''} ${err.message}`.trim();
}

/** What a failed bind says: where the address was configured, the address, and the error. */
function listenError(spec: ListenSpec, err: NodeJS.ErrnoException): Error {
  const why = spec.unixPath !== undefined ? unixBindProblem(spec.unixPath, err) : `${err.code ?? ''} ${err.message}`.trim();
  return new Error(`${spec.origin}: cannot listen on ${spec.name}: ${why}`);
}

/**
 * `onAcceptError`: a connection could not be accepted (ENOBUFS, ENOMEM...; libuv closes the ones
 * it has no descriptor for without reporting them); the listener goes on accepting.
 */
export function listen(
  spec: ListenSpec, onConnection: (socket: net.Socket, reader: SocketReader, l: Listener) => void,
  onAcceptError: (err: NodeJS.ErrnoException, l: Listener) => void = () => {},
): Promise<Listener> {
  return new Promise((resolve, reject) => {
    // highWaterMark: a client socket takes up to 256 KiB before write() asks the writer to wait.
    // With Node's 16 KiB default every 64 KiB piece of a proxied body paused the backend and
    // resumed it on 'drain' (stop-and-go); memory stays bounded per connection either way (F3).
    // pauseOnConnect: no byte is read before withReader() gave the socket its reader.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: CLIENT_HIGH_WATER_BYTES });
    const listener = { ...spec, server, boundPort: 0 } as Listener;
    server.on('connection', (accepted: net.Socket) => {
      const secure = listener.tls;
      if (secure !== undefined) {
        const socket = secure.wrap(accepted, listener);
        const reader = new SocketReader();
        reader.listen(socket);
        onConnection(socket, reader, listener);
        return;
      }
      const { socket, reader } = withReader(accepted);
      onConnection(socket, reader, listener);
    });
    const fail = (err: NodeJS.ErrnoException) => {
      reject(listenError(spec, err));
    };
    server.once('error', fail);
    const done = () => {
      server.off('error', fail);
      // Accept errors are transient: said, and the listener goes on.
      server.on('error', (err: NodeJS.ErrnoException) => onAcceptError(err, listener));
      const addr = server.address();
      if (addr && typeof addr === 'object') {
        listener.boundPort = addr.port;
        if (spec.fd !== undefined && spec.origin === 'LISTEN_FDS') listener.name = socketName(addr.address, addr.port);
        else if (spec.port === 0) listener.name = socketName(spec.host, addr.port);
      } else if (typeof addr === 'string' && spec.fd !== undefined && spec.origin === 'LISTEN_FDS') {
        listener.name = addr;
      }
      resolve(listener);
    };
    const backlog = spec.backlog ?? 1024;
    if (spec.fd !== undefined) server.listen({ fd: spec.fd, backlog }, done);
    else if (spec.unixPath) {
      const unixPath = spec.unixPath;
      // In a cluster worker the primary binds (and cleaned up before forking): a worker must
      // not remove the socket another worker's listen() already shares.
      const ready = cluster.isWorker ? Promise.resolve() : removeStaleUnixSocket(unixPath);
      ready.then(() => server.listen({ path: unixPath, backlog }, done), fail);
    } else {
      server.listen({ host: spec.host, port: spec.port, backlog, ipv6Only: spec.ipv6Only }, done);
    }
  });
}

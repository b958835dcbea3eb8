// Listen sockets for spawned backends (lighttpd 1.4.69 gw_backend.c gw_proc_init_portpath, gw_spawn_connection):
// the address of proc N, the "already listening → don't spawn" probe, and the socket handed to the child as fd 0.
import { lstatSync, renameSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { unixBindProblem } from '../../core/listeners.js';

/** Where a child listens. */
export type SpawnSocket = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Linux sun_path is 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

/**
 * The socket of proc `id`. lighttpd 1.4.69 (gw_proc_init_portpath): a spawned backend on a unix
 * socket always listens on `<socket>-<id>`, even with max-procs 1; on TCP, on port + id.
 */
export function procSocket(base: SpawnSocket, id: number): SpawnSocket {
  return base.kind === 'unix' ? { kind: 'unix', path: `${base.path}-${id}` } : { kind: 'tcp', host: base.host, port: base.port + id };
}

/** proxy-core member syntax: `unix:/path`, `host:port`, `[v6]:port`. */
export function formatSocket(socket: SpawnSocket): string {
  if (socket.kind === 'unix') return `unix:${socket.path}`;
  return net.isIPv6(socket.host) ? `[${socket.host}]:${socket.port}` : `${socket.host}:${socket.port}`;
}

/** A message when `socket` cannot be listened on at all (path length, port range), else null. */
export function checkSocket(socket: SpawnSocket): string | null {
  if (socket.kind === 'unix') {
    if (!path.isAbsolute(socket.path)) return `unix socket path must be absolute: "${socket.path}"`;
    if (Buffer.byteLength(socket.path) > MAX_UNIX_PATH_BYTES) return `unix socket path too long (over ${MAX_UNIX_PATH_BYTES} bytes): "${socket.path}"`;
    return null;
  }
  if (!Number.isInteger(socket.port) || socket.port < 1 || socket.port > 65535) return `invalid TCP port ${socket.port}`;
  return null;
}

/**
 * Whether something accepts connections at `socket` (lighttpd: connect() succeeds → "socket is
 * already used; won't spawn"). No answer within `timeoutMs` counts as "in use": a listener
 * whose backlog is full is still a listener.
 */
export function probeListening(socket: SpawnSocket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = socket.kind === 'unix' ? net.connect({ path: socket.path }) : net.connect({ host: socket.host, port: socket.port });
    const timer = setTimeout(() => {
      conn.destroy();
      resolve(true);
    }, timeoutMs);
    conn.once('connect', () => {
      clearTimeout(timer);
      // A FIN, not a reset: the backend sees a client that sent nothing and left.
      conn.end();
      setTimeout(() => conn.destroy(), timeoutMs).unref();
      resolve(true);
    });
    conn.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/**
 * Makes a unix socket path free for a new listener, after a failed probe: nothing there → fine;
 * a socket file nobody listens on (a stale one) → removed, as lighttpd does; anything else
 * (a regular file, a directory) → refused with a message, where lighttpd would unlink it.
 */
export function clearStaleUnixSocket(socketPath: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(socketPath).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot use unix socket path "${socketPath}": ${(err as Error).message}`);
  }
  if (!isSocket) throw new Error(`refusing to replace "${socketPath}": it exists and is not a socket`);
  unlinkSync(socketPath);
}

let tempSeq = 0;

/**
 * Opens a listening socket at `socket`, calls `use(fd)` synchronously with its descriptor (to
 * spawn the child with it as fd 0), then closes lantern's copy; resolves with `use`'s result.
 *
 * Ownership: the child keeps the only copy. lantern must never accept on it (a connection
 * accepted by lantern's event loop would be lost to the backend), and `use` runs in the same tick
 * as the listen, before the event loop can poll it, so none is. For a respawn a new socket is
 * made, as lighttpd does, so nothing is kept open between children.
 *
 * Unix sockets: libuv unlinks a pipe server's path when the server is closed, which would remove
 * the file the child listens on. So the socket is bound at a temporary name in the same
 * directory and renamed onto the final path (an atomic replace) before lantern's copy is closed:
 * libuv's unlink then finds nothing at the temporary name. The caller removes the final path
 * when it stops the child.
 */
export function withListenSocket<T>(socket: SpawnSocket, backlog: number, use: (fd: number) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const server = net.createServer();
    let bindPath: string | null = null;
    if (socket.kind === 'unix') {
      bindPath = path.join(path.dirname(socket.path), `.lantern-${process.pid}-${++tempSeq}`);
      if (Buffer.byteLength(bindPath) > MAX_UNIX_PATH_BYTES) {
        reject(new Error(`unix socket directory path too long for "${socket.path}"`));
        return;
      }
    }
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${formatSocket(socket)}: ${socket.kind === 'unix' ? unixBindProblem(socket.path, err) : err.code ?? err.message}`));
    });
    server.once('listening', () => {
      try {
        if (bindPath !== null && socket.kind === 'unix') renameSync(bindPath, socket.path);
        // net.Server cannot itself be an stdio entry of spawn() (Node 20 treats it as a stream
        // and fails); its handle's descriptor is duplicated into the child instead.
        const fd = (server as unknown as { _handle: { fd: number } | null })._handle?.fd;
        if (typeof fd !== 'number' || fd < 0) throw new Error(`no file descriptor for ${formatSocket(socket)}`);
        resolve(use(fd));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        server.close();
      }
    });
    if (bindPath !== null) server.listen({ path: bindPath, backlog });
    else if (socket.kind === 'tcp') server.listen({ host: socket.host, port: socket.port, backlog, exclusive: true });
  });
}

// Listeners (design.md §2): TCP v4/v6, unix sockets, and systemd socket activation
// (LISTEN_FDS/LISTEN_PID, fds from 3 up). Every listener has lighttpd's $SERVER["socket"] name.
import net from 'node:net';
import fs from 'node:fs';

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

/** File descriptors handed over by systemd-style socket activation, if they are for us. */
export function activatedFds(env: NodeJS.ProcessEnv = process.env): number[] {
  const pid = env.LISTEN_PID;
  const count = Number(env.LISTEN_FDS);
  if (!pid || Number(pid) !== process.pid || !Number.isInteger(count) || count < 1) return [];
  return Array.from({ length: count }, (_, i) => 3 + i);
}

export function listen(spec: ListenSpec, onConnection: (socket: net.Socket, l: Listener) => void): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true });
    const listener = { ...spec, server, boundPort: 0 } as Listener;
    server.on('connection', (socket) => onConnection(socket, listener));
    const fail = (err: NodeJS.ErrnoException) => {
      reject(new Error(`${spec.origin}: cannot listen on ${spec.name}: ${err.code ?? ''} ${err.message}`.trim()));
    };
    server.once('error', fail);
    const done = () => {
      server.off('error', fail);
      server.on('error', () => { /* accept errors (EMFILE) are transient */ });
      const addr = server.address();
      if (addr && typeof addr === 'object') {
        listener.boundPort = addr.port;
        if (spec.fd !== undefined) listener.name = socketName(addr.address, addr.port);
        else if (spec.port === 0) listener.name = socketName(spec.host, addr.port);
      }
      resolve(listener);
    };
    if (spec.fd !== undefined) server.listen({ fd: spec.fd }, done);
    else if (spec.unixPath) {
      try { if (fs.statSync(spec.unixPath).isSocket()) fs.unlinkSync(spec.unixPath); } catch { /* not there */ }
      server.listen({ path: spec.unixPath, backlog: 1024 }, done);
    } else server.listen({ host: spec.host, port: spec.port, backlog: 1024, ipv6Only: spec.host === '::' ? false : undefined }, done);
  });
}

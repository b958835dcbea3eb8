// What every fake backend in test/helpers shares (HTTP, FastCGI, SCGI/uwsgi): a listener on
// 127.0.0.1 port 0 or a unix path, its accepted connections each served by a script, the
// `pause` / `release()` gate for scripted replies, change notifications for event-driven
// waits with a hard timeout, and close. The protocol helpers add their parsing and their
// public shape on top.
import net from 'node:net';
import { TimeoutError } from './wait.js';

/** What a connection reports to its server. */
export interface FakeHost {
  /** Something changed (bytes, a request, a close): waiters re-check their predicate. */
  changed(): void;
  /** Resolves at the next `release()` (or at once for one already given): a scripted `pause`. */
  awaitRelease(): Promise<void>;
}

export interface FakeServerOptions<C> {
  /** For messages: "fake FastCGI backend". */
  name: string;
  /** Listen on this unix socket instead of TCP. */
  path?: string;
  /** TCP host, default 127.0.0.1 (port is always 0). */
  host?: string;
  /** Make the connection object for an accepted socket. */
  accept(id: number, socket: net.Socket, host: FakeHost): C;
  /** Where errors go (a helper may share the array with its own protocol errors); default a new one. */
  errors?: unknown[];
  /** Run the script for a connection until it stops answering; a throw resets the connection. */
  serve(conn: C): Promise<void>;
}

export interface FakeServer<C> {
  readonly port: number;
  readonly path: string | null;
  /** proxy-core member syntax: `127.0.0.1:port`, `[v6]:port` or `unix:/path`. */
  readonly address: string;
  readonly connections: C[];
  /** What `serve` threw, per failed connection. */
  readonly errors: unknown[];
  /** Scripted replies waiting at a `pause`. */
  readonly pausedReplies: number;
  /** Let `n` paused replies go on (a release given before the pause is kept for it). */
  release(n?: number): void;
  /** Resolves once `predicate()` holds, checked at every change; rejects after `timeoutMs` with `what` and `state()`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string, state: () => string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeServer<C extends { readonly id: number; readonly socket: net.Socket }>(opts: FakeServerOptions<C>): Promise<FakeServer<C>> {
  const connections: C[] = [];
  const errors: unknown[] = opts.errors ?? [];
  const listeners = new Set<() => void>();
  const releaseWaiters: Array<() => void> = [];
  let releasesBanked = 0;
  let pausedReplies = 0;

  const host: FakeHost = {
    changed: () => {
      for (const listener of [...listeners]) listener();
    },
    awaitRelease: async () => {
      if (releasesBanked > 0) {
        releasesBanked--;
        return;
      }
      pausedReplies++;
      host.changed();
      await new Promise<void>((resolve) => releaseWaiters.push(resolve));
      pausedReplies--;
    },
  };

  // allowHalfOpen: a client that half-closes after its request still gets the answer.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const conn = opts.accept(connections.length, socket, host);
    connections.push(conn);
    host.changed();
    opts.serve(conn).catch((err: unknown) => {
      errors.push(err);
      process.stderr.write(`${opts.name}: respond threw on connection ${conn.id}: ${String(err)}\n`);
      socket.destroy();
      host.changed();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.path) server.listen(opts.path, resolve);
    else server.listen(0, opts.host ?? '127.0.0.1', resolve);
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : 0;
  const tcpHost = opts.host ?? '127.0.0.1';

  return {
    port,
    path: opts.path ?? null,
    address: opts.path ? `unix:${opts.path}` : tcpHost.includes(':') ? `[${tcpHost}]:${port}` : `${tcpHost}:${port}`,
    connections,
    errors,
    get pausedReplies() {
      return pausedReplies;
    },
    release(n = 1) {
      for (let i = 0; i < n; i++) {
        const waiter = releaseWaiters.shift();
        if (waiter) waiter();
        else releasesBanked++;
      }
    },
    waitFor(predicate, timeoutMs, what, state) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${opts.name}: ${what} (${state()})`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close() {
      for (const conn of connections) conn.socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a test sees of any fake backend; each protocol helper adds its requests and counts. */
export interface FakeListenerBasics<Self, C> {
  /** TCP port (0 for a unix socket). */
  readonly port: number;
  /** `127.0.0.1:port`, `[::1]:port` or `unix:/path`, ready for a backend address in a config. */
  readonly address: string;
  readonly connections: C[];
  /** Errors thrown by `respond` (the connection was destroyed). */
  readonly errors: unknown[];
  /** Lets `n` pauses go on; a release given before a reply reaches its pause is kept for it. */
  release(n?: number): void;
  /** Waits, event-driven, until `predicate(fake)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (fake: Self) => boolean, timeoutMs: number, what: string): Promise<void>;
  waitConnections(n: number, timeoutMs: number): Promise<void>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * The FakeListenerBasics members over `server`, for a helper to spread into its public object:
 * `self()` is that object (what `waitFor` predicates get) and `state()` describes it when a wait times out.
 */
export function listenerBasics<Self, C>(server: FakeServer<C>, self: () => Self, state: () => string): FakeListenerBasics<Self, C> {
  return {
    port: server.port,
    address: server.address,
    connections: server.connections,
    errors: server.errors,
    release: (n) => server.release(n),
    waitFor: (predicate, timeoutMs, what) => server.waitFor(() => predicate(self()), timeoutMs, what, state),
    waitConnections: (n, timeoutMs) => server.waitFor(() => server.connections.length >= n, timeoutMs, `${n} connection(s)`, state),
    close: () => server.close(),
  };
}

// Test helper: TCP ports for the servers a test starts, held by this process from the moment they
// are chosen wherever the server allows it (port 0 always; sd_listen_fds(3) socket activation).
//
// The race this replaces: bind port 0, read the number, close, and let the server bind that
// number later. Between the close and the server's bind (a lantern child's whole start, a second
// or more under tsx on a loaded machine) any port-0 bind elsewhere, such as a fake backend of
// another test file running in parallel, may be given the same port. A readiness wait that only
// connects is then answered by that other server: the test goes on before lantern listens and,
// once the other server is gone, meets ECONNREFUSED on lantern's "own" port; or lantern finds the
// port still taken and exits with EADDRINUSE.
import net from 'node:net';
import { withTimeout } from './wait.js';

/** How long making a loopback connection of our own may take (it is instant unless something is badly wrong). */
const LOOPBACK_CONNECT_MS = 5000;

/**
 * A socket listening on `host`, port 0, made for a lantern child to inherit through socket
 * activation (SpawnLanternOptions.sockets; core/listeners.ts): lantern serves it as it is, so the
 * port is bound and listening from before lantern starts until lantern exits, with no moment in
 * which another process could take it. A connection made before lantern accepts waits in the
 * socket's backlog. The spawn closes this process's copy, so only lantern accepts on it.
 */
export class ListeningSocket {
  private constructor(
    readonly host: string,
    readonly port: number,
    private server: net.Server | null,
  ) {}

  static async open(host = '127.0.0.1'): Promise<ListeningSocket> {
    // Never reached in practice: only this test knows the port, and it connects after handing
    // the socket over. Were it reached, a reset beats a connection nobody answers.
    const server = net.createServer((stray) => stray.destroy());
    await withTimeout(new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }), LOOPBACK_CONNECT_MS, `a listening socket on ${host} port 0`);
    // A socket a failed test never handed over must not keep the test process alive.
    server.unref();
    return new ListeningSocket(host, (server.address() as net.AddressInfo).port, server);
  }

  /**
   * The descriptor to pass to a child as one of its stdio entries. child_process cannot take a
   * net.Server there (it would pause() it as a stream), but it can take the number; a TCP
   * handle's `fd` is Node's (undocumented, Unix-only) way to read it.
   */
  get fd(): number {
    const fd = (this.server as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error(`the listening socket for ${this.host}:${this.port} is closed or has no descriptor`);
    return fd;
  }

  /** Closes this process's copy (a child's copy stays open); idempotent. */
  close(): void {
    this.server?.close();
    this.server = null;
  }
}

/**
 * A TCP port on 127.0.0.1 that refuses connections for as long as it is held: a backend that is
 * down. One of our client sockets is bound to it (connected to a listener of ours), so nothing
 * listens there, and as that socket has no SO_REUSEADDR no other process can bind the port
 * (EADDRINUSE), as it could bind a port that was merely closed.
 */
export async function refusingPort(): Promise<{ port: number; close(): void }> {
  // Neither side ever sends; an error on either (none expected) must not crash the test, and
  // none of the three may keep the test process alive.
  let accepted: net.Socket | null = null;
  const server = net.createServer((s) => {
    accepted = s;
    s.on('error', () => {}).unref();
  });
  const client = new net.Socket();
  const close = () => {
    client.destroy();
    (accepted as net.Socket | null)?.destroy();
    server.close();
  };
  try {
    await withTimeout(new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        client.once('error', reject);
        client.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, () => resolve());
      });
    }), LOOPBACK_CONNECT_MS, 'a loopback connection to hold a port with');
  } catch (err) {
    close();
    throw err;
  }
  client.on('error', () => {});
  server.unref();
  client.unref();
  return { port: client.localPort!, close };
}

/**
 * A port that was free a moment ago on `host` (bind port 0, read it, close). It has the window
 * described at the top of this file: use it only for a server that can take neither port 0 nor a
 * socket, and retry when that server reports EADDRINUSE (startLanternBinding does).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address() as net.AddressInfo;
      server.close(() => resolve(addr.port));
    });
  });
}

// Free TCP ports on 127.0.0.1 for benchmark targets and the soak's processes (bench/cases/launch.ts
// starts the targets).
import fs from 'node:fs';
import net from 'node:net';

/** Whether 127.0.0.1:`port` can be listened on now (`port` 0: any); resolves with the port bound, or null. */
function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const bound = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(bound));
    });
  });
}

/** A port the kernel found free (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === null) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** The kernel's range for the local ports of outgoing connections (and of port-0 binds). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch { /* not Linux: the IANA range */ }
  return [49152, 65535];
}

/**
 * A free port below the kernel's ephemeral range, for a process that must bind the same port
 * again after it is killed (the soak's backends, which its chaos kills and restarts). A port from
 * freePort() lies inside that range, where any outgoing connection of any process may take it
 * while its owner is down (the soak once failed to start on EADDRINUSE that way); below it, only
 * another explicit bind can.
 */
export async function stablePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const first = 10_000;
  const span = Math.max(1, lo - first);
  for (let i = 0; i < 200; i++) {
    const port = await tryListen(first + Math.floor(Math.random() * span));
    if (port !== null) return port;
  }
  return freePort();
}

// The byte tunnel an Upgrade becomes after the backend's 101 (RFC 9110 §7.8; checklist G5): both
// directions relayed with back-pressure, bytes the client pipelined after its handshake first,
// half-close relayed (a FIN one way ends that direction only), closed after an idle time.
import type { SocketReader } from '../../core/socket-reader.js';
import type { TransportStream } from './types.js';

type Socket = TransportStream;

/** One side of the tunnel: a socket (or a process's pipes) and the reader its bytes arrive through. */
export interface TunnelEnd { socket: TransportStream; reader: SocketReader }

export class Tunnel {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Last time bytes moved either way (coarse clock). */
  lastActivityMs: number;
  readonly idleMs: number;
  closed = false;
  private openSides = 2;
  private readonly onClosed: (t: Tunnel) => void;

  /**
   * `head` is the 101 to write to the client; `clientBuffered` the bytes the core had read past
   * the handshake (they go upstream first).
   */
  constructor(clientEnd: TunnelEnd, upstreamEnd: TunnelEnd, head: string, clientBuffered: Buffer | null, idleMs: number, nowMs: number, onClosed: (t: Tunnel) => void) {
    const client = clientEnd.socket;
    const upstream = upstreamEnd.socket;
    this.client = client;
    this.upstream = upstream;
    this.idleMs = idleMs;
    this.lastActivityMs = nowMs;
    this.onClosed = onClosed;
    client.write(head, 'latin1');
    if (clientBuffered !== null && clientBuffered.length > 0) upstream.write(clientBuffered);
    this.relay(clientEnd, upstream);
    this.relay(upstreamEnd, client);
    // A FIN that came before the tunnel (the client half-closed right after its handshake and
    // data) is relayed now: its 'end' was emitted already.
    if (client.readableEnded && !upstream.destroyed) upstream.end();
    client.resume();
    upstream.resume();
  }

  /** Backend bytes that came in the same read as the 101 head. */
  toClient(chunk: Buffer): void {
    if (this.closed || this.client.write(chunk)) return;
    this.upstream.pause();
    this.client.once('drain', () => this.upstream.resume());
  }

  private relay(fromEnd: TunnelEnd, to: Socket): void {
    const from = fromEnd.socket;
    fromEnd.reader.sink = (chunk: Buffer) => {
      this.lastActivityMs = Date.now();
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
    // Half-close: the peer's FIN ends this direction; the other one goes on.
    from.on('end', () => { if (!to.destroyed) to.end(); });
    from.on('error', () => this.destroy());
    from.on('close', (hadError: boolean) => {
      if (hadError) this.destroy();
      if (--this.openSides === 0) this.finish();
    });
  }

  /** Both sockets closed. */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
  }

  /** Close both sides now (error, idle timeout, shutdown). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** Called once a second. */
  tick(nowMs: number): void {
    if (this.idleMs > 0 && nowMs - this.lastActivityMs > this.idleMs) this.destroy();
  }
}

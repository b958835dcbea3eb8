// One connection from proxy-core to a backend member: the socket, its event handlers (bound once
// per connection, not per request), and one inactivity timer whose length follows the phase the
// exchange is in (connect, write, read; idle connections are expired by their member). Events go to the current owner.
//
// The inactivity timer is our own, not socket.setTimeout(): Node re-arms a socket's timer on
// every read and every write (a timer-list re-insert and a clock read, twice per proxied
// request). Here a read or a write only notes the turn's time (core/turn.ts); the timer fires at
// the deadline the last phase change or I/O set, and when I/O happened since, it sleeps again for
// what is left. Same rule (time since the last byte moved either way), a fraction of the cost.
import net from 'node:net';
import { SocketReader } from '../../core/socket-reader.js';
import { turnNowMs } from '../../core/turn.js';
import { batchWrite, flushBatched, type BatchedWriter } from '../../core/write-batch.js';
import type { Member } from './member.js';
import type { TransportDefinition, TransportStream, UpstreamRequest } from './types.js';

/** What the connection is waiting for; decides the timeout and what a timeout means. */
export enum Phase {
  /** TCP/unix connect in progress: connectTimeoutMs. */
  Connect,
  /** The backend is not taking request bytes (write returned false): writeTimeoutMs. */
  Write,
  /** Waiting for the client's request body: no backend timeout (the core's read-idle applies). */
  ClientBody,
  /** Waiting for response bytes: readTimeoutMs. */
  Read,
  /** Backend reading paused because the client is slow: no backend timeout (the core's write-idle applies, F3). */
  ClientPaused,
  /** Idle in the pool: the member's idle timer closes it after keepAliveIdleMs (the socket's timer is left as it was). */
  Idle,
}

/** The request currently using a connection (ProxyRequest). */
export interface UpstreamOwner {
  onUpstreamConnect(c: UpstreamConnection): void;
  onUpstreamData(c: UpstreamConnection, chunk: Buffer): void;
  onUpstreamEnd(c: UpstreamConnection): void;
  onUpstreamError(c: UpstreamConnection, err: NodeJS.ErrnoException | null): void;
  /**
   * A write failed (EPIPE, ECONNRESET: the backend stopped reading and closed). Return true to
   * keep reading what the backend sent before it closed (its answer may be there); the
   * connection then writes nothing more. False: the connection is destroyed as usual.
   */
  onUpstreamWriteError(c: UpstreamConnection, err: NodeJS.ErrnoException): boolean;
  onUpstreamDrain(c: UpstreamConnection): void;
  onUpstreamTimeout(c: UpstreamConnection, phase: Phase): void;
  onClientDrain(c: UpstreamConnection): void;
}

/** The fields of Node's ReadableState that a failed write leaves wrong (see the destroy override). */
interface ReadableFlags {
  errored: Error | null;
  ended: boolean;
  endEmitted: boolean;
  length: number;
}

export type ConnectionState = 'connecting' | 'busy' | 'idle' | 'closed' | 'detached';

export class UpstreamConnection implements BatchedWriter {
  readonly member: Member;
  /** The byte pipe: a socket (tcp, unix members), or a process's stdin/stdout (exec: members). */
  readonly socket: TransportStream;
  /** The transport when it is not a plain socket (exec:), else null. */
  readonly transport: TransportDefinition | null;
  /** The backend's bytes, read without a stream per read (core/socket-reader.ts). */
  readonly reader: SocketReader;
  state: ConnectionState = 'connecting';
  owner: UpstreamOwner | null;
  /** Requests this connection has carried (maxKeepAliveRequests). */
  requests = 0;
  /** When it last went idle in the pool (Date.now()). */
  idleSinceMs = 0;
  /** The turn it last went idle in (core/turn.ts turnNumber()). */
  idleSinceTurn = -1;
  phase: Phase = Phase.Connect;
  /** The current phase's inactivity limit (0: none). */
  private timeoutMs = 0;
  /** When bytes last moved, or the phase's limit was set (turn clock, ms). */
  private lastIoMs = 0;
  /** Fires at the earliest possible deadline; null while none is armed. */
  private timer: NodeJS.Timeout | null = null;
  /** Bound once: the timer's callback. */
  private readonly onTimer: () => void;
  /** Reading is paused until the client drains. */
  clientPaused = false;
  /** Small writes held for the end of the event loop's turn (core/write-batch.ts). */
  held: Buffer | string | null = null;
  heldMore: Array<Buffer | string> | null = null;
  heldBytes = 0;
  /** Given to req.onDrain(): bound once per connection. */
  readonly clientDrained: () => void;
  /** A write failed: nothing more is written; what the backend sent before it closed is still read. */
  writeFailed = false;

  /**
   * `request`: the request this connection is opened for, which a per-request transport (a
   * process) takes its environment from; null for a pooled socket.
   */
  constructor(member: Member, owner: UpstreamOwner, request: UpstreamRequest | null = null) {
    this.member = member;
    this.owner = owner;
    const a = member.address;
    const reader = new SocketReader((chunk: Buffer) => {
      this.touch();
      const o = this.owner;
      if (o !== null) o.onUpstreamData(this, chunk);
      // E5/D7: bytes on an idle connection mean it can no longer be trusted.
      else this.destroy();
    });
    this.reader = reader;
    this.onTimer = () => this.timerFired();
    const transport = member.transport;
    this.transport = transport;
    if (transport !== null) {
      this.socket = transport.open({
        address: a,
        request,
        onData: (chunk) => reader.sink(chunk),
        log: (message) => member.backend.logMember(member, message),
        hostname: member.hostname,
        memberState: member.transportState,
      });
      this.setPhase(Phase.Connect);
      // The process closed its stdin before taking the whole body: its answer is still read.
      this.socket.on('write-error', (e: NodeJS.ErrnoException) => {
        if (this.writeFailed) return;
        if (this.owner !== null && this.state === 'busy' && this.owner.onUpstreamWriteError(this, e)) this.writeFailed = true;
        else this.destroy();
      });
    } else {
      if (a.kind === 'exec') throw new Error(`member ${member.key}: an exec: address needs its transport`);
      // allowHalfOpen: a backend's FIN ends a close-delimited body; our side is closed by us.
      this.socket = a.kind === 'unix'
        ? net.connect({ path: a.path, allowHalfOpen: true, onread: reader.onread })
        : net.connect({ host: a.host, port: a.port, allowHalfOpen: true, noDelay: true, onread: reader.onread });
      this.setPhase(Phase.Connect);
      this.catchWriteErrors(this.socket as net.Socket);
    }
    this.listen(this.socket);
    this.clientDrained = () => { this.owner?.onClientDrain(this); };
  }

  /**
   * A failed write makes Node destroy the socket, and with it the response bytes already in
   * the kernel's receive queue (an app that answers without reading the body, then closes:
   * the kernel resets, our next write fails). lighttpd and nginx still read that answer.
   * So a write error only stops the writing, when the owner says so; reading goes on until
   * the read side ends (a read error still destroys the socket).
   */
  private catchWriteErrors(s: net.Socket): void {
    const destroySocket = s.destroy;
    s.destroy = (err?: Error): net.Socket => {
      const e = err as NodeJS.ErrnoException | undefined;
      if (e?.syscall === 'write' && !this.writeFailed && this.owner !== null && this.state === 'busy' && this.owner.onUpstreamWriteError(this, e)) {
        this.writeFailed = true;
        // Node marks the readable side errored too after a failed write, which swallows the
        // backend's FIN ('end' is never emitted for an errored stream), also one read before
        // this (endReadableNT ran while the error was set): the read side is fine, so the flag
        // goes, and a FIN already read is delivered now.
        const rs = (s as unknown as { _readableState: ReadableFlags })._readableState;
        rs.errored = null;
        process.nextTick(() => {
          if (rs.ended && !rs.endEmitted && rs.length === 0 && !s.destroyed) {
            rs.endEmitted = true;
            s.emit('end');
          }
        });
        this.held = null;
        this.heldMore = null;
        this.heldBytes = 0;
        return s;
      }
      return destroySocket.call(s, err);
    };
  }

  /** The transport's events go to the owner (bound once per connection). */
  private listen(s: TransportStream): void {
    const member = this.member;
    s.on('connect', () => {
      if (this.state !== 'connecting') return;
      this.state = 'busy';
      this.owner?.onUpstreamConnect(this);
    });
    s.on('end', () => {
      const o = this.owner;
      if (o !== null) o.onUpstreamEnd(this);
      else this.destroy(); // E5: the backend closed an idle connection: drop it now, never reuse it
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      const o = this.owner;
      if (o !== null) o.onUpstreamError(this, err);
      else this.destroy();
    });
    s.on('close', () => {
      this.stopTimer();
      const o = this.owner;
      const wasOpen = this.state !== 'closed' && this.state !== 'detached';
      if (this.state !== 'detached') this.state = 'closed';
      if (o !== null && wasOpen) o.onUpstreamError(this, null);
      if (wasOpen) member.connectionClosed(this);
    });
    s.on('drain', () => {
      this.touch();
      this.owner?.onUpstreamDrain(this);
    });
  }

  /**
   * Enter a phase: a new limit counts from now. A phase with the limit already set changes
   * nothing (the request's first write counts as I/O), and going idle leaves the limit alone, so
   * a connection going from request to request touches no timer.
   */
  setPhase(phase: Phase): void {
    this.phase = phase;
    if (phase === Phase.Idle) return;
    const o = this.member.backend.options;
    const ms = phase === Phase.Connect ? o.connectTimeoutMs
      : phase === Phase.Write ? o.writeTimeoutMs
        : phase === Phase.Read ? o.readTimeoutMs
          : 0;
    if (ms !== this.timeoutMs) this.setLimit(ms);
  }

  /** Bytes moved (a read, a write): the inactivity limit counts from now. */
  private touch(): void {
    this.lastIoMs = turnNowMs();
    if (this.timer === null && this.timeoutMs > 0) this.arm(this.timeoutMs);
  }

  private setLimit(ms: number): void {
    this.stopTimer();
    this.timeoutMs = ms;
    this.lastIoMs = turnNowMs();
    if (ms > 0) this.arm(ms);
  }

  private arm(ms: number): void {
    const t = setTimeout(this.onTimer, ms);
    // Like a socket's own timer: it never keeps the process alive.
    t.unref();
    this.timer = t;
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private timerFired(): void {
    this.timer = null;
    const ms = this.timeoutMs;
    if (ms <= 0 || this.state === 'closed' || this.state === 'detached') return;
    const left = this.lastIoMs + ms - Date.now();
    if (left > 0) { this.arm(left); return; }
    // Armed again by the next read or write, as a socket's timer is re-armed by activity.
    const o = this.owner;
    if (o !== null) o.onUpstreamTimeout(this, this.phase);
    // An idle connection's limit is still the last phase's: the member's idle timer decides.
    else if (this.state !== 'idle') this.destroy();
  }

  /**
   * Write request bytes; strings are latin1 (header values are bytes). Returns false when the
   * backend is slow. Small writes (a head) leave at the end of the event loop's turn, with the
   * other sockets' (core/write-batch.ts); a large one goes at once, after what is held.
   */
  write(data: string | Buffer): boolean {
    // After a failed write nothing more goes out (the stream is errored): the bytes are dropped.
    if (this.writeFailed) return true;
    this.touch();
    return batchWrite(this, data);
  }

  /** Write now, not at the end of the turn (what is held goes first). */
  writeNow(data: string | Buffer): boolean {
    if (this.writeFailed) return true;
    this.touch();
    flushBatched(this);
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  /**
   * The whole request body was written. A per-request transport (a process) closes the write
   * side now: a CGI script reads its input to EOF. A socket stays open for the response and the
   * next request.
   */
  requestWritten(): void {
    if (this.transport === null || !this.transport.perRequest || this.writeFailed) return;
    flushBatched(this);
    this.socket.end();
  }

  /** Whether a pooled connection can still be used (E5: never a half-closed one). */
  get usable(): boolean {
    const s = this.socket;
    return this.state === 'idle' && !s.destroyed && !s.readableEnded && s.writable;
  }

  /** Close now; never pooled again. */
  destroy(): void {
    if (this.state === 'closed' || this.state === 'detached') return;
    this.owner = null;
    this.socket.destroy();
  }

  /** Send a protocol's last bytes (FastCGI ABORT_REQUEST), then close; never pooled again. */
  closeAfter(bytes: Buffer): void {
    this.owner = null;
    flushBatched(this);
    this.socket.end(bytes);
    // Whatever the backend does next (answer, FIN, nothing) ends in destroy(): see the handlers.
    this.setLimit(1000);
  }

  /** Hand the socket to a tunnel (which replaces the reader's sink): our handlers go, the member forgets the connection. */
  detach(): { socket: TransportStream; reader: SocketReader } {
    const s = this.socket;
    flushBatched(this);
    this.state = 'detached';
    this.owner = null;
    this.reader.drop();
    for (const ev of ['connect', 'end', 'error', 'close', 'drain']) s.removeAllListeners(ev);
    this.stopTimer();
    this.timeoutMs = 0;
    this.member.connectionClosed(this);
    return { socket: s, reader: this.reader };
  }
}

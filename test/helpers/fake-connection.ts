// What every fake backend's connection shares (HTTP, FastCGI, SCGI/uwsgi): the log of bytes
// received, the close states (by the peer, by the script, fully closed), writes outside the
// script, event-driven waits on what arrived, and playing a scripted reply:
//   string | Buffer                        literal bytes (latin1), then the script's `then`
//   [bytes, pause, bytes]                  pieces written one by one; `pause` waits for release()
//   { chunks: [...], then: 'close' }       pieces, then keep the connection / close (FIN) / stall / reset (RST)
//   'stall' | 'close' | 'reset'            no answer: hang forever / FIN / RST
// Each protocol helper subclasses FakeConnectionBase with its own decoding and request shape.
import net from 'node:net';
import { ByteLog } from './http-bytes.js';
import type { FakeHost } from './fake-server.js';

/** A point in a reply where writing waits for the fake's `release()`. */
export interface FakePause {
  readonly pause: true;
}
export const pause: FakePause = Object.freeze({ pause: true as const });

/** What the connection does after a reply: read the next request, FIN, hang, or RST. */
export type FakeAfter = 'keep' | 'close' | 'stall' | 'reset';
export type FakePiece = string | Buffer | FakePause;
/** A scripted reply whose own `then` may be one of `A` (SCGI and uwsgi never keep a connection). */
export type FakeReplyOf<A extends FakeAfter> = 'stall' | 'close' | 'reset' | string | Buffer | FakePiece[] | { chunks: FakePiece[]; then?: A };

/**
 * A fake's script: `R` is its request, `C` its connection, `A` what may follow a reply and `W`
 * the moments `respond` may be called at (see each helper's file comment).
 */
export interface FakeScriptOf<R, C, A extends FakeAfter, W> {
  /** The reply to `req`; default: a 200 "ok" in the helper's protocol. */
  respond?: (req: R, conn: C) => FakeReplyOf<A> | Promise<FakeReplyOf<A>>;
  /** When `respond` is called; default 'request' (the whole request arrived). */
  answerAfter?: W;
  /** After a reply given as bytes or pieces; default 'keep' ('close' for SCGI and uwsgi). */
  then?: A;
  /** Listen on this unix socket instead of TCP. */
  path?: string;
  /** TCP host, default 127.0.0.1 (port is always 0). */
  host?: string;
}

/** What a test sees of any fake's connection; each protocol adds its requests and decoding state. */
export interface FakeConnectionBasics {
  readonly id: number;
  readonly socket: net.Socket;
  /** Every byte received on this connection. */
  readonly received: Buffer;
  /** The peer closed (FIN) or reset its side. */
  readonly closedByPeer: boolean;
  /** The script ended (FIN) or reset this connection itself. */
  readonly closedByUs: boolean;
  /** The socket is fully closed. */
  readonly closed: boolean;
  /** Writes now, outside the scripted reply (e.g. a 100 Continue from an async `respond`). */
  write(data: string | Buffer): Promise<void>;
}

/** When and how `answerRequests` answers a connection's requests. */
export interface AnswerPlan<R, A extends FakeAfter> {
  /** The requests so far, in arrival order. */
  requests(): readonly R[];
  /** `req` may be answered now (e.g. its whole body arrived). */
  ready(req: R): boolean;
  /** Answer once only, as soon as `count` bytes arrived, with the first request or else `placeholder()`. */
  afterBytes?: { count: number; placeholder: () => R };
  /** Answer the first request only (one request per connection). */
  once?: boolean;
  respond(req: R): FakeReplyOf<A> | Promise<FakeReplyOf<A>>;
  /** After a reply given as bytes or pieces without a `then` of its own. */
  then: A;
}

const isPause = (piece: FakePiece): piece is FakePause => typeof piece === 'object' && !Buffer.isBuffer(piece);

/**
 * One accepted connection of a fake backend. It records every byte in `log`, hands each chunk to
 * `decode` and then wakes both its own `until` and the fake's waiters (FakeHost.changed), so a
 * subclass only parses its protocol and says in `serve` when and with what to answer.
 */
export abstract class FakeConnectionBase implements FakeConnectionBasics {
  closedByPeer = false;
  closedByUs = false;
  closed = false;
  /** Every byte received; views of it stay valid as it grows. */
  readonly log = new ByteLog();
  private wake: () => void = () => {};

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    protected readonly host: FakeHost,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.log.append(chunk);
      this.decode(chunk);
      this.changed();
    });
    socket.on('end', () => {
      this.closedByPeer = true;
      this.changed();
    });
    socket.on('error', () => {
      // ECONNRESET and the like: the peer went away; 'close' follows.
      if (!this.closed) this.closedByPeer = true;
    });
    socket.on('close', () => {
      this.closed = true;
      this.changed();
    });
  }

  /** Parses what arrived; `chunk` is already at the end of `log`. */
  protected abstract decode(chunk: Buffer): void;

  /** The bytes received cannot be decoded, so no request will become ready: waits end. */
  protected get undecodable(): boolean {
    return false;
  }

  get received(): Buffer {
    return Buffer.from(this.log.view());
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      // Errors surface as the peer closing; a scripted reply simply stops.
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  /**
   * Answers the requests in order, each once it is ready, until a reply does not end in 'keep' or
   * the connection is gone. When the peer closes before a request is ready, our side is closed
   * too, as a keep-alive server does.
   */
  protected async answerRequests<R, A extends FakeAfter>(plan: AnswerPlan<R, A>): Promise<void> {
    const { afterBytes } = plan;
    for (let index = 0; ; index++) {
      const readyNow = afterBytes
        ? () => (this.log.length >= afterBytes.count ? plan.requests()[0] ?? afterBytes.placeholder() : undefined)
        : () => {
            const req = plan.requests()[index];
            return req !== undefined && plan.ready(req) ? req : undefined;
          };
      let req: R | undefined;
      if (!(await this.until(() => (req = readyNow()) !== undefined))) {
        if (!this.socket.destroyed) this.socket.end();
        return;
      }
      const after = await this.play(await plan.respond(req!), plan.then);
      if (afterBytes || plan.once || after !== 'keep' || this.socket.destroyed) return;
    }
  }

  /** Writes `reply` piece by piece, waiting at each `pause`, then does its `then` (or `defaultThen`). */
  private async play<A extends FakeAfter>(reply: FakeReplyOf<A>, defaultThen: A): Promise<FakeAfter> {
    if (reply === 'stall') return 'stall';
    if (reply === 'close' || reply === 'reset') return this.finish(reply);
    const { chunks, then } =
      typeof reply === 'string' || Buffer.isBuffer(reply) ? { chunks: [reply], then: defaultThen }
      : Array.isArray(reply) ? { chunks: reply, then: defaultThen }
      : { chunks: reply.chunks, then: reply.then ?? defaultThen };
    for (const piece of chunks) {
      if (this.socket.destroyed) return 'close';
      if (isPause(piece)) await this.host.awaitRelease();
      else await this.write(piece);
    }
    return this.finish(then);
  }

  /**
   * Ends the connection as `then` says: FIN for 'close', RST for 'reset'. A socket already
   * destroyed was not closed by us and is left alone.
   */
  protected finish(then: FakeAfter): FakeAfter {
    if ((then !== 'close' && then !== 'reset') || this.socket.destroyed) return then;
    this.closedByUs = true;
    if (then === 'close') this.socket.end();
    else {
      try {
        this.socket.resetAndDestroy();
      } catch {
        // Only a TCP socket can send an RST (ERR_INVALID_HANDLE_TYPE): a unix socket is simply destroyed.
        this.socket.destroy();
      }
    }
    return then;
  }

  /** Resolves true once `condition` holds, false if the connection can no longer make it hold. */
  private async until(condition: () => boolean): Promise<boolean> {
    while (!condition()) {
      if (this.closed || this.closedByPeer || this.undecodable) return condition();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return true;
  }

  private changed(): void {
    this.wake();
    this.host.changed();
  }
}

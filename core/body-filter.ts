// Response-body filters (compression): a responseStart tap installs one with
// req.setBodyFilter(); the body the handler writes then goes through it on its way to the
// client, with back-pressure both ways, and an abort stops it. Without a filter nothing here runs.
import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { HeaderList } from './http1/types.js';

/** What a filter does with a response body. Installed by a responseStart tap (req.setBodyFilter). */
export interface BodyFilter {
  /**
   * The whole body, when the handler gave all of it to end() before anything was sent: return it
   * transformed (it goes out with its Content-Length), or undefined to stream it through stream().
   */
  whole?(body: Buffer): Buffer | undefined;
  /**
   * The stream a body written in pieces goes through: created on first use. What is written to
   * it is the handler's body; what it reads out goes to the client; its end ends the response.
   * An error aborts the response (the head is out by then).
   */
  stream(): Duplex;
  /** The output's length when known in advance (a replayed cache file, an emptied body): sent as Content-Length. */
  readonly outputLength?: number;
}

/** What the filter needs from the response (Request's private writers). */
export interface FilterSink {
  /** Frame and send output bytes; false when the client's socket is full. */
  out(buf: Buffer): boolean;
  /** Call `cb` once the client's socket can take more. */
  onceDrain(cb: () => void): void;
  /** The output ended: finish the framing (with the handler's trailers). */
  done(trailers: HeaderList | undefined): void;
  /** The filter failed: abort the response. */
  fail(err: Error): void;
}

/** One response's filter at work: the handler's body in, the filter's output to the sink. */
export class FilteredBody {
  private readonly filter: BodyFilter;
  private readonly sink: FilterSink;
  private duplex: Duplex | null = null;
  /** The output of whole(), when the response is sent in one piece. */
  private wholeOut: Buffer | undefined = undefined;
  private ended = false;
  private paused = false;
  private trailers: HeaderList | undefined = undefined;
  private readonly resume = (): void => {
    this.paused = false;
    if (this.duplex !== null && !this.duplex.destroyed) this.duplex.resume();
  };

  constructor(filter: BodyFilter, sink: FilterSink) {
    this.filter = filter;
    this.sink = sink;
  }

  /**
   * The length of the output as the head must say it, or -1 when it is not known in advance.
   * `body`: the whole body, when the handler gave it all to end() before the head went out.
   */
  outputLength(body: Buffer | undefined): number {
    if (this.filter.outputLength !== undefined) return this.filter.outputLength;
    if (body !== undefined && this.filter.whole !== undefined) {
      this.wholeOut = this.filter.whole(body);
      if (this.wholeOut !== undefined) return this.wholeOut.length;
    }
    return -1;
  }

  /** A piece of the handler's body. False: wait for onceDrain() before writing more. */
  write(buf: Buffer): boolean {
    if (this.ended) return false;
    return this.open().write(buf);
  }

  /** The handler's last piece; the response ends when the filter's output does. */
  end(buf: Buffer | undefined, trailers: HeaderList | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.trailers = trailers;
    const whole = this.wholeOut;
    if (whole !== undefined) {
      this.wholeOut = undefined;
      this.sink.out(whole);
      this.sink.done(trailers);
      return;
    }
    const d = this.open();
    if (buf !== undefined && buf.length > 0) d.end(buf);
    else d.end();
  }

  /** Call `cb` once the filter takes more of the handler's body. */
  onceDrain(cb: () => void): void {
    const d = this.duplex;
    if (d !== null && d.writableNeedDrain) d.once('drain', cb);
    else queueMicrotask(cb);
  }

  /** The response was aborted or the client went away: stop the filter's work. */
  destroy(): void {
    this.ended = true;
    const d = this.duplex;
    if (d !== null && !d.destroyed) d.destroy();
  }

  private open(): Duplex {
    if (this.duplex !== null) return this.duplex;
    const d = this.filter.stream();
    this.duplex = d;
    d.on('data', (chunk: Buffer) => {
      // The client is slow: stop reading the filter, whose buffers then fill and make the
      // handler's write() return false (bounded memory, checklist F3).
      if (!this.sink.out(chunk) && !this.paused) {
        this.paused = true;
        d.pause();
        this.sink.onceDrain(this.resume);
      }
    });
    d.once('end', () => this.sink.done(this.trailers));
    d.once('error', (err: Error) => this.sink.fail(err));
    return d;
  }
}

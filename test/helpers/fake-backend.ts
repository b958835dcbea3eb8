// Fake HTTP/1.x backends for proxy tests: answer literal bytes on cue, stall, close or reset, and record what arrived.
//
// Each accepted connection reads requests (framed per RFC 9112 §6.3 by test/helpers/http-bytes.ts)
// and answers them in order with what `script.respond` returns:
//   'HTTP/1.1 200 OK\r\n...'              literal bytes, then `script.then` (default 'keep')
//   ['HTTP/1.1 200 OK\r\n...', pause, 'rest'] pieces written one by one; `pause` waits for backend.release()
//   { chunks: [...], then: 'close' }     pieces, then keep the connection / close (FIN) / stall / reset (RST)
//   'stall' | 'close' | 'reset'          no answer: hang forever / FIN / RST
// `answerAfter` says when `respond` is called: once the whole request is in ('request', the
// default), once its head is in ('head'), or once N bytes arrived on the connection (a number:
// called once per connection, 0 = on accept). `respond` may be async, so a test can write
// through `conn.write()` and wait (e.g. for the body after a 100 Continue) before returning.
import { parseRequestAt, type RawRequest } from './http-bytes.js';
import {
  FakeConnectionBase, pause, type FakeAfter, type FakeConnectionBasics, type FakePause, type FakePiece, type FakeReplyOf,
  type FakeScriptOf,
} from './fake-connection.js';
import { listenerBasics, startFakeServer, type FakeListenerBasics } from './fake-server.js';
import { refusingPort } from './ports.js';

export { pause, type FakeAfter, type FakePause, type FakePiece };
export type FakeRequest = RawRequest;
export type FakeReply = FakeReplyOf<FakeAfter>;

/** Default reply: a 200 with body "ok" and Content-Length. */
export type FakeScript = FakeScriptOf<FakeRequest, FakeConnection, FakeAfter, 'request' | 'head' | number>;

export interface FakeConnection extends FakeConnectionBasics {
  /** Requests whose head arrived; each object is updated in place as its body arrives. */
  readonly requests: FakeRequest[];
}

export interface FakeBackend extends FakeListenerBasics<FakeBackend, FakeConnection> {
  readonly connectionCount: number;
  /** Requests whose head arrived, over all connections. */
  readonly requestCount: number;
  /** Replies currently waiting at a `pause`. */
  readonly pausedReplies: number;
  waitRequests(n: number, timeoutMs: number): Promise<void>;
}

const defaultReply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

class Connection extends FakeConnectionBase implements FakeConnection {
  readonly requests: FakeRequest[] = [];
  private nextRequestAt = 0;

  /** Runs the script for this connection until it stops answering. */
  serve(script: FakeScript): Promise<void> {
    const respond = script.respond ?? (() => defaultReply);
    const mode = script.answerAfter ?? 'request';
    return this.answerRequests({
      requests: () => this.requests,
      ready: (req) => mode === 'head' || req.complete,
      afterBytes: typeof mode === 'number' ? { count: mode, placeholder: emptyRequest } : undefined,
      respond: (req) => respond(req, this),
      then: script.then ?? 'keep',
    });
  }

  protected decode(): void {
    const buf = this.log.view();
    for (;;) {
      const parsed = parseRequestAt(buf, this.nextRequestAt);
      if (!parsed) return;
      const index = this.requests.findIndex((r) => !r.complete);
      // The request being received is updated in place, so a `respond` that got it early sees its body grow.
      if (index === -1) this.requests.push(parsed.request);
      else Object.assign(this.requests[index], parsed.request);
      if (!parsed.request.complete) return;
      this.nextRequestAt = parsed.end;
    }
  }
}

function emptyRequest(): FakeRequest {
  const parsed = parseRequestAt(Buffer.from('\r\n\r\n'), 0);
  if (!parsed) throw new Error('unreachable: an empty head always parses');
  return { ...parsed.request, head: '', raw: Buffer.alloc(0) };
}

/** Starts a fake backend on 127.0.0.1 port 0 (or `script.path`); see the file comment for scripts. */
async function startFakeBackend(script: FakeScript = {}): Promise<FakeBackend> {
  const base = await startFakeServer<Connection>({
    name: 'fake backend', path: script.path, host: script.host,
    accept: (id, socket, host) => new Connection(id, socket, host),
    serve: (conn) => conn.serve(script),
  });
  const connections = base.connections;
  const backend: FakeBackend = {
    ...listenerBasics(base, () => backend,
      () => `${connections.length} connection(s), ${backend.requestCount} request(s), ${base.pausedReplies} paused`),
    get connectionCount() {
      return connections.length;
    },
    get requestCount() {
      return connections.reduce((sum, c) => sum + c.requests.length, 0);
    },
    get pausedReplies() {
      return base.pausedReplies;
    },
    waitRequests(n, timeoutMs) {
      return backend.waitFor((b) => b.requestCount >= n, timeoutMs, `${n} request head(s)`);
    },
  };
  return backend;
}

/**
 * A port on 127.0.0.1 where nothing listens, held until the test process exits (refusingPort in
 * ports.ts): a port bound and closed again could be given to any later port-0 bind meanwhile,
 * such as a fake backend of this or a parallel test file, and the "down" member would answer.
 */
export async function refusedPort(): Promise<number> {
  return (await refusingPort()).port;
}

/** `fakeBackend(script)`, with `fakeBackend.refusedPort()` and the `fakeBackend.pause` marker. */
export const fakeBackend = Object.assign(startFakeBackend, { refusedPort, pause });

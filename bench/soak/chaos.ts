// The soak's chaos, running alongside the load: members killed (-9) and started again or frozen
// (SIGSTOP) for a while, never too many at once; and misbehaving clients (aborts mid-upload,
// mid-wait and mid-download, trickled bodies, clients that never read, half-sent heads, a FIN
// right after the request, pipelined requests, uploads refused before their body was read).
// Every loop is bounded in count and time.
import net from 'node:net';
import { ClientConn, ResponseParser, connect } from './client.js';
import { CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS, unsolicited, type SoakRequest, type Workload } from './load.js';
import type { Member } from './procs.js';
import { STATUS_URL } from './protocol.js';
import { verbose } from './stats.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the chaos did, for the report. */
export class ChaosLog {
  kills = 0;
  freezes = 0;
  longFreezes = 0;
  restarts = 0;
  restartFailures = 0;
  crashes = 0;
  /** Most members down or frozen at the same moment. */
  maxDown = 0;
  /** Client chaos tasks started, by kind. */
  readonly clients = new Map<string, number>();
  /** Most chaos clients running at once. */
  maxClients = 0;
}

/** Most chaos clients alive at once. */
export const MAX_CHAOS_CLIENTS = 6;

/**
 * Every 1.5-4 s: start again any member that died by itself, then kill -9 one member (70 %) or
 * freeze it (30 %: 0.5-4 s, or 9-10 s one time in ten, longer than lantern's read timeout).
 * A killed member comes back 0.3-3 s later. At most max(1, members - 2) members are down or
 * frozen at once, so at least two (with three members: two) always answer.
 */
export async function memberChaos(members: Member[], w: Workload, running: () => boolean, log: ChaosLog): Promise<Promise<void>[]> {
  const pending: Promise<void>[] = [];
  const maxDown = Math.max(1, members.length - 2);
  const downNow = () => members.filter((m) => m.state !== 'up').length;
  const restart = async (m: Member) => {
    if (await m.start()) { log.restarts++; verbose.log(`member ${m.name} started again (pid ${m.pid})`); }
    else { log.restartFailures++; verbose.log(`member ${m.name} did not start: ${m.startError()}`); }
  };
  while (running()) {
    await sleep(w.int(1500, 4000));
    if (!running()) break;
    for (const m of members) {
      if (m.state === 'up' && m.crashed()) {
        log.crashes++;
        await m.kill9();
        pending.push(restart(m));
      }
    }
    if (downNow() >= maxDown) continue;
    const candidates = members.filter((m) => m.state === 'up');
    const m = candidates[w.int(0, candidates.length - 1)];
    if (!m) continue;
    if (w.chance(0.7)) {
      log.kills++;
      verbose.log(`member ${m.name}: kill -9 (pid ${m.pid})`);
      await m.kill9();
      const back = w.int(300, 3000);
      pending.push(sleep(back).then(() => restart(m)));
    } else {
      const long = w.chance(0.1);
      log.freezes++;
      if (long) log.longFreezes++;
      const freezeMs = long ? w.int(9000, 10_000) : w.int(500, 4000);
      verbose.log(`member ${m.name}: SIGSTOP for ${freezeMs} ms`);
      m.freeze();
      pending.push(sleep(freezeMs).then(() => { m.thaw(); verbose.log(`member ${m.name}: SIGCONT`); }));
    }
    log.maxDown = Math.max(log.maxDown, downNow());
  }
  return pending;
}

type ChaosTask = (w: Workload) => Promise<void>;

/** Aborted on purpose: counted as sent and aborted. */
function aborted(w: Workload, kind: string): void {
  const k = w.stats.kind(kind);
  k.sent++;
  k.aborted++;
}

/** Connects, swallowing errors (counted); null if it failed. */
async function open(w: Workload, kind: string): Promise<net.Socket | null> {
  try {
    const s = await connect(w.port, CONNECT_TIMEOUT_MS);
    s.on('error', () => {});
    return s;
  } catch {
    w.stats.kind(kind).connectErrors++;
    return null;
  }
}

function kill(w: Workload, s: net.Socket): void {
  if (w.chance(0.5)) s.resetAndDestroy(); else s.destroy();
}

/** Waits until `s` received `bytes` bytes, closed, or `ms` passed. */
function received(s: net.Socket, bytes: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const done = () => { clearTimeout(timer); s.off('data', onData); s.off('close', done); resolve(); };
    const onData = (b: Buffer) => { got += b.length; if (got >= bytes) done(); };
    const timer = setTimeout(done, ms);
    s.on('data', onData);
    s.once('close', done);
  });
}

const TASKS: Record<string, ChaosTask> = {
  /** POST announcing 200 KiB-1 MiB, 8-32 KiB sent, then FIN or RST. */
  async 'abort-upload'(w) {
    const s = await open(w, 'c:abort-upload');
    if (!s) return;
    const req = w.build({ kind: 'c:abort-upload', body: w.int(200 * 1024, 1024 * 1024) });
    const body = req.wire.body[0] as Buffer;
    s.write(Buffer.concat([req.wire.head, body.subarray(0, w.int(8 * 1024, 32 * 1024))]));
    await sleep(w.int(0, 300));
    kill(w, s);
    aborted(w, req.kind);
  },
  /** GET the backend answers after 1-3 s; the client leaves after 50-800 ms. */
  async 'abort-waiting'(w) {
    const s = await open(w, 'c:abort-waiting');
    if (!s) return;
    const req = w.build({ kind: 'c:abort-waiting', delayMs: w.int(1000, 3000) });
    s.write(req.wire.head);
    await sleep(w.int(50, 800));
    kill(w, s);
    aborted(w, req.kind);
  },
  /** GET of 1-4 MiB; the client leaves after the first 32 KiB. */
  async 'abort-download'(w) {
    const s = await open(w, 'c:abort-download');
    if (!s) return;
    const req = w.build({ kind: 'c:abort-download', pad: w.int(1024 * 1024, 4 * 1024 * 1024), chunkedAnswer: w.chance(0.5) });
    s.write(req.wire.head);
    await received(s, 32 * 1024, 10_000);
    kill(w, s);
    aborted(w, req.kind);
  },
  /** GET of 4-16 MiB, never read: held 2-9 s (lantern's write-idle limit is 5 s), then closed. */
  async 'no-read'(w) {
    const s = await open(w, 'c:no-read');
    if (!s) return;
    const req = w.build({ kind: 'c:no-read', pad: w.int(4, 16) * 1024 * 1024, chunkedAnswer: w.chance(0.5) });
    s.pause();
    s.write(req.wire.head);
    await sleep(w.int(2000, 9000));
    kill(w, s);
    aborted(w, req.kind);
  },
  /** Half a request head, then nothing for 0-1.5 s, then FIN or RST. */
  async 'half-head'(w) {
    const s = await open(w, 'c:half-head');
    if (!s) return;
    const req = w.build({ kind: 'c:half-head' });
    s.write(req.wire.head.subarray(0, w.int(1, req.wire.head.length - 3)));
    await sleep(w.int(0, 1500));
    kill(w, s);
    aborted(w, req.kind);
  },
  /** POST of 0.5-4 KiB trickled in 128-256 byte pieces 20-150 ms apart (5 s at most); the answer is checked. */
  async trickle(w) {
    await exchange(w, 'c:trickle', (w) => w.build({ kind: 'c:trickle', body: w.int(512, 4096), tricklePiece: w.int(128, 256), trickleGapMs: w.int(20, 150), pad: w.int(0, 1024) }), false);
  },
  /** A request, then FIN at once: lantern must still answer (the answer is checked). */
  async 'half-close'(w) {
    await exchange(w, 'c:half-close', (w) => w.build(w.chance(0.5) ? { kind: 'c:half-close', pad: w.int(0, 8192) } : { kind: 'c:half-close', body: w.int(1, 8192) }), true);
  },
  /**
   * A POST announcing 64 KiB-1 MiB to a URL lantern answers without reading the body (a missing
   * file: 404; the status page: 405), 1-8 KiB sent; the client reads the whole answer, then
   * closes its side (FIN) as a browser does after an upload was refused, and waits up to 2 s for
   * lantern to close too. An early answer is a normal HTTP exchange (RFC 9112 §9.3).
   */
  async 'early-answer'(w) {
    const kind = 'c:early-answer';
    const s = await open(w, kind);
    if (!s) return;
    const k = w.stats.kind(kind);
    k.sent++;
    const target = w.chance(0.5) ? `/soak-missing/${w.int(0, 1e9)}` : STATUS_URL;
    const length = w.int(64 * 1024, 1024 * 1024);
    s.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${w.port}\r\nContent-Length: ${length}\r\n\r\n`);
    s.write(Buffer.alloc(w.int(1024, 8192), 'x'));
    const parser = new ResponseParser();
    const answer = await new Promise<number | 'closed' | 'timeout'>((resolve) => {
      const done = (v: number | 'closed' | 'timeout') => { clearTimeout(timer); s.off('data', onData); s.off('close', onClose); resolve(v); };
      const onData = (b: Buffer) => {
        try {
          const r = parser.push(b);
          if (r) done(r.res.status);
        } catch {
          done('closed');
        }
      };
      const onClose = () => done('closed');
      const timer = setTimeout(() => done('timeout'), REQUEST_TIMEOUT_MS);
      s.on('data', onData);
      s.once('close', onClose);
    });
    if (answer === 'closed') k.closed++;
    else if (answer === 'timeout') {
      k.timeouts++;
      w.stats.example(`${kind} POST ${target}: no answer and no close after ${REQUEST_TIMEOUT_MS} ms`);
    } else {
      k.status.set(answer, (k.status.get(answer) ?? 0) + 1);
      if (answer < 400) {
        k.wrong++;
        w.stats.example(`${kind} POST ${target}: status ${answer} for a refused upload`);
      }
    }
    s.end();
    await received(s, Infinity, 2000);
    s.destroy();
  },
  /** Three GETs in one write; the three answers must come in order, each with its own id. */
  async pipeline(w) {
    const s = await open(w, 'c:pipeline');
    if (!s) return;
    const reqs = [0, 1, 2].map(() => w.build({ kind: 'c:pipeline', pad: w.int(0, 4096), delayMs: w.chance(0.3) ? w.int(10, 300) : 0 }));
    for (const r of reqs) w.stats.kind(r.kind).sent++;
    await pipelined(w, s, reqs);
    s.destroy();
  },
};

/** One request on its own connection, answer recorded and checked; `halfClose`: FIN after it. */
async function exchange(w: Workload, kind: string, make: (w: Workload) => SoakRequest, halfClose: boolean): Promise<void> {
  let conn: ClientConn;
  try {
    conn = await ClientConn.open(w.port, CONNECT_TIMEOUT_MS, (bytes) => unsolicited(w.stats, bytes));
  } catch {
    w.stats.kind(kind).connectErrors++;
    return;
  }
  const req = make(w);
  w.stats.kind(req.kind).sent++;
  const answer = conn.request(req.wire, REQUEST_TIMEOUT_MS);
  if (halfClose) conn.socket.end();
  w.record(req, await answer);
  conn.destroy();
}

/** Reads the answers to `reqs`, sent back to back on `s`, and records each (hard timeout per answer). */
function pipelined(w: Workload, s: net.Socket, reqs: SoakRequest[]): Promise<void> {
  return new Promise((resolve) => {
    const parser = new ResponseParser();
    let next = 0;
    let started = performance.now();
    let timer = setTimeout(() => fail('timeout'), REQUEST_TIMEOUT_MS);
    const finish = () => { clearTimeout(timer); s.off('data', onData); s.off('close', onClose); resolve(); };
    const fail = (why: 'timeout' | 'closed', detail = '') => {
      for (; next < reqs.length; next++) {
        const ms = performance.now() - started;
        w.record(reqs[next]!, why === 'timeout' ? { kind: 'timeout', ms, gotBytes: parser.received } : { kind: 'closed', ms, why: detail, gotBytes: 0 });
      }
      finish();
    };
    const onData = (chunk: Buffer) => {
      let data: Buffer = chunk;
      try {
        for (;;) {
          if (next >= reqs.length) {
            if (data.length) unsolicited(w.stats, data);
            return;
          }
          const r = parser.push(data);
          if (!r) return;
          w.record(reqs[next++]!, { kind: 'answered', res: r.res, ms: performance.now() - started });
          started = performance.now();
          clearTimeout(timer);
          timer = setTimeout(() => fail('timeout'), REQUEST_TIMEOUT_MS);
          if (next === reqs.length) { finish(); if (r.rest.length) unsolicited(w.stats, r.rest); return; }
          data = r.rest;
          if (!data.length) return;
        }
      } catch (err) {
        w.record(reqs[next++]!, { kind: 'malformed', ms: performance.now() - started, detail: (err as Error).message });
        fail('closed', 'after malformed bytes');
      }
    };
    const onClose = () => fail('closed', 'close');
    s.on('data', onData);
    s.once('close', onClose);
    s.write(Buffer.concat(reqs.map((r) => r.wire.head)));
  });
}

/**
 * Starts a chaos client every 150-600 ms while fewer than MAX_CHAOS_CLIENTS run; each task
 * ends by itself within its own bounds (the longest: a request's hard timeout).
 */
export async function clientChaos(w: Workload, running: () => boolean, log: ChaosLog): Promise<Promise<void>[]> {
  const names = Object.keys(TASKS);
  const tasks = new Set<Promise<void>>();
  while (running()) {
    await sleep(w.int(150, 600));
    if (!running() || tasks.size >= MAX_CHAOS_CLIENTS) continue;
    const name = names[w.int(0, names.length - 1)]!;
    log.clients.set(name, (log.clients.get(name) ?? 0) + 1);
    const task: Promise<void> = TASKS[name]!(w).catch((err: unknown) => {
      w.stats.example(`chaos client ${name} failed: ${(err as Error).message}`);
    }).finally(() => tasks.delete(task));
    tasks.add(task);
    log.maxClients = Math.max(log.maxClients, tasks.size);
  }
  return [...tasks];
}

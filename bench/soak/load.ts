// The soak's requests: how each kind is built, how its answer is checked, and the client loops
// that put the load through lantern (keep-alive connections, plus one-request connections).
import { randomBytes } from 'node:crypto';
import { ClientConn, type Outcome, type WireRequest } from './client.js';
import { H, PROXY_PREFIX, R, STREAM_PREFIX, padBytes, sha1, EMPTY_SHA1, type AnswerLine, type BackendMode } from './protocol.js';
import { verbose, type Stats } from './stats.js';

/** A request kind of the steady load, with its share of the mix (weights, summing to 100). */
export const LOAD_MIX = [
  ['get', 51], // GET, 0-2 KiB answer
  ['post', 20], // POST with a Content-Length body of 1 B-16 KiB
  ['post-chunked', 5], // POST with a chunked body of 1 B-32 KiB in 2-5 chunks
  ['get-big', 5], // GET, 64 KiB-1 MiB answer
  ['post-big', 3], // POST, 96-512 KiB body (more than proxy-core's 64 KiB replay buffer)
  ['slow', 8], // GET or POST, the backend waits 50-1500 ms before answering
  ['drip', 6], // GET, 1-64 KiB answer sent in 5 pieces 40-150 ms apart
  ['drop-mid', 1.5], // the backend sends half the answer, then FIN or RST
  ['reset-early', 0.5], // the backend resets the connection on the request head
] as const;

export type LoadKind = (typeof LOAD_MIX)[number][0];

/** Kinds where the backend misbehaves on purpose: a 502 or a cut connection is the right answer. */
export const MISBEHAVING = new Set<string>(['drop-mid', 'reset-early']);

export interface SoakRequest {
  seq: number;
  id: string;
  kind: string;
  method: 'GET' | 'POST';
  pad: number;
  bodyLength: number;
  bodySha1: string;
  /** Asked for no delay and no drip: counted in the undelayed latency too. */
  undelayed: boolean;
  wire: WireRequest;
}

export interface RequestSpec {
  kind: string;
  method?: 'GET' | 'POST';
  pad?: number;
  delayMs?: number;
  drip?: boolean;
  chunkedAnswer?: boolean;
  mode?: BackendMode;
  /** Body length (POST). */
  body?: number;
  /** Send the body chunked, in this many chunks. */
  chunks?: number;
  /** Trickle the body: pieces of this many bytes... */
  tricklePiece?: number;
  /** ...this many ms apart. */
  trickleGapMs?: number;
  /** Ask lantern to close the connection after the answer. */
  close?: boolean;
  /** Send it under STREAM_PREFIX (request body streamed to the member as it arrives); default: 30 % of requests. */
  stream?: boolean;
}

/** mulberry32: a small seeded generator, so a run's mix can be repeated with --seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Workload {
  readonly tag = randomBytes(3).toString('hex');
  private seq = 0;
  /** Request bodies are slices of this (random, made once). */
  private readonly source = randomBytes(1024 * 1024);
  private readonly mixTotal = LOAD_MIX.reduce((s, [, w]) => s + w, 0);

  constructor(readonly port: number, readonly rand: () => number, readonly stats: Stats, readonly memberNames: ReadonlySet<string>) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  /** A spec drawn from the steady mix. */
  draw(): RequestSpec {
    let x = this.rand() * this.mixTotal;
    let kind: LoadKind = 'get';
    for (const [k, w] of LOAD_MIX) {
      if (x < w) { kind = k; break; }
      x -= w;
    }
    const chunkedAnswer = this.chance(0.3);
    switch (kind) {
      case 'get': return { kind, pad: this.int(0, 2048), chunkedAnswer };
      case 'post': return { kind, method: 'POST', body: this.int(1, 16 * 1024), pad: this.int(0, 512), chunkedAnswer };
      case 'post-chunked': return { kind, method: 'POST', body: this.int(1, 32 * 1024), chunks: this.int(2, 5), pad: this.int(0, 512), chunkedAnswer };
      case 'get-big': return { kind, pad: this.int(64 * 1024, 1024 * 1024), chunkedAnswer };
      case 'post-big': return { kind, method: 'POST', body: this.int(96 * 1024, 512 * 1024), pad: this.int(0, 512), chunkedAnswer };
      case 'slow': return this.chance(0.5)
        ? { kind, pad: this.int(0, 4096), delayMs: this.int(50, 1500), chunkedAnswer }
        : { kind, method: 'POST', body: this.int(1, 8192), pad: this.int(0, 4096), delayMs: this.int(50, 1500), chunkedAnswer };
      case 'drip': return { kind, pad: this.int(1024, 64 * 1024), drip: true, chunkedAnswer };
      case 'drop-mid': return { kind, pad: this.int(4 * 1024, 256 * 1024), mode: this.chance(0.5) ? 'drop-mid' : 'reset-mid', chunkedAnswer };
      case 'reset-early': return this.chance(0.5)
        ? { kind, mode: 'reset-early' }
        : { kind, method: 'POST', body: this.int(1, 4096), mode: 'reset-early' };
    }
  }

  /** Builds the bytes of a request. */
  build(spec: RequestSpec): SoakRequest {
    const seq = this.seq++;
    const id = `${this.tag}.${seq}`;
    const method = spec.method ?? (spec.body !== undefined ? 'POST' : 'GET');
    const pad = spec.pad ?? 0;
    const prefix = (spec.stream ?? this.chance(0.3)) ? STREAM_PREFIX : PROXY_PREFIX;
    let head = `${method} ${prefix}${spec.kind}/${seq} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n${H.id}: ${id}\r\n${H.pad}: ${pad}\r\n`;
    if (spec.delayMs) head += `${H.delay}: ${spec.delayMs}\r\n`;
    if (spec.drip) head += `${H.drip}: 1\r\n`;
    if (spec.chunkedAnswer) head += `${H.chunked}: 1\r\n`;
    if (spec.mode) head += `${H.mode}: ${spec.mode}\r\n`;
    if (spec.close) head += 'Connection: close\r\n';
    const pieces: Array<Buffer | number> = [];
    let bodySha1 = EMPTY_SHA1;
    let bodyLength = 0;
    if (method === 'POST') {
      bodyLength = spec.body ?? 0;
      const at = this.int(0, this.source.length - bodyLength);
      const body = this.source.subarray(at, at + bodyLength);
      bodySha1 = sha1(body);
      head += 'Content-Type: application/octet-stream\r\n';
      if (spec.chunks) {
        head += 'Transfer-Encoding: chunked\r\n';
        const size = Math.ceil(bodyLength / spec.chunks);
        for (let i = 0; i < bodyLength; i += size) {
          const part = body.subarray(i, i + size);
          pieces.push(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
        }
        pieces.push(Buffer.from('0\r\n\r\n'));
      } else {
        head += `Content-Length: ${bodyLength}\r\n`;
        if (spec.tricklePiece) {
          for (let i = 0; i < bodyLength; i += spec.tricklePiece) {
            if (i > 0) pieces.push(spec.trickleGapMs ?? 50);
            pieces.push(body.subarray(i, i + spec.tricklePiece));
          }
        } else if (bodyLength > 0) {
          pieces.push(body);
        }
      }
    }
    head += '\r\n';
    return {
      seq, id, kind: spec.kind, method, pad, bodyLength, bodySha1,
      undelayed: !spec.delayMs && !spec.drip,
      wire: { head: Buffer.from(head, 'latin1'), body: pieces },
    };
  }

  /**
   * Counts the outcome of `req` and checks an answer: a 200 must carry this request's id in its
   * field and body, name a pool member, report the body the client sent (length and SHA-1) and
   * carry exactly the filler bytes asked for; any other status must not carry another id. An id
   * answered a second time counts as a duplicate.
   */
  record(req: SoakRequest, o: Outcome): void {
    const k = this.stats.kind(req.kind);
    if (o.kind === 'closed') {
      k.closed++;
      if (o.gotBytes === 0) {
        k.closedSilent++;
        if (!MISBEHAVING.has(req.kind)) {
          const text = `${req.kind} ${req.method} ${req.wire.head.toString('latin1').split(' ')[1]} (${req.bodyLength}-byte body): closed (${o.why}) after ${Math.round(o.ms)} ms without an answer byte`;
          this.stats.closedExample(text);
          verbose.log(text);
        }
      }
      return;
    }
    if (o.kind === 'timeout') {
      k.timeouts++;
      this.stats.example(`${req.kind} ${req.method} id ${req.id}: no answer and no close after ${Math.round(o.ms)} ms (${o.gotBytes} response bytes)`);
      return;
    }
    if (o.kind === 'malformed') {
      k.wrong++;
      this.stats.example(`${req.kind} ${req.method} id ${req.id}: malformed response: ${o.detail}`);
      return;
    }
    const res = o.res;
    k.status.set(res.status, (k.status.get(res.status) ?? 0) + 1);
    this.stats.latency.add(o.ms);
    if (req.undelayed) this.stats.latencyUndelayed.add(o.ms);
    const ids = res.fields.get(R.id) ?? [];
    const problem = this.verify(req, res.status, ids, res.fields.get(R.member) ?? [], res.body);
    if (problem) {
      k.wrong++;
      this.stats.example(`${req.kind} ${req.method} id ${req.id}: status ${res.status}: ${problem}`);
    }
    if (res.status === 200 || ids.length > 0) {
      const seq = Number((ids[0] ?? '').split('.')[1]);
      if (Number.isInteger(seq) && (ids[0] ?? '').startsWith(`${this.tag}.`) && this.stats.seen.mark(seq)) {
        this.stats.duplicates++;
        this.stats.example(`${req.kind} ${req.method} id ${req.id}: answer carries id ${ids[0]}, which was answered before`);
      }
    }
    if (res.status !== 200 && res.status !== 502 && res.status !== 503 && res.status !== 504) {
      this.stats.unexpectedStatus++;
      this.stats.example(`${req.kind} ${req.method} id ${req.id}: unexpected status ${res.status}`);
    }
  }

  private verify(req: SoakRequest, status: number, ids: string[], members: string[], body: Buffer): string | null {
    if (status !== 200) {
      return ids.some((id) => id !== req.id) ? `carries id ${ids.join(',')}` : null;
    }
    if (ids.length !== 1 || ids[0] !== req.id) return `X-Soak-Id is ${JSON.stringify(ids)}`;
    if (members.length !== 1 || !this.memberNames.has(members[0]!)) return `X-Soak-Member is ${JSON.stringify(members)}`;
    this.stats.members.set(members[0]!, (this.stats.members.get(members[0]!) ?? 0) + 1);
    const nl = body.indexOf(10);
    if (nl < 0) return `body has no JSON line (${body.length} bytes)`;
    let line: AnswerLine;
    try {
      line = JSON.parse(body.toString('latin1', 0, nl)) as AnswerLine;
    } catch {
      return `body's first line is not JSON: ${JSON.stringify(body.toString('latin1', 0, Math.min(nl, 80)))}`;
    }
    if (line.id !== req.id) return `body names id ${line.id}`;
    if (line.member !== members[0]) return `body names member ${line.member}, the field ${members[0]}`;
    if (line.method !== req.method) return `backend saw method ${line.method}`;
    if (line.reqBytes !== req.bodyLength || line.reqSha1 !== req.bodySha1) {
      return `backend got a ${line.reqBytes}-byte body (sha1 ${line.reqSha1.slice(0, 8)}), the client sent ${req.bodyLength} (sha1 ${req.bodySha1.slice(0, 8)})`;
    }
    const filler = body.subarray(nl + 1);
    if (filler.length !== req.pad) return `${filler.length} filler bytes, asked for ${req.pad}`;
    if (!filler.equals(padBytes(req.id, req.pad))) return 'filler bytes differ from this id\'s';
    return null;
  }
}

/** Hard limit on one request: no lantern timeout configured by the soak is longer (see soak.ts). */
export const REQUEST_TIMEOUT_MS = 30_000;
export const CONNECT_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client that keeps one connection and sends requests on it, one at a time, until
 * `running()` is false. The connection is opened again when lantern (or an error) closed it,
 * and on purpose after 50-2000 requests, so new connections keep arriving too.
 */
export async function keepAliveClient(w: Workload, running: () => boolean): Promise<void> {
  let conn: ClientConn | null = null;
  let left = 0;
  let previous = 'none (new connection)';
  while (running()) {
    if (!conn || conn.closed || left <= 0) {
      previous = 'none (new connection)';
      conn?.destroy();
      conn = null;
      conn = await openClient(w);
      if (conn === null) continue;
      left = w.int(50, 2000);
    }
    const req = w.build(w.draw());
    w.stats.kind(req.kind).sent++;
    const o = await conn.request(req.wire, REQUEST_TIMEOUT_MS);
    w.record(req, o);
    if (o.kind !== 'answered' && !MISBEHAVING.has(req.kind)) verbose.log(`  (${req.id}: the request before it on this connection: ${previous})`);
    previous = `${req.kind} ${req.id} ${o.kind === 'answered' ? o.res.status : o.kind} after ${Math.round(o.ms)} ms`;
    left--;
    if (o.kind !== 'answered') { conn.destroy(); conn = null; }
  }
  conn?.destroy();
}

/** A new connection to lantern, or null (counted as a connect error) after a short pause. */
async function openClient(w: Workload): Promise<ClientConn | null> {
  try {
    return await ClientConn.open(w.port, CONNECT_TIMEOUT_MS, (bytes) => unsolicited(w.stats, bytes));
  } catch {
    w.stats.kind('connect').connectErrors++;
    await sleep(100);
    return null;
  }
}

/** A client that opens a new connection for each request (with Connection: close). */
export async function oneShotClient(w: Workload, running: () => boolean): Promise<void> {
  while (running()) {
    const conn = await openClient(w);
    if (conn === null) continue;
    const req = w.build({ ...w.draw(), close: true });
    w.stats.kind(req.kind).sent++;
    w.record(req, await conn.request(req.wire, REQUEST_TIMEOUT_MS));
    conn.destroy();
  }
}

/** Bytes that arrived on a connection with no request outstanding. */
export function unsolicited(stats: Stats, bytes: Buffer): void {
  stats.unsolicited++;
  if (stats.unsolicitedExamples.length < 5) stats.unsolicitedExamples.push(JSON.stringify(bytes.toString('latin1', 0, Math.min(bytes.length, 120))));
}

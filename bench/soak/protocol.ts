// What the soak client and its backends agree on: the request fields that steer a backend, the
// shape of its answer, and the filler bytes a body is padded with (derived from the request id,
// so a body that carries another request's bytes is caught, not only a wrong header).
import { createHash } from 'node:crypto';

/** Request fields the client sends through lantern; the backend reads them. */
export const H = {
  /** Unique per request: `<run tag>.<sequence number>`. Echoed in the answer's field and body. */
  id: 'x-soak-id',
  /** Filler bytes the answer carries after its JSON line. */
  pad: 'x-soak-pad',
  /** Milliseconds the backend waits before answering. */
  delay: 'x-soak-delay',
  /** "1": the answer's body goes out in pieces, 40-150 ms apart (a slow response body). */
  drip: 'x-soak-drip',
  /** "1": the answer is chunked (no Content-Length). */
  chunked: 'x-soak-chunked',
  /** Misbehaviour: reset-early (RST on the request head), drop-mid (FIN halfway through the body), reset-mid (RST halfway). */
  mode: 'x-soak-mode',
} as const;

/** Fields of the backend's answer. */
export const R = {
  id: 'x-soak-id',
  member: 'x-soak-member',
} as const;

export type BackendMode = 'reset-early' | 'drop-mid' | 'reset-mid';

/** The backend's answer body starts with this JSON object on one line, then `pad` filler bytes. */
export interface AnswerLine {
  id: string;
  member: string;
  pid: number;
  method: string;
  /** Request body bytes the backend received, and their SHA-1 (hex). */
  reqBytes: number;
  reqSha1: string;
  pad: number;
}

/** `n` filler bytes: the request id and ';' repeated. */
export function padBytes(id: string, n: number): Buffer {
  return n > 0 ? Buffer.alloc(n, `${id};`, 'latin1') : Buffer.alloc(0);
}

export function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

export const EMPTY_SHA1 = sha1(Buffer.alloc(0));

/** URL prefix lantern proxies to the pool; the status page lives outside it. */
export const PROXY_PREFIX = '/soak/';
/** The same pool, with request bodies streamed as they arrive (server.stream-request-body = 2). */
export const STREAM_PREFIX = '/soak-stream/';
export const STATUS_URL = '/server-status';

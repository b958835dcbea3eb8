// Test-side HTTP/1.x message framing (RFC 9112 §2-§7): a lenient, independent reader of response and request bytes.
//
// This is deliberately NOT the server's parser: tests must judge the server's bytes with code
// that shares nothing with it. It is lenient where the server must be strict (bare LF line
// endings, obs-fold, odd whitespace are accepted) so that a test sees what was sent instead of
// failing to parse it, and it reports truncation (`complete: false`) instead of throwing.

/** One header field as received: name as sent (case kept), value with OWS trimmed. */
export type HeaderField = [string, string];

/** An append-only byte store that grows by doubling, so reading a large stream costs O(n). */
export class ByteLog {
  private store = Buffer.alloc(4096);
  private used = 0;

  get length(): number {
    return this.used;
  }

  append(chunk: Buffer): void {
    if (this.used + chunk.length > this.store.length) {
      let capacity = this.store.length * 2;
      while (capacity < this.used + chunk.length) capacity *= 2;
      const grown = Buffer.alloc(capacity);
      this.store.copy(grown, 0, 0, this.used);
      this.store = grown;
    }
    chunk.copy(this.store, this.used);
    this.used += chunk.length;
  }

  /** A view of bytes [start, end). Written bytes never change, so views stay valid after growth. */
  view(start = 0, end = this.used): Buffer {
    return this.store.subarray(start, Math.min(end, this.used));
  }
}

/** Where a head (start line + fields) ends: the index after its blank line, or -1 if incomplete. */
export function findHeadEnd(buf: Buffer, start: number): number {
  // RFC 9112 §2.2 allows a recipient to accept a bare LF as line terminator; take whichever
  // blank line comes first, so a head written with LF only is still read.
  const crlf = buf.indexOf('\r\n\r\n', start, 'latin1');
  const lf = buf.indexOf('\n\n', start, 'latin1');
  if (crlf === -1 && lf === -1) return -1;
  if (crlf === -1) return lf + 2;
  if (lf === -1 || crlf < lf) return crlf + 4;
  return lf + 2;
}

/** Splits a head into its start line and fields; obs-fold lines (RFC 9112 §5.2) join the previous value. */
export function splitHead(head: string): { startLine: string; headers: HeaderField[] } {
  const lines = head.split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const headers: HeaderField[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const last = headers[headers.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers };
}

/** First value of a field, case-insensitive (RFC 9110 §5.1: field names are case-insensitive). */
export function headerValue(headers: HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Every value of a field, in order received. */
export function headerValues(headers: HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** How the message body is delimited, decided from the fields per RFC 9112 §6.3. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

/** RFC 9112 §6.3 rules 3-7 for a message whose status/method did not already rule out a body. */
export function framingFromHeaders(headers: HeaderField[], isRequest: boolean): BodyFraming {
  const te = headerValues(headers, 'transfer-encoding');
  if (te.length > 0) {
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
    // §6.3(4): chunked last → chunked; otherwise a response runs until close, a request is faulty.
    if (codings[codings.length - 1] === 'chunked') return { kind: 'chunked' };
    return isRequest ? { kind: 'none' } : { kind: 'close' };
  }
  const cl = headerValue(headers, 'content-length');
  if (cl !== undefined) {
    const first = cl.split(',')[0].trim();
    if (/^\d+$/.test(first)) return { kind: 'length', bytes: Number(first) };
  }
  // §6.3(7)-(8): a request without framing has no body; a response runs until close.
  return isRequest ? { kind: 'none' } : { kind: 'close' };
}

/** Result of reading a chunked body (RFC 9112 §7.1) from a buffer. */
export interface ChunkedScan {
  /** 'done': last chunk and trailers read; 'partial': more bytes needed; 'malformed': unreadable size line. */
  state: 'done' | 'partial' | 'malformed';
  /** Decoded data: every whole chunk, plus the received part of a chunk that is cut short. */
  body: Buffer;
  trailers: HeaderField[];
  /** Index just past the message when done; past the last whole chunk otherwise. */
  end: number;
}

/** Decodes a chunked body starting at `start`; lenient about bare LF and whitespace around sizes. */
export function scanChunked(buf: Buffer, start: number): ChunkedScan {
  const pieces: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buf.indexOf('\n', pos, 'latin1');
    if (lineEnd === -1) return { state: 'partial', body: Buffer.concat(pieces), trailers: [], end: pos };
    // §7.1.1: chunk extensions after ';' are ignored.
    const sizeText = buf.toString('latin1', pos, lineEnd).split(';')[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
      return { state: 'malformed', body: Buffer.concat(pieces), trailers: [], end: pos };
    }
    const size = parseInt(sizeText, 16);
    const dataStart = lineEnd + 1;
    if (size === 0) {
      // §7.1.2: trailer section, ended by an empty line right after the last-chunk line.
      if (buf[dataStart] === 0x0a) return finish(pieces, [], dataStart + 1);
      if (buf[dataStart] === 0x0d && buf[dataStart + 1] === 0x0a) return finish(pieces, [], dataStart + 2);
      const trailerEnd = findHeadEnd(buf, dataStart);
      if (trailerEnd === -1) return { state: 'partial', body: Buffer.concat(pieces), trailers: [], end: pos };
      const trailers = splitHead(`\r\n${buf.toString('latin1', dataStart, trailerEnd)}`).headers;
      return finish(pieces, trailers, trailerEnd);
    }
    const dataEnd = dataStart + size;
    if (buf.length < dataEnd) {
      pieces.push(buf.subarray(dataStart));
      return { state: 'partial', body: Buffer.concat(pieces), trailers: [], end: pos };
    }
    // The CRLF after the data; accept a bare LF too.
    let next = dataEnd;
    if (buf[next] === 0x0d) next++;
    if (next >= buf.length) {
      pieces.push(buf.subarray(dataStart, dataEnd));
      return { state: 'partial', body: Buffer.concat(pieces), trailers: [], end: pos };
    }
    if (buf[next] !== 0x0a) {
      pieces.push(buf.subarray(dataStart, dataEnd));
      return { state: 'malformed', body: Buffer.concat(pieces), trailers: [], end: pos };
    }
    pieces.push(buf.subarray(dataStart, dataEnd));
    pos = next + 1;
  }
}

function finish(pieces: Buffer[], trailers: HeaderField[], end: number): ChunkedScan {
  return { state: 'done', body: Buffer.concat(pieces), trailers, end };
}

/** One response as read from the wire; 1xx interim responses are listed too (status < 200). */
export interface RawResponse {
  version: string;
  status: number;
  reason: string;
  headers: HeaderField[];
  /** First value of a field, case-insensitive. */
  header(name: string): string | undefined;
  /** Every value of a field, case-insensitive, in order. */
  headerAll(name: string): string[];
  /** The body with chunked framing removed. */
  body: Buffer;
  chunked: boolean;
  /** Trailer fields of a chunked body (RFC 9112 §7.1.2). */
  trailers: HeaderField[];
  /** The bytes of this response exactly as received (head, framing and body). */
  raw: Buffer;
  /** False when reading ended before the framing said the body was over, or the chunked framing was unreadable. */
  complete: boolean;
}

/**
 * How reading of the stream ended, if it did: 'closed' = the peer closed, so a close-delimited
 * body is whole; 'stopped' = we stopped reading, so every unfinished body is incomplete.
 */
export type StreamEnd = 'closed' | 'stopped' | undefined;

/** Reads one response at `start`, or returns null when more bytes are needed (or none are HTTP). */
export function parseResponseAt(
  buf: Buffer,
  start: number,
  opts: { head?: boolean; end?: StreamEnd } = {},
): { response: RawResponse; end: number } | null {
  const headEnd = findHeadEnd(buf, start);
  if (headEnd === -1) return null;
  const { startLine, headers } = splitHead(buf.toString('latin1', start, headEnd));
  const match = /^(HTTP\/\d(?:\.\d)?)[ \t]+(\d{3})(?:[ \t](.*))?$/.exec(startLine);
  if (!match) return null;
  const status = Number(match[2]);
  const make = (body: Buffer, end: number, complete: boolean, chunked = false, trailers: HeaderField[] = []) => ({
    response: {
      version: match[1],
      status,
      reason: (match[3] ?? '').trim(),
      headers,
      header: (name: string) => headerValue(headers, name),
      headerAll: (name: string) => headerValues(headers, name),
      body,
      chunked,
      trailers,
      raw: buf.subarray(start, end),
      complete,
    },
    end,
  });
  // RFC 9112 §6.3(1): 1xx, 204, 304 and responses to HEAD end with their head.
  if (status < 200 || status === 204 || status === 304 || opts.head) return make(Buffer.alloc(0), headEnd, true);
  const framing = framingFromHeaders(headers, false);
  if (framing.kind === 'length') {
    if (buf.length - headEnd >= framing.bytes) {
      return make(buf.subarray(headEnd, headEnd + framing.bytes), headEnd + framing.bytes, true);
    }
    return opts.end ? make(buf.subarray(headEnd), buf.length, false) : null;
  }
  if (framing.kind === 'chunked') {
    const scan = scanChunked(buf, headEnd);
    if (scan.state === 'done') return make(scan.body, scan.end, true, true, scan.trailers);
    if (scan.state === 'malformed' || opts.end) return make(scan.body, buf.length, false, true);
    return null;
  }
  // §6.3(8): without framing the body runs until the server closes.
  return opts.end ? make(buf.subarray(headEnd), buf.length, opts.end === 'closed') : null;
}

/**
 * Reads every response from `start` on. `finalsBefore` = final responses already read on this
 * stream, so `headRequests[n]` (true when request n was HEAD) lines up. `stop` is true when the
 * rest is not HTTP any more: after a 101 (RFC 9110 §15.2.2) or a broken body.
 */
export function parseResponses(
  buf: Buffer,
  start: number,
  opts: { finalsBefore?: number; headRequests?: boolean[]; end?: StreamEnd } = {},
): { responses: RawResponse[]; end: number; stop: boolean } {
  const responses: RawResponse[] = [];
  let pos = start;
  let finals = opts.finalsBefore ?? 0;
  while (pos < buf.length) {
    const parsed = parseResponseAt(buf, pos, { head: opts.headRequests?.[finals] === true, end: opts.end });
    if (!parsed) break;
    responses.push(parsed.response);
    pos = parsed.end;
    const { status, complete } = parsed.response;
    if (status >= 200) finals++;
    if (status === 101 || !complete) return { responses, end: pos, stop: true };
  }
  return { responses, end: pos, stop: false };
}

/** One request as read from the wire by a fake backend. */
export interface RawRequest {
  /** The head as received, start line through the blank line. */
  head: string;
  method: string;
  target: string;
  version: string;
  headers: HeaderField[];
  header(name: string): string | undefined;
  /** The body received so far, chunked framing removed. */
  body: Buffer;
  chunked: boolean;
  trailers: HeaderField[];
  /** The bytes of this request received so far. */
  raw: Buffer;
  /** True once the body is whole per Content-Length or chunked framing (RFC 9112 §6.3). */
  complete: boolean;
}

/**
 * Reads the request at `start` as far as it has arrived: null until its head is complete, then
 * a request whose `complete` says whether the body is all there; `end` is where the next
 * request starts (meaningful once complete). A request without framing has no body (§6.3(7)).
 */
export function parseRequestAt(buf: Buffer, start: number): { request: RawRequest; end: number } | null {
  const headEnd = findHeadEnd(buf, start);
  if (headEnd === -1) return null;
  const head = buf.toString('latin1', start, headEnd);
  const { startLine, headers } = splitHead(head);
  const [method = '', target = '', version = ''] = startLine.trim().split(/[ \t]+/);
  const make = (body: Buffer, end: number, complete: boolean, chunked = false, trailers: HeaderField[] = []) => ({
    request: {
      head,
      method,
      target,
      version,
      headers,
      header: (name: string) => headerValue(headers, name),
      body,
      chunked,
      trailers,
      raw: buf.subarray(start, end),
      complete,
    },
    end,
  });
  const framing = framingFromHeaders(headers, true);
  if (framing.kind === 'length') {
    const end = Math.min(buf.length, headEnd + framing.bytes);
    return make(buf.subarray(headEnd, end), end, end - headEnd === framing.bytes);
  }
  if (framing.kind === 'chunked') {
    const scan = scanChunked(buf, headEnd);
    const end = scan.state === 'done' ? scan.end : buf.length;
    return make(scan.body, end, scan.state === 'done', true, scan.trailers);
  }
  return make(Buffer.alloc(0), headEnd, true);
}

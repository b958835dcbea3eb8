// The TLS transport (design.md §3, "TLS over a socket"): a backend connection whose bytes go
// through node:tls, under any protocol (HTTP, FastCGI, SCGI). proxy-core drives it like a socket
// (TransportStream); what differs is here:
// - 'connect' is the end of the handshake, so the connect timeout covers TCP and TLS together;
// - every error between the TCP connect and the end of the handshake is a failed handshake
//   (tlsHandshakeFailed): proxy-core answers 502 with the reason, not the 503 of a refused connect;
// - the member keeps the last session it was given, and the next connection offers it (RFC 8446
//   §2.2 resumption; RFC 5077 tickets before TLS 1.3): full and resumed handshakes are counted;
// - bytes arrive through 'data' events (a TLS socket has no `onread`), straight to the reader.
// The CA, certificate and key files are read once per backend into one secure context.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { MemberAddress, TransportDefinition, TransportOpenContext, TransportStream } from '../proxy-core/types.js';
import { tlsOptionsProblem, type UpstreamTlsOptions } from './tls-options.js';

/** What every connection of one backend shares. */
export interface PreparedTls {
  readonly secureContext: tls.SecureContext;
  readonly verify: boolean;
  /** undefined: the member's host name; '': none; else this name. */
  readonly sni: string | undefined;
  /** ALPN offer: "http/1.1" to HTTP backends (RFC 7301), nothing to FastCGI, SCGI... */
  readonly alpn: string[] | undefined;
}

/** A member's TLS state: the session to offer next, and its handshake counters. */
export class TlsMemberState {
  session: Buffer | null = null;
  full = 0;
  resumed = 0;
  failed = 0;
}

/** An error of a failed handshake: its message says why (the certificate's problem, in OpenSSL's words). */
export class TlsHandshakeError extends Error {
  readonly tlsHandshakeFailed = true;
  readonly code: string | undefined;
  constructor(target: string, cause: NodeJS.ErrnoException) {
    super(`TLS handshake with ${target} failed: ${cause.message}${cause.code ? ` [${cause.code}]` : ''}`);
    this.code = cause.code;
  }
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${what} "${file}": cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Read and check a backend's TLS files (once, when the backend is added): a missing file, a file
 * with no certificate, a key that does not match its certificate throws with the key's name.
 */
export function prepareTls(backend: { name: string; protocol: string }, o: UpstreamTlsOptions): PreparedTls {
  const ctx: tls.SecureContextOptions = { minVersion: o.minVersion ?? 'TLSv1.2' };
  if (o.caFile) {
    const ca = readPem(o.caFile, 'tls-ca-file');
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`tls-ca-file "${o.caFile}": no PEM certificate in it`);
    ctx.ca = ca;
  }
  if (o.keyFile && !o.certFile) throw new Error(`tls-key "${o.keyFile}" needs tls-cert (the client certificate)`);
  if (o.certFile) {
    const cert = readPem(o.certFile, 'tls-cert');
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`tls-cert "${o.certFile}": no PEM certificate in it`);
    const key = o.keyFile ? readPem(o.keyFile, 'tls-key') : cert;
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
      throw new Error(o.keyFile ? `tls-key "${o.keyFile}": no PEM private key in it` : `tls-cert "${o.certFile}": no private key in it (give tls-key)`);
    }
    ctx.cert = cert;
    ctx.key = key;
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(ctx);
  } catch (err) {
    throw new Error(`TLS settings of backend "${backend.name}": ${(err as Error).message}`);
  }
  return {
    secureContext,
    verify: o.insecureSkipVerify !== true,
    sni: o.sni === null ? undefined : o.sni,
    alpn: backend.protocol === 'http' ? ['http/1.1'] : undefined,
  };
}

function describe(a: MemberAddress): string {
  return a.kind === 'tcp' ? (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`) : a.kind === 'unix' ? `unix:${a.path}` : a.program;
}

/** One TLS connection to a member, as proxy-core drives a socket. */
export class TlsStream extends EventEmitter implements TransportStream {
  readonly socket: tls.TLSSocket;
  /** The handshake is done ('connect' was emitted). */
  private secure = false;
  /** The TCP connection is up (an error from now until `secure` is a failed handshake). */
  private tcpUp = false;

  constructor(ctx: TransportOpenContext, p: PreparedTls) {
    super();
    const a = ctx.address;
    if (a.kind === 'exec') throw new Error('the TLS transport cannot open exec: members');
    const state = ctx.memberState as TlsMemberState;
    const hostname = ctx.hostname ?? null;
    // The name the certificate must carry: the SNI asked for, else the configured host name,
    // else the address itself (an IP SAN).
    const verifyName = p.sni || hostname || (a.kind === 'tcp' ? a.host : undefined);
    const sni = p.sni === undefined ? (hostname !== null && net.isIP(hostname) === 0 ? hostname : undefined) : p.sni === '' ? undefined : p.sni;
    // allowHalfOpen (net's option, taken by tls.connect): a backend's close_notify/FIN ends a close-delimited body; our side is closed by us.
    const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      secureContext: p.secureContext,
      rejectUnauthorized: p.verify,
      ALPNProtocols: p.alpn,
      servername: sni,
      session: state.session ?? undefined,
      allowHalfOpen: true,
      checkServerIdentity: (host, cert) => (verifyName === undefined ? undefined : tls.checkServerIdentity(verifyName, cert)),
    };
    const s = a.kind === 'unix' ? tls.connect({ ...options, path: a.path }) : tls.connect({ ...options, host: a.host, port: a.port });
    this.socket = s;
    const target = describe(a);
    s.once('connect', () => {
      this.tcpUp = true;
      s.setNoDelay(true);
    });
    s.once('secureConnect', () => {
      this.secure = true;
      if (s.isSessionReused()) state.resumed++;
      else state.full++;
      this.emit('connect');
    });
    // TLS 1.3 tickets come after the handshake, TLS 1.2 sessions with it: the last one is kept.
    s.on('session', (session: Buffer) => { state.session = session; });
    s.on('data', ctx.onData);
    s.on('end', () => this.emit('end'));
    s.on('drain', () => this.emit('drain'));
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.secure && this.tcpUp) {
        state.failed++;
        // A session that ended in a failed handshake is not offered again.
        state.session = null;
        this.emit('error', new TlsHandshakeError(target, err));
        return;
      }
      this.emit('error', err);
    });
    s.on('close', (hadError: boolean) => this.emit('close', hadError));
  }

  write(data: Buffer | string, encoding?: BufferEncoding): boolean {
    return typeof data === 'string' ? this.socket.write(data, encoding ?? 'latin1') : this.socket.write(data);
  }

  end(data?: Buffer): this {
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
    return this;
  }

  cork(): void { this.socket.cork(); }
  uncork(): void { this.socket.uncork(); }
  pause(): this { this.socket.pause(); return this; }
  resume(): this { this.socket.resume(); return this; }
  destroy(err?: Error): this { this.socket.destroy(err); return this; }

  get writableNeedDrain(): boolean { return this.socket.writableNeedDrain; }
  get writableLength(): number { return this.socket.writableLength; }
  get destroyed(): boolean { return this.socket.destroyed; }
  get readableEnded(): boolean { return this.socket.readableEnded; }
  get writable(): boolean { return this.socket.writable; }
}

function counters(state: unknown): Readonly<Record<string, number>> {
  const s = state as TlsMemberState;
  return { tlsFullHandshakes: s.full, tlsResumedHandshakes: s.resumed, tlsFailedHandshakes: s.failed };
}

export const tlsTransport = {
  /** The transport of one backend with TLS: its files read and checked now (throws with the reason). */
  bound(backend: { name: string; protocol: string }, options: UpstreamTlsOptions): TransportDefinition {
    const problem = tlsOptionsProblem(options);
    if (problem !== undefined) throw new Error(problem);
    const prepared = prepareTls(backend, options);
    return {
      name: 'tls',
      perRequest: false,
      blamesMember: true,
      open: (ctx) => new TlsStream(ctx, prepared),
      memberState: () => new TlsMemberState(),
      counters,
    };
  },
};

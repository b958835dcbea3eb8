// TLS on listeners as lighttpd 1.4.69's mod_openssl sets it up (mod_openssl_set_defaults_sockets):
// the global scope configures the main listener, each `$SERVER["socket"]` block its own (a block
// with only `ssl.engine = "enable"` inherits the global certificate), and the certificate for a
// connection is chosen by evaluating the config conditions with the TLS SNI name as the host
// (mod_openssl_SNI), so `$HTTP["host"] == "b.example" { ssl.pemfile = ... }` serves b.example.
import type net from 'node:net';
import tls from 'node:tls';
import { socketBlocks } from '../../config/merge.js';
import { ConfigError, type ConfigBlock, type ConfigEntry, type ConfigHash, type ConfigModel, type ConditionContext, type SourceLoc } from '../../config/model.js';
import { CLIENT_HIGH_WATER_BYTES, type Listener, type ListenerTls, type ListenSpec } from '../../core/listeners.js';
import type { Server } from '../../core/server.js';
import { loadCaFile, loadCertificate, type LoadedCertificate } from './certificate.js';
import { socketTlsParams, type SocketTlsParams } from './conf-cmd.js';
import { clientChainDepth } from './ssl-env.js';

/** Contexts kept per listener scope (one per distinct certificate choice; SNI names are few). */
const CONTEXT_CACHE_MAX = 256;

/** Keys read per listener (global scope or `$SERVER["socket"]`), as lighttpd's socket scope and node:tls allow. */
const SOCKET_SCOPE_KEYS = ['ssl.engine', 'ssl.cipher-list', 'ssl.openssl.ssl-conf-cmd', 'ssl.honor-cipher-order',
  'ssl.verifyclient.activate', 'ssl.verifyclient.enforce', 'ssl.verifyclient.depth', 'ssl.verifyclient.username', 'ssl.verifyclient.exportcert'];

/** Client certificate checking of a listener scope (ssl.verifyclient.*). */
export interface VerifyClient {
  activate: boolean;
  enforce: boolean;
  depth: number;
  username: string;
  exportCert: boolean;
}

/** The TLS setup of one scope: the global one or one `$SERVER["socket"]` block. */
interface ScopeTls {
  name: string;
  /** debug.log-ssl-noise: log failed handshakes. */
  noise: boolean;
  params: SocketTlsParams;
  verify: VerifyClient;
}

/** Every certificate and CA file the config names, read at start and again on SIGHUP. */
interface Loaded {
  /** By the ssl.pemfile entry that names it (its file:line and value). */
  certs: Map<string, LoadedCertificate>;
  cas: Map<string, string[]>;
  contexts: Map<string, tls.SecureContext>;
}

const entryKey = (loc: SourceLoc | undefined, value: string) => `${loc?.file ?? ''}:${loc?.line ?? 0}:${value}`;

function directEntries(block: ConfigBlock): Map<string, ConfigEntry> {
  const out = new Map<string, ConfigEntry>();
  for (const e of block.entries) out.set(e.key, e);
  return out;
}

function allBlocks(root: ConfigBlock): ConfigBlock[] {
  const out: ConfigBlock[] = [];
  const walk = (b: ConfigBlock) => {
    out.push(b);
    for (const c of b.children) for (let l: ConfigBlock | null = c; l; l = l.else) walk(l);
  };
  walk(root);
  return out;
}

/** The certificates for every TLS listener of a server, and the wrapping of its connections. */
export class ListenerTlsSetup {
  private readonly scopes = new Map<ConfigBlock | null, ScopeTls>();
  /** ssl.pemfile entries (with the ssl.privkey of the same block): what SIGHUP reloads. */
  private readonly pemEntries: Array<{ key: string; pem: string; privkey: string; loc: SourceLoc }> = [];
  private readonly caFiles = new Map<string, SourceLoc>();
  private loaded: Loaded;

  constructor(private readonly server: Server, model: ConfigModel, private readonly log: (msg: string) => void) {
    const sockets = new Set(socketBlocks(model).map((s) => s.block));
    for (const block of allBlocks(model.root)) {
      const own = directEntries(block);
      if (block !== model.root && !sockets.has(block)) {
        // lighttpd: these are read per listener only.
        for (const key of SOCKET_SCOPE_KEYS) {
          const e = own.get(key);
          if (e !== undefined) log(`${e.loc.file}:${e.loc.line}: ${key} is valid only in the global scope or a $SERVER["socket"] block (ignored here)`);
        }
      }
      const pem = own.get('ssl.pemfile');
      if (pem !== undefined && typeof pem.value === 'string' && pem.value !== '') {
        const key = own.get('ssl.privkey');
        const privkey = typeof key?.value === 'string' && key.value !== '' ? key.value : pem.value;
        this.pemEntries.push({ key: entryKey(pem.loc, pem.value), pem: pem.value, privkey, loc: pem.loc });
      }
      for (const k of ['ssl.ca-file', 'ssl.verifyclient.ca-file']) {
        const ca = own.get(k);
        if (ca !== undefined && typeof ca.value === 'string' && ca.value !== '' && !this.caFiles.has(ca.value)) this.caFiles.set(ca.value, ca.loc);
      }
    }
    // The first load stops the start on any error, with the key's file:line.
    this.loaded = this.load((loc, msg) => { throw new ConfigError(loc, msg); });
    const global = directEntries(model.root);
    this.addScope(null, global, global);
    for (const s of socketBlocks(model)) if (!this.scopes.has(s.block)) this.addScope(s.block, directEntries(s.block), global);
  }

  /** Read every certificate, key and CA file; `fail` reports a file that cannot be used. */
  private load(fail: (loc: SourceLoc, msg: string) => void): Loaded {
    const out: Loaded = { certs: new Map(), cas: new Map(), contexts: new Map() };
    for (const p of this.pemEntries) {
      try { out.certs.set(p.key, loadCertificate(p.pem, p.privkey)); } catch (err) { fail(p.loc, `ssl.pemfile: ${(err as Error).message}`); }
    }
    for (const [file, loc] of this.caFiles) {
      try { out.cas.set(file, loadCaFile(file)); } catch (err) { fail(loc, `ssl.ca-file: ${(err as Error).message}`); }
    }
    return out;
  }

  /**
   * SIGHUP: read the certificates again. New connections get the new ones; connections already
   * open keep theirs. If any file fails, the old set stays in use and the error is logged.
   */
  reload(): void {
    let ok = true;
    const next = this.load((loc, msg) => { ok = false; this.log(`${loc.file}:${loc.line}: ${msg}; keeping the certificates loaded before`); });
    if (ok) this.loaded = next;
  }

  private addScope(block: ConfigBlock | null, own: Map<string, ConfigEntry>, global: Map<string, ConfigEntry>): void {
    const pick = (key: string) => (own.get(key) ?? (block === null ? undefined : global.get(key)));
    const engine = pick('ssl.engine');
    if (engine?.value !== true) return;
    const where = block?.condition?.loc ?? engine.loc;
    const name = block?.condition ? `$SERVER["socket"] == "${block.condition.value}"` : 'the global scope';
    if (block !== null && !own.has('ssl.pemfile')) {
      const others = [...own.keys()].filter((k) => k.startsWith('ssl.') && k !== 'ssl.engine');
      if (others.length > 0) {
        throw new ConfigError(own.get(others[0]!)!.loc, `${others[0]}: ssl.pemfile has to be set in the same $SERVER["socket"] block as other ssl.* keys, unless only ssl.engine is set there (then the global ssl.* keys apply)`);
      }
    }
    const pemfile = own.get('ssl.pemfile') ?? global.get('ssl.pemfile');
    if (pemfile === undefined || pemfile.value === '') {
      throw new ConfigError(engine.loc, `ssl.engine: ssl.pemfile has to be set when ssl.engine = "enable" (${name})`);
    }
    const str = (key: string) => { const v = pick(key)?.value; return typeof v === 'string' ? v : undefined; };
    const bool = (key: string) => { const v = pick(key)?.value; return typeof v === 'boolean' ? v : undefined; };
    let params: SocketTlsParams;
    const confCmd = pick('ssl.openssl.ssl-conf-cmd');
    try {
      params = socketTlsParams({ cipherList: str('ssl.cipher-list') || undefined, honorCipherOrder: bool('ssl.honor-cipher-order'), confCmd: confCmd?.value as ConfigHash | undefined });
    } catch (err) {
      throw new ConfigError(confCmd?.loc ?? where, (err as Error).message);
    }
    const depth = pick('ssl.verifyclient.depth')?.value;
    const verify: VerifyClient = {
      activate: bool('ssl.verifyclient.activate') ?? false,
      enforce: bool('ssl.verifyclient.enforce') ?? true,
      depth: typeof depth === 'number' ? Math.min(depth, 255) : 9,
      username: str('ssl.verifyclient.username') ?? '',
      exportCert: bool('ssl.verifyclient.exportcert') ?? false,
    };
    const ca = str('ssl.verifyclient.ca-file') || str('ssl.ca-file');
    if (verify.activate && !ca) {
      throw new ConfigError(pick('ssl.verifyclient.activate')!.loc, 'ssl.verifyclient.activate: needs ssl.ca-file (or ssl.verifyclient.ca-file) in the same scope: the CAs client certificates are checked against');
    }
    const scope: ScopeTls = { name, params, verify, noise: bool('debug.log-ssl-noise') ?? false };
    this.scopes.set(block, scope);
    // Make the default context now: a cipher string or curve OpenSSL refuses stops the start here.
    const hit = this.server.merger.merge(this.conditionContext(block?.condition?.value ?? '', '', ''));
    try {
      this.contextFor(scope, hit.values, hit.locs);
    } catch (err) {
      throw new ConfigError(confCmd?.loc ?? pick('ssl.cipher-list')?.loc ?? where, `${name}: ${(err as Error).message}`);
    }
  }

  /** TLS for a listen spec, or null when its scope has ssl.engine disabled. */
  forSpec(spec: ListenSpec): ListenerTls | null {
    const scope = this.scopes.get(spec.block ?? null);
    if (scope === undefined) return null;
    return { wrap: (accepted, listener) => this.wrap(scope, accepted, listener) };
  }

  private conditionContext(serverSocket: string, host: string, remoteip: string): ConditionContext {
    return { host, url: '', querystring: '', remoteip, scheme: 'https', method: '', header: () => undefined, serverSocket };
  }

  /** The context for a connection: the config as a request for `host` on this listener would see it. */
  private select(scope: ScopeTls, listener: Listener, host: string, remoteip: string): tls.SecureContext {
    const merged = this.server.merger.merge(this.conditionContext(listener.name, host.toLowerCase(), remoteip));
    return this.contextFor(scope, merged.values, merged.locs);
  }

  private contextFor(scope: ScopeTls, values: Map<string, unknown>, locs: Map<string, SourceLoc>): tls.SecureContext {
    const pem = values.get('ssl.pemfile');
    if (typeof pem !== 'string' || pem === '') throw new Error('no ssl.pemfile applies');
    const certKey = entryKey(locs.get('ssl.pemfile'), pem);
    const caVal = values.get('ssl.verifyclient.ca-file') || values.get('ssl.ca-file');
    const caFile = typeof caVal === 'string' ? caVal : '';
    const loaded = this.loaded;
    const key = `${scope.name}\n${certKey}\n${caFile}`;
    let context = loaded.contexts.get(key);
    if (context !== undefined) return context;
    const cert = loaded.certs.get(certKey);
    if (cert === undefined) throw new Error(`the certificate of ${certKey} is not loaded`);
    const p = scope.params;
    context = tls.createSecureContext({
      cert: cert.cert, key: cert.key, ca: caFile ? loaded.cas.get(caFile) : undefined,
      ciphers: p.ciphers, honorCipherOrder: p.honorCipherOrder, minVersion: p.minVersion, maxVersion: p.maxVersion,
      secureOptions: p.secureOptions, ecdhCurve: p.ecdhCurve, dhparam: p.dhparam, sigalgs: p.sigalgs,
      // lighttpd's session id context; needed for session resumption with client certificates.
      sessionIdContext: 'lighttpd',
    });
    if (loaded.contexts.size >= CONTEXT_CACHE_MAX) loaded.contexts.delete(loaded.contexts.keys().next().value!);
    loaded.contexts.set(key, context);
    return context;
  }

  private wrap(scope: ScopeTls, accepted: net.Socket, listener: Listener): tls.TLSSocket {
    const remote = accepted.remoteAddress ?? '';
    const remoteip = remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
    const v = scope.verify;
    const socket = new tls.TLSSocket(accepted, {
      isServer: true,
      secureContext: this.select(scope, listener, '', remoteip),
      SNICallback: (servername, cb) => {
        try {
          cb(null, this.select(scope, listener, servername, remoteip));
        } catch (err) {
          cb(err as Error, undefined);
        }
      },
      requestCert: v.activate,
      rejectUnauthorized: v.activate && v.enforce,
      highWaterMark: CLIENT_HIGH_WATER_BYTES,
    } as tls.TLSSocketOptions);
    if (v.activate) socket.once('secure', () => this.checkClient(socket, v));
    if (scope.noise) {
      let established = false;
      socket.once('secure', () => { established = true; });
      socket.once('error', (err: Error) => { if (!established) this.log(`SSL: handshake with ${remoteip} on ${listener.name} failed: ${err.message}`); });
    }
    return socket;
  }

  /**
   * After the handshake, the client certificate's verification result, as tls.Server records it
   * for its own sockets (a TLSSocket made around an accepted socket does not): `authorized`, or
   * `authorizationError` with the OpenSSL reason. node:tls has no verify depth, so a chain
   * longer than ssl.verifyclient.depth is checked here too. With enforce, a failure closes.
   */
  private checkClient(socket: tls.TLSSocket, v: VerifyClient): void {
    const handle = (socket as unknown as { _handle: { verifyError(): (Error & { code?: string }) | null } | null })._handle;
    const err = handle?.verifyError() ?? null;
    const state = socket as unknown as { authorized: boolean; authorizationError: string | undefined };
    if (err !== null) state.authorizationError = err.code ?? err.message;
    else if (clientChainDepth(socket) > v.depth) state.authorizationError = 'CERT_CHAIN_TOO_LONG';
    else state.authorized = true;
    if (!state.authorized && v.enforce) socket.destroy();
  }

  /** The client certificate checks of the listener a connection came in on. */
  verifyFor(listener: Listener): VerifyClient | undefined {
    return this.scopes.get(listener.block ?? null)?.verify;
  }
}

// Test fixture: the parts of a core Request that proxy-core reads when it builds an upstream request.
import type { Request } from '../../../../core/request.js';

export interface FakeRequestInit {
  method?: string;
  target?: string;
  headers?: string[];
  host?: string;
  scheme?: string;
  peer?: string;
  local?: string;
  bodyLength?: number;
  versionMinor?: 0 | 1;
  upgrade?: string | null;
  env?: Array<[string, string]>;
  path?: string;
  /** Document root (default /srv/www); physicalPath is then docRoot + path unless given. */
  docRoot?: string;
  physicalPath?: string;
  /** head.pathAndQuery (default: the target). */
  pathAndQuery?: string;
  /** head.targetScheme: the scheme of an absolute-form target (default null). */
  targetScheme?: string | null;
  /** req.config.values entries (default none). */
  configValues?: Array<[string, unknown]>;
  redirects?: number;
  /** Another request on this connection (a keep-alive client): what it holds is shared. */
  conn?: Request['conn'];
}

export function fakeRequest(o: FakeRequestInit = {}): Request {
  const headers = o.headers ?? [];
  const connectionTokens: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'connection') for (const t of headers[i + 1]!.split(',')) connectionTokens.push(t.trim().toLowerCase());
  }
  const bodyLength = o.bodyLength ?? 0;
  const req = {
    method: o.method ?? 'GET',
    target: o.target ?? '/',
    host: o.host ?? 'example.org',
    scheme: o.scheme ?? 'http',
    path: o.path ?? (o.target ?? '/').split('?')[0],
    docRoot: o.docRoot ?? '/srv/www',
    physicalPath: o.physicalPath ?? (o.docRoot !== undefined
      ? (o.docRoot.endsWith('/') ? o.docRoot.slice(0, -1) : o.docRoot) + (o.path ?? (o.target ?? '/').split('?')[0])
      : '/srv/www' + (o.path ?? '/')),
    env: o.env ?? [],
    redirects: o.redirects ?? 0,
    config: { values: new Map(o.configValues ?? []) },
    head: {
      method: o.method ?? 'GET', target: o.target ?? '/', versionMinor: o.versionMinor ?? 1, headers,
      connectionTokens, upgrade: o.upgrade ?? null, contentLength: bodyLength > 0 ? bodyLength : -1,
      pathAndQuery: o.pathAndQuery ?? o.target ?? '/', targetScheme: o.targetScheme ?? null,
    },
    body: { length: bodyLength, present: bodyLength !== 0 },
    conn: o.conn ?? {
      remoteAddress: o.peer ?? '192.0.2.7', remotePort: 50000,
      socket: { localAddress: o.local ?? '192.0.2.1', localPort: 8080 },
      localAddress: o.local ?? '192.0.2.1', localPort: 8080,
      pluginData: new Map<string, unknown>(),
    },
    peekEnv(): ReadonlyArray<readonly [string, string]> { return this.env; },
    header(name: string): string | undefined {
      const l = name.toLowerCase();
      const vals: string[] = [];
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === l) vals.push(headers[i + 1]!);
      return vals.length ? vals.join(', ') : undefined;
    },
  };
  return req as unknown as Request;
}

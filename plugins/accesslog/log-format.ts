// accesslog.format: parsing lighttpd's Apache-style format string into fields, and rendering
// one log line from a request record (lighttpd mod_accesslog, 1.4.69 specifiers).
import { escapeDefault, utf8Bytes, type EscapeFn } from './log-escape.js';
import { strftime } from './strftime.js';

/** lighttpd's default accesslog.format. */
export const DEFAULT_FORMAT = '%h %V %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"';

/** The default %t: Common Log Format time, local, request end. */
const CLF_TIME = '[%d/%b/%Y:%H:%M:%S %z]';

/**
 * The facts of one finished request. Every string is a byte string (one char per byte): header
 * values and the target are as received; Unicode values (paths, env) are converted to UTF-8.
 */
export interface LogRecord {
  remoteAddr: string;
  remotePort: number;
  localAddr: string;
  localPort: number;
  method: string;
  /** The target as received (for %r). */
  targetOrig: string;
  /** The target after rewrites (for %U). */
  target: string;
  /** The query string without '?', '' if none. */
  query: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  protocol: string;
  status: number;
  /** Response body bytes sent. */
  bodyBytesOut: number;
  /** Response bytes on the wire, head included. */
  wireBytesOut: number;
  /** Request bytes received, head included. */
  bytesIn: number;
  requestHeader(name: string): string | undefined;
  responseHeader(name: string): string | undefined;
  env(name: string): string | undefined;
  /** The authority the request was for (Host). */
  authority: string;
  /** server.name, else the authority. */
  serverName: string;
  /** The physical path, '' if none. */
  filename: string;
  /** 'X' aborted, '+' kept alive, '-' closed (Apache %X). */
  connStatus: string;
  /** Earlier requests on this connection. */
  keepAliveCount: number;
  /** Start and end wall-clock times, ms since the epoch (fractional). */
  startMs: number;
  endMs: number;
}

type TimeMode = 'strftime' | 'sec' | 'msec' | 'usec' | 'nsec' | 'msec_frac' | 'usec_frac' | 'nsec_frac';

export type FormatField =
  | { kind: 'literal'; text: string }
  | { kind: 'spec'; key: string; param: string }
  | { kind: 'time'; begin: boolean; mode: TimeMode; pattern: string; cacheSec: number; cacheText: string }
  | { kind: 'duration'; unit: 's' | 'ms' | 'us' | 'ns' };

const KEYS = new Set('aAbBCDefhHiIklmnoOpPqrsTtuUvVX%'.split(''));
const TIME_MODES = new Set(['sec', 'msec', 'usec', 'nsec', 'msec_frac', 'usec_frac', 'nsec_frac']);
const DURATION_UNITS: Record<string, 's' | 'ms' | 'us' | 'ns'> = { '': 's', s: 's', sec: 's', ms: 'ms', msec: 'ms', us: 'us', usec: 'us', ns: 'ns', nsec: 'ns' };
const BACKSLASH: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** lighttpd processes C-style backslash escapes in the format string (`\t`, `\n`, ...). */
function unescapeFormat(format: string): string {
  if (!format.includes('\\')) return format;
  return format.replace(/\\(.?)/gs, (_m, c: string) => (c === '' ? '' : BACKSLASH[c] ?? c));
}

/** Parse a format string; throws an Error naming the bad specifier. */
export function parseFormat(format: string): FormatField[] {
  const f = unescapeFormat(format);
  const out: FormatField[] = [];
  let lit = '';
  for (let i = 0; i < f.length; i++) {
    if (f[i] !== '%') {
      lit += f[i];
      continue;
    }
    let j = i + 1;
    let param = '';
    if (f[j] === '{') {
      const close = f.indexOf('}', j);
      if (close < 0) throw new Error(`unterminated %{ at offset ${i}`);
      param = f.slice(j + 1, close);
      j = close + 1;
    }
    if (f[j] === '<' || f[j] === '>') j++;
    const key = f[j];
    if (key === undefined || !KEYS.has(key)) throw new Error(`unknown format specifier %${f.slice(i + 1, j + 1)} at offset ${i}`);
    i = j;
    if (key === '%') { lit += '%'; continue; }
    if (key === 'l') { lit += '-'; continue; } // remote ident: never known
    if (lit) { out.push({ kind: 'literal', text: utf8Bytes(lit) }); lit = ''; }
    out.push(compileSpec(key, param));
  }
  if (lit) out.push({ kind: 'literal', text: utf8Bytes(lit) });
  return out;
}

function compileSpec(key: string, param: string): FormatField {
  switch (key) {
    case 't': {
      let p = param;
      let begin = false;
      if (p.startsWith('begin:')) { begin = true; p = p.slice(6); } else if (p.startsWith('end:')) p = p.slice(4);
      if (TIME_MODES.has(p)) return { kind: 'time', begin, mode: p as TimeMode, pattern: '', cacheSec: -1, cacheText: '' };
      if (p !== '' && !p.includes('%')) throw new Error(`%{${param}}t: not a time format (missing '%'?)`);
      return { kind: 'time', begin, mode: 'strftime', pattern: p || CLF_TIME, cacheSec: -1, cacheText: '' };
    }
    case 'T': {
      const unit = DURATION_UNITS[param];
      if (!unit) throw new Error(`%{${param}}T: unit must be s, ms, us or ns`);
      return { kind: 'duration', unit };
    }
    case 'D':
      return { kind: 'duration', unit: 'us' };
    case 'a': case 'h':
      if (param !== '' && param !== 'mask') throw new Error(`%{${param}}${key}: only %{mask}${key} is supported`);
      return { kind: 'spec', key: 'a', param };
    case 'p':
      if (!['', 'canonical', 'local', 'remote'].includes(param)) throw new Error(`%{${param}}p: expected canonical, local or remote`);
      return { kind: 'spec', key, param };
    case 'u':
      return { kind: 'spec', key: 'e', param: 'REMOTE_USER' };
    case 'n':
      return { kind: 'spec', key: 'e', param };
    default:
      return { kind: 'spec', key, param };
  }
}

/** IPv4: last octet → 0; IPv6: keep the first 48 bits (lighttpd's %{mask}a). */
export function maskAddress(addr: string): string {
  if (addr.includes('.') && !addr.includes(':')) return addr.replace(/\.\d+$/, '.0');
  const groups = addr.split(':');
  return `${groups.slice(0, 3).join(':')}::`;
}

/** A byte count, or '-' when nothing at all was sent (lighttpd accesslog_append_bytes). */
function bytes(n: number, sentAnything: boolean): string {
  return sentAnything ? String(n) : '-';
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header || !name) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function timeField(f: Extract<FormatField, { kind: 'time' }>, r: LogRecord): string {
  const ms = f.begin ? r.startMs : r.endMs;
  switch (f.mode) {
    case 'sec': return String(Math.floor(ms / 1000));
    case 'msec': return String(Math.ceil(ms));
    case 'usec': return String(Math.ceil(ms * 1000));
    case 'nsec': return String(Math.round(ms * 1e6));
    case 'msec_frac': return String(Math.floor(ms % 1000)).padStart(3, '0');
    case 'usec_frac': return String(Math.floor((ms % 1000) * 1000)).padStart(6, '0');
    case 'nsec_frac': return String(Math.floor((ms % 1000) * 1e6)).padStart(9, '0');
    case 'strftime': {
      // Formatted once per second per field, as lighttpd caches its timestamp string.
      const sec = Math.floor(ms / 1000);
      if (sec !== f.cacheSec) {
        f.cacheSec = sec;
        f.cacheText = utf8Bytes(strftime(f.pattern, sec * 1000));
      }
      return f.cacheText;
    }
  }
}

function durationField(unit: 's' | 'ms' | 'us' | 'ns', r: LogRecord): string {
  const ms = Math.max(0, r.endMs - r.startMs);
  switch (unit) {
    case 's': return String(Math.floor(ms / 1000));
    case 'ms': return String(Math.ceil(ms));
    case 'us': return String(Math.ceil(ms * 1000));
    case 'ns': return String(Math.round(ms * 1e6));
  }
}

/** `-` for a missing value, else the escaped value (lighttpd accesslog_append_buffer). */
function orDash(v: string | undefined, esc: EscapeFn): string {
  return v === undefined || v === '' ? '-' : esc(v);
}

function specField(key: string, param: string, r: LogRecord, esc: EscapeFn): string {
  switch (key) {
    case 'a': return param === 'mask' ? maskAddress(r.remoteAddr) : r.remoteAddr;
    case 'A': return r.localAddr || '-';
    case 'b': case 'B': return bytes(r.bodyBytesOut, r.wireBytesOut > 0);
    case 'O': return bytes(r.wireBytesOut, r.wireBytesOut > 0);
    case 'I': return bytes(r.bytesIn, r.bytesIn > 0);
    case 'C': return orDash(cookie(r.requestHeader('cookie'), param), esc);
    case 'e': return orDash(param ? r.env(param) : undefined, esc);
    case 'f': return orDash(r.filename, esc);
    case 'H': return r.protocol;
    case 'i': return param ? orDash(r.requestHeader(param), esc) : '';
    case 'o': return param ? orDash(r.responseHeader(param), esc) : '';
    case 'k': return String(r.keepAliveCount);
    case 'm': return r.method;
    case 'p': return String(param === 'remote' ? r.remotePort : r.localPort);
    case 'q': return esc(r.query);
    case 'r': return `${r.method} ${esc(r.targetOrig)} ${r.protocol}`;
    case 's': return String(r.status);
    case 'U': {
      const q = r.target.indexOf('?');
      return esc(q < 0 ? r.target : r.target.slice(0, q));
    }
    case 'v': return orDash(r.serverName, esc);
    case 'V': return orDash(r.authority, esc);
    case 'X': return r.connStatus;
    default: return '-'; // %P (process id) and anything lighttpd lists as unsupported
  }
}

/** One log line (without the newline) as a byte string. */
export function renderLine(fields: FormatField[], r: LogRecord, esc: EscapeFn = escapeDefault): string {
  let out = '';
  for (const f of fields) {
    switch (f.kind) {
      case 'literal': out += f.text; break;
      case 'time': out += timeField(f, r); break;
      case 'duration': out += durationField(f.unit, r); break;
      case 'spec': out += specField(f.key, f.param, r, esc); break;
    }
  }
  return out;
}

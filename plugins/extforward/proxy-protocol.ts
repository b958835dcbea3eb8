// HAProxy PROXY protocol, versions 1 (text) and 2 (binary), as lighttpd 1.4.69 mod_extforward
// reads it (hap_PROXY_recv(), mod_extforward_hap_PROXY_v1/_v2()), following HAProxy's
// doc/proxy-protocol.txt: the header a trusted load balancer sends first on a connection.
import { clientAddress } from './trust-list.js';

/** The 12-byte signature of a version 2 header. */
const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
/** A version 1 line is at most 107 bytes, CRLF included. */
const V1_MAX_BYTES = 107;
/** Largest version 2 header read (16 + addresses + TLVs); lighttpd reads a little less. */
const V2_MAX_BYTES = 16 + 2048;

export type ProxyHeader =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | {
    kind: 'header';
    /** Bytes the header took; what follows is the client's HTTP. */
    consumed: number;
    /** The client's address and port; absent for LOCAL, UNKNOWN and families kept as they are. */
    address?: string;
    port?: number;
    /** Version 2 TLVs: the client spoke TLS to the proxy (PP2_TYPE_SSL, client bit PP2_CLIENT_SSL). */
    ssl?: boolean;
    /** A client certificate was presented and verified (PP2_CLIENT_CERT_* with verify = 0). */
    sslClientVerified?: boolean;
    /** Variables for the CGI environment of every request on the connection (SSL_*, PP2_UNIQUE_ID). */
    env?: Array<[string, string]>;
  };

function v1Port(s: string | undefined): number {
  return s !== undefined && /^[0-9]{1,5}$/.test(s) && Number(s) > 0 && Number(s) < 65536 ? Number(s) : -1;
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= V1_MAX_BYTES ? { kind: 'invalid', reason: 'PROXY v1 line longer than 107 bytes' } : { kind: 'incomplete' };
  if (end + 2 > V1_MAX_BYTES) return { kind: 'invalid', reason: 'PROXY v1 line longer than 107 bytes' };
  const line = buf.toString('latin1', 0, end);
  const consumed = end + 2;
  if (line === 'PROXY UNKNOWN' || line.startsWith('PROXY UNKNOWN ')) return { kind: 'header', consumed };
  const parts = line.split(' ');
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return { kind: 'invalid', reason: `bad PROXY v1 line ${JSON.stringify(line)}` };
  const address = clientAddress(parts[2]!);
  const v6 = parts[2]!.includes(':');
  if (address === null || v6 !== (parts[1] === 'TCP6')) return { kind: 'invalid', reason: `bad source address in PROXY v1 line ${JSON.stringify(line)}` };
  const port = v1Port(parts[4]);
  if (port < 0 || v1Port(parts[5]) < 0) return { kind: 'invalid', reason: `bad port in PROXY v1 line ${JSON.stringify(line)}` };
  return { kind: 'header', consumed, address, port };
}

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  // The same text Node gives a peer: the longest run of zero groups compressed.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const text = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return clientAddress(text) ?? text;
}

const SSL_SUBTYPES: Record<number, string> = {
  0x21: 'SSL_PROTOCOL',
  0x22: 'SSL_CLIENT_S_DN_CN',
  0x23: 'SSL_CIPHER',
  0x24: 'SSL_SERVER_A_SIG',
  0x25: 'SSL_SERVER_A_KEY',
};

/** TLVs after the addresses: PP2_TYPE_SSL and its sub-TLVs, PP2_TYPE_UNIQUE_ID; others skipped. */
function readTlvs(b: Buffer, at: number, end: number, out: Extract<ProxyHeader, { kind: 'header' }>): void {
  const env: Array<[string, string]> = [];
  while (at + 3 <= end) {
    const type = b[at]!;
    const len = b.readUInt16BE(at + 1);
    const value = at + 3;
    if (value + len > end) break;
    if (type === 0x20 && len >= 5) {
      const client = b[value]!;
      if (client & 0x01) out.ssl = true;
      if ((client & 0x06) !== 0 && b.readUInt32BE(value + 1) === 0) out.sslClientVerified = true;
      for (let s = value + 5; s + 3 <= value + len;) {
        const subType = b[s]!;
        const subLen = b.readUInt16BE(s + 1);
        if (s + 3 + subLen > value + len) break;
        const name = SSL_SUBTYPES[subType];
        if (name !== undefined) env.push([name, b.toString('latin1', s + 3, s + 3 + subLen)]);
        s += 3 + subLen;
      }
    } else if (type === 0x05) {
      env.push(['PP2_UNIQUE_ID', b.toString('latin1', value, value + len)]);
    }
    at = value + len;
  }
  if (env.length > 0) out.env = env;
}

function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < 16) return { kind: 'incomplete' };
  const verCmd = buf[12]!;
  if ((verCmd & 0xf0) !== 0x20) return { kind: 'invalid', reason: 'PROXY v2 header with a version other than 2' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'invalid', reason: `PROXY v2 command ${cmd} is not LOCAL or PROXY` };
  const len = buf.readUInt16BE(14);
  if (16 + len > V2_MAX_BYTES) return { kind: 'invalid', reason: `PROXY v2 header of ${16 + len} bytes is too large` };
  if (buf.length < 16 + len) return { kind: 'incomplete' };
  const out: Extract<ProxyHeader, { kind: 'header' }> = { kind: 'header', consumed: 16 + len };
  if (cmd === 0) return out; // LOCAL: a health check from the proxy itself; the peer stays.
  let addrLen = 0;
  switch (buf[13]) {
    case 0x11: // TCP over IPv4
      if (len < 12) return { kind: 'invalid', reason: 'PROXY v2 TCP4 addresses truncated' };
      out.address = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
      out.port = buf.readUInt16BE(24);
      addrLen = 12;
      break;
    case 0x21: // TCP over IPv6
      if (len < 36) return { kind: 'invalid', reason: 'PROXY v2 TCP6 addresses truncated' };
      out.address = ipv6Text(buf, 16);
      out.port = buf.readUInt16BE(48);
      addrLen = 36;
      break;
    default:
      // UNSPEC, UDP and unix sockets: the connection's own address is kept (lighttpd keeps it
      // for everything but TCP and unix sockets; lantern shows no unix path as a client address).
      return out;
  }
  readTlvs(buf, 16 + addrLen, 16 + len, out);
  return out;
}

/** Read a PROXY header from the first bytes of a connection (more may be needed: 'incomplete'). */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  const n = Math.min(buf.length, 12);
  if (buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return n < 12 ? { kind: 'incomplete' } : parseV2(buf);
  const m = Math.min(buf.length, 6);
  if (buf.toString('latin1', 0, m) === 'PROXY '.slice(0, m)) return m < 6 ? { kind: 'incomplete' } : parseV1(buf);
  return { kind: 'invalid', reason: 'the connection did not start with a PROXY protocol header' };
}

// Checklist row F4 (response flood, Envoy's TestFlood): a client that pipelines request after
// request and never reads the answers. lantern answers until the client's socket backs up, then
// answers nothing more and reads nothing more from that client (no queue of answers grows in its
// memory), and closes the connection once server.max-write-idle passes without the client taking
// a byte (server.max-keep-alive-idle, which would also end the wait, is set far longer here).
// Other clients are served meanwhile. lantern runs as a child process from a lighttpd config, so
// its memory and its sockets are its own.
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { connectRaw, type RawConnection } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const F = suite('response flood');
let server: LighttpdConfigServer | undefined;

/** Each answer is 64 KiB: 20 000 pipelined requests ask for 1.25 GiB. */
const FILE_BYTES = 64 * 1024;
const REQUESTS = 20_000;

F.before(async () => {
  server = await startLighttpdConfig((dir) => `
server.document-root = "${dir}/www"
server.max-write-idle = 1
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
`, { prefix: 'flood', files: { 'www/big.bin': Buffer.alloc(FILE_BYTES, 'x'), 'www/small.txt': 'small\n' } });
});

F.after(async () => {
  await server?.stop();
});

/** lantern's resident memory, in bytes. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The inode of the TCP socket 127.0.0.1:`localPort` ↔ 127.0.0.1:`remotePort` (/proc/net/tcp), or null. */
function tcpInode(localPort: number, remotePort: number): string | null {
  const hex = (port: number) => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === hex(localPort) && f[2] === hex(remotePort) && f[9] !== '0') return f[9]!;
  }
  return null;
}

/** Whether process `pid` holds a descriptor of the socket with `inode`. */
function holds(pid: number, inode: string): boolean {
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
    } catch { /* closed meanwhile */ }
  }
  return false;
}

F('F4 a client that pipelines 20 000 requests and never reads: answers stop at the backed-up socket, memory stays bounded, the connection is closed after server.max-write-idle', async () => {
  const s = server!;
  const pid = s.proc.pid;
  const rssBefore = rssBytes(pid);
  let flood: RawConnection | undefined;
  try {
    flood = await connectRaw(s.port);
    flood.socket.pause();
    flood.socket.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(REQUESTS));
    // lantern's end of this connection: the socket from the server's port to the client's.
    let inode: string | null = null;
    const clientPort = flood.socket.localPort!;
    await waitFor(() => (inode = tcpInode(s.port, clientPort)) !== null && holds(pid, inode), 5000, 5, 'lantern to hold the connection');
    // Another client is served meanwhile.
    const probe = await s.get('/small.txt');
    assert.is(probe.status, 200);
    assert.is(probe.body.toString(), 'small\n');
    // Until it closes the connection, lantern's memory never holds more than a few answers.
    let rssPeak = rssBefore;
    await waitFor(() => {
      rssPeak = Math.max(rssPeak, rssBytes(pid));
      return !holds(pid, inode!);
    }, 10_000, 20, 'lantern to close the connection of the client that does not read');
    assert.ok(rssPeak - rssBefore < 64 * 1024 * 1024, `RSS grew by ${((rssPeak - rssBefore) / 1048576).toFixed(1)} MiB while 1.25 GiB of answers were asked for`);
    // What reached the client's socket before the close is whole answers, and far from all of them.
    flood.socket.resume();
    await flood.waitClose(5000);
    const got = flood.received;
    let answers = 0;
    for (let at = got.indexOf('HTTP/1.1 200 OK\r\n'); at >= 0; at = got.indexOf('HTTP/1.1 200 OK\r\n', at + 1)) answers++;
    assert.ok(answers >= 1 && answers < REQUESTS / 10, `${answers} answers reached the client`);
  } finally {
    flood?.destroy();
  }
  assert.is((await s.get('/small.txt')).status, 200, 'and after');
});

F.run();

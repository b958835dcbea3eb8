// Unit tests of plugins/proxy-core/upstream-connection.ts: a failed write only stops the writing
// (the backend's answer, or its end, is still read: an app that closes without reading the body),
// and the backend's FIN after such a failure still ends the exchange (no hang until a timeout).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_BACKEND_OPTIONS } from '../../../../plugins/proxy-core/api.js';
import { Backend } from '../../../../plugins/proxy-core/backend.js';
import type { Member } from '../../../../plugins/proxy-core/member.js';
import type { UpstreamConnection, UpstreamOwner } from '../../../../plugins/proxy-core/upstream-connection.js';
import { waitFor, withTimeout } from '../../../helpers/wait.js';

const T = suite('proxy-core/upstream-connection');

/** Records the events; says yes to keep reading after a failed write. */
class Owner implements UpstreamOwner {
  readonly events: string[] = [];
  data = '';
  onUpstreamConnect(): void { this.events.push('connect'); }
  onUpstreamData(_c: UpstreamConnection, chunk: Buffer): void { this.data += chunk.toString('latin1'); }
  onUpstreamEnd(): void { this.events.push('end'); }
  onUpstreamError(_c: UpstreamConnection, err: NodeJS.ErrnoException | null): void { this.events.push(`error:${err?.code ?? 'close'}`); }
  onUpstreamWriteError(_c: UpstreamConnection, err: NodeJS.ErrnoException): boolean { this.events.push(`write-error:${err.code}`); return true; }
  onUpstreamDrain(): void {}
  onUpstreamTimeout(): void { this.events.push('timeout'); }
  onClientDrain(): void {}
}

function member(address: string): Member {
  const b = new Backend({
    name: 't', protocol: 'x', balancer: 'first', hashKey: 'url', options: { ...DEFAULT_BACKEND_OPTIONS, readTimeoutMs: 30_000 },
    protocolOptions: { maxResponseHeadBytes: 1000 }, log: () => {},
  });
  b.bind({ name: 'x', keepAlive: true, streamsUnknownLength: true, usesEnv: false, createExchange: () => { throw new Error('unused'); } },
    { select: (ms) => ms[0] ?? null });
  b.addMember(address);
  return b.members[0] as Member;
}

T('the backend answered and closed before our write: the write fails (EPIPE), the answer and the FIN still come', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-uc-'));
  const sock = path.join(dir, 'b.sock');
  let peerClosed = false;
  let peer: net.Socket | null = null;
  const server = net.createServer((s) => {
    s.on('close', () => { peerClosed = true; });
    peer = s;
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  let c: UpstreamConnection | null = null;
  try {
    const o = new Owner();
    c = member(`unix:${sock}`).acquire(o, false);
    await waitFor(() => o.events.includes('connect'), 2000, 5, 'the connect');
    // Our side does not look at the answer before it writes (as when the answer and the close
    // arrive while a request is being written): the write to the closed peer fails.
    c.socket.pause();
    await waitFor(() => peer !== null, 2000, 5, 'the accept');
    // An app that answers and closes its side without reading anything.
    const p = peer as unknown as net.Socket;
    p.end('answer', () => p.destroy());
    await waitFor(() => peerClosed, 2000, 5, 'the backend\'s close');
    c.writeNow(Buffer.alloc(64 * 1024, 0x61));
    c.socket.resume();
    await waitFor(() => o.events.some((e) => e === 'end' || e.startsWith('error')), 3000, 5, `the end of the stream after the failed write (${o.events.join(' ')})`);
    assert.ok(o.events.some((e) => e.startsWith('write-error:')), o.events.join(' '));
    assert.is(o.data, 'answer', 'what the backend sent before it closed is read');
  } finally {
    c?.destroy();
    await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 2000, 'the server to close');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

T.run();

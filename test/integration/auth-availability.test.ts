// mod_auth under hostile clients: costly htpasswd hashes (bcrypt made by `htpasswd -B -C 12`,
// ~300 ms each in JavaScript) are checked by worker threads, so clients hammering wrong passwords
// cannot stall the server. One lantern for the suite, from a plain lighttpd config (mod_auth,
// mod_authn_file, mod_cgi, mod_status); the listening socket is inherited as fd 3.
// Covers: a static file outside the protected path answers within 1 s while 8 clients hammer;
// the right password still passes meanwhile; Digest still works; a POST body reaches a protected
// CGI script intact after the asynchronous check (REMOTE_USER set), HTTP/1.0 and 1.1; clients
// that go away while their check waits or runs leave nothing queued and get nothing answered.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLighttpdConfig, type LighttpdConfigServer } from '../helpers/lighttpd-config.js';
import { connectRaw, rawExchange, type RawConnection, type RawResponse } from '../helpers/raw-client.js';
import { STACK_LINE, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor, which } from '../helpers/wait.js';

const A = suite('auth-availability');
const TOOLS = which('htpasswd') !== null && which('htdigest') !== null;
const PERL = which('perl');
const test = skipUnless(A, TOOLS, 'htpasswd or htdigest (apache2-utils) not installed');
const perl = skipUnless(A, TOOLS && PERL !== null, 'perl or apache2-utils not installed');

let server: LighttpdConfigServer | undefined;
let proc: LanternProcess | null = null;
let port = 0;
let dir = '';

const PL = (body: string) => `#!${PERL ?? '/usr/bin/perl'}\nuse strict; use warnings; $| = 1;\n${body}\n`;

function config(d: string): string {
  return `server.modules = ( "mod_auth", "mod_authn_file", "mod_cgi", "mod_status" )
server.document-root = "${d}/www"
server.errorlog = "${d}/error.log"
status.statistics-url = "/stats"
cgi.assign = ( ".pl" => "${PERL ?? '/usr/bin/perl'}" )
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "${d}/htpasswd"
auth.backend.htdigest.userfile = "${d}/htdigest"
auth.require = ( "/private/" => ( "method" => "basic", "realm" => "Private", "require" => "valid-user" ),
                 "/digest/" => ( "method" => "digest", "realm" => "D", "require" => "valid-user" ) )
$HTTP["url"] =^ "/digest/" { auth.backend = "htdigest" }
`;
}

A.before(async () => {
  if (!TOOLS) return;
  server = await startLighttpdConfig(config, {
    prefix: 'auth-availability',
    files: {
      'www/open.txt': 'open\n',
      'www/private/page.txt': 'private\n',
      'www/digest/page.txt': 'digest\n',
      'www/private/echo.pl': PL(`use Digest::MD5 qw(md5_hex);
binmode STDIN; my $b = ''; while (read(STDIN, my $c, 65536)) { $b .= $c }
print "Content-Type: text/plain\\r\\n\\r\\n";
print "method=$ENV{REQUEST_METHOD}\\nuser=$ENV{REMOTE_USER}\\ntype=$ENV{AUTH_TYPE}\\nlength=$ENV{CONTENT_LENGTH}\\nread=", length($b), "\\nmd5=", md5_hex($b), "\\n";`),
    },
    prepare(d) {
      fs.chmodSync(path.join(d, 'www/private/echo.pl'), 0o755);
      const pw = path.join(d, 'htpasswd');
      execFileSync('htpasswd', ['-cbB', '-C', '12', pw, 'slow', 'right one'], { stdio: 'ignore' });
      // Cost 14 (~1 s a check here): a queue of those would take many seconds to drain by itself.
      execFileSync('htpasswd', ['-bB', '-C', '14', pw, 'gone', 'whatever'], { stdio: 'ignore' });
      execFileSync('htdigest', ['-c', path.join(d, 'htdigest'), 'D', 'dan'], { input: 'digest pw\ndigest pw\n', stdio: ['pipe', 'ignore', 'ignore'] });
    },
  });
  ({ dir, port, proc } = server);
});

A.after(async () => {
  await server?.stop();
});

const basic = (user: string, password: string) => `Authorization: Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}\r\n`;
const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');

async function request(head: string | Array<string | Buffer>, timeoutMs = 20_000): Promise<RawResponse> {
  return server!.request(head, { timeoutMs });
}

/** The statistics page's counter `name` (core.<name>). */
async function counter(name: string): Promise<number> {
  const body = (await request('GET /stats HTTP/1.0\r\n\r\n', 5000)).body.toString();
  const m = new RegExp(`^core\\.${name}: (\\d+)$`, 'm').exec(body);
  assert.ok(m, `core.${name} on the statistics page: ${body.slice(0, 300)}`);
  return Number(m![1]);
}

/**
 * Clients sending wrong passwords for the bcrypt -C 12 user in a loop (HTTP/1.0 and 1.1, each
 * half-closing after its request) until stop(), which resets the connections still waiting.
 */
function hammer(clients: number): { stop(): Promise<number[]> } {
  let stopped = false;
  const live = new Set<RawConnection>();
  const one = async (i: number) => {
    const statuses: number[] = [];
    while (!stopped) {
      const c = await connectRaw(port, '127.0.0.1', 5000);
      live.add(c);
      try {
        await c.end(`GET /private/page.txt HTTP/1.${i % 2}\r\nHost: a\r\n${basic('slow', `wrong ${i}`)}\r\n`);
        statuses.push((await c.readResponse(30_000)).status);
      } catch (err) {
        if (!stopped) throw err;
      } finally {
        live.delete(c);
        c.destroy();
      }
    }
    return statuses;
  };
  const all = Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
  all.catch(() => {}); // awaited by stop()
  return {
    async stop() {
      stopped = true;
      for (const c of live) c.socket.resetAndDestroy();
      return (await all).flat();
    },
  };
}

/** An RFC 7616 Digest answer (MD5, qop=auth) computed here. */
function digestAuthorization(user: string, password: string, realm: string, nonce: string, uri: string): string {
  const h = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
  const response = h(`${h(`${user}:${realm}:${password}`)}:${nonce}:00000001:c0ffee:auth:${h(`GET:${uri}`)}`);
  return `Authorization: Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, response="${response}", qop=auth, nc=00000001, cnonce="c0ffee"\r\n`;
}

test('8 clients hammering wrong bcrypt passwords: a static file still answers within 1 s, the right password and Digest still pass', async () => {
  const hammering = hammer(8);
  let statuses: number[] = [];
  try {
    // The checks pile up in the worker queue: the attack is under way.
    await waitFor(async () => (await counter('auth-checks-pending')) >= 4, 10_000, 20, 'password checks queued by the hammering clients');
    const probes: Array<{ status: number; ms: number }> = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await rawExchange({ port, send: `GET /open.txt HTTP/1.${i % 2}\r\nHost: a\r\n\r\n`, halfClose: true, expectResponses: 1, timeoutMs: 1000 });
      const res = r.responses[0];
      if (res) {
        assert.is(res.status, 200);
        assert.is(res.body.toString(), 'open\n');
        probes.push({ status: res.status, ms: performance.now() - t0 });
      }
    }
    assert.ok(probes.length > 0, 'at least one probe answered within 1 s (the hard timeout of each)');
    assert.ok(Math.min(...probes.map((p) => p.ms)) < 1000);

    // Digest (a cheap HA1 from the htdigest file) is checked on the spot.
    const challenge = await request('GET /digest/page.txt HTTP/1.1\r\nHost: a\r\n\r\n', 5000);
    assert.is(challenge.status, 401);
    const nonce = /nonce="([^"]+)"/.exec(challenge.header('www-authenticate') ?? '')?.[1];
    assert.ok(nonce, 'a Digest nonce');
    const digest = await request(`GET /digest/page.txt HTTP/1.1\r\nHost: a\r\n${digestAuthorization('dan', 'digest pw', 'D', nonce!, '/digest/page.txt')}\r\n`, 5000);
    assert.is(digest.status, 200);
    assert.is(digest.body.toString(), 'digest\n');

    // The right password waits its turn behind the hammering checks, then passes.
    const versions = ['1.1', '1.0'];
    const answers = await Promise.all(versions.map((v) => request(`GET /private/page.txt HTTP/${v}\r\nHost: a\r\n${basic('slow', 'right one')}\r\n`)));
    for (const [i, ok] of answers.entries()) {
      assert.is(ok.status, 200, `HTTP/${versions[i]}`);
      assert.is(ok.version, `HTTP/${versions[i]}`);
      assert.is(ok.body.toString(), 'private\n');
    }
  } finally {
    statuses = await hammering.stop();
  }
  assert.ok(statuses.length >= 4);
  assert.equal([...new Set(statuses)], [401], 'every wrong password got 401');
  await waitFor(async () => (await counter('auth-checks-pending')) === 0, 10_000, 20, 'the queue to drain');
  assert.match(errorLog(), /password doesn't match for \/private\/page\.txt username: slow IP: 127\.0\.0\.1/);
  assert.not.match(errorLog(), STACK_LINE);
});

perl('a POST body reaches a protected CGI script intact after the asynchronous check, REMOTE_USER set (HTTP/1.1 and 1.0)', async () => {
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 8)) & 0xff;
  const md5 = createHash('md5').update(body).digest('hex');
  for (const v of ['1.1', '1.0']) {
    const head = `POST /private/echo.pl?x=1 HTTP/${v}\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n${basic('slow', 'right one')}\r\n`;
    const res = await request([head, body]);
    assert.is(res.status, 200, `HTTP/${v}: ${res.body.toString().slice(0, 200)}`);
    assert.is(res.body.toString(), `method=POST\nuser=slow\ntype=Basic\nlength=${body.length}\nread=${body.length}\nmd5=${md5}\n`, `HTTP/${v}`);
  }
  const denied = await request([`POST /private/echo.pl HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n${basic('slow', 'wrong')}\r\n`, 'hello']);
  assert.is(denied.status, 401, 'a wrong password: the script does not run');
  assert.is(denied.header('www-authenticate'), 'Basic realm="Private", charset="UTF-8"');
});

test('clients that go away while their check waits or runs: nothing stays queued, nothing is answered, the server goes on', async () => {
  const clients = await Promise.all(Array.from({ length: 8 }, () => connectRaw(port, '127.0.0.1', 5000)));
  try {
    for (const [i, c] of clients.entries()) await c.write(`GET /private/page.txt?gone=${i} HTTP/1.1\r\nHost: a\r\n${basic('gone', `guess ${i}`)}\r\n`);
    await waitFor(async () => (await counter('auth-checks-pending')) >= 4, 10_000, 20, 'the checks of the 8 clients queued');
  } finally {
    // A reset: a FIN alone could be a client that half-closed and still waits for its answer.
    for (const c of clients) c.socket.resetAndDestroy();
  }
  // Each check costs ~1 s: draining 4 or more by computing them would take seconds; cancelled, they go at once.
  await waitFor(async () => (await counter('auth-checks-pending')) === 0, 2500, 20, 'the queue slots of the clients that left');
  const answered = errorLog().split('\n').filter((l) => l.includes('username: gone')).length;
  assert.ok(answered < 4, `checks of clients that left were not answered (${answered} logged)`);
  assert.is(proc!.status, null);
  const ok = await request(`GET /private/page.txt HTTP/1.1\r\nHost: a\r\n${basic('slow', 'right one')}\r\n`);
  assert.is(ok.status, 200, 'the pool still works');
  assert.is(await counter('auth-checks-refused'), 0);
  assert.not.match(errorLog(), STACK_LINE);
});

test('more than 32 checks from one address: 503 with Retry-After at once, logged once; the queue empties when they leave', async () => {
  const clients = await Promise.all(Array.from({ length: 40 }, () => connectRaw(port, '127.0.0.1', 5000)));
  const before = errorLog().split('\n').filter((l) => l.includes('password check refused')).length;
  const refused: RawResponse[] = [];
  try {
    for (const [i, c] of clients.entries()) await c.write(`GET /private/page.txt?many=${i} HTTP/1.${i % 2}\r\nHost: a\r\n${basic('gone', `guess ${i}`)}\r\n`);
    // The 32 places of this address are taken (a check of ~1 s each): the rest are refused at once.
    await waitFor(() => clients.filter((c) => c.received.length > 0).length >= 7, 10_000, 20, 'the refused clients\' answers');
    for (const c of clients) if (c.received.length > 0) refused.push(await c.readResponse(5000));
    assert.ok((await counter('auth-checks-pending')) <= 32);
  } finally {
    for (const c of clients) c.socket.resetAndDestroy();
  }
  const busy = refused.filter((r) => r.status === 503);
  assert.ok(busy.length >= 7, `503s: ${busy.length} of ${refused.map((r) => r.status).join(',')}`);
  for (const r of busy) {
    assert.is(r.header('retry-after'), '2');
    assert.is(r.header('www-authenticate'), undefined);
  }
  assert.ok((await counter('auth-checks-refused')) >= 7);
  await waitFor(async () => (await counter('auth-checks-pending')) === 0, 2500, 20, 'the queue slots of the clients that left');
  const logged = errorLog().split('\n').filter((l) => l.includes('password check refused'));
  assert.is(logged.length - before, 1, 'one line for the burst');
  assert.match(logged[logged.length - 1]!, /password check refused: 32 password checks of 127\.0\.0\.1 are waiting \(for \/private\/page\.txt\) \(503\)/);
  assert.not.match(errorLog(), STACK_LINE);
});

A.run();

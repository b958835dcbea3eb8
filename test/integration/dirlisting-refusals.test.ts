// Integration tests of plugins/dirlisting: what a directory request whose physical path the path
// check refuses answers (a symlink with server.follow-symlink disabled, a path outside the
// docroot, a missing or looping path, a permission error, an unexpected error), compared with the
// real lighttpd 1.4 where it can be provoked there, and the error-log line of a 500.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { lighttpdInstalled, LIGHTTPD_BIN, spawnLighttpd } from '../helpers/lighttpd.js';
import { ListeningSocket } from '../helpers/ports.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir, waitAccepting, type LanternProcess } from '../helpers/spawn-lantern.js';
import { skipUnless, waitFor } from '../helpers/wait.js';

const Refusals = suite('dirlisting-refusals');
const againstLighttpd = skipUnless(Refusals, lighttpdInstalled(), `lighttpd not installed at ${LIGHTTPD_BIN}`);

/**
 * The config both servers run; %DIR% is the docroot, %LOG% each server's error log. No index
 * files, so that what answers a directory request is the listing (or staticfile, when the path
 * is no directory), not indexfile's look for an index.
 */
const CONF = `
server.modules = ( "mod_dirlisting", "mod_staticfile" )
index-file.names = ( )
server.document-root = "%DIR%"
server.errorlog = "%LOG%"
mimetype.assign = ( ".txt" => "text/plain" )
dir-listing.activate = "enable"
server.follow-symlink = "disable"
$HTTP["url"] =^ "/followed/" { server.follow-symlink = "enable" }
`;

let lt: LanternHandle;
/** Holds `outside/` (a directory beside the docroot, reached through symlinks) and the error logs. */
let scratch = '';
let lighttpd: LanternProcess | null = null;
let lighttpdPort = 0;

const lanternLog = () => path.join(scratch, 'lantern.error.log');

Refusals.before(async () => {
  scratch = makeTempDir('dirlisting-refusals', { 'outside/o.txt': 'o' });
  lt = await startLantern(CONF.replace('%LOG%', lanternLog()), { files: { 'real/a.txt': 'a', 'broken/b.txt': 'b' } });
  fs.symlinkSync('real', path.join(lt.dir, 'linked'));
  fs.symlinkSync(path.join(scratch, 'outside'), path.join(lt.dir, 'outside'));
  fs.symlinkSync(path.join(scratch, 'outside'), path.join(lt.dir, 'followed'));
  fs.symlinkSync('loop', path.join(lt.dir, 'loop'));
  if (!lighttpdInstalled()) return;
  const conf = path.join(scratch, 'lighttpd.conf');
  fs.writeFileSync(conf, `server.systemd-socket-activation = "enable"\n${CONF.replace('%DIR%', lt.dir).replace('%LOG%', path.join(scratch, 'lighttpd.error.log'))}`);
  const socket = await ListeningSocket.open();
  lighttpdPort = socket.port;
  lighttpd = spawnLighttpd(conf, socket, { cwd: scratch });
  await waitAccepting(lighttpd, socket);
});

Refusals.after(async () => {
  try {
    if (lighttpd && lighttpd.status === null) await lighttpd.stop('SIGTERM');
  } finally {
    lighttpd?.kill();
    await lt?.stop();
    removeDir(scratch);
  }
});

async function get(port: number, target: string): Promise<RawResponse> {
  const r = await rawExchange({ port, send: `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, expectResponses: 1 });
  const res = r.responses[0];
  assert.ok(res, `a response to ${target} from port ${port}`);
  return res;
}

/** The request, its status from both servers and what the case is. */
const CASES: Array<[string, number, string]> = [
  ['/real/', 200, 'a directory (the control)'],
  ['/linked/', 403, 'a symlink to a directory in the docroot, symlinks not followed'],
  ['/outside/', 403, 'a symlink to a directory outside the docroot, symlinks not followed'],
  ['/followed/', 200, 'the same with server.follow-symlink enabled'],
  ['/linked/../real/', 200, 'a path that passes through the symlink before normalisation'],
  ['/missing/', 404, 'a missing directory'],
  ['/real/missing/', 404, 'a missing directory in a directory'],
  [`/${'n'.repeat(300)}/`, 404, 'a name too long (ENAMETOOLONG)'],
];

againstLighttpd('each refusal answers as in lighttpd', async () => {
  for (const [target, status, what] of CASES) {
    const mine = await get(lt.port, target);
    const theirs = await get(lighttpdPort, target);
    assert.is(theirs.status, status, `lighttpd, ${what}: ${target.slice(0, 40)}`);
    assert.is(mine.status, status, `lantern, ${what}: ${target.slice(0, 40)}`);
  }
});

againstLighttpd('a symlink loop (ELOOP) → 500, as in lighttpd', async () => {
  // The listing's first look finds no directory, so the path check answers: lighttpd 1.4.69's
  // http_response_physical_path_check answers 500 for any errno but ENOENT, ENAMETOOLONG and
  // EACCES, for a file or a directory through a loop alike.
  assert.is((await get(lighttpdPort, '/loop/')).status, 500);
  assert.is((await get(lt.port, '/loop/')).status, 500);
  assert.is((await get(lighttpdPort, '/loop/x.txt')).status, 500);
  assert.is((await get(lt.port, '/loop/x.txt')).status, 500);
});

/**
 * While `fn` runs, fs.promises.stat of `dir` (the path check's stat) fails with `code`: errors a
 * root test process cannot provoke for real. The listing's first look (a sync stat) still sees
 * the directory, so the request is dirlisting's.
 */
async function withStatFailing<T>(dir: string, code: string, fn: () => Promise<T>): Promise<T> {
  const real = fs.promises.stat;
  fs.promises.stat = ((p: fs.PathLike, ...rest: unknown[]) => {
    if (path.resolve(String(p)) === dir) return Promise.reject(Object.assign(new Error(`${code}: stat '${String(p)}'`), { code }));
    return (real as (...a: unknown[]) => Promise<fs.Stats>)(p, ...rest);
  }) as typeof fs.promises.stat;
  try {
    return await fn();
  } finally {
    fs.promises.stat = real;
  }
}

Refusals('a permission error in the path check → 403, not logged', async () => {
  const r = await withStatFailing(path.join(lt.dir, 'broken'), 'EACCES', () => get(lt.port, '/broken/'));
  assert.is(r.status, 403);
});

Refusals('an unexpected error in the path check → 500 and one error-log line naming the path and the error', async () => {
  const r = await withStatFailing(path.join(lt.dir, 'broken'), 'EIO', () => get(lt.port, '/broken/'));
  assert.is(r.status, 500);
  await waitFor(() => fs.existsSync(lanternLog()) && /EIO/.test(fs.readFileSync(lanternLog(), 'utf8')), 5000, 20, 'the EIO line in the error log');
  const lines = fs.readFileSync(lanternLog(), 'utf8').split('\n').filter((l) => l.includes('EIO'));
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /\(dirlisting\) \S*\/broken\/?: EIO$/);
  // The same directory lists again once the error is gone.
  assert.is((await get(lt.port, '/broken/')).status, 200);
});

Refusals.run();

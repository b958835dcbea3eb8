// Integration tests of plugins/webdav COPY and MOVE (RFC 4918 §9.8, §9.9) once every check passed:
// the answer after the change, a GET right after it seeing the change, and a file system error
// answered by its status and logged, for a file and for a collection.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLantern, type LanternHandle } from '../helpers/lantern.js';
import { rawExchange, type RawResponse } from '../helpers/raw-client.js';
import { makeTempDir, removeDir } from '../helpers/spawn-lantern.js';
import { waitFor } from '../helpers/wait.js';

const CopyMove = suite('webdav-copy-move');

let lt: LanternHandle;
/** Holds the error log, outside the document root. */
let scratch = '';
const errorLog = () => path.join(scratch, 'error.log');
const file = (rel: string) => path.join(lt.dir, rel);

CopyMove.before(async () => {
  scratch = makeTempDir('webdav-copy-move');
  lt = await startLantern(`
server.modules = ( "mod_webdav" )
server.document-root = "%DIR%"
server.errorlog = "${errorLog()}"
mimetype.assign = ( ".txt" => "text/plain" )
$HTTP["url"] =~ "^/dav($|/)" { webdav.activate = "enable" }
`, {
    files: {
      'dav/src.txt': 'new', 'dav/old.txt': 'old', 'dav/c1/x.txt': 'new x', 'dav/c2/x.txt': 'old x', 'dav/c2/only.txt': 'o',
      'dav/fail.txt': 'f', 'dav/failcol/f.txt': 'f', 'dav/stay.txt': 's',
    },
  });
});

CopyMove.after(async () => {
  await lt?.stop();
  removeDir(scratch);
});

async function dav(method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${lt.port}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const r = await rawExchange({ port: lt.port, send: `${head}Connection: close\r\n\r\n`, expectResponses: 1, timeoutMs: 10_000 });
  const res = r.responses[0];
  assert.ok(res, `a response to ${method} ${target}`);
  return res;
}

/** While `fn` runs, fs.promises[name] rejects with `code` for every call. */
async function withFailing<T>(name: 'copyFile' | 'mkdir' | 'rename', code: string, fn: () => Promise<T>): Promise<T> {
  const promises = fs.promises as unknown as Record<string, unknown>;
  const real = promises[name];
  promises[name] = () => Promise.reject(Object.assign(new Error(`${code}: ${name} failed`), { code }));
  try {
    return await fn();
  } finally {
    promises[name] = real;
  }
}

/** The error-log lines that contain `text`, once there is one. */
async function logLines(text: string): Promise<string[]> {
  const read = () => (fs.existsSync(errorLog()) ? fs.readFileSync(errorLog(), 'utf8') : '').split('\n').filter((l) => l.includes(text));
  await waitFor(() => read().length > 0, 5000, 20, `"${text}" in the error log`);
  return read();
}

CopyMove('COPY of a file over a served one: 204, and a GET right after it gets the copy', async () => {
  assert.is((await dav('GET', '/dav/old.txt')).body.toString(), 'old');
  assert.is((await dav('COPY', '/dav/src.txt', { Destination: '/dav/old.txt' })).status, 204);
  assert.is((await dav('GET', '/dav/old.txt')).body.toString(), 'new');
  assert.is((await dav('COPY', '/dav/src.txt', { Destination: '/dav/fresh.txt' })).status, 201);
  assert.is(fs.readFileSync(file('dav/fresh.txt'), 'utf8'), 'new');
});

CopyMove('COPY of a collection over a served one: 204, the old members gone, a GET right after it gets the copy', async () => {
  assert.is((await dav('GET', '/dav/c2/x.txt')).body.toString(), 'old x');
  assert.is((await dav('COPY', '/dav/c1/', { Destination: '/dav/c2/' })).status, 204);
  assert.is((await dav('GET', '/dav/c2/x.txt')).body.toString(), 'new x');
  assert.is((await dav('GET', '/dav/c2/only.txt')).status, 404);
});

CopyMove('COPY Depth 0 of a collection: 201 an empty one; onto an existing collection 204, its members kept', async () => {
  assert.is((await dav('COPY', '/dav/c1/', { Destination: '/dav/empty/', Depth: '0' })).status, 201);
  assert.equal(fs.readdirSync(file('dav/empty')), []);
  assert.is((await dav('COPY', '/dav/empty/', { Destination: '/dav/c1/', Depth: '0' })).status, 204);
  assert.equal(fs.readdirSync(file('dav/c1')), ['x.txt']);
});

CopyMove('a file COPY that fails: the error\'s status, one log line naming both paths, no temporary file left', async () => {
  const r = await withFailing('copyFile', 'ENOSPC', () => dav('COPY', '/dav/fail.txt', { Destination: '/dav/fail-copy.txt' }));
  assert.is(r.status, 507);
  const lines = await logLines('/dav/fail-copy.txt');
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /\(webdav\) COPY \/dav\/fail\.txt -> \/dav\/fail-copy\.txt: ENOSPC: copyFile failed$/);
  assert.equal(fs.readdirSync(file('dav')).filter((n) => n.includes('fail-copy')), []);
});

CopyMove('a collection COPY that fails: the error\'s status and one log line', async () => {
  const r = await withFailing('mkdir', 'EACCES', () => dav('COPY', '/dav/failcol/', { Destination: '/dav/failcol2/', Depth: '0' }));
  assert.is(r.status, 403);
  const lines = await logLines('/dav/failcol2/');
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /\(webdav\) COPY \/dav\/failcol\/ -> \/dav\/failcol2\/: EACCES: mkdir failed$/);
  assert.not.ok(fs.existsSync(file('dav/failcol2')));
});

CopyMove('a MOVE that fails: the error\'s status, logged, and the source still served', async () => {
  assert.is((await dav('GET', '/dav/stay.txt')).body.toString(), 's');
  const r = await withFailing('rename', 'ENOENT', () => dav('MOVE', '/dav/stay.txt', { Destination: '/dav/gone.txt' }));
  assert.is(r.status, 404);
  assert.match((await logLines('/dav/gone.txt'))[0]!, /MOVE \/dav\/stay\.txt -> \/dav\/gone\.txt: ENOENT: rename failed$/);
  assert.is((await dav('GET', '/dav/stay.txt')).body.toString(), 's');
  assert.is((await dav('GET', '/dav/gone.txt')).status, 404);
});

CopyMove.run();

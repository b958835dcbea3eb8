// Core options with visible effects: server.tag per condition, server.compat-module-load,
// debug.log-* into server.errorlog, and an error log that cannot be opened.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { rawExchange } from '../helpers/raw-client.js';
import { startLantern } from '../helpers/lantern.js';
import { waitFor } from '../helpers/wait.js';

const O = suite('core options');

O('server.tag may differ per condition block', async () => {
  const lt = await startLantern(`
server.document-root = "%DIR%"
server.tag = "global-tag"
$HTTP["url"] =^ "/special/" { server.tag = "special-tag" }
`, { files: { 'a.txt': 'a', 'special/b.txt': 'b' } });
  try {
    const r = await rawExchange({ port: lt.port, send: 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /special/b.txt HTTP/1.1\r\nHost: x\r\n\r\n', expectResponses: 2 });
    assert.equal(r.responses.map((x) => x.header('server')), ['global-tag', 'special-tag']);
  } finally { await lt.stop(); }
});

O('server.compat-module-load = "disable": no implicit staticfile', async () => {
  const lt = await startLantern('server.document-root = "%DIR%"\nserver.compat-module-load = "disable"\n', { files: { 'a.txt': 'a' } });
  try {
    assert.not.ok(lt.server.host.plugins.has('staticfile'));
    const r = await rawExchange({ port: lt.port, send: 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n', expectResponses: 1 });
    assert.is(r.responses[0].status, 404);
  } finally { await lt.stop(); }
});

O('debug.log-* write request heads, handling and 404s to server.errorlog', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-elog-'));
  const log = path.join(dir, 'error.log');
  const lt = await startLantern(`
server.document-root = "%DIR%"
server.errorlog = "${log}"
debug.log-request-header = "enable"
debug.log-response-header = "enable"
debug.log-request-handling = "enable"
debug.log-file-not-found = "enable"
`, { files: { 'a.txt': 'a' } });
  try {
    await rawExchange({ port: lt.port, send: 'GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Probe: 42\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n', expectResponses: 2 });
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('file not found: /missing'), 3000, 5, 'log lines');
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /X-Probe: 42/);
    assert.match(text, /handler staticfile/);
    assert.match(text, /response header:\nHTTP\/1\.1 200 OK/);
  } finally { await lt.stop(); fs.rmSync(dir, { recursive: true, force: true }); }
});

O('an error log that cannot be opened stops the start with file:line', async () => {
  try {
    const lt = await startLantern('server.document-root = "%DIR%"\nserver.errorlog = "/nonexistent-dir/x/error.log"\n');
    await lt.stop();
    assert.unreachable('expected an error');
  } catch (err) {
    assert.match((err as Error).message, /lighttpd\.conf:2: server\.errorlog: cannot open "\/nonexistent-dir\/x\/error\.log"/);
  }
});

O.run();

// Unit tests of plugins/ssi/ssi-processor.ts: directives run against real files, with a fake
// request environment.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ERRMSG, SsiRun, type SsiEnvironment } from '../../../../plugins/ssi/ssi-processor.js';
import { makeTempDir, removeDir } from '../../../helpers/spawn-lantern.js';

const T = suite('ssi/processor');
let root = '';
const ERR = DEFAULT_ERRMSG;

T.before(() => {
  root = makeTempDir('ssi-unit', {
    'part.html': 'PART<!--#echo var="X" -->',
    'sub/a.shtml': 'A[<!--#include virtual="b.shtml" -->]',
    'sub/b.shtml': 'B[<!--#include virtual="a.shtml" -->]',
    'self.shtml': 'S<!--#include virtual="/self.shtml" -->',
    'kb.bin': Buffer.alloc(3000, 0x61),
  });
});
T.after(() => removeDir(root));

interface Setup { recursionMax?: number; exec?: boolean; cgi?: Record<string, string>; maxOutputBytes?: number }

async function run(text: string, setup: Setup = {}, file = 'page.shtml') {
  const logs: string[] = [];
  const commands: Array<[string, string]> = [];
  const env: SsiEnvironment = {
    docRoot: root,
    cgiEnv: new Map(Object.entries(setup.cgi ?? { QUERY_STRING: 'q=1', REMOTE_ADDR: '127.0.0.1' })),
    requestVars: new Map([['SCRIPT_URL', '/page.shtml?q=1']]),
    followSymlinks: true,
    recursionMax: setup.recursionMax ?? 0,
    execEnabled: setup.exec ?? false,
    async runCommand(cmd, cwd) { commands.push([cmd, cwd]); return { output: Buffer.from(`ran ${cmd}`) }; },
    cancelled: () => false,
    log: (m) => logs.push(m),
    maxOutputBytes: setup.maxOutputBytes,
  };
  const physicalPath = path.join(root, file);
  fs.mkdirSync(path.dirname(physicalPath), { recursive: true });
  fs.writeFileSync(physicalPath, text);
  const r = new SsiRun(env);
  await r.processDocument({ physicalPath, uriPath: '/' + file, stat: fs.statSync(physicalPath), depth: 0 }, fs.readFileSync(physicalPath).toString('latin1'));
  r.finish();
  return { out: r.body().toString('utf8'), logs, commands, run: r };
}

T('set, echo (unknown → "(none)"), CGI variables first', async () => {
  const { out } = await run('<!--#set var="X" value="1<2" --><!--#echo var="X" -->|<!--#echo var="X" encoding="entity" -->|<!--#echo var="NOPE" -->|<!--#echo var="QUERY_STRING" -->|<!--#set var="QUERY_STRING" value="mine" --><!--#echo var="QUERY_STRING" -->');
  assert.is(out, '1<2|1&lt;2|(none)|q=1|q=1');
});

T('if / elif / else / endif, nested, inside false branches nothing runs', async () => {
  const page = (v: string) => `<!--#set var="V" value="${v}" -->`
    + '<!--#if expr="$V = a" -->A<!--#if expr="$QUERY_STRING" -->+<!--#else -->-<!--#endif -->'
    + '<!--#elif expr="$V = b" -->B<!--#set var="T" value="set-in-b" -->'
    + '<!--#elif expr="$V = b || $V = c" -->C'
    + '<!--#else -->E<!--#if expr="1" -->e<!--#endif --><!--#endif -->'
    + '|<!--#echo var="T" -->';
  assert.is((await run(page('a'))).out, 'A+|(none)');
  assert.is((await run(page('b'))).out, 'B|set-in-b');
  assert.is((await run(page('c'))).out, 'C|(none)');
  assert.is((await run(page('z'))).out, 'Ee|(none)');
  const { out } = await run('<!--#if expr="0 = 1" --><!--#bogus --><!--#include virtual="/missing" --><!--#endif -->ok');
  assert.is(out, 'ok', 'directives in a false branch are skipped, errors too');
});

T('config errmsg, timefmt, sizefmt; fsize and flastmod', async () => {
  const { out } = await run('<!--#config errmsg="[oops]" --><!--#bogus --><!--#config sizefmt="abbrev" --><!--#fsize file="kb.bin" -->|<!--#config sizefmt="bytes" --><!--#fsize virtual="/kb.bin" -->|<!--#config timefmt="%Y" --><!--#flastmod file="kb.bin" -->|<!--#echo var="DATE_GMT" -->');
  const year = String(new Date().getFullYear());
  assert.is(out, `[oops]2 kB|3000|${new Date(fs.statSync(path.join(root, 'kb.bin')).mtimeMs).getFullYear()}|${year}`);
});

T('echo of the document variables', async () => {
  const { out } = await run('<!--#echo var="DOCUMENT_NAME" -->|<!--#echo var="DOCUMENT_URI" -->|<!--#echo var="SCRIPT_URL" -->|<!--#config timefmt="%s" --><!--#echo var="LAST_MODIFIED" -->', {}, 'dir/doc.shtml');
  const mtime = Math.floor(fs.statSync(path.join(root, 'dir/doc.shtml')).mtimeMs / 1000);
  assert.is(out, `doc.shtml|/dir/doc.shtml|/page.shtml?q=1|${mtime}`);
});

T('include file= is inserted as it is; virtual= too with ssi.recursion-max 0', async () => {
  assert.is((await run('<!--#set var="X" value="x" --><!--#include file="part.html" -->')).out, 'PART<!--#echo var="X" -->');
  assert.is((await run('<!--#set var="X" value="x" --><!--#include virtual="/part.html" -->')).out, 'PART<!--#echo var="X" -->');
  assert.is((await run('<!--#set var="X" value="x" --><!--#include virtual="/part.html" -->', { recursionMax: 1 })).out, 'PARTx');
});

T('a loop of virtual includes is cut at ssi.recursion-max; a page including itself at once', async () => {
  const { out, logs } = await run('<!--#include virtual="/sub/a.shtml" -->', { recursionMax: 4 });
  const deep = '(error: include directives recurse deeper than pre-defined ssi.recursion-max)';
  assert.is(out, `A[B[A[B[${deep}]]]]`);
  assert.ok(logs.some((l) => l.includes('ssi.recursion-max')), logs.join('\n'));
  assert.is((await run('<!--#include virtual="/self.shtml" -->', { recursionMax: 4 })).out, 'S(error: include directives create an infinite loop)');
});

T('file= outside the document root, missing files, bad attributes: errmsg and a log line', async () => {
  const { out, logs } = await run('<!--#include file="../../etc/passwd" -->|<!--#include file="/etc/passwd" -->|<!--#include virtual="/nope.html" -->|<!--#include file="a" virtual="b" -->|<!--#echo -->|<!--#set var="x" -->|<!--#fsize virtual="/sub/" -->');
  assert.is(out, [ERR, ERR, ERR, ERR, ERR, ERR, ERR].join('|'));
  assert.is(logs.length, 7, logs.join('\n'));
  assert.not.ok(out.includes('root:'), 'nothing of /etc/passwd');
});

T('exec: errmsg when disabled, the command output when enabled (in the document directory)', async () => {
  const off = await run('[<!--#exec cmd="echo hi" -->]');
  assert.is(off.out, `[${ERR}]`);
  assert.is(off.commands.length, 0);
  assert.match(off.logs[0]!, /ssi\.exec/);
  const on = await run('[<!--#exec cmd="echo hi" -->]', { exec: true }, 'sub/x.shtml');
  assert.is(on.out, '[ran echo hi]');
  assert.equal(on.commands, [['echo hi', path.join(root, 'sub')]]);
  assert.is((await run('<!--#exec cgi="/x.cgi" -->', { exec: true })).out, ERR);
});

T('printenv lists set variables then the CGI ones', async () => {
  const { out } = await run('<!--#set var="zz" value="<v>" --><!--#printenv -->', { cgi: { B: '2', A: '1' } });
  assert.is(out, 'zz=&lt;v&gt;\nA=1\nB=2\n');
});

T('comments, broken and unterminated directives, unbalanced if', async () => {
  const { out, logs } = await run('a<!--#comment anything at all --><!--#endif -->b<!--#if expr="(" -->c<!--#endif -->d<!--#if expr="1" -->e<!--#echo var="X');
  assert.is(out, `a${ERR}b${ERR}de<!--#echo var="X`);
  assert.ok(logs.some((l) => l.includes('no closing')), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes('if without endif')), logs.join('\n'));
});

T('thousands of directives and broken ones: output right, error log capped', async () => {
  const n = 20_000;
  const { out, logs } = await run('<!--#set var="v" value="." -->' + '<!--#echo var="v" -->'.repeat(n) + '<!--#x -->'.repeat(n));
  assert.is(out, '.'.repeat(n) + ERR.repeat(n));
  assert.is(logs.length, 21);
  assert.match(logs[20]!, /19980 more SSI errors/);
});

T('includes that fan out stop at the output limit instead of growing without end', async () => {
  fs.writeFileSync(path.join(root, 'fan.shtml'), 'xxxxxxxxxx<!--#include virtual="fan2.shtml" --><!--#include virtual="fan2.shtml" -->');
  fs.writeFileSync(path.join(root, 'fan2.shtml'), 'yyyyyyyyyy<!--#include virtual="fan.shtml" --><!--#include virtual="fan.shtml" -->');
  // 2^30 includes without the limit.
  const { run: r, logs } = await run('<!--#include virtual="/fan.shtml" -->', { recursionMax: 30, maxOutputBytes: 20_000 });
  assert.ok(r.tooLarge);
  assert.is(r.body().length, 0);
  assert.ok(logs.some((l) => l.includes('passed 20000 bytes')), logs.join('\n'));
});

T('an include larger than the output limit is not read', async () => {
  const { run: r } = await run('<!--#include file="kb.bin" -->', { maxOutputBytes: 2000 });
  assert.ok(r.tooLarge);
  const { run: ok, out } = await run('<!--#include file="kb.bin" -->', { maxOutputBytes: 3000 });
  assert.not.ok(ok.tooLarge);
  assert.is(out.length, 3000);
});

T('bytes that are not UTF-8 pass through unchanged', async () => {
  const physical = path.join(root, 'bin.shtml');
  const bytes = Buffer.from([0xff, 0xfe, 0x3c, 0x21, 0x2d, 0x2d, 0x23, 0x65, 0x63, 0x68, 0x6f, 0x20, 0x76, 0x61, 0x72, 0x3d, 0x22, 0xe9, 0x22, 0x20, 0x2d, 0x2d, 0x3e, 0x80]);
  fs.writeFileSync(physical, bytes);
  const env = { docRoot: root, cgiEnv: new Map(), requestVars: new Map(), followSymlinks: true, recursionMax: 0, execEnabled: false, runCommand: async () => ({ output: Buffer.alloc(0) }), cancelled: () => false, log: () => {} };
  const r = new SsiRun(env);
  r.vars.set('\xe9', '\xe0');
  await r.processDocument({ physicalPath: physical, uriPath: '/bin.shtml', stat: fs.statSync(physical), depth: 0 }, bytes.toString('latin1'));
  assert.equal([...r.body()], [0xff, 0xfe, 0xe0, 0x80]);
});

T.run();

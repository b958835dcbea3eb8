// Tests for config/lighttpd/parser.ts: every grammar form of lighttpd 1.4.69's config language
// and the exact `file:line: message` of each error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadLighttpdConfig, parseConditionText, parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash, type ConfigBlock, type ConfigModel, type ConfigValue } from '../../../../config/model.js';

const LighttpdParser = suite('lighttpd-parser');

const CWD = '/nonexistent-cwd';

function parse(text: string, env: NodeJS.ProcessEnv = {}, cwd = CWD): ConfigModel {
  return parseLighttpdConfig(text, 'test.conf', { env, cwd });
}

/** key → value of one block's entries. */
function values(b: ConfigBlock): Record<string, ConfigValue> {
  return Object.fromEntries(b.entries.map((e) => [e.key, e.value]));
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-parser-'));
  tmpDirs.push(dir);
  return dir;
}

LighttpdParser.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

LighttpdParser('comments, blank lines, strings and integers', () => {
  const m = parse('# a comment\n\nserver.port = 8080   # trailing comment\nserver.tag = "lantern"\n');
  assert.equal(values(m.root), { 'server.port': 8080, 'server.tag': 'lantern' });
  assert.equal(m.root.entries.map((e) => e.loc.line), [3, 4]);
  assert.is(m.syntax, 'lighttpd');
  assert.is(m.file, 'test.conf');
});

LighttpdParser('strings: only \\" is an escape, other backslashes stay', () => {
  const m = parse('a.q = "say \\"hi\\""\na.re = "\\.php$"\na.nl = "x\\ny\\t"\n');
  assert.equal(values(m.root), { 'a.q': 'say "hi"', 'a.re': '\\.php$', 'a.nl': 'x\\ny\\t' });
});

LighttpdParser('booleans stay the strings "enable" / "disable"', () => {
  assert.equal(values(parse('dir-listing.activate = "enable"\nx.y = "disable"').root), { 'dir-listing.activate': 'enable', 'x.y': 'disable' });
});

LighttpdParser('a string may span lines; later lines keep counting', () => {
  const m = parse('a.b = "one\ntwo"\nc.d = 1\n');
  assert.is(values(m.root)['a.b'], 'one\ntwo');
  assert.is(m.root.entries[1].loc.line, 3);
});

LighttpdParser('CRLF line endings count as one line', () => {
  const m = parse('a.b = 1\r\n\r\nc.d = 2\r\n');
  assert.equal(m.root.entries.map((e) => e.loc.line), [1, 3]);
});

LighttpdParser('lists: empty, trailing comma, extra commas, multi-line, nested', () => {
  const m = parse('a.empty = ()\na.list = ( "a", "b", )\na.commas = ("a",, "b",,)\na.multi = (\n  "x", # c\n  "y"\n)\na.nested = ( ( "h" => 1 ), ( "h" => 2 ) )\n');
  const v = values(m.root);
  assert.equal(v['a.empty'], []);
  assert.equal(v['a.list'], ['a', 'b']);
  assert.equal(v['a.commas'], ['a', 'b']);
  assert.equal(v['a.multi'], ['x', 'y']);
  const nested = v['a.nested'] as ConfigValue[];
  assert.is(nested.length, 2);
  assert.instance(nested[0], ConfigHash);
  assert.is((nested[1] as ConfigHash).get('h'), 2);
});

LighttpdParser('hashes keep key order; integer keys become strings; nested hashes', () => {
  const m = parse('mimetype.assign = ( ".html" => "text/html", 404 => "/404.html", "x" => ( "y" => ( "z" ) ) )');
  const h = values(m.root)['mimetype.assign'] as ConfigHash;
  assert.instance(h, ConfigHash);
  assert.equal(h.keys(), ['.html', '404', 'x']);
  assert.equal(((h.get('x') as ConfigHash).get('y')), ['z']);
});

LighttpdParser('= twice in one block is "duplicate config variable"', () => {
  assert.is(
    errorOf(() => parse('server.port = 80\nserver.port = 81\n')),
    'test.conf:2: duplicate config variable "server.port" in this block (use := to overwrite it or += to append)',
  );
});

LighttpdParser('= in a nested block does not clash with the enclosing block', () => {
  const m = parse('server.port = 80\n$HTTP["host"] == "a" {\n server.port = 81\n}\n');
  assert.equal(values(m.root.children[0]), { 'server.port': 81 });
});

LighttpdParser(':= overwrites, keeping one entry', () => {
  const m = parse('server.port = 80\nserver.tag = "t"\nserver.port := 81\n');
  assert.equal(m.root.entries.map((e) => [e.key, e.value, e.loc.line]), [['server.port', 81, 3], ['server.tag', 't', 2]]);
});

LighttpdParser('+= appends lists, concatenates strings, merges hashes, sums integers', () => {
  const m = parse(
    'server.modules = ("a")\nserver.modules += ("b", "c")\n' +
    's.s = "ab"\ns.s += "cd"\ns.i = 1\ns.i += 2\n' +
    'mimetype.assign = (".a" => "x")\nmimetype.assign += (".b" => "y")\n',
  );
  const v = values(m.root);
  assert.equal(v['server.modules'], ['a', 'b', 'c']);
  assert.is(v['s.s'], 'abcd');
  assert.is(v['s.i'], 3);
  assert.equal((v['mimetype.assign'] as ConfigHash).entries, [['.a', 'x'], ['.b', 'y']]);
  assert.is(m.root.entries.length, 4);
});

LighttpdParser('+= on an unset key is a plain assignment', () => {
  assert.equal(values(parse('server.modules += ("x")').root), { 'server.modules': ['x'] });
});

LighttpdParser('+= in a block starts from the value visible at that point', () => {
  const m = parse('server.modules = ("a")\n$HTTP["host"] == "h" {\n server.modules += ("b")\n}\nserver.modules := ("z")\n');
  assert.equal(values(m.root.children[0]), { 'server.modules': ['a', 'b'] });
  assert.equal(values(m.root), { 'server.modules': ['z'] });
});

LighttpdParser('merging a hash with a repeated key fails unless the value is the same', () => {
  assert.equal((values(parse('m.a = ("k" => "v")\nm.a += ("k" => "v")').root)['m.a'] as ConfigHash).entries, [['k', 'v']]);
  assert.is(errorOf(() => parse('m.a = ("k" => "v")\nm.a += ("k" => "w")')), 'test.conf:2: duplicate array-key "k" when merging hashes');
});

LighttpdParser('+ concatenation: string+int, int+string, int+int sums, list+list', () => {
  const v = values(parse('a.a = "port" + 80\na.b = 80 + "x"\na.c = 1 + 2 + 3\na.d = ("a") + ("b")').root);
  assert.equal(v, { 'a.a': 'port80', 'a.b': '80x', 'a.c': 6, 'a.d': ['a', 'b'] });
});

LighttpdParser('+ with mismatched types is an error', () => {
  assert.is(errorOf(() => parse('\na.a = "x" + ("y")')), 'test.conf:2: data type mismatch, cannot merge string with list');
});

LighttpdParser('var.x, bare x and earlier keys can be referenced; var.* stays out of the model', () => {
  const m = parse('var.base = "/srv"\nname = "www"\nserver.document-root = var.base + "/" + name\nalias.x = server.document-root + "/x"\n');
  assert.equal(values(m.root), { 'server.document-root': '/srv/www', 'alias.x': '/srv/www/x' });
});

LighttpdParser('var.CWD and var.PID are predefined', () => {
  const v = values(parse('a.cwd = var.CWD\na.pid = var.PID').root);
  assert.equal(v, { 'a.cwd': CWD, 'a.pid': process.pid });
});

LighttpdParser('a block sees enclosing variables; a sibling block does not see its own', () => {
  const m = parse('x = "root"\n$HTTP["host"] == "a" {\n y = x + "-a"\n a.v = y\n}\n');
  assert.equal(values(m.root.children[0]), { 'a.v': 'root-a' });
  assert.is(errorOf(() => parse('$HTTP["host"] == "a" {\n y = 1\n}\na.v = y\n')), 'test.conf:4: undefined config variable: var.y');
});

LighttpdParser('env.NAME reads opts.env; unset is an error; setting env.* is an error', () => {
  assert.equal(values(parse('a.home = env.HOME + "/x"', { HOME: '/home/u' }).root), { 'a.home': '/home/u/x' });
  assert.is(errorOf(() => parse('\na.b = env.NOPE_NOT_SET')), 'test.conf:2: undefined environment variable: NOPE_NOT_SET');
  assert.is(errorOf(() => parse('env.X = "1"')), 'test.conf:1: cannot set "env.X": env.* variables are read-only');
});

LighttpdParser('syntax errors name file and line', () => {
  assert.is(errorOf(() => parse('a.b = 1\nserver.port\n')), 'test.conf:2: expected =, := or += after "server.port", found end of line');
  assert.is(errorOf(() => parse('a.b =\n1')), 'test.conf:1: expected a value (string, integer, list or variable), found end of line');
  assert.is(errorOf(() => parse('a.b = ( "x" "y" )')), 'test.conf:1: expected "," or ")" in the list opened on line 1, found string "y"');
  assert.is(errorOf(() => parse('"x" = 1')), 'test.conf:1: syntax error: unexpected string "x"');
  assert.is(errorOf(() => parse('a.b = ( "k" = "v" )')), 'test.conf:1: use => for assignments in arrays');
  assert.is(errorOf(() => parse('a.b = ( "k" => "v", "w" )')), 'test.conf:1: a list cannot mix "key" => value pairs with plain values');
  assert.is(errorOf(() => parse('a.b = ( "k" => 1, "k" => 2 )')), 'test.conf:1: duplicate array-key "k" (remove the duplicate entry)');
  assert.is(errorOf(() => parse('a.b = 1 )')), 'test.conf:1: unexpected ")" without a matching "("');
  assert.is(errorOf(() => parse('a.b : 1')), 'test.conf:1: unexpected ":" (did you mean ":="?)');
  assert.is(errorOf(() => parse('a.b = 1;')), 'test.conf:1: invalid character ";" in variable name');
  assert.is(errorOf(() => parse('a.b = 99999999999999999999')), 'test.conf:1: number out of range: 99999999999999999999');
});

LighttpdParser('unterminated string reports the line where it starts', () => {
  assert.is(errorOf(() => parse('a.b = 1\na.c = "abc\n\n')), 'test.conf:2: unterminated string: missing closing quote');
});

LighttpdParser('unbalanced braces', () => {
  assert.is(errorOf(() => parse('$HTTP["host"] == "a" {\n a.b = 1\n')), 'test.conf:3: unexpected end of file: the "{" of line 1 is not closed');
  assert.is(errorOf(() => parse('a.b = 1\n}\n')), 'test.conf:2: unexpected "}" without a matching "{"');
});

LighttpdParser('every $HTTP field, $REQUEST_HEADER and $SERVER["socket"] parse', () => {
  const fields: Array<[string, string]> = [
    ['host', 'host'], ['url', 'url'], ['querystring', 'querystring'], ['query-string', 'querystring'],
    ['remoteip', 'remoteip'], ['remote-ip', 'remoteip'], ['scheme', 'scheme'], ['request-method', 'request-method'],
    ['referer', 'referer'], ['useragent', 'useragent'], ['user-agent', 'useragent'], ['cookie', 'cookie'], ['language', 'language'],
  ];
  for (const [written, canonical] of fields) {
    const c = parse(`$HTTP["${written}"] =~ "x" {\n}\n`).root.children[0].condition!;
    assert.equal([c.kind, c.field, c.op, c.value], ['HTTP', canonical, '=~', 'x'], written);
    assert.is(c.text, `$HTTP["${written}"] =~ "x"`);
  }
  const h = parse('$REQUEST_HEADER["X-Api-Key"] == "k" {\n}').root.children[0].condition!;
  assert.equal([h.kind, h.field, h.op, h.value, h.regex], ['REQUEST_HEADER', 'X-Api-Key', '==', 'k', null]);
  const s = parse('$SERVER["socket"] == ":8443" {\n ssl.engine = "enable"\n}').root.children[0];
  assert.equal([s.condition!.kind, s.condition!.field, s.condition!.value], ['SERVER', 'socket', ':8443']);
  assert.equal(values(s), { 'ssl.engine': 'enable' });
});

LighttpdParser('every operator; regexes compiled at load; (?i) becomes the i flag', () => {
  for (const op of ['==', '!=', '=~', '!~', '=^', '=$']) {
    const c = parse(`$HTTP["url"] ${op} "/a" {\n}`).root.children[0].condition!;
    assert.is(c.op, op);
    assert.is(c.regex !== null, op === '=~' || op === '!~', op);
  }
  const re = parse('$HTTP["url"] =~ "^/api/(v\\d+)/" {\n}').root.children[0].condition!.regex!;
  assert.equal(re.exec('/api/v2/x')?.[1], 'v2');
  const ci = parse('$HTTP["useragent"] =~ "(?i)curl" {\n}').root.children[0].condition!.regex!;
  assert.ok(ci.test('CURL/8'));
});

LighttpdParser('host values of ==, !=, =^, =$ are lowercased; regexes are not', () => {
  assert.is(parse('$HTTP["host"] == "Example.ORG" {\n}').root.children[0].condition!.value, 'example.org');
  assert.is(parse('$HTTP["host"] =~ "Example" {\n}').root.children[0].condition!.value, 'Example');
});

LighttpdParser('the right-hand side may be an expression with variables', () => {
  const c = parse('var.dom = "example.org"\n$HTTP["host"] == "www." + var.dom {\n}').root.children[0].condition!;
  assert.is(c.value, 'www.example.org');
  assert.is(c.loc.line, 2);
});

LighttpdParser('condition errors: bad regex, unknown field, unknown kind, bad remoteip, non-string value', () => {
  assert.match(errorOf(() => parse('a.b = 1\n$HTTP["url"] =~ "(" {\n}')), /^test\.conf:2: invalid regex in \$HTTP\["url"\] =~ "\(": /);
  assert.is(
    errorOf(() => parse('$HTTP["nope"] == "x" {\n}')),
    'test.conf:1: unknown condition field $HTTP["nope"] (known: host, url, querystring, query-string, remoteip, remote-ip, scheme, request-method, referer, useragent, user-agent, cookie, language)',
  );
  assert.is(
    errorOf(() => parse('\n$PHYSICAL["path"] == "/x" {\n}')),
    'test.conf:2: unknown condition $PHYSICAL["path"]: lantern supports $HTTP[...], $REQUEST_HEADER[...] and $SERVER["socket"]',
  );
  assert.is(errorOf(() => parse('$SERVER["port"] == "80" {\n}')), 'test.conf:1: unknown condition field $SERVER["port"] (only $SERVER["socket"])');
  assert.is(errorOf(() => parse('$HTTP["remoteip"] == "10.0.0.300/8" {\n}')), 'test.conf:1: invalid IP address or CIDR mask in $HTTP["remoteip"] == "10.0.0.300/8"');
  assert.is(errorOf(() => parse('$HTTP["url"] == 5 {\n}')), 'test.conf:1: the value of a condition must be a string, not integer');
  assert.is(errorOf(() => parse('$HTTP["url"] <> "x" {\n}')), 'test.conf:1: invalid character "<" in condition');
  assert.is(errorOf(() => parse('$HTTP["url"] == "x"\n{\n}')), 'test.conf:1: expected "{" after $HTTP["url"] == "x", found end of line');
});

LighttpdParser('remoteip accepts addresses and CIDR masks, v4 and v6', () => {
  for (const v of ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', '[::1]']) {
    assert.is(parse(`$HTTP["remoteip"] == "${v}" {\n}`).root.children[0].condition!.value, v);
  }
});

LighttpdParser('nesting, else, else-if chains and dense ids', () => {
  const m = parse([
    'a.v = 0',
    '$HTTP["host"] == "a" {',
    '  a.v = 1',
    '  $HTTP["url"] =^ "/x" {',
    '    a.v = 2',
    '  }',
    '} else $HTTP["host"] == "b" {',
    '  a.v = 3',
    '}',
    'else {',
    '  a.v = 4',
    '}',
    '$HTTP["scheme"] == "https" { a.v = 5 }',
  ].join('\n'));
  assert.is(m.blockCount, 6);
  const [chain, https] = m.root.children;
  assert.is(m.root.children.length, 2);
  assert.equal([chain.id, chain.children[0].id, chain.else!.id, chain.else!.else!.id, https.id], [1, 2, 3, 4, 5]);
  assert.equal(values(chain.children[0]), { 'a.v': 2 });
  assert.is(chain.else!.condition!.value, 'b');
  assert.is(chain.else!.else!.condition, null);
  assert.is(chain.else!.else!.loc.line, 10);
  assert.equal(values(chain.else!.else!), { 'a.v': 4 });
  assert.equal(values(https), { 'a.v': 5 });
});

LighttpdParser('else errors', () => {
  assert.is(errorOf(() => parse('a.b = 1\nelse {\n}')), 'test.conf:2: "else" without a condition block before it');
  assert.is(
    errorOf(() => parse('$HTTP["host"] == "a" {\n} else {\n} else {\n}')),
    'test.conf:3: unreachable condition: it follows a plain "else { }"',
  );
  assert.is(errorOf(() => parse('$HTTP["host"] == "a" {\n} else\n{\n}')), 'test.conf:2: expected a condition or "{" after "else", found end of line');
});

LighttpdParser('the same condition under the same parent reuses its block (as lighttpd)', () => {
  const m = parse('$SERVER["socket"] == ":443" {\n a.x = 1\n}\n$HTTP["url"] =^ "/y" {\n}\n$SERVER["socket"] == ":443" {\n a.y = 2\n}\n');
  assert.is(m.root.children.length, 2);
  assert.is(m.blockCount, 3);
  assert.equal(values(m.root.children[0]), { 'a.x': 1, 'a.y': 2 });
  assert.is(errorOf(() => parse('$HTTP["host"] == "a" {\n a.x = 1\n}\n$HTTP["host"] == "a" {\n a.x = 2\n}\n')), 'test.conf:5: duplicate config variable "a.x" in this block (use := to overwrite it or += to append)');
});

LighttpdParser('global { } sets root values from anywhere; no conditions inside it', () => {
  const m = parse('$HTTP["host"] == "a" {\n global {\n  server.tag = "g"\n }\n a.b = 1\n}\n');
  assert.equal(values(m.root), { 'server.tag': 'g' });
  assert.equal(values(m.root.children[0]), { 'a.b': 1 });
  assert.is(errorOf(() => parse('global {\n $HTTP["host"] == "a" {\n }\n}')), 'test.conf:2: conditions are not allowed inside a global { } block');
});

LighttpdParser('include: relative to the main file, into the current block; errors name the included file', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'inc.conf'), 'server.modules += ("b")\n');
  fs.writeFileSync(path.join(dir, 'bad.conf'), 'a.b = 1\na.c = \n');
  const main = path.join(dir, 'main.conf');
  fs.writeFileSync(main, 'server.modules = ("a")\ninclude "inc.conf"\n$HTTP["host"] == "h" {\n  include "inc.conf"\n}\n');
  const m = loadLighttpdConfig(main, { env: {}, cwd: CWD });
  assert.equal(values(m.root), { 'server.modules': ['a', 'b'] });
  assert.equal(values(m.root.children[0]), { 'server.modules': ['a', 'b', 'b'] });
  assert.is(m.root.entries[0].loc.file, path.join(dir, 'inc.conf'));
  assert.is(m.root.entries[0].loc.line, 1);
  assert.is(
    errorOf(() => parseLighttpdConfig('\ninclude "bad.conf"', main, { cwd: CWD })),
    `${path.join(dir, 'bad.conf')}:2: expected a value (string, integer, list or variable), found end of line`,
  );
  assert.is(errorOf(() => parseLighttpdConfig('\n\ninclude "missing.conf"', main, { cwd: CWD })), `${main}:3: include file not found: ${path.join(dir, 'missing.conf')}`);
});

LighttpdParser('include loops and unreadable includes are errors', () => {
  const dir = tmpDir();
  const self = path.join(dir, 'self.conf');
  fs.writeFileSync(self, 'a.b += 1\ninclude "self.conf"\n');
  assert.is(errorOf(() => loadLighttpdConfig(self, { cwd: CWD })), `${self}:2: includes nested more than 32 deep (an include loop?)`);
  fs.mkdirSync(path.join(dir, 'sub'));
  assert.is(errorOf(() => parseLighttpdConfig('include "sub"', self, { cwd: CWD })), `${self}:1: cannot read include file ${path.join(dir, 'sub')}: EISDIR`);
});

LighttpdParser('include: ./ paths are relative to the working directory', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'here.conf'), 'a.here = 1\n');
  const m = parseLighttpdConfig('include "./here.conf"', '/elsewhere/main.conf', { cwd: dir });
  assert.equal(values(m.root), { 'a.here': 1 });
  assert.is(m.root.entries[0].loc.file, './here.conf');
});

LighttpdParser('include globs: sorted, dotfiles skipped, braces, no match is fine', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'conf.d'));
  fs.writeFileSync(path.join(dir, 'conf.d', '20-b.conf'), 'server.modules += ("b")\n');
  fs.writeFileSync(path.join(dir, 'conf.d', '10-a.conf'), 'server.modules += ("a")\n');
  fs.writeFileSync(path.join(dir, 'conf.d', '.hidden.conf'), 'server.modules += ("hidden")\n');
  fs.writeFileSync(path.join(dir, 'conf.d', 'x.txt'), 'server.modules += ("txt")\n');
  const main = path.join(dir, 'lighttpd.conf');
  const m = parseLighttpdConfig('include "conf.d/*.conf"\ninclude "none.d/*.conf"\ninclude "conf.d/{20-b,10-a}.conf"', main, { cwd: CWD });
  assert.equal(values(m.root), { 'server.modules': ['a', 'b', 'b', 'a'] });
});

LighttpdParser('include_shell: output parsed as config; failures and errors inside are reported', () => {
  const env = { PATH: process.env.PATH };
  const m = parse("include_shell \"echo 'x = 1'; echo 'a.b = x + 1'\"", env, os.tmpdir());
  assert.equal(values(m.root), { 'a.b': 2 });
  assert.is(m.root.entries[0].loc.file, "include_shell \"echo 'x = 1'; echo 'a.b = x + 1'\"");
  assert.is(m.root.entries[0].loc.line, 2);
  assert.is(errorOf(() => parse('\ninclude_shell "echo oops >&2; exit 3"', env, os.tmpdir())), 'test.conf:2: include_shell "echo oops >&2; exit 3" exited with status 3: oops');
  assert.is(errorOf(() => parse('include_shell "echo a.b ="', env, os.tmpdir())), 'include_shell "echo a.b =":1: expected a value (string, integer, list or variable), found end of line');
  assert.is(errorOf(() => parse('include_shell "true"')), `test.conf:1: include_shell "true": directory ${CWD} does not exist`);
});

LighttpdParser('include_shell sees opts.env', () => {
  assert.equal(values(parse('include_shell "echo a.b = $LT_X"', { LT_X: '7', PATH: process.env.PATH }, os.tmpdir()).root), { 'a.b': 7 });
});

LighttpdParser('statements may share a line and stray commas outside lists are ignored (as lighttpd)', () => {
  assert.equal(values(parse('a.a = 1 a.b = 2, a.c = 3').root), { 'a.a': 1, 'a.b': 2, 'a.c': 3 });
});

LighttpdParser('parseConditionText: one condition head for the native format', () => {
  const c = parseConditionText('$HTTP["host"] =~ "^(www\\.)?" + env.DOM', { file: 'x.yaml', line: 7 }, { env: { DOM: 'a' } });
  assert.equal([c.kind, c.field, c.op, c.value, c.loc], ['HTTP', 'host', '=~', '^(www\\.)?a', { file: 'x.yaml', line: 7 }]);
  assert.is(errorOf(() => parseConditionText('$HTTP["host"] == "a" {', { file: 'x.yaml', line: 7 })), 'x.yaml:7: unexpected "{" after the condition');
  assert.is(errorOf(() => parseConditionText('HTTP["host"] == "a"', { file: 'x.yaml', line: 3 })), 'x.yaml:3: a condition starts with "$", found "HTTP"');
});

LighttpdParser('loadLighttpdConfig: a missing main file is a ConfigError at line 0', () => {
  assert.is(errorOf(() => loadLighttpdConfig('/nonexistent/lighttpd.conf')), '/nonexistent/lighttpd.conf:0: cannot read config file: ENOENT');
});

LighttpdParser.run();

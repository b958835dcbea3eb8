// Unit tests of plugins/rewrite's engine (lighttpd 1.4.69 keyvalue.c / burl.c): substitutions
// ($n, %n, ${n}, modifiers, ${url.*}, ${qsa}, escapes), the pattern checks (PCRE-only syntax,
// catastrophic backtracking), first-match order, targets and field values refused (G7), and the
// config checks through the real parser and plugin host (file:line and the key).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import { ConfigError, ConfigHash } from '../../../../config/model.js';
import { Server } from '../../../../core/server.js';
import { checkPattern } from '../../../../plugins/rewrite/pattern.js';
import { applyRules, badFieldValue, badTarget, compileRuleList, type RuleList } from '../../../../plugins/rewrite/rule-list.js';
import { parseTemplate, substitute, type UrlParts } from '../../../../plugins/rewrite/substitute.js';

const T = suite('rewrite/engine');

const URL: UrlParts = { scheme: 'http', authority: 'example.org', port: 8080, target: '/a/b?x=1&y=2', query: 'x=1&y=2' };

function sub(template: string, pattern: string, subject: string, cond: string[] = [], url: UrlParts = URL): string {
  const m = new RegExp(pattern).exec(subject);
  assert.ok(m, `${pattern} matches ${subject}`);
  return substitute(parseTemplate(template), m!, cond, url);
}

function rules(entries: Array<[string, string]>): RuleList {
  const r = compileRuleList(new ConfigHash(entries), true);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

T('$n is the raw capture, %n the condition capture; a missing group is empty', () => {
  assert.is(sub('/x/$1/$2', '^/([^/]*)/([^?]*)', '/a/b%0d%0a'), '/x/a/b%0d%0a');
  assert.is(sub('/%1/$1', '^/(.*)', '/page', ['www.example.org', 'www']), '/www/page');
  assert.is(sub('/$3-%5', '^/(.*)', '/page', ['x']), '/-');
  assert.is(sub('/$0', '^/p', '/page'), '//p');
});

T('$$ is $, %% is %, other characters after $ or % stay', () => {
  assert.is(sub('/a$$b%%c%ad$x', '^/', '/'), '/a$b%c%ad$x');
  assert.is(sub('/end$', '^/', '/'), '/end$');
});

T('${n} encodes all but unreserved and "/", without double-encoding (escpsnde)', () => {
  assert.is(sub('/${1}', '^/(.*)', '/a b/c%2fd%41'), '/a%20b/c%2fdA');
  assert.is(sub('/${esc:1}', '^/(.*)', '/a b/c%41'), '/a%20b%2Fc%2541');
  assert.is(sub('/${escnde:1}', '^/(.*)', '/a b/c'), '/a%20b%2Fc');
  assert.is(sub('/${noesc:1}', '^/(.*)', '/a b'), '/a b');
  assert.is(sub('/${tolower:1}', '^/(.*)', '/AbC%2F'), '/abc%2F');
  assert.is(sub('/${toupper:1}', '^/(.*)', '/abc%2f'), '/ABC%2f');
  assert.is(sub('/${encb64u:1}', '^/(.*)', '/hi?>'), '/aGk_Pg');
  assert.is(sub('/${decb64u:1}', '^/(.*)', '/aGk_Pg'), '/hi?>');
  assert.is(sub('/%{1}', '^/', '/', ['x', 'a b']), '/a%20b');
});

T('${url.*} and ${qsa}', () => {
  assert.is(sub('${url.scheme}://${url.authority}:${url.port}${url.path}?q=${url.query}', '^/', '/'), 'http://example.org:8080/a/b?q=x=1&y=2');
  assert.is(sub('/q/${esc:url.query}', '^/', '/'), '/q/x%3D1%26y%3D2');
  assert.is(sub('/new${qsa}', '^/', '/'), '/new?x=1&y=2');
  assert.is(sub('/new?z=3${qsa}', '^/', '/'), '/new?z=3&x=1&y=2');
  assert.is(sub('/new${qsa}', '^/', '/', [], { ...URL, query: null }), '/new');
  assert.is(sub('/new?z${qsa}', '^/', '/', [], { ...URL, query: '' }), '/new?z');
});

T('unknown or unterminated substitutions are refused when parsed', () => {
  assert.throws(() => parseTemplate('/${1'), /closing/);
  assert.throws(() => parseTemplate('/${url.nope}'), /unknown substitution/);
});

T('the first matching rule wins; an empty replacement stops without a result', () => {
  const r = rules([['^/stop', ''], ['^/a(.*)', '/first$1'], ['^/a', '/second']]);
  const m = applyRules(r, '/abc', [], URL);
  assert.is(m.kind, 'result');
  if (m.kind === 'result') { assert.is(m.value, '/firstbc'); assert.is(m.index, 1); }
  assert.is(applyRules(r, '/stop/x', [], URL).kind, 'stop');
  assert.is(applyRules(r, '/zzz', [], URL).kind, 'none');
});

T('subjects longer than 8192 bytes are not matched', () => {
  assert.is(applyRules(rules([['^/', '/x']]), '/' + 'a'.repeat(9000), [], URL).kind, 'too-long');
});

T('patterns: catastrophic backtracking and PCRE-only syntax refused, ordinary ones accepted', () => {
  for (const p of ['(a+)+$', '^(a*)*b', '(\\w+\\s?)*$', '(a|a)*', '^((ab)+)+$', '(x+){2,}', 'a++', '(?>a)', '(?i)abc', '\\Qa.b\\E', '\\Aabc\\z', '(?P<n>a)', '(', 'a{2', '(a+a)+', '(?:[^/]+.)*', '(?:[^/]+/|x)*', '((?:[^/]+/)*x)+']) {
    if (p === 'a{2') continue; // JS reads a literal "{2": lighttpd (PCRE2 10.42) too
    assert.ok(checkPattern(p) !== undefined, `${p} refused`);
  }
  for (const p of ['^/(.*)$', '^/([^/]+)/(\\d+)(?:\\?(.*))?$', '^/a(b|c)+d', '(?<name>x)+', '^/(?!api/).*', '[(+]+x', '(ab)?(cd)*', '^/(a|b)/(.*)', '\\.(jpg|png)$',
    // Repeated groups that end with a delimiter their inner repetition cannot match split one way.
    '^/wiki/((?:[^/]+/)*[^/]+)$', '^/((\\w+\\.)+)html$', '(a+b)+', '(?:\\d+,)*\\d+']) {
    assert.is(checkPattern(p), undefined, `${p} accepted`);
  }
  assert.match(checkPattern('(' + '(a)'.repeat(20) + ')')!, /19 capturing groups/);
});

T('targets: only origin-form with visible ASCII; field values: no CR, LF, NUL or controls', () => {
  assert.is(badTarget('/a/b?c=d%20'), undefined);
  assert.match(badTarget('a/b')!, /begin/);
  assert.match(badTarget('/a b')!, /0x20/);
  assert.match(badTarget('/a\r\nb')!, /0x0d/);
  assert.match(badTarget('/a#b')!, /#/);
  assert.match(badTarget('/a%zz')!, /hex/);
  assert.is(badFieldValue('http://x/%0d%0a'), undefined);
  assert.match(badFieldValue('a\r\nSet-Cookie: x')!, /CR/);
  assert.match(badFieldValue('a\nb')!, /LF/);
  assert.match(badFieldValue('a\0b')!, /NUL/);
});

T('a capture holding %0d%0a stays encoded; ${decb64u:} that decodes to CR LF is caught', () => {
  const r = rules([['^/go/(.*)$', '/to/$1'], ['^/b64/(.*)$', '/to/${decb64u:1}']]);
  const a = applyRules(r, '/go/%0d%0aSet-Cookie:x', [], URL);
  assert.ok(a.kind === 'result' && a.value === '/to/%0d%0aSet-Cookie:x' && badFieldValue(a.value) === undefined);
  const b = applyRules(r, '/b64/' + Buffer.from('\r\nSet-Cookie: x').toString('base64url'), [], URL);
  assert.ok(b.kind === 'result' && badFieldValue(b.value) !== undefined && badTarget(b.value) !== undefined);
});

/** Load `lines` into a config that loads mod_rewrite and mod_redirect; the ConfigError, or null. */
async function load(lines: string): Promise<ConfigError | null> {
  const text = `server.modules = ( "mod_rewrite", "mod_redirect" )\n${lines}\n`;
  const model = parseLighttpdConfig(text, '/etc/test.conf', { cwd: '/tmp' });
  try {
    await Server.create({ model, cwd: '/tmp', listen: [], warn: () => {} });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

T('bad rules stop the start with file:line and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['url.rewrite-once = ( "^/(a+)+$" => "/x" )', /^\/etc\/test\.conf:2: url\.rewrite-once: rule "\^\/\(a\+\)\+\$": nested unbounded/],
    ['url.rewrite-repeat = ( "^/a++" => "/x" )', /^\/etc\/test\.conf:2: url\.rewrite-repeat: .*possessive/],
    ['url.redirect = ( "^/(" => "/x" )', /^\/etc\/test\.conf:2: url\.redirect: .*not a valid regular expression/],
    ['url.rewrite-if-not-file = ( "^/" => "/${nope}" )', /^\/etc\/test\.conf:2: url\.rewrite-if-not-file: .*unknown substitution/],
    ['url.rewrite = ( "^/" => 5 )', /^\/etc\/test\.conf:2: url\.rewrite: .*must be a string/],
    ['url.redirect-code = 1000', /^\/etc\/test\.conf:2: url\.redirect-code: must be at most 999/],
    ['url.redirect-code = "moved"', /^\/etc\/test\.conf:2: url\.redirect-code: expected an integer/],
    ['url.rewrite-final = "/x"', /^\/etc\/test\.conf:2: url\.rewrite-final: expected/],
  ];
  for (const [line, re] of cases) {
    const err = await load(line);
    assert.ok(err, `${line} refused`);
    assert.match(err!.message, re, line);
  }
  assert.is(await load('$HTTP["host"] =~ "^(.*)$" {\n  url.rewrite-once = ( "^/(.*)" => "/%1/$1" )\n  url.redirect = ( "^/old" => "/new" )\n}'), null);
});

T.run();

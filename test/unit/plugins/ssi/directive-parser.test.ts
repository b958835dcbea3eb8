// Unit tests of plugins/ssi/directive-parser.ts: splitting a page into text and directives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { directiveEnd, parseDirective, splitDocument, type Segment } from '../../../../plugins/ssi/directive-parser.js';

const T = suite('ssi/directive-parser');

const texts = (doc: string, segs: Segment[]) => segs.map((s) => (s.kind === 'text' || s.kind === 'unterminated' ? `${s.kind}:${doc.slice(s.start, s.end)}` : s.kind === 'broken' ? `broken:${s.source}` : `dir:${s.directive.name}${JSON.stringify(s.directive.attrs)}`));

T('text and directives in order, attributes quoted both ways or bare', () => {
  const doc = 'a<!--#echo var="X" -->b<!--#include virtual=\'/i.html\'-->c<!--#set var=v value=1 -->';
  assert.equal(texts(doc, splitDocument(doc)), [
    'text:a', 'dir:echo[["var","X"]]', 'text:b', 'dir:include[["virtual","/i.html"]]', 'text:c', 'dir:set[["var","v"],["value","1"]]',
  ]);
});

T('a directive with no attribute; whitespace of any kind between parts', () => {
  assert.equal(parseDirective('<!--#printenv -->'), { name: 'printenv', attrs: [] });
  assert.equal(parseDirective('<!--#else-->'), { name: 'else', attrs: [] });
  assert.equal(parseDirective('<!--#config\n\ttimefmt="%Y"\r\n  sizefmt="abbrev"   -->'), { name: 'config', attrs: [['timefmt', '%Y'], ['sizefmt', 'abbrev']] });
});

T('"-->" inside a quoted value does not end the directive; \\" in a value is a quote', () => {
  const doc = '<!--#set var="a" value="x --> y" -->z';
  assert.is(directiveEnd(doc, 0), doc.length - 1);
  assert.equal(parseDirective('<!--#set var="a" value="say \\"hi\\" \\n" -->')!.attrs[1], ['value', 'say "hi" \\n']);
});

T('malformed directives are "broken", not thrown', () => {
  for (const src of ['<!--# -->', '<!--#echo var -->', '<!--#echo var= -->', '<!--#echo ="x" -->', '<!--#echo var="x"value="y" -->', '<!--#123 -->']) {
    const segs = splitDocument(src + 'tail');
    assert.is(segs[0]!.kind, 'broken', src);
    assert.equal(texts(src + 'tail', segs).slice(-1), ['text:tail'], src);
  }
});

T('an unterminated directive: the rest of the document is one piece', () => {
  const doc = 'x<!--#echo var="A" <!--#echo var="B" -->';
  // The second "<!--#" is inside the first directive, which then ends at the "-->".
  assert.is(splitDocument(doc)[1]!.kind, 'broken');
  const open = 'x<!--#echo var="A -->y<!--#echo var="B" -->';
  assert.equal(texts(open, splitDocument(open)), ['text:x', 'unterminated:<!--#echo var="A -->y<!--#echo var="B" -->']);
});

T('plain HTML comments and "<!--" without "#" are text', () => {
  const doc = '<!-- c --><!--x--><!--#echo var="A"-->';
  assert.equal(texts(doc, splitDocument(doc)), ['text:<!-- c --><!--x-->', 'dir:echo[["var","A"]]']);
});

T('linear: 50 000 directives and a 1 MB unterminated tail are split quickly', () => {
  const many = '<!--#echo var="X" -->.'.repeat(50_000);
  let t = performance.now();
  assert.is(splitDocument(many).length, 100_000);
  const manyMs = performance.now() - t;
  const opens = '<!--#"'.repeat(200_000);
  t = performance.now();
  assert.is(splitDocument(opens).length, 1);
  const opensMs = performance.now() - t;
  // Generous bounds: a quadratic scan of these takes minutes.
  assert.ok(manyMs < 3000, `${manyMs} ms`);
  assert.ok(opensMs < 3000, `${opensMs} ms`);
});

T.run();

// Unit tests of plugins/webdav/xml-parser.ts: namespaces, entities, and what is not well-formed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { childElements, parseXml, textContent, XmlError } from '../../../../plugins/webdav/xml-parser.js';

const T = suite('webdav/xml-parser');

T('elements get their namespace from prefixes and the default namespace', () => {
  const root = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x="urn:x"/><b xmlns="urn:b"><c/></b><D:getetag/></D:prop></D:propfind>');
  assert.is(root.name, 'propfind');
  assert.is(root.ns, 'DAV:');
  const props = childElements(childElements(root)[0]!);
  assert.equal(props.map((p) => [p.ns, p.name]), [['urn:x', 'a'], ['urn:b', 'b'], ['DAV:', 'getetag']]);
  assert.is(childElements(props[1]!)[0]!.ns, 'urn:b', 'the default namespace is inherited');
});

T('an element without prefix and without default namespace is in no namespace', () => {
  const root = parseXml('<a><b xmlns=""/></a>');
  assert.is(root.ns, '');
  assert.is(childElements(root)[0]!.ns, '');
});

T('text: entities, character references, CDATA, comments and PIs skipped', () => {
  const root = parseXml('\uFEFF<!-- c --><?pi x?><a>x &lt;&gt;&amp;&apos;&quot; &#65;&#x42;<![CDATA[<raw>]]><!-- in --><?p?></a>\n');
  assert.is(textContent(root), 'x <>&\'" AB<raw>');
});

T('attributes: both quotes, entities decoded, duplicates refused', () => {
  const root = parseXml(`<a x="1 &amp; 2" y='q'/>`);
  assert.is(root.attrs.get('x'), '1 & 2');
  assert.is(root.attrs.get('y'), 'q');
  assert.throws(() => parseXml('<a x="1" x="2"/>'), (e: unknown) => e instanceof XmlError);
});

const BAD: Array<[string, string]> = [
  ['', 'empty'], ['   ', 'only space'], ['text', 'no element'], ['<a>', 'unclosed'], ['<a></b>', 'mismatched end tag'],
  ['<a/><b/>', 'two roots'], ['<a/>x', 'text after the root'], ['<x:a/>', 'unbound prefix'], ['<a x:y="1"/>', 'unbound attribute prefix'],
  ['<a>&e;</a>', 'undeclared entity'], ['<a>&#0;</a>', 'NUL reference'], ['<a>& b</a>', 'bare ampersand'],
  ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 'DOCTYPE'], ['<a><!-- a -- b --></a>', '-- in a comment'],
  ['<a x=1/>', 'unquoted attribute'], ['<a x="<"/>', '< in attribute'], ['<a>]]></a>', ']]> in text'],
  ['<a\u0001/>', 'control character'], ['<?xml version="1.0" encoding="iso-8859-1"?><a/>', 'another encoding'],
  ['<1a/>', 'bad name'], ['<a b="1"c="2"/>', 'no space between attributes'], ['<a xmlns:p=""/>', 'empty prefix binding'],
];
for (const [text, why] of BAD) {
  T(`not well-formed: ${why}`, () => {
    assert.throws(() => parseXml(text), (e: unknown) => e instanceof XmlError);
  });
}

T('limits: nesting depth and element count', () => {
  assert.throws(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100)), /too deeply/);
  assert.ok(parseXml('<a>'.repeat(60) + '</a>'.repeat(60)));
  assert.throws(() => parseXml(`<a>${'<b/>'.repeat(20)}</a>`, { maxDepth: 64, maxElements: 10 }), /too many/);
});

T('a deep document does not overflow the stack (iterative parse)', () => {
  const n = 5000;
  assert.ok(parseXml('<a>'.repeat(n) + '</a>'.repeat(n), { maxDepth: n + 1, maxElements: n + 1 }));
});

T.run();

// Unit tests of plugins/dirlisting/listing-html.ts: escaping, links, sorting and sizes of the listing page.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeHtml, formatSize, renderListing, sortEntries, type ListingEntry, type ListingPage } from '../../../../plugins/dirlisting/listing-html.js';
import { nameFilter } from '../../../../plugins/dirlisting/read-entries.js';

const T = suite('dirlisting/listing-html');
const file = (name: string, size = 1): ListingEntry => ({ name, isDir: false, size, mtimeMs: 0, type: 'text/plain' });
const dir = (name: string): ListingEntry => ({ name, isDir: true, size: 4096, mtimeMs: 0, type: 'Directory' });
const page = (over: Partial<ListingPage>): ListingPage => ({
  urlPath: '/x/', entries: [], encoding: 'utf-8', externalCss: '', externalJs: '', header: null, readme: null,
  encodeHeader: true, encodeReadme: true, footer: 'lantern', ...over,
});

T('names are HTML-escaped and links percent-encoded', () => {
  const html = renderListing(page({ entries: [file('<b>&"x')] }));
  assert.ok(html.includes('<a href="%3Cb%3E&%22x">&lt;b&gt;&amp;&quot;x</a>'), html);
  assert.not.ok(html.includes('<b>&'));
});

T('the title path is escaped; a parent link except at the root', () => {
  const html = renderListing(page({ urlPath: '/<i>/' }));
  assert.ok(html.includes('<title>Index of /&lt;i&gt;/</title>'));
  assert.ok(html.includes('<a href="../">'));
  assert.not.ok(renderListing(page({ urlPath: '/' })).includes('href="../"'));
});

T('directories first, then files, each by name', () => {
  const sorted = sortEntries([file('b'), dir('z'), file('a'), dir('c')]).map((e) => e.name);
  assert.equal(sorted, ['c', 'z', 'a', 'b']);
  const html = renderListing(page({ entries: [file('b'), dir('z')] }));
  assert.ok(html.indexOf('href="z/"') < html.indexOf('href="b"'));
});

T('readme and header are escaped unless encoding is disabled', () => {
  assert.ok(renderListing(page({ readme: '<x>' })).includes('<pre class="readme">&lt;x&gt;</pre>'));
  assert.ok(renderListing(page({ header: '<h1>H</h1>', encodeHeader: false })).includes('<h1>H</h1>'));
});

T('sizes', () => {
  assert.is(formatSize(0), '0');
  assert.is(formatSize(1023), '1023');
  assert.is(formatSize(1536), '1.5K');
  assert.is(formatSize(5 * 1024 * 1024), '5.0M');
});

T('name filter: dotfiles, excludes, hidden notes', () => {
  const keep = nameFilter({ hideDotfiles: true, exclude: [/~$/], hidden: ['README.txt'] });
  assert.equal(['.git', 'a', 'b~', 'README.txt', '..'].filter(keep), ['a']);
  const all = nameFilter({ hideDotfiles: false, exclude: [], hidden: [] });
  assert.equal(['.git', '.', '..'].filter(all), ['.git']);
});

T('escapeHtml', () => {
  assert.is(escapeHtml(`<a href='x'>&"`), '&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
});

T.run();

// Unit tests of plugins/webdav/properties.ts: reading PROPFIND bodies and writing one resource's response.
import type fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import { MAX_PROPS, readPropfind, resourceResponse, type Resource } from '../../../../plugins/webdav/properties.js';
import { parseXml } from '../../../../plugins/webdav/xml-parser.js';

const T = suite('webdav/properties');
const mime = new ConfigHash([['.txt', 'text/plain']]);
const settings = { etag: { inode: true, mtime: true, size: true }, mimeAssign: mime };
const stat = (dir: boolean, extra: Partial<fs.Stats> = {}): fs.Stats => ({
  isDirectory: () => dir, isFile: () => !dir, isSymbolicLink: () => false,
  size: dir ? 4096 : 5, ino: 255, mtimeMs: Date.UTC(2024, 0, 2, 3, 4, 5), birthtimeMs: Date.UTC(2023, 5, 6, 7, 8, 9), ...extra,
} as unknown as fs.Stats);
const res = (urlPath: string, name: string, dir = false, extra: Partial<fs.Stats> = {}): Resource => ({ urlPath, name, stat: stat(dir, extra) });

T('readPropfind: allprop, propname, prop, and lighttpd\'s readings of odd bodies', () => {
  assert.equal(readPropfind(null), { kind: 'allprop' });
  assert.equal(readPropfind(parseXml('<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')), { kind: 'allprop' });
  assert.equal(readPropfind(parseXml('<propfind xmlns="DAV:"><propname/></propfind>')), { kind: 'propname' });
  assert.equal(readPropfind(parseXml('<D:propfind xmlns:D="DAV:"><D:prop> <D:getetag/> <z:q xmlns:z="urn:z"/></D:prop></D:propfind>')),
    { kind: 'prop', props: [{ ns: 'DAV:', name: 'getetag' }, { ns: 'urn:z', name: 'q' }] });
  assert.equal(readPropfind(parseXml('<other/>')), { kind: 'allprop' }, 'a root that is not propfind: allprop, as lighttpd');
  const many = `<propfind xmlns="DAV:"><prop>${'<x/>'.repeat(MAX_PROPS + 1)}</prop></propfind>`;
  assert.is((readPropfind(parseXml(many)) as { status: number }).status, 400);
});

T('allprop on a file: every live property with lighttpd\'s markup', () => {
  const out = resourceResponse(res('/d/a b.txt', 'a b.txt'), { kind: 'allprop' }, settings);
  assert.ok(out.startsWith('<D:response>\n<D:href>/d/a%20b.txt</D:href>\n<D:propstat>\n<D:prop>\n'), out);
  assert.ok(out.includes('<D:creationdate ns0:dt="dateTime.tz">2023-06-06T07:08:09Z</D:creationdate>'));
  assert.ok(out.includes('<D:getlastmodified ns0:dt="dateTime.rfc1123">Tue, 02 Jan 2024 03:04:05 GMT</D:getlastmodified>'));
  assert.ok(out.includes('<D:getcontentlength>5</D:getcontentlength>'));
  assert.ok(out.includes('<D:getcontenttype>text/plain</D:getcontenttype>'));
  assert.ok(out.includes('<D:getetag>&quot;ff-5-'), out);
  assert.ok(out.includes('<D:resourcetype/>'));
  assert.ok(out.includes('<D:displayname>a b.txt</D:displayname>'));
  assert.ok(out.endsWith('<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n</D:response>\n'));
  assert.not.ok(out.includes('404'));
});

T('a collection: collection resourcetype and httpd/unix-directory', () => {
  const out = resourceResponse(res('/d/', 'd', true), { kind: 'prop', props: [{ ns: 'DAV:', name: 'resourcetype' }, { ns: 'DAV:', name: 'getcontenttype' }] }, settings);
  assert.ok(out.includes('<D:resourcetype><D:collection/></D:resourcetype>\n<D:getcontenttype>httpd/unix-directory</D:getcontenttype>'), out);
});

T('missing properties go to a 404 propstat; no ETag when etags are off; no creationdate without a birth time', () => {
  const out = resourceResponse(res('/a.txt', 'a.txt', false, { birthtimeMs: 0 }), {
    kind: 'prop', props: [{ ns: 'DAV:', name: 'getetag' }, { ns: 'DAV:', name: 'creationdate' }, { ns: 'urn:x', name: 'dead' }, { ns: 'DAV:', name: 'getcontentlength' }],
  }, { ...settings, etag: null });
  assert.match(out, /<D:prop>\n<D:getcontentlength>5<\/D:getcontentlength>\n<\/D:prop>\n<D:status>HTTP\/1.1 200 OK/);
  assert.match(out, /<D:prop>\n<D:getetag\/>\n<D:creationdate\/>\n<dead xmlns="urn:x"\/>\n<\/D:prop>\n<D:status>HTTP\/1.1 404 Not Found/);
});

T('names are XML-escaped, hrefs percent-encoded', () => {
  const out = resourceResponse(res('/x/<&>"\'é', '<&>"\'é'), { kind: 'prop', props: [{ ns: 'DAV:', name: 'displayname' }] }, settings);
  assert.ok(out.includes('<D:href>/x/%3C&amp;%3E%22&apos;%C3%A9</D:href>'), out);
  assert.ok(out.includes('<D:displayname>&lt;&amp;&gt;&quot;&apos;é</D:displayname>'), out);
});

T.run();

// Unit tests of plugins/proxy/header-options.ts: proxy.header and proxy.forwarded as lighttpd 1.4 mod_proxy.c parses them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLighttpdConfig } from '../../../../config/lighttpd/parser.js';
import type { ConfigValue } from '../../../../config/model.js';
import { checkProxyForwarded, checkProxyHeader, parseProxyForwarded, parseProxyHeader } from '../../../../plugins/proxy/header-options.js';

const T = suite('proxy/header-options');

function value(text: string): ConfigValue {
  return parseLighttpdConfig(`x.y = ${text}\n`, '/t/lighttpd.conf', { cwd: '/t' }).root.entries[0].value;
}

T('proxy.header: every key lighttpd knows', () => {
  const h = parseProxyHeader(value(`(
    "map-urlpath" => ( "/front/" => "/back/", "/a/" => "/b/" ),
    "map-host-request" => ( "-" => "backend.internal" ),
    "map-host-response" => ( "backend.internal" => "-" ),
    "map-urlpath-resp-host-include" => ( "backend.internal" ),
    "map-urlpath-resp-host-exclude" => ( "cdn.example" ),
    "https-remap" => "enable", "force-http10" => 1, "upgrade" => "enable", "connect" => "disable" )`));
  assert.equal(h.urlpaths, [['/front/', '/back/'], ['/a/', '/b/']]);
  assert.equal(h.hostsRequest, [['-', 'backend.internal']]);
  assert.equal(h.hostsResponse, [['backend.internal', '-']]);
  assert.equal(h.respHostInclude, ['backend.internal']);
  assert.equal(h.respHostExclude, ['cdn.example']);
  assert.equal([h.httpsRemap, h.forceHttp10, h.upgrade, h.connect], [true, true, true, false]);
});

T('proxy.header: unset maps are null, switches off', () => {
  const h = parseProxyHeader(value('( "upgrade" => "enable" )'));
  assert.equal([h.urlpaths, h.hostsRequest, h.hostsResponse, h.httpsRemap, h.upgrade], [null, null, null, false, true]);
});

T('proxy.header: unknown keys and bad values are errors', () => {
  assert.match(checkProxyHeader(value('( "map-url" => ( "/a" => "/b" ) )')) ?? '', /unexpected key "map-url"/);
  assert.match(checkProxyHeader(value('( "upgrade" => "perhaps" )')) ?? '', /"upgrade": expected "enable" or "disable"/);
  assert.match(checkProxyHeader(value('( "map-urlpath" => "/a" )')) ?? '', /"map-urlpath": expected/);
  assert.match(checkProxyHeader(value('( "map-urlpath-resp-host-include" => ( "a" => "b" ) )')) ?? '', /expected \( "map-urlpath-resp-host-include" => \( "list" \)/);
  assert.is(checkProxyHeader(value('( "https-remap" => "disable" )')), undefined);
});

T('proxy.forwarded: the five parameters, 1/0 and enable/disable', () => {
  assert.equal(parseProxyForwarded(value('( "for" => 1, "proto" => "enable", "host" => 0, "by" => "disable", "remote_user" => 1 )')),
    { for: true, proto: true, host: false, by: false, remoteUser: true });
  assert.match(checkProxyForwarded(value('( "client" => 1 )')) ?? '', /keys must be one of: by, for, host, proto, remote_user, but not: "client"/);
  assert.match(checkProxyForwarded(value('( "for" => "yes" )')) ?? '', /"for": expected/);
});

T.run();

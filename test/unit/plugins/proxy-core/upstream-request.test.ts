// Unit tests of what proxy-core sends upstream (plugins/proxy-core/upstream-request.ts; checklist C1-C6, G6, G7).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_BACKEND_OPTIONS, type BackendOptions } from '../../../../plugins/proxy-core/api.js';
import { Backend } from '../../../../plugins/proxy-core/backend.js';
import {
  buildUpstreamRequest, checkUpstreamRequest, forwardedElement, originFormTarget, type ProxyUpstreamRequest,
} from '../../../../plugins/proxy-core/upstream-request.js';
import { fakeRequest, type FakeRequestInit } from './fake-request.js';

const T = suite('proxy-core/upstream-request');

function backend(options: Partial<BackendOptions> = {}): Backend {
  return new Backend({
    name: 't', protocol: 'http', balancer: 'rr', hashKey: 'url', options: { ...DEFAULT_BACKEND_OPTIONS, ...options },
    protocolOptions: { maxResponseHeadBytes: 1000 }, log: () => {},
  });
}
function build(r: FakeRequestInit, options: Partial<BackendOptions> = {}, usesEnv = false): ProxyUpstreamRequest | number {
  const req = fakeRequest(r);
  return buildUpstreamRequest(req, backend(options), originFormTarget(req), usesEnv);
}
const up = (r: FakeRequestInit, o: Partial<BackendOptions> = {}, usesEnv = false) => build(r, o, usesEnv) as ProxyUpstreamRequest;

T('C1: hop-by-hop and Connection-listed fields go; Host comes first, once; framing fields never copied', () => {
  const u = up({ headers: ['Host', 'example.org', 'Connection', 'close, X-Secret', 'X-Secret', 's', 'TE', 'trailers',
    'Keep-Alive', '1', 'Content-Length', '3', 'Transfer-Encoding', 'chunked', 'Expect', '100-continue', 'Accept', '*/*'] });
  assert.equal(u.headers.slice(0, 4), ['Host', 'example.org', 'Accept', '*/*']);
  assert.equal(u.headers.slice(4).filter((_, i) => i % 2 === 0), ['X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto']);
});

T('C3: XFF replaced for untrusted peers, appended for trusted ones (CIDR)', () => {
  const h = ['X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil'];
  const untrusted = up({ headers: h });
  assert.equal(untrusted.headers.slice(2), ['X-Forwarded-For', '192.0.2.7', 'X-Forwarded-Host', 'example.org', 'X-Forwarded-Proto', 'http']);
  const trusted = up({ headers: h }, { trustForwardedFrom: ['192.0.2.0/24'] });
  assert.equal(trusted.headers.slice(2), ['X-Forwarded-For', '6.6.6.6, 192.0.2.7', 'X-Forwarded-Host', 'evil', 'X-Forwarded-Proto', 'https']);
});

T('C3: RFC 7239 Forwarded, IPv6 quoted in brackets, appended only for trusted peers', () => {
  const u = up({ peer: '2001:db8::7', headers: ['Forwarded', 'for=1.2.3.4'] }, { forwarded: true, forwardedFor: false });
  assert.equal(u.headers.slice(2), ['Forwarded', 'for="[2001:db8::7]";proto=http;host=example.org']);
  const t = up({ peer: '::1', headers: ['Forwarded', 'for=1.2.3.4'] }, { forwarded: true, forwardedFor: false, trustForwardedFrom: ['::1'] });
  assert.equal(t.headers.slice(2), ['Forwarded', 'for=1.2.3.4, for="[::1]";proto=http;host=example.org']);
  assert.is(forwardedElement(fakeRequest({ host: 'h:81', local: '::ffff:10.0.0.1' }), ['by', 'host']), 'by=10.0.0.1;host="h:81"');
});

T('C4: repeated fields keep their order; C6: Host from the member when asked', () => {
  const u = up({ headers: ['X-A', '1', 'Host', 'example.org', 'X-A', '2'] }, { preserveHost: false });
  assert.equal(u.headers.slice(0, 6), ['Host', 'example.org', 'X-A', '1', 'X-A', '2']);
  assert.ok(u.hostFromMember);
  assert.ok(up({ host: '' }).hostFromMember, 'HTTP/1.0 without Host');
  assert.not.ok(up({}).hostFromMember);
});

T('C6: each attempt\'s member Host, whether the field list was read before or after it was set', () => {
  const early = up({ headers: ['X-A', '1'] }, { preserveHost: false });
  early.setHost('10.0.0.1:8080');
  assert.equal(early.headers.slice(0, 4), ['Host', '10.0.0.1:8080', 'X-A', '1']);
  // A retry on another member after a protocol (or a hook) read the list.
  early.setHost('10.0.0.2:8080');
  assert.equal(early.headers.slice(0, 2), ['Host', '10.0.0.2:8080']);
  const replaced = up({});
  replaced.headers = ['Host', 'from-a-hook'];
  replaced.setHost('10.0.0.3');
  assert.equal(replaced.headers, ['Host', '10.0.0.3']);
});

T('B12: CGI-family backends never see a field name with an underscore', () => {
  const u = up({ headers: ['X_Foo', 'a', 'X-Foo', 'b'] }, {}, true);
  assert.equal(u.headers.slice(2, 4), ['X-Foo', 'b']);
});

T('G5/G6: websocket upgrades only when enabled, with a key, without a body; h2c never', () => {
  const ws = { upgrade: 'websocket', headers: ['Connection', 'upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'] };
  assert.is(up(ws, { upgrade: true }).upgrade, 'websocket');
  assert.is(up(ws).upgrade, null, 'not enabled');
  assert.not.ok(up(ws).headers.includes('Upgrade'));
  assert.is(build({ upgrade: 'websocket', headers: ['Connection', 'upgrade', 'Upgrade', 'websocket'] }, { upgrade: true }), 400);
  assert.is(up({ upgrade: 'h2c', headers: ['Connection', 'upgrade', 'Upgrade', 'h2c'] }, { upgrade: true }).upgrade, null);
  assert.is(up({ ...ws, bodyLength: 5 }, { upgrade: true }).upgrade, null);
});

T('origin-form targets', () => {
  assert.is(originFormTarget(fakeRequest({ target: '/a?b' })), '/a?b');
  const abs = fakeRequest({ target: 'http://x.example:8080/p?q' });
  (abs as { head: { pathAndQuery: string } }).head.pathAndQuery = '/p?q';
  assert.is(originFormTarget(abs), '/p?q');
  const rewritten = fakeRequest({ target: '/orig' });
  (rewritten as { target: string }).target = 'http://x.example?q=1';
  assert.is(originFormTarget(rewritten), '/?q=1');
});

T('G7: a rewrite that would split the head is refused', () => {
  const u = up({});
  assert.is(checkUpstreamRequest(u), null);
  u.headers.push('X-Bad', 'a\r\nInjected: 1');
  assert.match(checkUpstreamRequest(u)!, /CR, LF or NUL/);
  const t = up({});
  t.target = '/a b';
  assert.match(checkUpstreamRequest(t)!, /target/);
  const m = up({});
  m.method = 'G(T';
  assert.match(checkUpstreamRequest(m)!, /method/);
});

T.run();

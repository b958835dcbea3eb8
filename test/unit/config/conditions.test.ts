// Tests for config/conditions.ts: every field and operator with lighttpd 1.4.69's semantics,
// CIDR (IPv4/IPv6), $SERVER["socket"] normalisation and regex captures.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateCondition } from '../../../config/conditions.js';
import { parseConditionText } from '../../../config/lighttpd/parser.js';
import type { Condition, ConditionContext } from '../../../config/model.js';

const Conditions = suite('conditions');

function ctx(over: Partial<Omit<ConditionContext, 'header'>> & { headers?: Record<string, string> } = {}): ConditionContext {
  const headers = new Map(Object.entries(over.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    host: 'example.org',
    url: '/index.html',
    querystring: '',
    remoteip: '127.0.0.1',
    scheme: 'http',
    method: 'GET',
    serverSocket: '127.0.0.1:8080',
    ...over,
    header: (name) => headers.get(name.toLowerCase()),
  };
}

function cond(text: string): Condition {
  return parseConditionText(text, { file: 't', line: 1 });
}

function matches(text: string, c: ConditionContext): boolean {
  return evaluateCondition(cond(text), c) !== null;
}

Conditions('host ==, != (value lowercased at load, :port ignored as lighttpd)', () => {
  assert.ok(matches('$HTTP["host"] == "Example.ORG"', ctx()));
  assert.ok(matches('$HTTP["host"] == "example.org"', ctx({ host: 'example.org:8080' })));
  assert.ok(matches('$HTTP["host"] == "example.org:8080"', ctx({ host: 'example.org' })));
  assert.not.ok(matches('$HTTP["host"] == "example.org"', ctx({ host: 'example.org.evil' })));
  assert.not.ok(matches('$HTTP["host"] == "example.org"', ctx({ host: 'example.org:1234567' })));
  assert.not.ok(matches('$HTTP["host"] == "example.org"', ctx({ host: 'www.example.org' })));
  assert.ok(matches('$HTTP["host"] != "other.org"', ctx()));
  assert.not.ok(matches('$HTTP["host"] != "example.org"', ctx()));
});

Conditions('=^ prefix and =$ suffix', () => {
  assert.ok(matches('$HTTP["url"] =^ "/ind"', ctx()));
  assert.not.ok(matches('$HTTP["url"] =^ "/x"', ctx()));
  assert.ok(matches('$HTTP["url"] =$ ".html"', ctx()));
  assert.not.ok(matches('$HTTP["url"] =$ ".php"', ctx()));
  assert.ok(matches('$HTTP["host"] =$ ".org"', ctx()));
  assert.not.ok(matches('$HTTP["url"] =^ "/index.html.long"', ctx()));
});

Conditions('=~ returns %0..%9 (missing groups are ""); !~ matches when the regex does not', () => {
  assert.equal(evaluateCondition(cond('$HTTP["url"] =~ "^/(\\w+)(x)?\\.(html)$"'), ctx()), ['/index.html', 'index', '', 'html']);
  assert.is(evaluateCondition(cond('$HTTP["url"] =~ "^/api"'), ctx()), null);
  assert.equal(evaluateCondition(cond('$HTTP["url"] !~ "^/api"'), ctx()), []);
  assert.is(evaluateCondition(cond('$HTTP["url"] !~ "html$"'), ctx()), null);
  const ten = evaluateCondition(cond('$HTTP["url"] =~ "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)"'), ctx({ url: 'abcdefghijk' }))!;
  assert.is(ten.length, 10);
  assert.is(ten[9], 'i');
});

Conditions('non-regex matches share one frozen empty array; regex captures are fresh', () => {
  const c = cond('$HTTP["url"] =^ "/"');
  const a = evaluateCondition(c, ctx())!;
  assert.is(a, evaluateCondition(c, ctx()));
  assert.ok(Object.isFrozen(a));
  const r = cond('$HTTP["url"] =~ "(.*)"');
  const x = evaluateCondition(r, ctx({ url: '/a' }))!;
  const y = evaluateCondition(r, ctx({ url: '/b' }))!;
  assert.is.not(x, y);
  assert.equal([x[1], y[1]], ['/a', '/b']);
});

Conditions('querystring, scheme, request-method', () => {
  assert.ok(matches('$HTTP["querystring"] =~ "(^|&)debug=1"', ctx({ querystring: 'a=2&debug=1' })));
  assert.ok(matches('$HTTP["query-string"] == ""', ctx()));
  assert.ok(matches('$HTTP["scheme"] == "https"', ctx({ scheme: 'https' })));
  assert.not.ok(matches('$HTTP["scheme"] == "https"', ctx()));
  assert.ok(matches('$HTTP["request-method"] == "POST"', ctx({ method: 'POST' })));
  assert.not.ok(matches('$HTTP["request-method"] == "POST"', ctx()));
});

Conditions('header fields: referer, useragent/user-agent, cookie, language', () => {
  const c = ctx({ headers: { Referer: 'https://a.example/', 'User-Agent': 'curl/8.0', Cookie: 'a=1; b=2', 'Accept-Language': 'de-DE,de' } });
  assert.ok(matches('$HTTP["referer"] =^ "https://a.example"', c));
  assert.ok(matches('$HTTP["useragent"] =~ "^curl/"', c));
  assert.ok(matches('$HTTP["user-agent"] =~ "^curl/"', c));
  assert.ok(matches('$HTTP["cookie"] =~ "(^|; )b=2"', c));
  assert.ok(matches('$HTTP["language"] =^ "de"', c));
  assert.not.ok(matches('$HTTP["language"] =^ "fr"', c));
});

Conditions('$REQUEST_HEADER: name case-insensitive; a missing header compares as ""', () => {
  const c = ctx({ headers: { 'X-Api-Key': 'secret' } });
  assert.ok(matches('$REQUEST_HEADER["x-api-key"] == "secret"', c));
  assert.ok(matches('$REQUEST_HEADER["X-Missing"] == ""', c));
  assert.ok(matches('$REQUEST_HEADER["X-Missing"] != "x"', c));
  assert.not.ok(matches('$REQUEST_HEADER["X-Missing"] =~ "."', c));
  assert.ok(matches('$HTTP["useragent"] == ""', c));
});

Conditions('remoteip IPv4: single address and CIDR, == and !=', () => {
  assert.ok(matches('$HTTP["remoteip"] == "10.0.0.0/8"', ctx({ remoteip: '10.200.3.4' })));
  assert.not.ok(matches('$HTTP["remoteip"] == "10.0.0.0/8"', ctx({ remoteip: '11.0.0.1' })));
  assert.ok(matches('$HTTP["remoteip"] != "10.0.0.0/8"', ctx({ remoteip: '11.0.0.1' })));
  assert.ok(matches('$HTTP["remoteip"] == "172.16.0.0/12"', ctx({ remoteip: '172.31.255.255' })));
  assert.not.ok(matches('$HTTP["remoteip"] == "172.16.0.0/12"', ctx({ remoteip: '172.32.0.0' })));
  assert.ok(matches('$HTTP["remoteip"] == "127.0.0.1"', ctx()));
  assert.not.ok(matches('$HTTP["remoteip"] == "127.0.0.2"', ctx()));
  assert.ok(matches('$HTTP["remoteip"] == "0.0.0.0/0"', ctx({ remoteip: '8.8.8.8' })));
  assert.ok(matches('$HTTP["remoteip"] == "10.0.0.0/8"', ctx({ remoteip: '::ffff:10.1.2.3' })), 'IPv4-mapped peer');
  assert.not.ok(matches('$HTTP["remoteip"] == "10.0.0.0/8"', ctx({ remoteip: 'not-an-ip' })));
});

Conditions('remoteip IPv6: single address, CIDR, brackets, :: forms', () => {
  assert.ok(matches('$HTTP["remoteip"] == "2001:db8::/32"', ctx({ remoteip: '2001:db8:1::5' })));
  assert.not.ok(matches('$HTTP["remoteip"] == "2001:db8::/32"', ctx({ remoteip: '2001:db9::1' })));
  assert.ok(matches('$HTTP["remoteip"] == "::1"', ctx({ remoteip: '0:0:0:0:0:0:0:1' })));
  assert.ok(matches('$HTTP["remoteip"] == "[::1]"', ctx({ remoteip: '[::1]' })));
  assert.ok(matches('$HTTP["remoteip"] == "fe80::/10"', ctx({ remoteip: 'febf::1%eth0' })));
  assert.not.ok(matches('$HTTP["remoteip"] == "fe80::/10"', ctx({ remoteip: 'fec0::1' })));
  assert.ok(matches('$HTTP["remoteip"] != "::1"', ctx({ remoteip: '::2' })));
  assert.not.ok(matches('$HTTP["remoteip"] == "::1"', ctx({ remoteip: '127.0.0.1' })));
});

Conditions('remoteip with =~ and =^ compares the text', () => {
  assert.ok(matches('$HTTP["remoteip"] =~ "^127\\."', ctx()));
  assert.ok(matches('$HTTP["remoteip"] =^ "127.0."', ctx()));
});

Conditions('$SERVER["socket"]: ":port" is any address; wildcards; IPv6 normalised; unix paths', () => {
  assert.ok(matches('$SERVER["socket"] == ":8080"', ctx()));
  assert.ok(matches('$SERVER["socket"] == ":8080"', ctx({ serverSocket: '[::1]:8080' })));
  assert.not.ok(matches('$SERVER["socket"] == ":8081"', ctx()));
  assert.ok(matches('$SERVER["socket"] == "127.0.0.1:8080"', ctx()));
  assert.not.ok(matches('$SERVER["socket"] == "127.0.0.1:8080"', ctx({ serverSocket: '0.0.0.0:8080' })));
  assert.ok(matches('$SERVER["socket"] == "0.0.0.0:8080"', ctx()));
  assert.ok(matches('$SERVER["socket"] == "[::]:8080"', ctx({ serverSocket: '[::1]:8080' })));
  assert.ok(matches('$SERVER["socket"] == "[0:0::1]:443"', ctx({ serverSocket: '[::1]:443' })));
  assert.ok(matches('$SERVER["socket"] == "/run/lantern.sock"', ctx({ serverSocket: '/run/lantern.sock' })));
  assert.not.ok(matches('$SERVER["socket"] == "/run/lantern.sock"', ctx()));
  assert.not.ok(matches('$SERVER["socket"] == ":8080"', ctx({ serverSocket: '/run/lantern.sock' })));
  assert.ok(matches('$SERVER["socket"] == "localhost"', ctx({ serverSocket: 'LOCALHOST:9' })));
  assert.ok(matches('$SERVER["socket"] != ":443"', ctx()));
  assert.ok(matches('$SERVER["socket"] =~ ":80[0-9]0$"', ctx()));
});

Conditions.run();

// Property tests for the CGI environment builder (plugins/proxy-core/cgi-env.ts, RFC 3875 §4.1,
// lighttpd http_cgi_headers()): for any set of client fields, CONTENT_LENGTH is first and always
// there, names with "_" (or anything but letters, digits, "-") are dropped (B12), Proxy never
// becomes HTTP_PROXY (C5), HTTP_* names are [A-Z0-9_], values go through byte for byte, and a
// repeated field is one variable joined with ", " (Cookie "; ") at its first place (C4).
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCgiEnv } from '../../../../plugins/proxy-core/cgi-env.js';
import { fakeRequest } from './fake-request.js';

const CgiEnvProperty = suite('proxy-core/cgi-env.property');

/** RFC 9110 §5.6.2 tchar: what the request parser lets through as a field name. */
const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const randomCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })
  .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
const fieldName = fc.oneof(
  // Names the builder treats specially, in any case.
  { arbitrary: fc.constantFrom('Proxy', 'Host', 'Cookie', 'Content-Type', 'Content-Length', 'Transfer-Encoding', 'Expect', 'Upgrade', 'Accept', 'X-Foo', 'X_Foo', 'X.Foo', 'Proxy-Authorization', 'Proxy_', 'X-9').chain(randomCase), weight: 4 },
  // Alphanumeric-and-dash names (the ones exported), some colliding by case.
  { arbitrary: fc.string({ unit: fc.constantFrom(...'aAbBzZ09-'.split('')), minLength: 1, maxLength: 6 }), weight: 3 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 8 }), weight: 3 },
);
/** Field values as the parser keeps them: latin1 bytes, no CR, LF or NUL; empty now and then. */
const fieldValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((c) => c !== 0 && c !== 10 && c !== 13).map((c) => String.fromCharCode(c)), maxLength: 12 }),
  fc.constantFrom('', 'a', ' spaced  out ', 'caf\xe9', 'caf\xc3\xa9', '\xff\x80', 'a=1', 'x, y'),
);
const headers = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 12 });

const input = fc.record({
  headers,
  bodyLength: fc.oneof(fc.constant(0), fc.nat(10), fc.integer({ min: 0, max: 2 ** 40 })),
  tunnel: fc.constantFrom(undefined, null, 'websocket'),
  /** An absolute-form target: HTTP_HOST is then the authority that won (RFC 9112 §3.2.2). */
  absolute: fc.boolean(),
  scheme: fc.constantFrom('http', 'https'),
});

/** RFC 3875 §4.1.18 + lighttpd, written from the spec and the checklist, not from the code. */
function expectedHttpVars(fields: Array<[string, string]>, tunnel: string | null | undefined, host: string | null) {
  const vars: Array<[string, string]> = [];
  let contentType: string | undefined;
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (value === '') continue; // lighttpd exports no empty field
    if (['proxy', 'expect', 'content-length', 'transfer-encoding'].includes(lower)) continue;
    if (lower === 'content-type') {
      contentType ??= value;
      continue;
    }
    if (lower === 'upgrade' && (tunnel === undefined || tunnel === null)) continue;
    if (!/^[A-Za-z0-9-]+$/.test(name)) continue; // B12
    const key = 'HTTP_' + name.toUpperCase().replace(/-/g, '_');
    const v = lower === 'host' && host !== null ? host : value;
    const at = vars.findIndex(([k]) => k === key);
    if (at < 0) vars.push([key, v]);
    else vars[at]![1] += (lower === 'cookie' ? '; ' : ', ') + v;
  }
  // An absolute-form target without a (non-empty) Host field: its authority is HTTP_HOST, last.
  if (host !== null && !vars.some(([k]) => k === 'HTTP_HOST')) vars.push(['HTTP_HOST', host]);
  return { vars, contentType };
}

function build(i: { headers: Array<[string, string]>; bodyLength: number; tunnel: string | null | undefined; absolute: boolean; scheme: string }, env: Array<[string, string]> = []) {
  const req = fakeRequest({
    headers: i.headers.flat(), bodyLength: i.bodyLength, scheme: i.scheme, env,
    host: 'authority.example', targetScheme: i.absolute ? 'http' : null, target: '/app/x?q=1',
  });
  return buildCgiEnv({ req, method: 'POST', target: '/app/x?q=1', bodyLength: i.bodyLength, upgrade: i.tunnel });
}

CgiEnvProperty('CONTENT_LENGTH is always first: the body length, "0" without one', () => {
  fc.assert(fc.property(input, (i) => {
    const out = build(i);
    assert.equal(out[0], ['CONTENT_LENGTH', i.bodyLength > 0 ? String(i.bodyLength) : '0']);
    assert.is(out.filter(([k]) => k === 'CONTENT_LENGTH').length, 1);
  }), { numRuns: 300 });
});

CgiEnvProperty('HTTP_* are exactly the exported client fields, in order, joined at the first place, values byte for byte', () => {
  fc.assert(fc.property(input, (i) => {
    const out = build(i);
    const { vars, contentType } = expectedHttpVars(i.headers, i.tunnel, i.absolute ? 'authority.example' : null);
    assert.equal(out.filter(([k]) => k.startsWith('HTTP_')), vars);
    const ct = out.filter(([k]) => k === 'CONTENT_TYPE');
    assert.equal(ct, contentType === undefined ? [] : [['CONTENT_TYPE', contentType]]);
    // §4.1.3: CONTENT_TYPE right before the HTTP_* variables, which come last (no req.env here).
    const firstHttp = out.findIndex(([k]) => k.startsWith('HTTP_'));
    if (firstHttp >= 0) assert.ok(out.slice(firstHttp).every(([k]) => k.startsWith('HTTP_')));
    if (contentType !== undefined && firstHttp >= 0) assert.is(out[firstHttp - 1]![0], 'CONTENT_TYPE');
  }), { numRuns: 500 });
});

CgiEnvProperty('every HTTP_* name is upper-case [A-Z0-9_]; no HTTP_PROXY; no field with "_" or "." gets through', () => {
  fc.assert(fc.property(input, (i) => {
    const out = build(i);
    const names = out.map(([k]) => k);
    for (const k of names) if (k.startsWith('HTTP_')) assert.match(k, /^HTTP_[A-Z0-9_]+$/);
    assert.not.ok(names.includes('HTTP_PROXY'), 'C5: httpoxy');
    // B12: a name that only a field with "_" (or another non-alphanumeric) could have made is absent.
    const clean = new Set(i.headers.filter(([n, v]) => v !== '' && /^[A-Za-z0-9-]+$/.test(n)).map(([n]) => n.toUpperCase().replace(/-/g, '_')));
    for (const [n] of i.headers) {
      if (/^[A-Za-z0-9-]+$/.test(n)) continue;
      const mapped = n.toUpperCase().replace(/[^A-Z0-9]/g, '_');
      if (!clean.has(mapped)) assert.not.ok(names.includes('HTTP_' + mapped), `${n} must not become HTTP_${mapped}`);
    }
    // The framing fields are never the client's (§4.1.18).
    for (const k of ['HTTP_CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING', 'HTTP_CONTENT_TYPE', 'HTTP_EXPECT']) assert.not.ok(names.includes(k), k);
  }), { numRuns: 500 });
});

CgiEnvProperty('no name twice, every value latin1, whatever req.env adds (it overrides in place, last wins)', () => {
  const envName = fc.constantFrom('CONTENT_LENGTH', 'SERVER_NAME', 'REMOTE_USER', 'AUTH_TYPE', 'HTTP_ACCEPT', 'APP_MODE', 'X', 'REDIRECT_STATUS', '');
  const envValue = fc.oneof(fc.constantFrom('v', '', 'caf\xc3\xa9', '\u20ac', 'a\u{1F600}'), fc.string({ maxLength: 6 }));
  fc.assert(fc.property(input, fc.array(fc.tuple(envName, envValue), { maxLength: 6 }), (i, env) => {
    const out = build(i, env);
    const names = out.map(([k]) => k);
    assert.is(new Set(names).size, names.length, `duplicate in ${names.join(' ')}`);
    assert.is(names[0], 'CONTENT_LENGTH', 'still first');
    for (const [k, v] of out) for (let c = 0; c < v.length; c++) assert.ok(v.charCodeAt(c) <= 0xff, `${k} is not a byte string`);
    // A req.env name ends with its last value (as bytes: UTF-8 only when beyond latin1).
    const last = new Map(env.filter(([n]) => n !== ''));
    const got = new Map(out);
    for (const [n, v] of last) {
      const bytes = /[^\x00-\xff]/.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v;
      assert.is(got.get(n), bytes, n);
    }
    assert.not.ok(names.includes(''), 'no empty name');
  }), { numRuns: 400 });
});

CgiEnvProperty.run();

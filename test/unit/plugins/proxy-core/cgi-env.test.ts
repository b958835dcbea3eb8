// Unit tests of the RFC 3875 environment builder (plugins/proxy-core/cgi-env.ts; checklist C4, C5, B12).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCgiEnv } from '../../../../plugins/proxy-core/cgi-env.js';
import type { UpstreamRequest } from '../../../../plugins/proxy-core/types.js';
import { fakeRequest } from './fake-request.js';

const T = suite('proxy-core/cgi-env');

function env(o: { target?: string; headers?: string[]; bodyLength?: number; env?: Array<[string, string]> }): Map<string, string> {
  const req = fakeRequest({ target: o.target ?? '/app/x?a=1', env: o.env, path: (o.target ?? '/app/x').split('?')[0] });
  const up: UpstreamRequest = {
    method: 'POST', target: o.target ?? '/app/x?a=1', headers: o.headers ?? [], bodyLength: o.bodyLength ?? 0,
    upgrade: null, env: [], req,
  };
  return new Map(buildCgiEnv(up));
}

T('RFC 3875 §4.1 meta-variables', () => {
  const e = env({ bodyLength: 5, headers: ['Host', 'example.org', 'Content-Type', 'text/plain'] });
  assert.is(e.get('GATEWAY_INTERFACE'), 'CGI/1.1');
  assert.is(e.get('REQUEST_METHOD'), 'POST');
  assert.is(e.get('QUERY_STRING'), 'a=1');
  assert.is(e.get('SCRIPT_NAME'), '/app/x');
  assert.is(e.get('SERVER_PROTOCOL'), 'HTTP/1.1');
  assert.is(e.get('SERVER_NAME'), 'example.org');
  assert.is(e.get('REMOTE_ADDR'), '192.0.2.7');
  assert.is(e.get('CONTENT_LENGTH'), '5');
  assert.is(e.get('CONTENT_TYPE'), 'text/plain');
  assert.is(e.get('HTTP_HOST'), 'example.org');
  assert.not.ok(e.has('HTTP_CONTENT_TYPE'));
});

T('QUERY_STRING is always set; CONTENT_LENGTH only with a body', () => {
  const e = env({ target: '/x' });
  assert.is(e.get('QUERY_STRING'), '');
  assert.not.ok(e.has('CONTENT_LENGTH'));
});

T('C5: Proxy never becomes HTTP_PROXY; B12: names with _ are dropped; C4: repeated fields joined', () => {
  const e = env({ headers: ['Proxy', 'http://evil:8080', 'X_Foo', 'a', 'Cookie', 'a=1', 'Cookie', 'b=2', 'Accept', 'x', 'accept', 'y'] });
  assert.not.ok(e.has('HTTP_PROXY'));
  assert.not.ok(e.has('HTTP_X_FOO'));
  assert.is(e.get('HTTP_COOKIE'), 'a=1; b=2');
  assert.is(e.get('HTTP_ACCEPT'), 'x, y');
});

T('req.env (setenv) comes last and wins', () => {
  const e = env({ env: [['APP_MODE', 'test'], ['SERVER_NAME', 'override']] });
  assert.is(e.get('APP_MODE'), 'test');
  assert.is(e.get('SERVER_NAME'), 'override');
});

T.run();

// Tests for core/http1/request-target.ts: the four request-target forms (RFC 9112 §3.2; checklist B2, B4).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyTarget } from '../../../../core/http1/request-target.js';

const RequestTarget = suite('request-target');

RequestTarget('origin-form', () => {
  assert.equal(classifyTarget('GET', '/a?b'), { pathAndQuery: '/a?b', absoluteHost: null, scheme: null });
});

RequestTarget('absolute-form', () => {
  assert.equal(classifyTarget('GET', 'http://A.example:81/x?y'), { pathAndQuery: '/x?y', absoluteHost: 'a.example:81', scheme: 'http' });
  assert.equal(classifyTarget('GET', 'hTTpS://a.example'), { pathAndQuery: '/', absoluteHost: 'a.example', scheme: 'https' });
  assert.equal(classifyTarget('GET', 'http://a.example#f'), { pathAndQuery: '/#f', absoluteHost: 'a.example', scheme: 'http' });
  for (const bad of ['http://', 'http:///p', 'http://u@a/', 'ws://a/', 'http:/a', 'http//a/', 'http://a b/']) {
    assert.ok('code' in classifyTarget('GET', bad), bad);
  }
});

RequestTarget('authority-form only for CONNECT, with a port', () => {
  assert.equal(classifyTarget('CONNECT', 'a.example:443'), { pathAndQuery: 'a.example:443', absoluteHost: null, scheme: null });
  assert.ok('code' in classifyTarget('CONNECT', 'a.example'));
  assert.ok('code' in classifyTarget('CONNECT', '/'));
  assert.ok('code' in classifyTarget('GET', 'a.example:443'));
});

RequestTarget('asterisk-form only for OPTIONS', () => {
  assert.equal(classifyTarget('OPTIONS', '*'), { pathAndQuery: '*', absoluteHost: null, scheme: null });
  assert.ok('code' in classifyTarget('GET', '*'));
  assert.ok('code' in classifyTarget('OPTIONS', '**'));
});

RequestTarget.run();

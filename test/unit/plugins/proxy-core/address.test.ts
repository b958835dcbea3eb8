// Unit tests of member address parsing (plugins/proxy-core/address.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostFieldFor, parseMemberEntry, tcpKey } from '../../../../plugins/proxy-core/address.js';

const T = suite('proxy-core/address');

T('literal addresses', () => {
  assert.equal(parseMemberEntry('127.0.0.1:8080'), { kind: 'address', address: { kind: 'tcp', host: '127.0.0.1', port: 8080 }, key: '127.0.0.1:8080' });
  assert.equal(parseMemberEntry('[::1]:80'), { kind: 'address', address: { kind: 'tcp', host: '::1', port: 80 }, key: '[::1]:80' });
  assert.equal(parseMemberEntry('unix:/run/app.sock'), { kind: 'address', address: { kind: 'unix', path: '/run/app.sock' }, key: 'unix:/run/app.sock' });
  assert.equal(parseMemberEntry('/run/app.sock'), { kind: 'address', address: { kind: 'unix', path: '/run/app.sock' }, key: 'unix:/run/app.sock' });
});

T('exec: members: a program per request (CGI), or the script itself', () => {
  assert.equal(parseMemberEntry('exec:/usr/bin/perl'), { kind: 'address', address: { kind: 'exec', program: '/usr/bin/perl' }, key: 'exec:/usr/bin/perl' });
  assert.equal(parseMemberEntry('exec:'), { kind: 'address', address: { kind: 'exec', program: '' }, key: 'exec:' });
  for (const text of ['exec:perl', 'exec:./x', 'exec:/a\0b']) {
    const r = parseMemberEntry(text);
    assert.ok('error' in r, text);
    assert.match((r as { error: string }).error, /absolute program path/, text);
  }
  assert.is(hostFieldFor({ kind: 'exec', program: '' }), 'localhost');
});

T('hostnames are lowercased and kept for resolution', () => {
  assert.equal(parseMemberEntry('App.Example.org:9000'), { kind: 'hostname', host: 'app.example.org', port: 9000, key: 'app.example.org:9000' });
  assert.equal(parseMemberEntry('localhost:1'), { kind: 'hostname', host: 'localhost', port: 1, key: 'localhost:1' });
});

T('invalid entries say why', () => {
  const bad: Array<[string, RegExp]> = [
    ['127.0.0.1', /host:port/], ['::1:80', /brackets/], ['[::1]80', /\[v6\]:port/], ['[zz]:80', /IPv6/],
    ['a:0', /port/], ['a:65536', /port/], ['a:-1', /port/], ['a b:80', /host name/], ['unix:', /unix/], [':80', /host:port/],
  ];
  for (const [text, re] of bad) {
    const r = parseMemberEntry(text);
    assert.ok('error' in r, text);
    assert.match((r as { error: string }).error, re, text);
  }
});

T('keys and Host values', () => {
  assert.is(tcpKey('10.0.0.1', 80), '10.0.0.1:80');
  assert.is(tcpKey('fe80::1', 80), '[fe80::1]:80');
  assert.is(hostFieldFor({ kind: 'tcp', host: '::1', port: 81 }), '[::1]:81');
  assert.is(hostFieldFor({ kind: 'unix', path: '/x' }), 'localhost');
});

T.run();

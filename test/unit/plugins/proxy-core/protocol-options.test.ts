// Unit tests of a protocol's option schema check (checkProtocolOptions in plugins/proxy-core/backend.ts):
// lighttpd-style values converted to the schema's type, defaults filled in, bad values refused by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkProtocolOptions } from '../../../../plugins/proxy-core/backend.js';
import type { ProtocolDefinition, ProtocolOptions } from '../../../../plugins/proxy-core/types.js';

const T = suite('proxy-core/protocol options');

const protocol: ProtocolDefinition = {
  name: 'demo', keepAlive: true, streamsUnknownLength: true, usesEnv: false,
  options: {
    database: { type: 'integer', default: 0, min: 0, doc: 'd' },
    fallThrough: { type: 'boolean', default: false, doc: 'f' },
    prefix: { type: 'string', default: '', doc: 'p' },
  },
  createExchange() { throw new Error('not used'); },
};

const check = (o: Record<string, unknown>): ProtocolOptions => {
  const options = { maxResponseHeadBytes: 65536, ...o } as ProtocolOptions;
  checkProtocolOptions(protocol, options);
  return options;
};

T('integers and booleans as lighttpd writes them are converted; defaults are filled in', () => {
  assert.equal(check({ database: '2', fallThrough: 'enable' }), { maxResponseHeadBytes: 65536, database: 2, fallThrough: true, prefix: '' });
  assert.equal(check({ fallThrough: 'disable' }).fallThrough, false);
  assert.equal(check({ fallThrough: 1 }).fallThrough, true);
  assert.equal(check({ database: 3 }).database, 3);
});

T('values that are not of the type, out of range or unknown are refused by name', () => {
  assert.throws(() => check({ database: 'two' }), /option "database": expected an integer >= 0, got "two"/);
  assert.throws(() => check({ database: '-1' }), /option "database": expected an integer >= 0, got -1/);
  assert.throws(() => check({ fallThrough: 'maybe' }), /option "fallThrough": expected true or false, got "maybe"/);
  assert.throws(() => check({ prefix: 5 }), /option "prefix": expected a string, got 5/);
  assert.throws(() => check({ nope: 1 }), /protocol "demo" has no option "nope" \(its options: database, fallThrough, prefix\)/);
});

T.run();

// Unit tests of the uwsgi packet (plugins/proxy-backend-scgi/uwsgi-packet.ts): exact header and
// little-endian lengths, the 64 KiB limits, and the decoder.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeUwsgiPacket, encodeUwsgiPacket } from '../../../../plugins/proxy-backend-scgi/uwsgi-packet.js';

const T = suite('proxy-backend-scgi/uwsgi-packet');

T('small env: 4-byte header (modifier1 0, datasize LE, modifier2 0) and LE var lengths, exact bytes', () => {
  const packet = encodeUwsgiPacket([['CONTENT_LENGTH', '0'], ['PATH_INFO', '/a']]);
  // vars: (2+14) + (2+1) + (2+9) + (2+2) = 34 bytes
  assert.equal(
    packet,
    Buffer.concat([
      Buffer.from([0x00, 34, 0x00, 0x00]),
      Buffer.from([14, 0]), Buffer.from('CONTENT_LENGTH'), Buffer.from([1, 0]), Buffer.from('0'),
      Buffer.from([9, 0]), Buffer.from('PATH_INFO'), Buffer.from([2, 0]), Buffer.from('/a'),
    ]),
  );
});

T('lengths above 255 use both bytes, low byte first', () => {
  const value = 'v'.repeat(0x1234);
  const packet = encodeUwsgiPacket([['K', value]]);
  const dataSize = 2 + 1 + 2 + 0x1234;
  assert.equal([...packet.subarray(0, 4)], [0, dataSize & 0xff, dataSize >> 8, 0]);
  assert.equal([...packet.subarray(4, 7)], [1, 0, 0x4b]);
  assert.equal([...packet.subarray(7, 9)], [0x34, 0x12]);
  assert.is(packet.length, 4 + dataSize);
});

T('repeated names are sent once (first wins); latin1 bytes kept', () => {
  const packet = encodeUwsgiPacket([['A', '\xe9'], ['A', 'x']]);
  assert.equal([...packet], [0, 6, 0, 0, 1, 0, 0x41, 1, 0, 0xe9]);
});

T('exactly 65535 bytes of vars fit; one more throws "uwsgi: environment larger than 64 KiB"', () => {
  const fit = 'v'.repeat(0xffff - 4 - 1);
  assert.is(encodeUwsgiPacket([['K', fit]]).length, 4 + 0xffff);
  assert.throws(() => encodeUwsgiPacket([['K', fit + 'v']]), /^uwsgi: environment larger than 64 KiB/);
  const half = 'v'.repeat(40000);
  assert.throws(() => encodeUwsgiPacket([['A', half], ['B', half]]), /^uwsgi: environment larger than 64 KiB/);
});

T('a single value over 65535 bytes throws', () => {
  assert.throws(() => encodeUwsgiPacket([['K', 'v'.repeat(0x10000)]]), /uwsgi: environment variable K larger than 64 KiB/);
});

T('decoder: round trip with modifiers, consumed, incomplete at every cut, overrun throws', () => {
  const env: Array<[string, string]> = [['CONTENT_LENGTH', '2'], ['QUERY_STRING', ''], ['HTTP_HOST', 'h']];
  const packet = encodeUwsgiPacket(env, 5, 7);
  const d = decodeUwsgiPacket(Buffer.concat([packet, Buffer.from('ab')]))!;
  assert.equal(d, { modifier1: 5, modifier2: 7, env, consumed: packet.length });
  for (let i = 0; i < packet.length; i++) assert.is(decodeUwsgiPacket(packet.subarray(0, i)), null, `cut at ${i}`);
  assert.equal(decodeUwsgiPacket(Buffer.from([0, 0, 0, 0])), { modifier1: 0, modifier2: 0, env: [], consumed: 4 });
  assert.throws(() => decodeUwsgiPacket(Buffer.from([0, 3, 0, 0, 5, 0, 0x41])), /past datasize/);
  assert.throws(() => decodeUwsgiPacket(Buffer.from([0, 1, 0, 0, 5])), /past datasize/);
});

T.run();

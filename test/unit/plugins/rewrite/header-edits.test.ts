// Unit tests of plugins/rewrite/header-edits.ts: the { set, add, remove } form checked at load
// (CR, LF, NUL, bad names, framing fields, unknown operations) and applied remove → set → add.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigHash } from '../../../../config/model.js';
import { applyHeaderEdits, compileHeaderEdits, type HeaderEdits } from '../../../../plugins/rewrite/header-edits.js';

const T = suite('rewrite/header-edits');

const H = (entries: Array<[string, unknown]>) => new ConfigHash(entries as Array<[string, never]>);

function edits(entries: Array<[string, unknown]>): HeaderEdits {
  const r = compileHeaderEdits(H(entries));
  if (typeof r === 'string') throw new Error(r);
  return r;
}

T('remove, then set (every line replaced; empty removes), then add', () => {
  const e = edits([
    ['remove', ['x-drop', 'X-Gone']],
    ['set', H([['User-Agent', 'set-agent'], ['X-Empty', '']])],
    ['add', H([['X-Multi', 'two']])],
  ]);
  const out = applyHeaderEdits(['Host', 'a', 'X-Drop', '1', 'User-Agent', 'one', 'user-agent', 'two', 'X-Multi', 'one', 'X-Empty', 'e'], e);
  assert.equal(out, ['Host', 'a', 'X-Multi', 'one', 'User-Agent', 'set-agent', 'X-Multi', 'two']);
});

T('refused: CR, LF, NUL, control bytes, bad names, framing fields, unknown operations, wrong shapes', () => {
  const bad: Array<[Array<[string, unknown]>, RegExp]> = [
    [[['set', H([['X-A', 'a\r\nB: c']])]], /holds CR/],
    [[['add', H([['X-A', 'a\nb']])]], /holds LF/],
    [[['set', H([['X-A', 'a\u0000']])]], /holds NUL/],
    [[['set', H([['X-A', 'a\u0007']])]], /0x7/],
    [[['set', H([['Bad Name', 'x']])]], /not a valid header field name/],
    [[['remove', ['Bad Name']]], /not a valid header field name/],
    [[['set', H([['Content-Length', '1']])]], /frames the message/],
    [[['remove', ['transfer-encoding']]], /frames the message/],
    [[['replace', H([])]], /unknown operation "replace"/],
    [[['set', 'X-A: b']], /must be/],
    [[['set', H([['X-A', 5]])]], /must be a string/],
  ];
  for (const [entries, re] of bad) {
    const r = compileHeaderEdits(H(entries));
    assert.type(r, 'string', JSON.stringify(entries));
    assert.match(r as string, re);
  }
  assert.type(compileHeaderEdits('x'), 'string');
});

T.run();

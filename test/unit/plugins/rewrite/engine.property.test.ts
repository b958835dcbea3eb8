// Property tests of the rewrite engine (plugins/rewrite): for any byte string a capture holds,
// the encoding substitutions give only unreserved characters (plus "/" for ${n}) and %XX escapes,
// so a rewritten target or Location built from them is always valid (G7); ${encb64u:} and
// ${decb64u:} round-trip; and the pattern check always answers (never throws) for any input.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPattern } from '../../../../plugins/rewrite/pattern.js';
import { badFieldValue, badTarget } from '../../../../plugins/rewrite/rule-list.js';
import { parseTemplate, substitute, type UrlParts } from '../../../../plugins/rewrite/substitute.js';

const T = suite('rewrite/engine.property');
const URL: UrlParts = { scheme: 'http', authority: 'a.test', port: 80, target: '/', query: null };
const bytes = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });

function run(template: string, capture: string): string {
  const m = Object.assign([capture, capture], { index: 0, input: capture }) as unknown as RegExpExecArray;
  return substitute(parseTemplate(template), m, [], URL);
}

T('${n}, ${esc:n}, ${escnde:n} and ${encb64u:n} of any bytes make a valid target and field value', () => {
  fc.assert(fc.property(bytes, (s) => {
    for (const t of ['/x/${1}', '/x/${esc:1}', '/x/${escnde:1}', '/x/${encb64u:1}', '/x/${tolower:esc:1}']) {
      const out = run(t, s);
      assert.is(badTarget(out), undefined, `${t} of ${JSON.stringify(s)} gave ${JSON.stringify(out)}`);
      assert.is(badFieldValue(out), undefined);
      assert.ok(/^[A-Za-z0-9._~\/%-]*$/.test(out), out);
    }
  }), { numRuns: 300 });
});

T('${decb64u:} undoes ${encb64u:}', () => {
  fc.assert(fc.property(bytes, (s) => {
    const enc = run('${encb64u:1}', s);
    assert.is(run('${decb64u:1}', enc), s);
  }), { numRuns: 300 });
});

T('the pattern check answers for any text', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'()[]{}|*+?\\^$.,:<>=!/aPQ1-'.split('')), maxLength: 16 }), (p) => {
    const r = checkPattern(p);
    assert.ok(r === undefined || typeof r === 'string');
    if (r === undefined) new RegExp(p); // accepted patterns compile
  }), { numRuns: 500 });
});

T.run();

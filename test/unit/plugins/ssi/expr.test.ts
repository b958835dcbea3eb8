// Unit tests of plugins/ssi/expr.ts: lighttpd's <!--#if expr --> language.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateExpr } from '../../../../plugins/ssi/expr.js';

const T = suite('ssi/expr');
const VARS: Record<string, string> = { A: 'apple', B: 'banana', EMPTY: '', N1: '1', X_2: 'x2' };
const lookup = (n: string) => VARS[n] ?? '';
const ev = (e: string) => {
  const r = evaluateExpr(e, lookup);
  if (!r.ok) throw new Error(`${e}: ${r.error}`);
  return r.value;
};
const bad = (e: string) => !evaluateExpr(e, lookup).ok;

T('a string is true when not empty; variables $X and ${X}', () => {
  assert.is(ev('$A'), true);
  assert.is(ev('$EMPTY'), false);
  assert.is(ev('$UNSET'), false);
  assert.is(ev('${A}'), true);
  assert.is(ev("''"), false);
  assert.is(ev('word'), true);
  assert.is(ev('$X_2 = x2'), true);
});

T('comparisons are byte-wise string comparisons', () => {
  assert.is(ev('$A = apple'), true);
  assert.is(ev("$A = 'apple'"), true);
  assert.is(ev('$A == apple'), true, '== is accepted as =');
  assert.is(ev('$A != apple'), false);
  assert.is(ev('$A < $B'), true);
  assert.is(ev('$B <= $A'), false);
  assert.is(ev('$B > $A'), true);
  assert.is(ev('$A >= apple'), true);
  assert.is(ev('10 < 9'), true, 'strings, not numbers (strcmp)');
});

T('adjacent values join with one space; quotes keep spaces and $ literally', () => {
  assert.is(ev("$A pie = 'apple pie'"), true);
  assert.is(ev("'$A' = '$A'"), true);
  assert.is(ev("'$A' = $A"), false);
  assert.is(ev("$EMPTY $A = apple"), true, 'an empty value adds no space');
});

T('!, parentheses, && and || (left to right, equal precedence, as lighttpd)', () => {
  assert.is(ev('!$A'), false);
  assert.is(ev('!$EMPTY'), true);
  assert.is(ev('!($A = pear)'), true);
  assert.is(ev('$A = apple && $B = banana'), true);
  assert.is(ev('$A = apple && $B = pear'), false);
  assert.is(ev('$A = pear || $B = banana'), true);
  assert.is(ev('(($A = apple) && ($B = banana)) || $EMPTY'), true);
  // (true || false) && false = false; C precedence would give true.
  assert.is(ev('$N1 || $EMPTY && $EMPTY'), false);
  assert.is(ev('$N1 || ($EMPTY && $EMPTY)'), true);
});

T('syntax errors are reported, not thrown', () => {
  for (const e of ['', '$A = ', '($A', '$A)', "'open", '${A', '$A & $B', '$A | $B', '= x', '$A = b = c', '&&']) assert.ok(bad(e), e);
});

T('deep nesting is refused instead of exhausting the stack', () => {
  assert.ok(bad('('.repeat(10_000) + 'x' + ')'.repeat(10_000)));
  assert.ok(bad('!'.repeat(10_000) + 'x'));
  assert.is(ev('((((x))))'), true);
});

T.run();

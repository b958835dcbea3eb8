// Regular expressions of rewrite rules: lighttpd 1.4.69 compiles them with PCRE2 (keyvalue.c
// pcre_keyvalue_buffer_append); lantern uses JavaScript RegExp, which reads the common subset
// the same way. This module refuses at config load what JS would read differently or not at all,
// and patterns that backtrack catastrophically (checklist G7: matching must not stall the loop).

/** Longest subject a rule is matched against (nginx's large_client_header_buffers is 8 KiB). */
export const MAX_SUBJECT_LENGTH = 8192;

/** lighttpd refuses a rule with more than 19 capturing groups ("use (?:...) instead"). */
const MAX_GROUPS = 19;

/**
 * PCRE escapes that JS (without the u flag) would silently read as a plain letter: `\A`, `\z`,
 * `\Q..\E`, `\h`, `\R`, `\K`, `\G`, `\X`, `\C`, `\N`, `\p{..}`, `\e`... each would change what
 * the rule matches without a word.
 */
const PCRE_ONLY_ESCAPES = new Set(['A', 'Z', 'z', 'G', 'Q', 'E', 'K', 'R', 'h', 'H', 'V', 'X', 'C', 'N', 'p', 'P', 'e', 'a', 'g', 'o', 'L', 'l', 'U']);

/** One group while scanning: does it hold a quantified atom, alternation, its branches. */
interface GroupScan {
  /** The unbounded-repeated atoms inside it (nested groups' too), as written. */
  inner: string[];
  branches: string[];
  start: number;
  branchStart: number;
}

/** Is the text at `i` an unbounded quantifier (`*`, `+`, `{n,}`)? Returns its length, else 0. */
function unboundedQuantifierAt(p: string, i: number): number {
  const c = p[i];
  if (c === '*' || c === '+') return 1;
  if (c === '{') {
    const m = /^\{\d*,\}/.exec(p.slice(i));
    if (m) return m[0].length;
  }
  return 0;
}

function anyQuantifierAt(p: string, i: number): number {
  const c = p[i];
  if (c === '*' || c === '+' || c === '?') return 1;
  if (c === '{') {
    const m = /^\{\d+(,\d*)?\}/.exec(p.slice(i));
    if (m) return m[0].length;
  }
  return 0;
}

/**
 * Why a pattern is refused, or undefined. Checks: PCRE-only syntax (possessive quantifiers,
 * atomic groups, inline option settings, the escapes above), nested unbounded quantifiers
 * (`(a+)+`, `(a*)*`, `(\w+\s?)*`), an unbounded group whose alternatives are equal (`(a|a)*`),
 * more than 19 groups, and finally what JS cannot compile.
 */
export function checkPattern(p: string): string | undefined {
  const stack: GroupScan[] = [];
  let groups = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) return 'the pattern ends with a lone backslash';
      if (PCRE_ONLY_ESCAPES.has(n)) return `\\${n} is PCRE syntax that JavaScript reads differently; rewrite the pattern without it`;
      i++;
      if (afterAtom(p, i + 1, stack, p.slice(i - 1, i + 1)) === null) return possessive();
      continue;
    }
    if (c === '[') {
      // A character class: skip to its closing bracket (a leading ] or ^] is literal).
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      for (; j < p.length && p[j] !== ']'; j++) if (p[j] === '\\') j++;
      if (j >= p.length) break; // let the compiler report it
      const atom = p.slice(i, j + 1);
      i = j;
      if (afterAtom(p, i + 1, stack, atom) === null) return possessive();
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        const n = p[i + 2];
        if (n === '>') return 'atomic groups (?>...) are PCRE syntax JavaScript does not have';
        if (n === 'P') return 'named groups (?P<name>...) are PCRE syntax: write (?<name>...)';
        if (n !== ':' && n !== '=' && n !== '!' && n !== '<') return `inline options (?${n ?? ''}...) are PCRE syntax JavaScript does not have`;
        if (n === '<' && p[i + 3] !== '=' && p[i + 3] !== '!') groups++;
      } else {
        groups++;
      }
      stack.push({ inner: [], branches: [], start: i, branchStart: i + 1 });
      continue;
    }
    if (c === '|') {
      const g = stack[stack.length - 1];
      if (g) { g.branches.push(p.slice(g.branchStart, i)); g.branchStart = i + 1; }
      continue;
    }
    if (c === ')') {
      const g = stack.pop();
      if (!g) break; // unbalanced: the compiler says so
      g.branches.push(p.slice(g.branchStart, i));
      const unbounded = unboundedQuantifierAt(p, i + 1) > 0;
      if (unbounded && g.inner.length > 0 && !(g.branches.length === 1 && delimited(g.branches[0]!, g.inner))) return `nested unbounded quantifiers at "${p.slice(g.start, i + 2)}" backtrack catastrophically; make the inner or outer repetition bounded`;
      if (unbounded && new Set(g.branches).size < g.branches.length) return `a repeated group with equal alternatives at "${p.slice(g.start, i + 2)}" backtracks catastrophically`;
      if (afterAtom(p, i + 1, stack, p.slice(g.start, i + 1)) === null) return possessive();
      // The group's own contents count for the enclosing group too.
      const parent = stack[stack.length - 1];
      if (parent) parent.inner.push(...g.inner);
      continue;
    }
    if (anyQuantifierAt(p, i) > 0) {
      // A quantifier not right after an atom: the compiler decides ("nothing to repeat").
      continue;
    }
    if (afterAtom(p, i + 1, stack, c) === null) return possessive();
  }
  if (groups > MAX_GROUPS) return `more than ${MAX_GROUPS} capturing groups (lighttpd's limit): use (?:...) for the ones not substituted`;
  try {
    new RegExp(p);
  } catch (err) {
    return `not a valid regular expression here: ${(err as Error).message}`;
  }
  return undefined;
}

function possessive(): string {
  return 'possessive quantifiers (a++, a*+, a?+) are PCRE syntax JavaScript does not have';
}

/**
 * After an atom ending before `i`: is it quantified (unbounded → the enclosing group now holds a
 * repetition)? null for a possessive quantifier. Skips nothing: the caller's loop sees the
 * quantifier as a quantifier.
 */
function afterAtom(p: string, i: number, stack: GroupScan[], atom: string): boolean | null {
  const len = anyQuantifierAt(p, i);
  if (len === 0) return false;
  if (p[i + len] === '+') return null;
  if (unboundedQuantifierAt(p, i) > 0) {
    const g = stack[stack.length - 1];
    if (g) g.inner.push(atom);
    return true;
  }
  return false;
}

/**
 * A repeated group whose body ends with a literal delimiter that none of its inner repetitions
 * can match (`(?:[^/]+/)*`, `(\w+\.)+`) splits its input one way only: no catastrophic
 * backtracking. `body` is the group's text after "(" (and "?:" or "?<name>").
 */
function delimited(body: string, inner: readonly string[]): boolean {
  const text = body.replace(/^\?(:|<[A-Za-z_$][\w$]*>)/, '');
  if (text.length < 2) return false;
  const last = text[text.length - 1]!;
  let slashes = 0;
  for (let k = text.length - 2; k >= 0 && text[k] === '\\'; k--) slashes++;
  const escaped = slashes % 2 === 1;
  if (escaped ? /[A-Za-z0-9]/.test(last) : /[\])}*+?.|^$]/.test(last)) return false;
  return inner.every((atom) => excludes(atom, last));
}

/** Can the atom (a char, an escape, a class) never match `c`? Unknown atoms: false. */
function excludes(atom: string, c: string): boolean {
  if (atom.length === 1) return atom !== '.' && atom !== c;
  if (atom.length === 2 && atom[0] === '\\') {
    const e = atom[1]!;
    const shorthand: Record<string, RegExp> = { w: /\w/, W: /\W/, d: /\d/, D: /\D/, s: /\s/, S: /\S/ };
    const re = shorthand[e];
    if (re) return !re.test(c);
    return /[A-Za-z0-9]/.test(e) ? false : e !== c;
  }
  if (atom[0] === '[') {
    try {
      return !new RegExp(atom).test(c);
    } catch {
      return false;
    }
  }
  return false;
}

/** Compile a checked pattern. `bytes`: the subject is a byte string (latin1), so is the pattern. */
export function compilePattern(p: string, bytes: boolean): RegExp {
  return new RegExp(bytes ? utf8Bytes(p) : p);
}

/** A Unicode config string as the byte string of its UTF-8 encoding (what is on the wire). */
export function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

// Pathname expansion for `include "conf.d/*.conf"`, as lighttpd 1.4.69 does it with glob(3)
// and GLOB_BRACE (POSIX.1-2017 XCU §2.13): `*`, `?`, `[...]`/`[!...]` per path segment,
// `{a,b}` alternatives, no match for a leading `.` unless written, results sorted per pattern.
// (Node 20 has no fs.glob.)
import fs from 'node:fs';
import path from 'node:path';

const META_RE = /[*?[\]{}]/;

/** lighttpd's test: a pattern with any of `*?[]{}` is a glob; no match is then not an error. */
export function isGlobPattern(p: string): boolean {
  return META_RE.test(p);
}

/** `a{b,c{d,e}}f` → [abf, acdf, acef]; an unbalanced brace is literal. */
export function expandBraces(p: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') { i++; continue; }
    if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const parts: string[] = [];
      let d = 0;
      let start = open + 1;
      for (let j = open + 1; j < i; j++) {
        if (p[j] === '\\') { j++; continue; }
        if (p[j] === '{') d++;
        else if (p[j] === '}') d--;
        else if (p[j] === ',' && d === 0) { parts.push(p.slice(start, j)); start = j + 1; }
      }
      parts.push(p.slice(start, i));
      const head = p.slice(0, open);
      const tail = p.slice(i + 1);
      return parts.flatMap((part) => expandBraces(head + part + tail));
    }
  }
  return [p];
}

/** One path segment's pattern → RegExp. */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '\\' && i + 1 < seg.length) {
      re += seg[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      // A `]` right after `[` or `[!` is a member, not the end (POSIX); JS needs it escaped.
      re += '[' + body.replace(/\\/g, '\\\\').replace(/^(\^?)\]/, '$1\\]') + ']';
      i = close;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Expand one brace-free absolute pattern. */
function expandOne(pattern: string): string[] {
  const root = path.parse(pattern).root;
  const segments = pattern.slice(root.length).split(/[\\/]+/).filter((s) => s !== '');
  let found = [root];
  for (const seg of segments) {
    const next: string[] = [];
    if (!isGlobPattern(seg)) {
      const literal = seg.replace(/\\(.)/g, '$1');
      for (const dir of found) next.push(path.join(dir, literal));
    } else {
      const re = segmentRegex(seg);
      const dotOk = seg.startsWith('.');
      for (const dir of found) {
        for (const name of listDir(dir)) {
          if (name.startsWith('.') && !dotOk) continue;
          if (re.test(name)) next.push(path.join(dir, name));
        }
      }
    }
    found = next;
    if (found.length === 0) break;
  }
  return found.filter((f) => fs.existsSync(f));
}

/** All existing paths an absolute pattern names, in glob(3) order. */
export function expandGlob(absPattern: string): string[] {
  return expandBraces(absPattern).flatMap(expandOne);
}

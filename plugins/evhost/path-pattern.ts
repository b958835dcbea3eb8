// evhost.path-pattern: parsing the pattern at startup and filling it from a request's host
// (lighttpd 1.4.69 mod_evhost.c). %% is '%', %_ the whole host, %0 the domain and TLD, %1..%9 the
// host's labels counted from the right, %{n} the same as %n, %{n.m} the m-th character of %n.
import { hostWithoutPort } from '../../core/http1/authority.js';

/** One piece of a parsed pattern: literal text, or a reference to fill in. */
export type PatternPiece =
  | { kind: 'text'; text: string }
  | { kind: 'percent' }
  | { kind: 'host' }
  /** %n or %{n} (char 0), %{n.m} (char m, 1-based; 0 = the whole part). */
  | { kind: 'part'; index: number; char: number };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * Splits a pattern into pieces, or returns an error message for a '%' that is not followed by
 * '%', '_', a digit, `{d}` or `{d.d}` (lighttpd refuses to start then). Digits are single, as in
 * lighttpd: `%10` is %1 followed by "0".
 */
export function parsePathPattern(pattern: string): PatternPiece[] | string {
  const pieces: PatternPiece[] = [];
  let text = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '%') { text += c; continue; }
    const next = pattern[i + 1];
    let piece: PatternPiece;
    if (next === '%') {
      piece = { kind: 'percent' };
      i += 1;
    } else if (next === '_') {
      piece = { kind: 'host' };
      i += 1;
    } else if (isDigit(next)) {
      piece = { kind: 'part', index: Number(next), char: 0 };
      i += 1;
    } else if (next === '{') {
      const n = pattern[i + 2];
      if (!isDigit(n)) return `"%{" at offset ${i} must be followed by a digit`;
      if (pattern[i + 3] === '}') {
        piece = { kind: 'part', index: Number(n), char: 0 };
        i += 3;
      } else if (pattern[i + 3] === '.' && isDigit(pattern[i + 4]) && pattern[i + 5] === '}') {
        piece = { kind: 'part', index: Number(n), char: Number(pattern[i + 4]) };
        i += 5;
      } else {
        return `"%{" at offset ${i} must be "%{n}" or "%{n.m}" with single digits`;
      }
    } else {
      return `"%" at offset ${i} must be followed by "%", "_", a digit or "{"`;
    }
    if (text !== '') pieces.push({ kind: 'text', text });
    text = '';
    pieces.push(piece);
  }
  if (text !== '') pieces.push({ kind: 'text', text });
  return pieces;
}

/**
 * The parts of a host (port stripped), indexed as the pattern names them: [0] the last two
 * labels ("example.org" of "www.example.org"; the whole host when it has one label), [1] the
 * last label, [2] the one before it, and so on. An IPv6 literal has only [0], with its brackets.
 */
export function hostParts(authority: string): string[] {
  const host = hostWithoutPort(authority);
  if (host.charCodeAt(0) === 0x5b /* [ */) return [host];
  // lighttpd skips empty labels; the core refuses them anyway (no "a..b", no leading dot).
  const labels = host.split('.').filter((l) => l !== '');
  if (labels.length === 0) return [''];
  const parts = [labels.slice(-2).join('.')];
  for (let i = labels.length - 1; i >= 0; i--) parts.push(labels[i]!);
  return parts;
}

/** The document root a pattern gives for a host: the pieces filled in, ending in '/'. */
export function fillPathPattern(pieces: readonly PatternPiece[], authority: string): string {
  const parts = hostParts(authority);
  let out = '';
  for (const p of pieces) {
    switch (p.kind) {
      case 'text': out += p.text; break;
      case 'percent': out += '%'; break;
      case 'host': out += hostWithoutPort(authority); break;
      case 'part': {
        // A part the host does not have adds nothing (lighttpd: "unhandled %-sequence").
        const value = parts[p.index];
        if (value === undefined) break;
        if (p.char === 0) out += value;
        else if (p.char <= value.length) out += value[p.char - 1];
        break;
      }
    }
  }
  return out.endsWith('/') ? out : out + '/';
}

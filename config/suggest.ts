// "Did you mean ...?" for a misspelt module name or config key: the closest known name by
// edit distance (Damerau-Levenshtein, optimal string alignment: a swapped pair of letters is
// one edit, the commonest typo), case-insensitive.

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows: the one before the previous is needed for swaps.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word`, or null when none is close enough to be a typo: at most
 * one edit for words of up to 4 letters, two up to 8, three beyond (more would turn lighttpd's
 * `connection.kbytes-per-second` into `server.kbytes-per-second`, another key). On a tie the
 * first candidate wins (callers list the likelier ones first).
 */
export function closestName(word: string, candidates: Iterable<string>): string | null {
  const w = word.toLowerCase();
  const limit = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance && d > 0) { best = c; bestDistance = d; }
    // The same name in another case is the closest there is.
    if (d === 0 && c !== word) return c;
  }
  return best;
}

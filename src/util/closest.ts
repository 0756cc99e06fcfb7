/** "Did you mean …": how far apart two words are, and the nearest of some candidates to a mistyped one. */

/** The edit distance between two strings (insertions, deletions and substitutions of one character). */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate nearest to `wrong` (case-insensitively), when it is near enough to be what was
 * meant: a third of the word's length apart at most (at least 2), or starting with it. Undefined otherwise.
 */
export function closest(wrong: string, candidates: readonly string[]): string | undefined {
  const w = wrong.toLowerCase();
  const near = Math.max(2, Math.floor(w.length / 3));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let d = levenshtein(w, lc);
    if (w.length >= 3 && lc.startsWith(w)) d = Math.min(d, 1);
    if (d <= near && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/**
 * Up to `max` of the candidates near enough to `wrong` (by the rule of `closest`), nearest first;
 * a candidate is also compared by its last part (`department` for `urn:…:User:department`).
 */
export function nearest(wrong: string, candidates: readonly string[], max = 3): string[] {
  const w = wrong.toLowerCase();
  const last = (s: string) => /[^:]*$/.exec(s)?.[0] ?? s;
  const near = Math.max(2, Math.floor(last(w).length / 3));
  const scored: Array<{ c: string; d: number }> = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    let d = Math.min(levenshtein(w, lc), levenshtein(last(w), last(lc)));
    if (w.length >= 3 && lc.startsWith(w)) d = Math.min(d, 1);
    if (d <= near) scored.push({ c, d });
  }
  return scored
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((s) => s.c);
}

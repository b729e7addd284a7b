/**
 * The command palette's filter: a query matches a text when its characters appear in it in order
 * (case and accents aside), and a match scores higher the more of it runs together and starts words.
 *
 * @example
 *   fuzzyFilter('apr', items, (i) => i.label) // "Approvals" before "Agent prices report"
 */

/** Lower case without accents, so "é" is found by "e". */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** How well `query` matches `text` (higher is better), or null when it does not. */
export function fuzzyScore(query: string, text: string): number | null {
  const q = fold(query.replace(/\s+/g, ''));
  if (q === '') return 0;
  const t = fold(text);
  let score = 0;
  let from = 0;
  let last = -2;
  for (const ch of q) {
    const at = t.indexOf(ch, from);
    if (at < 0) return null;
    // A run of adjacent letters and a letter that starts a word count most; a gap costs a little.
    if (at === last + 1) score += 3;
    if (at === 0 || /[\s\-_./@]/.test(t[at - 1] ?? '')) score += 2;
    score -= Math.min(at - from, 5) * 0.1;
    last = at;
    from = at + 1;
  }
  // The query as one piece counts most (at the start, more); among equal matches the shorter text wins.
  const whole = t.indexOf(q);
  if (whole === 0) score += 20;
  else if (whole > 0) score += 10;
  return score - t.length * 0.01;
}

/** The items `query` matches, best first (ties keep their order). */
export function fuzzyFilter<T>(query: string, items: readonly T[], text: (item: T) => string): T[] {
  return items
    .map((item, i) => ({ item, i, score: fuzzyScore(query, text(item)) }))
    .filter((m): m is { item: T; i: number; score: number } => m.score !== null)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((m) => m.item);
}

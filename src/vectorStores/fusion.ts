/**
 * Reciprocal-rank fusion (Cormack et al., 2009): every ranked list (one per query, keyword and vector) gives
 * an item 1/(k + rank); the sum orders the fused list. k = 60 as in the paper.
 *
 * Scores are divided by what an item first in `listsPerQuery` lists earns (one query's keyword and vector
 * lists), and capped at 1: the best match of any one query scores 1 whether or not other queries found it,
 * and the scores lie in 0..1.
 */
export const RRF_K = 60;

export function fuseRankings(lists: string[][], listsPerQuery = 1, k = RRF_K): Array<{ id: string; score: number }> {
  const sums = new Map<string, number>();
  for (const list of lists) {
    list.forEach((id, index) => sums.set(id, (sums.get(id) ?? 0) + 1 / (k + index + 1)));
  }
  const best = listsPerQuery / (k + 1);
  return [...sums.entries()]
    .map(([id, sum]) => ({ id, score: Math.min(1, sum / best) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

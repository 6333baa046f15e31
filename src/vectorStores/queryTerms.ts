/**
 * The words of a search query as keyword-index terms. Only runs of letters and digits survive, so no
 * punctuation a user types (quotes, `*`, `:`, `NEAR`, `!`, `&`…) can reach FTS5's or PostgreSQL's query
 * syntax; terms are OR-ed, and the rankers (bm25, ts_rank_cd) put chunks matching more of them first.
 */
const MAX_TERMS = 64;

export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_TERMS);
}

/** FTS5: each term a quoted string (no quotes can occur inside one), OR-ed. Empty: nothing to match. */
export function ftsMatchExpression(terms: string[]): string {
  return terms.map((term) => `"${term}"`).join(' OR ');
}

/** PostgreSQL `to_tsquery` input: plain words OR-ed (stop words are dropped by to_tsquery itself). */
export function tsQueryExpression(terms: string[]): string {
  return terms.join(' | ');
}

/**
 * The words of a search query as keyword-index terms. Only runs of letters and digits survive, so no
 * punctuation a user types (quotes, `*`, `:`, `NEAR`, `!`, `&`…) can reach FTS5's or PostgreSQL's query
 * syntax; terms are OR-ed, and the rankers (bm25, ts_rank_cd) put chunks matching more of them first.
 */
const MAX_TERMS = 64;

/**
 * English function words. They match nearly every chunk, so searching for them costs a scan of the whole
 * index for almost no ranking signal (PostgreSQL's `english` configuration drops them too). A query made of
 * nothing else keeps them.
 */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or our ' +
    'she so than that the their them then there these they this to was we were what when where which who whom ' +
    'why will with you your do does did how can could would should about'
  ).split(' '),
);

export function queryTerms(query: string): string[] {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
  const meaningful = words.filter((word) => !STOP_WORDS.has(word));
  return (meaningful.length > 0 ? meaningful : words).slice(0, MAX_TERMS);
}

/** FTS5: each term a quoted string (no quotes can occur inside one), OR-ed, or AND-ed with `all`. */
export function ftsMatchExpression(terms: string[], all = false): string {
  return terms.map((term) => `"${term}"`).join(all ? ' AND ' : ' OR ');
}

/**
 * PostgreSQL `to_tsquery` input: plain words OR-ed, or AND-ed with `all` (stop words are dropped by to_tsquery
 * itself).
 */
export function tsQueryExpression(terms: string[], all = false): string {
  return terms.join(all ? ' & ' : ' | ');
}

/** A query as `rewrite_query` searches it: its terms, space-separated (the query itself if it has none). */
export function rewrittenQuery(query: string): string {
  const terms = queryTerms(query);
  return terms.length > 0 ? terms.join(' ') : query;
}

import { sql, type SelectQueryBuilder } from 'kysely';

export type SortOrder = 'asc' | 'desc';

/** A position in a `(created_at, id)` ordering: where a cursor id sits. */
export interface Position {
  createdAt: number;
  id: string;
}

export interface PageRequest {
  limit: number;
  order: SortOrder;
  after?: Position | undefined;
  before?: Position | undefined;
}

export interface Page<Row> {
  rows: Row[];
  hasMore: boolean;
}

/**
 * Keyset pagination over `(created_at, id)`, which every listed table indexes behind its scope columns:
 * a page costs one index range scan whether it is the first or the ten-thousandth, never an OFFSET.
 *
 * `after`/`before` are relative to `order`, as in OpenAI's API: with `order=desc`, `after` walks towards
 * older rows and `before` towards newer ones. A `before`-only page is read backwards from the cursor (so it
 * holds the rows nearest to it) and flipped into the requested order. `hasMore` says whether rows remain
 * beyond the page in the direction it was read.
 */
export async function keysetPage<DB, TB extends keyof DB, Row>(
  scoped: SelectQueryBuilder<DB, TB, Row>,
  page: PageRequest,
): Promise<Page<Row>> {
  const walkBackwards = page.before !== undefined && page.after === undefined;
  const ascending = (page.order === 'asc') !== walkBackwards;
  let query = scoped;
  if (page.after) query = query.where(beyond(page.after, page.order === 'asc' ? '>' : '<'));
  if (page.before) query = query.where(beyond(page.before, page.order === 'asc' ? '<' : '>'));
  const direction = ascending ? sql`asc` : sql`desc`;
  const rows = await query
    .orderBy(sql`created_at ${direction}`)
    .orderBy(sql`id ${direction}`)
    .limit(page.limit + 1)
    .execute();
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (walkBackwards) pageRows.reverse();
  return { rows: pageRows, hasMore };
}

function beyond(position: Position, op: '<' | '>') {
  // Row-value comparison keeps the index usable in both SQLite (≥ 3.15) and PostgreSQL.
  return sql<boolean>`(created_at, id) ${sql.raw(op)} (${position.createdAt}, ${position.id})`;
}

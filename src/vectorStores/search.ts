import { PostgresAdapter, sql, type RawBuilder } from 'kysely';
import type { Db } from '../store/db';
import { fromJson } from '../store/json';
import { filterCondition } from './filterSql';
import { fuseRankings } from './fusion';
import { ftsMatchExpression, queryTerms, tsQueryExpression } from './queryTerms';
import type { Attributes, Filter, SearchDeps, SearchHit, SearchRequest } from './types';

/** How many candidates each ranked list contributes to the fusion. */
function candidatesFor(maxNumResults: number): number {
  return Math.min(200, Math.max(50, maxNumResults * 4));
}

interface ChunkRow {
  id: string;
  vector_store_id: string;
  file_id: string;
  text: string;
  attributes: string | null;
  filename: string | null;
}

/**
 * Searches the stores (of the request's project, not expired) for every query: a keyword list per query, and a
 * vector list per query when an embedder and a vector index are configured, all fused by reciprocal rank.
 * Only chunks of `completed` files that pass `filters` take part. Scores are in 0..1; `scoreThreshold` is
 * applied to the fused score.
 */
export async function searchVectorStores(deps: SearchDeps, req: SearchRequest): Promise<SearchHit[]> {
  const { db } = deps;
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const storeIds = await searchableStores(db, req.projectId, req.vectorStoreIds);
  if (storeIds.length === 0 || req.queries.length === 0) return [];
  const limit = candidatesFor(req.maxNumResults);
  const scope: Scope = { projectId: req.projectId, storeIds, filters: req.filters, postgres };

  const lists: string[][] = [];
  const rows = new Map<string, ChunkRow>();
  for (const query of req.queries) {
    const found = await keywordList(db, scope, query, limit, req.maxNumResults);
    for (const row of found) rows.set(row.id, row);
    lists.push(found.map((row) => row.id));
  }
  if (deps.embedder && deps.vectors) {
    const embeddings = await deps.embedder.embed(req.queries);
    for (const embedding of embeddings) {
      const near = await deps.vectors.nearest({ projectId: req.projectId, vectorStoreIds: storeIds, embedding, limit });
      const missing = near.map((n) => n.chunkId).filter((id) => !rows.has(id));
      // The vector index knows nothing of file status or attributes: the chunk rows decide what may be shown.
      for (const row of await chunksById(db, scope, missing)) rows.set(row.id, row);
      lists.push(near.map((n) => n.chunkId).filter((id) => rows.has(id)));
    }
  }

  const threshold = req.scoreThreshold ?? 0;
  const listsPerQuery = deps.embedder && deps.vectors ? 2 : 1;
  return fuseRankings(lists, listsPerQuery)
    .filter((hit) => hit.score >= threshold)
    .slice(0, req.maxNumResults)
    .map(({ id, score }) => {
      const row = rows.get(id)!;
      return {
        chunkId: row.id,
        vectorStoreId: row.vector_store_id,
        fileId: row.file_id,
        filename: row.filename ?? '',
        attributes: fromJson<Attributes>(row.attributes) ?? {},
        text: row.text,
        score,
      };
    });
}

interface Scope {
  projectId: string;
  storeIds: string[];
  filters: Filter | undefined;
  postgres: boolean;
}

/** The stores among `ids` that exist in the project and have not expired. */
async function searchableStores(db: Db, projectId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const now = Math.floor(Date.now() / 1000);
  const rows = await db
    .selectFrom('vector_stores')
    .select('id')
    .where('project_id', '=', projectId)
    .where('id', 'in', ids)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return rows.map((row) => row.id);
}

/** Conditions every shown chunk meets: its project and stores, its file completed, the attribute filters. */
function visible(scope: Scope): RawBuilder<boolean> {
  const filter = scope.filters ? sql`AND ${filterCondition(scope.filters, scope.postgres)}` : sql``;
  return sql<boolean>`c.project_id = ${scope.projectId}
    AND c.vector_store_id IN (${sql.join(scope.storeIds)})
    AND f.status = 'completed' ${filter}`;
}

const SELECTED = sql`c.id, c.vector_store_id, c.file_id, c.text, f.attributes, fl.filename`;
const JOINED = sql`JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.id = c.file_id
  LEFT JOIN files fl ON fl.id = c.file_id`;

/**
 * One query's keyword list, in two passes. The ranking pass carries only ids and ranks through the sort: a
 * frequent word can match a third of a 100k-chunk store, and sorting those rows with their text (kilobytes
 * each) cost ten times the ranking itself. The second pass reads the text of the few kept, by primary key.
 *
 * Chunks holding every term are ranked first; chunks holding any are ranked only when the first do not fill
 * the page asked for (`enough`). Ranking is the cost: an OR of three common words matched 65% of a 100k-chunk
 * store (PostgreSQL: a 475 ms sequential scan, ts_rank on every match) where the chunks with all three (1%)
 * were ranked in 32 ms from the GIN index; FTS5's bm25 has the same shape. Chunks with all the terms are also
 * what a ranker without inverse document frequency (ts_rank) would otherwise bury under frequent words.
 */
async function keywordList(db: Db, scope: Scope, query: string, limit: number, enough: number): Promise<ChunkRow[]> {
  const terms = queryTerms(query);
  if (terms.length === 0) return [];
  const rank = scope.postgres ? postgresRanked : sqliteRanked;
  let ids = terms.length > 1 ? await rank(db, scope, terms, true, [], limit) : [];
  if (ids.length < enough) ids = [...ids, ...(await rank(db, scope, terms, false, ids, limit - ids.length))];
  const byId = new Map((await chunksById(db, scope, ids)).map((row) => [row.id, row]));
  // A row gone between the passes (its file removed meanwhile) is simply not shown.
  return ids.flatMap((id) => byId.get(id) ?? []);
}

type Ranker = (
  db: Db,
  scope: Scope,
  terms: string[],
  all: boolean,
  exclude: string[],
  limit: number,
) => Promise<string[]>;

const excluding = (ids: string[]) => (ids.length > 0 ? sql`AND c.id NOT IN (${sql.join(ids)})` : sql``);

/** FTS5's bm25 over the chunks matching all (or any) of the terms. */
const sqliteRanked: Ranker = async (db, scope, terms, all, exclude, limit) => {
  const { rows } = await sql<{ id: string }>`
    SELECT c.id
    FROM vector_store_chunks_fts
    JOIN vector_store_chunks c ON c.seq = vector_store_chunks_fts.rowid
    JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.id = c.file_id
    WHERE vector_store_chunks_fts MATCH ${ftsMatchExpression(terms, all)} AND ${visible(scope)} ${excluding(exclude)}
    ORDER BY bm25(vector_store_chunks_fts), c.id
    LIMIT ${limit}`.execute(db);
  return rows.map((row) => row.id);
};

/** ts_rank (term frequency, normalised by the log of the chunk's length) over the chunks matching all or any. */
const postgresRanked: Ranker = async (db, scope, terms, all, exclude, limit) => {
  const { rows } = await sql<{ id: string }>`
    SELECT c.id
    FROM vector_store_chunks c
    CROSS JOIN to_tsquery('english', ${tsQueryExpression(terms, all)}) q
    JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.id = c.file_id
    WHERE c.tsv @@ q AND ${visible(scope)} ${excluding(exclude)}
    ORDER BY ts_rank(c.tsv, q, 1) DESC, c.id
    LIMIT ${limit}`.execute(db);
  return rows.map((row) => row.id);
};

async function chunksById(db: Db, scope: Scope, ids: string[]): Promise<ChunkRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ChunkRow>`
    SELECT ${SELECTED}
    FROM vector_store_chunks c
    ${JOINED}
    WHERE c.id IN (${sql.join(ids)}) AND ${visible(scope)}`.execute(db);
  return rows;
}

import type { VectorRow } from '../types';
import type { VectorBackend } from './backend';
import type { SqlRunner } from './sqlRunner';

const TABLE = 'vector_store_embeddings';
/** Rows per INSERT: 5 parameters each, far below PostgreSQL's 65,535-parameter limit. */
const INSERT_BATCH = 500;

/**
 * Vectors in a pgvector column with an HNSW index (cosine). Filtering by store happens after the HNSW walk, so
 * with pgvector ≥ 0.8 the walk is allowed to continue until enough rows pass the filter (`iterative_scan`);
 * on an older pgvector a search in a store much smaller than the table may come back short, and the keyword
 * list still fills the fused ranking.
 */
export function pgvectorBackend(runner: SqlRunner): VectorBackend {
  let iterative = false;
  return {
    name: 'pgvector',
    table: TABLE,
    placeholder: (n) => `$${n}`,
    async unavailable() {
      try {
        await runner.query('CREATE EXTENSION IF NOT EXISTS vector');
        const [row] = await runner.query<{ extversion: string }>(
          `SELECT extversion FROM pg_extension WHERE extname = 'vector'`,
        );
        iterative = atLeast(row?.extversion ?? '0', [0, 8]);
        return undefined;
      } catch (error) {
        return `the pgvector extension is not available in this PostgreSQL (${(error as Error).message}); install it (e.g. the pgvector/pgvector image, or the postgresql-<version>-pgvector package) and restart`;
      }
    },
    async createTable(dimensions) {
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (
          chunk_id text PRIMARY KEY,
          project_id text NOT NULL,
          vector_store_id text NOT NULL,
          file_id text NOT NULL,
          embedding vector(${dimensions}) NOT NULL)`,
      );
      await runner.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_file ON ${TABLE} (vector_store_id, file_id)`);
      await runner.query(
        `CREATE INDEX IF NOT EXISTS ${TABLE}_hnsw ON ${TABLE} USING hnsw (embedding vector_cosine_ops)`,
      );
    },
    async upsert(rows: VectorRow[]) {
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        const batch = rows.slice(start, start + INSERT_BATCH);
        const params: unknown[] = [];
        const values = batch.map((row) => {
          const at = params.push(
            row.chunkId,
            row.projectId,
            row.vectorStoreId,
            row.fileId,
            vectorLiteral(row.embedding),
          );
          return `($${at - 4}, $${at - 3}, $${at - 2}, $${at - 1}, $${at}::vector)`;
        });
        await runner.query(
          `INSERT INTO ${TABLE} (chunk_id, project_id, vector_store_id, file_id, embedding)
           VALUES ${values.join(', ')}
           ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding, project_id = EXCLUDED.project_id,
             vector_store_id = EXCLUDED.vector_store_id, file_id = EXCLUDED.file_id`,
          params,
        );
      }
    },
    async removeFile(vectorStoreId, fileId) {
      await runner.query(`DELETE FROM ${TABLE} WHERE vector_store_id = $1 AND file_id = $2`, [vectorStoreId, fileId]);
    },
    async removeStore(vectorStoreId) {
      await runner.query(`DELETE FROM ${TABLE} WHERE vector_store_id = $1`, [vectorStoreId]);
    },
    async nearest({ projectId, vectorStoreIds, embedding, limit }) {
      if (vectorStoreIds.length === 0 || limit <= 0) return [];
      return runner.transaction(async (tx) => {
        // ef_search bounds how many candidates the walk keeps: at least the number asked for.
        await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.min(1000, Math.max(40, limit)))]);
        if (iterative) await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
        // relaxed_order may return rows slightly out of order: the outer ORDER BY restores it.
        const rows = await tx.query<{ chunk_id: string; distance: number | string }>(
          `WITH near AS MATERIALIZED (
             SELECT chunk_id, embedding <=> $1::vector AS distance FROM ${TABLE}
             WHERE project_id = $2 AND vector_store_id = ANY($3::text[])
             ORDER BY embedding <=> $1::vector
             LIMIT $4)
           SELECT chunk_id, distance FROM near ORDER BY distance`,
          [vectorLiteral(embedding), projectId, vectorStoreIds, limit],
        );
        return rows.map((row) => ({ chunkId: row.chunk_id, distance: Number(row.distance) }));
      });
    },
  };
}

/** pgvector's text form, `[0.1,0.2,…]`: the one input both pg and PGlite pass through unchanged. */
export function vectorLiteral(vector: number[]): string {
  return `[${vector.map((x) => (Number.isFinite(x) ? x : 0)).join(',')}]`;
}

function atLeast(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

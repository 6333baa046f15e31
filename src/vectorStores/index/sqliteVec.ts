import type { VectorRow } from '../types';
import type { VectorBackend } from './backend';
import type { SqlRunner } from './sqlRunner';

const TABLE = 'vector_store_embeddings';
/** sqlite-vec's largest k. */
const MAX_K = 4096;

/**
 * Vectors in a sqlite-vec `vec0` table (loaded into every connection by store/db.ts). The vector store id is its
 * partition key, so a search reads only the searched stores' vectors; sqlite-vec scans them exhaustively
 * (exact nearest neighbours, no approximate index). vec0's default chunk size (1,024 vectors per storage block)
 * is kept: a store reserves a block even for one vector, but at 100k vectors a search over 128-vector blocks
 * took 1.7× as long (bench/RETRIEVAL.md).
 */
export function sqliteVecBackend(runner: SqlRunner): VectorBackend {
  return {
    name: 'sqlite-vec',
    table: TABLE,
    placeholder: () => '?',
    async unavailable() {
      try {
        await runner.query('SELECT vec_version() AS version');
        return undefined;
      } catch (error) {
        return `the sqlite-vec extension is not loaded (${(error as Error).message}); reinstall dependencies with npm ci so the sqlite-vec-<platform> package is present`;
      }
    },
    async createTable(dimensions) {
      await runner.query(
        `CREATE VIRTUAL TABLE IF NOT EXISTS ${TABLE} USING vec0(
          chunk_id text primary key,
          vector_store_id text partition key,
          project_id text,
          file_id text,
          embedding float[${dimensions}] distance_metric=cosine)`,
      );
    },
    async upsert(rows: VectorRow[]) {
      if (rows.length === 0) return;
      // vec0 has no ON CONFLICT: replace = delete then insert, in one transaction so a reader never sees a gap.
      await runner.transaction(async (tx) => {
        for (const row of rows) {
          await tx.query(`DELETE FROM ${TABLE} WHERE chunk_id = ?`, [row.chunkId]);
          await tx.query(
            `INSERT INTO ${TABLE} (chunk_id, vector_store_id, project_id, file_id, embedding) VALUES (?, ?, ?, ?, ?)`,
            [row.chunkId, row.vectorStoreId, row.projectId, row.fileId, float32(row.embedding)],
          );
        }
      });
    },
    async removeFile(vectorStoreId, fileId) {
      await runner.query(`DELETE FROM ${TABLE} WHERE vector_store_id = ? AND file_id = ?`, [vectorStoreId, fileId]);
    },
    async removeStore(vectorStoreId) {
      await runner.query(`DELETE FROM ${TABLE} WHERE vector_store_id = ?`, [vectorStoreId]);
    },
    async nearest({ projectId, vectorStoreIds, embedding, limit }) {
      if (vectorStoreIds.length === 0 || limit <= 0) return [];
      const rows = await runner.query<{ chunk_id: string; distance: number }>(
        `SELECT chunk_id, distance FROM ${TABLE}
         WHERE embedding MATCH ? AND k = ?
           AND vector_store_id IN (SELECT value FROM json_each(?))
           AND project_id = ?
         ORDER BY distance`,
        [float32(embedding), Math.min(limit, MAX_K), JSON.stringify(vectorStoreIds), projectId],
      );
      return rows.map((row) => ({ chunkId: row.chunk_id, distance: row.distance }));
    },
  };
}

/** sqlite-vec's compact vector format: little-endian float32s in a blob. */
function float32(vector: number[]): Buffer {
  const array = Float32Array.from(vector);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { Database, VectorStoreFileBatchTable, VectorStoreFileTable, VectorStoreTable } from '../schema';

export type VectorStoreRow = Selectable<VectorStoreTable>;
export type VectorStoreFileRow = Selectable<VectorStoreFileTable>;
export type VectorStoreFileBatchRow = Selectable<VectorStoreFileBatchTable>;

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface StoreTotals {
  counts: FileCounts;
  usageBytes: number;
}

export const NO_FILES: FileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };

/** Names one file's ingestion: only the workflow that owns the row (same `ingestion_id`) may write to it. */
export interface IngestionKey {
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  ingestionId: string;
}

export interface ChunkInput {
  text: string;
  tokens: number;
}

/** Rows per INSERT: 8 columns each stays far below both databases' parameter limits. */
const INSERT_BATCH = 500;

const DAY_SECONDS = 86_400;

/**
 * Vector stores, their files and batches, the extracted texts and the indexed chunks (migration 010). Every
 * write an ingestion makes is conditional on its file row still being `in_progress` under the same ingestion
 * id, checked inside the write's own transaction, so a cancel, a delete or a re-add always wins over an
 * ingestion still running, and a retried step replaces what an earlier attempt wrote.
 */
export function vectorStoresRepository(db: Db, postgres: boolean) {
  // A chunk's size in bytes (UTF-8), what `usage_bytes` adds up.
  const textBytes = postgres ? sql`octet_length(text)` : sql`length(CAST(text AS BLOB))`;
  /** The file row an ingestion may write to, locked until its transaction ends (PostgreSQL; SQLite has one writer). */
  async function owned(trx: Transaction<Database>, key: IngestionKey): Promise<VectorStoreFileRow | undefined> {
    let query = trx
      .selectFrom('vector_store_files')
      .selectAll()
      .where('vector_store_id', '=', key.vectorStoreId)
      .where('id', '=', key.fileId)
      .where('project_id', '=', key.projectId)
      .where('ingestion_id', '=', key.ingestionId)
      .where('status', '=', 'in_progress');
    if (postgres) query = query.forUpdate();
    return query.executeTakeFirst();
  }

  async function dropIndexed(trx: Kysely<Database>, vectorStoreId: string, fileIds: string[] | 'all'): Promise<void> {
    if (fileIds !== 'all' && fileIds.length === 0) return;
    for (const table of ['vector_store_chunks', 'vector_store_file_contents'] as const) {
      let query = trx.deleteFrom(table).where('vector_store_id', '=', vectorStoreId);
      if (fileIds !== 'all') query = query.where('file_id', 'in', fileIds);
      await query.execute();
    }
  }

  return {
    async insertStore(row: Insertable<VectorStoreTable>): Promise<VectorStoreRow> {
      await db.insertInto('vector_stores').values(row).execute();
      return (await this.findStore(row.project_id, row.id))!;
    },

    findStore(projectId: string, id: string): Promise<VectorStoreRow | undefined> {
      return db
        .selectFrom('vector_stores')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async storePosition(projectId: string, id: string): Promise<Position | undefined> {
      const row = await this.findStore(projectId, id);
      return row && { createdAt: row.created_at, id: row.id };
    },

    pageStores(projectId: string, page: PageRequest): Promise<Page<VectorStoreRow>> {
      return keysetPage(db.selectFrom('vector_stores').selectAll().where('project_id', '=', projectId), page);
    },

    async updateStore(
      projectId: string,
      id: string,
      changes: Partial<Pick<VectorStoreTable, 'name' | 'metadata' | 'expires_after_days' | 'expires_at'>>,
    ): Promise<VectorStoreRow | undefined> {
      if (Object.keys(changes).length > 0) {
        await db
          .updateTable('vector_stores')
          .set(changes)
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .execute();
      }
      return this.findStore(projectId, id);
    },

    /** Marks the store used now: `last_active_at`, and `expires_at` when it expires after inactivity. */
    async touch(projectId: string, id: string, now: number): Promise<void> {
      await db
        .updateTable('vector_stores')
        .set({
          last_active_at: now,
          expires_at: sql<
            number | null
          >`CASE WHEN expires_after_days IS NULL THEN NULL ELSE ${now} + expires_after_days * ${DAY_SECONDS} END`,
        })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .execute();
    },

    /** Deletes the store with everything in it (the Files themselves stay). */
    async deleteStore(projectId: string, id: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom('vector_stores')
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return false;
        await dropIndexed(trx, id, 'all');
        await trx.deleteFrom('vector_store_files').where('vector_store_id', '=', id).execute();
        await trx.deleteFrom('vector_store_file_batches').where('vector_store_id', '=', id).execute();
        return true;
      });
    },

    /** File counts by status and bytes used, per store. */
    async totals(storeIds: string[]): Promise<Map<string, StoreTotals>> {
      const result = new Map<string, StoreTotals>();
      if (storeIds.length === 0) return result;
      const rows = await db
        .selectFrom('vector_store_files')
        .select(['vector_store_id', 'status'])
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('usage_bytes').as('bytes')])
        .where('vector_store_id', 'in', storeIds)
        .groupBy(['vector_store_id', 'status'])
        .execute();
      for (const row of rows) {
        const totals = result.get(row.vector_store_id) ?? { counts: { ...NO_FILES }, usageBytes: 0 };
        const n = Number(row.n);
        if (row.status in totals.counts) totals.counts[row.status as keyof FileCounts] += n;
        totals.counts.total += n;
        totals.usageBytes += Number(row.bytes ?? 0);
        result.set(row.vector_store_id, totals);
      }
      return result;
    },

    async batchCounts(batchId: string): Promise<FileCounts> {
      const rows = await db
        .selectFrom('vector_store_files')
        .select('status')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('batch_id', '=', batchId)
        .groupBy('status')
        .execute();
      const counts = { ...NO_FILES };
      for (const row of rows) {
        const n = Number(row.n);
        if (row.status in counts) counts[row.status as keyof FileCounts] += n;
        counts.total += n;
      }
      return counts;
    },

    /**
     * Adds files to a store (and the batch, if any) as `in_progress`. A file already in the store is added
     * afresh: its old chunks and text go, and its new ingestion id disowns any ingestion still running for it.
     */
    async addFiles(
      rows: Array<Insertable<VectorStoreFileTable>>,
      batch?: Insertable<VectorStoreFileBatchTable>,
    ): Promise<void> {
      if (rows.length === 0 && !batch) return;
      await db.transaction().execute(async (trx) => {
        if (batch) await trx.insertInto('vector_store_file_batches').values(batch).execute();
        for (let i = 0; i < rows.length; i += INSERT_BATCH) {
          const part = rows.slice(i, i + INSERT_BATCH);
          await dropIndexed(
            trx,
            part[0]!.vector_store_id,
            part.map((row) => row.id),
          );
          await trx
            .insertInto('vector_store_files')
            .values(part)
            .onConflict((oc) =>
              oc.columns(['vector_store_id', 'id']).doUpdateSet((eb) => ({
                created_at: eb.ref('excluded.created_at'),
                status: eb.ref('excluded.status'),
                last_error: null,
                attributes: eb.ref('excluded.attributes'),
                chunking_strategy: eb.ref('excluded.chunking_strategy'),
                usage_bytes: 0,
                batch_id: eb.ref('excluded.batch_id'),
                ingestion_id: eb.ref('excluded.ingestion_id'),
              })),
            )
            .execute();
        }
      });
    },

    findFile(projectId: string, vectorStoreId: string, fileId: string): Promise<VectorStoreFileRow | undefined> {
      return db
        .selectFrom('vector_store_files')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('vector_store_id', '=', vectorStoreId)
        .where('id', '=', fileId)
        .executeTakeFirst();
    },

    async filePosition(projectId: string, vectorStoreId: string, fileId: string): Promise<Position | undefined> {
      const row = await this.findFile(projectId, vectorStoreId, fileId);
      return row && { createdAt: row.created_at, id: row.id };
    },

    pageFiles(
      projectId: string,
      vectorStoreId: string,
      page: PageRequest,
      filter: { status?: string; batchId?: string },
    ): Promise<Page<VectorStoreFileRow>> {
      let query = db
        .selectFrom('vector_store_files')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('vector_store_id', '=', vectorStoreId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.batchId) query = query.where('batch_id', '=', filter.batchId);
      return keysetPage(query, page);
    },

    async updateAttributes(
      projectId: string,
      vectorStoreId: string,
      fileId: string,
      attributes: string | null,
    ): Promise<VectorStoreFileRow | undefined> {
      await db
        .updateTable('vector_store_files')
        .set({ attributes })
        .where('project_id', '=', projectId)
        .where('vector_store_id', '=', vectorStoreId)
        .where('id', '=', fileId)
        .execute();
      return this.findFile(projectId, vectorStoreId, fileId);
    },

    /** Removes a file from a store (its chunks and text with it); false when it was not there. */
    async removeFile(projectId: string, vectorStoreId: string, fileId: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom('vector_store_files')
          .where('project_id', '=', projectId)
          .where('vector_store_id', '=', vectorStoreId)
          .where('id', '=', fileId)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return false;
        await dropIndexed(trx, vectorStoreId, [fileId]);
        return true;
      });
    },

    /** Removes a file from every store of the project (the File was deleted); the stores it was in. */
    async removeFileEverywhere(projectId: string, fileId: string): Promise<string[]> {
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom('vector_store_files')
          .where('project_id', '=', projectId)
          .where('id', '=', fileId)
          .returning('vector_store_id')
          .execute();
        const stores = removed.map((row) => row.vector_store_id);
        for (const store of stores) await dropIndexed(trx, store, [fileId]);
        return stores;
      });
    },

    findBatch(projectId: string, vectorStoreId: string, id: string): Promise<VectorStoreFileBatchRow | undefined> {
      return db
        .selectFrom('vector_store_file_batches')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('vector_store_id', '=', vectorStoreId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /**
     * Cancels a batch: its files still `in_progress` become `cancelled` and lose whatever they had indexed, in
     * one transaction. Returns the ids of the files it cancelled (their vectors are the caller's to remove).
     */
    async cancelBatch(batch: VectorStoreFileBatchRow): Promise<string[]> {
      return db.transaction().execute(async (trx) => {
        await trx
          .updateTable('vector_store_file_batches')
          .set({ status: 'cancelled' })
          .where('id', '=', batch.id)
          .where('status', '=', 'in_progress')
          .execute();
        const cancelled = await trx
          .updateTable('vector_store_files')
          .set({ status: 'cancelled' })
          .where('vector_store_id', '=', batch.vector_store_id)
          .where('batch_id', '=', batch.id)
          .where('status', '=', 'in_progress')
          .returning('id')
          .execute();
        const ids = cancelled.map((row) => row.id);
        for (let i = 0; i < ids.length; i += INSERT_BATCH) {
          await dropIndexed(trx, batch.vector_store_id, ids.slice(i, i + INSERT_BATCH));
        }
        return ids;
      });
    },

    // ---- ingestion steps (activities); each a no-op once the row is no longer this ingestion's ----

    async ingestionRow(key: IngestionKey): Promise<VectorStoreFileRow | undefined> {
      return db.transaction().execute((trx) => owned(trx, key));
    },

    async saveContent(key: IngestionKey, text: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        if (!(await owned(trx, key))) return false;
        await trx
          .insertInto('vector_store_file_contents')
          .values({ project_id: key.projectId, vector_store_id: key.vectorStoreId, file_id: key.fileId, text })
          .onConflict((oc) => oc.columns(['vector_store_id', 'file_id']).doUpdateSet({ text }))
          .execute();
        return true;
      });
    },

    async content(key: IngestionKey): Promise<string | undefined> {
      const row = await db
        .selectFrom('vector_store_file_contents')
        .select('text')
        .where('vector_store_id', '=', key.vectorStoreId)
        .where('file_id', '=', key.fileId)
        .executeTakeFirst();
      return row?.text;
    },

    /** The text shown by `GET …/files/{id}/content` (undefined until extraction has run). */
    async fileContent(projectId: string, vectorStoreId: string, fileId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('vector_store_file_contents')
        .select('text')
        .where('project_id', '=', projectId)
        .where('vector_store_id', '=', vectorStoreId)
        .where('file_id', '=', fileId)
        .executeTakeFirst();
      return row?.text;
    },

    /**
     * The file's chunks, replacing any an earlier attempt wrote (delete then insert, one transaction): the
     * store holds exactly one copy of each chunk however often this step ran.
     */
    async replaceChunks(key: IngestionKey, chunks: ChunkInput[]): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        if (!(await owned(trx, key))) return false;
        await trx
          .deleteFrom('vector_store_chunks')
          .where('vector_store_id', '=', key.vectorStoreId)
          .where('file_id', '=', key.fileId)
          .execute();
        for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
          await trx
            .insertInto('vector_store_chunks')
            .values(
              chunks.slice(i, i + INSERT_BATCH).map((chunk, j) => ({
                id: chunkId(key.vectorStoreId, key.fileId, i + j),
                project_id: key.projectId,
                vector_store_id: key.vectorStoreId,
                file_id: key.fileId,
                chunk_index: i + j,
                text: chunk.text,
                token_count: chunk.tokens,
              })),
            )
            .execute();
        }
        return true;
      });
    },

    /** A page of the file's chunks in order (for embedding). */
    chunkPage(
      key: IngestionKey,
      fromIndex: number,
      limit: number,
    ): Promise<Array<{ id: string; chunk_index: number; text: string }>> {
      return db
        .selectFrom('vector_store_chunks')
        .select(['id', 'chunk_index', 'text'])
        .where('vector_store_id', '=', key.vectorStoreId)
        .where('file_id', '=', key.fileId)
        .where('chunk_index', '>=', fromIndex)
        .orderBy('chunk_index')
        .limit(limit)
        .execute();
    },

    /** The file is searchable: `completed`, with the bytes its chunks take. */
    async complete(key: IngestionKey): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        if (!(await owned(trx, key))) return false;
        const usage = await trx
          .selectFrom('vector_store_chunks')
          .select(sql<number>`coalesce(sum(${textBytes}), 0)`.as('bytes'))
          .where('vector_store_id', '=', key.vectorStoreId)
          .where('file_id', '=', key.fileId)
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('vector_store_files')
          .set({ status: 'completed', usage_bytes: Number(usage.bytes) })
          .where('vector_store_id', '=', key.vectorStoreId)
          .where('id', '=', key.fileId)
          .execute();
        return true;
      });
    },

    /** The file ends `failed` (or `cancelled`) and keeps nothing indexed. */
    async end(
      key: IngestionKey,
      status: 'failed' | 'cancelled',
      lastError: { code: string; message: string } | null,
    ): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        if (!(await owned(trx, key))) return false;
        await trx
          .updateTable('vector_store_files')
          .set({ status, last_error: lastError && JSON.stringify(lastError), usage_bytes: 0 })
          .where('vector_store_id', '=', key.vectorStoreId)
          .where('id', '=', key.fileId)
          .execute();
        await trx
          .deleteFrom('vector_store_chunks')
          .where('vector_store_id', '=', key.vectorStoreId)
          .where('file_id', '=', key.fileId)
          .execute();
        return true;
      });
    },
  };
}

/** A chunk's id: the same for the same chunk however often a file is ingested. */
export function chunkId(vectorStoreId: string, fileId: string, index: number): string {
  return `${vectorStoreId}:${fileId}:${index}`;
}

export type VectorStoresRepository = ReturnType<typeof vectorStoresRepository>;

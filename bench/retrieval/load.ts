import { sql } from 'kysely';
import type { Db } from '../../src/store/db';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import type { Embedder, VectorIndex } from '../../src/vectorStores/types';
import { hashEmbedding } from '../../test/support/hashEmbedding';

/**
 * Writes a store's rows straight into the database, as ingestion's last steps do (chunk rows, whose insert
 * maintains the keyword index, then vectors): the bench measures the database side of ingestion and of
 * search, at sizes the ingestion workflow would take hours to reach on two cores.
 */
export const PROJECT = DEFAULT_PROJECT_ID;

export async function createStore(db: Db, storeId: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await db
    .insertInto('vector_stores')
    .values({
      project_id: PROJECT,
      id: storeId,
      created_at: now,
      name: storeId,
      description: null,
      metadata: '{}',
      expires_after_days: null,
      expires_at: null,
      last_active_at: now,
    })
    .execute();
}

export async function addFile(db: Db, storeId: string, fileId: string, filename: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await db
    .insertInto('files')
    .values({
      project_id: PROJECT,
      id: fileId,
      created_at: now,
      bytes: 1,
      filename,
      purpose: 'assistants',
      mime_type: 'text/plain',
      state: 'ready',
      expires_at: null,
    })
    .execute();
  await db
    .insertInto('vector_store_files')
    .values({
      project_id: PROJECT,
      vector_store_id: storeId,
      id: fileId,
      created_at: now,
      status: 'completed',
      last_error: null,
      attributes: null,
      chunking_strategy: '{}',
      usage_bytes: 0,
      batch_id: null,
      ingestion_id: `ing_${fileId}`,
    })
    .execute();
}

export interface ChunkInput {
  id: string;
  fileId: string;
  index: number;
  text: string;
}

/** One multi-row insert per call (callers batch): what a bulk ingestion activity would write. */
export async function insertChunks(db: Db, storeId: string, chunks: ChunkInput[]): Promise<void> {
  if (chunks.length === 0) return;
  await db
    .insertInto('vector_store_chunks')
    .values(
      chunks.map((c) => ({
        id: c.id,
        project_id: PROJECT,
        vector_store_id: storeId,
        file_id: c.fileId,
        chunk_index: c.index,
        text: c.text,
        token_count: 0,
      })),
    )
    .execute();
}

export async function insertVectors(
  vectors: VectorIndex,
  embedder: Embedder,
  storeId: string,
  chunks: ChunkInput[],
): Promise<void> {
  const embeddings = await embedder.embed(chunks.map((c) => c.text));
  await vectors.upsert(
    chunks.map((c, i) => ({
      chunkId: c.id,
      projectId: PROJECT,
      vectorStoreId: storeId,
      fileId: c.fileId,
      embedding: embeddings[i]!,
    })),
  );
}

/** The fake embeddings endpoint's vectors, computed in-process (no HTTP) for bulk loads. */
export function inProcessEmbedder(dimensions: number): Embedder {
  return {
    model: 'fake-embed',
    dimensions,
    embed: (texts) => Promise.resolve(texts.map((t) => hashEmbedding(t, dimensions))),
  };
}

export async function analyze(db: Db, postgres: boolean): Promise<void> {
  await sql.raw(postgres ? 'ANALYZE' : 'ANALYZE').execute(db);
}

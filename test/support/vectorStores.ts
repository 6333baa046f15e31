import { toFile } from 'openai';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import type { TestService } from './service';

/**
 * A vector store with files already chunked and indexed, written straight into the vector store tables (the
 * rows ingestion writes) around files uploaded through the SDK: run tests need searchable stores, not an
 * ingestion to wait for.
 */
export async function seedVectorStore(
  svc: TestService,
  storeId: string,
  files: Array<{ filename: string; chunks: string[] }>,
  status: 'completed' | 'in_progress' = 'completed',
): Promise<string[]> {
  const db = svc.running.db;
  const now = Math.floor(Date.now() / 1000);
  await db
    .insertInto('vector_stores')
    .values({
      project_id: DEFAULT_PROJECT_ID,
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
  const ids: string[] = [];
  for (const file of files) {
    const uploaded = await svc.openai.files.create({
      file: await toFile(Buffer.from(file.chunks.join('\n\n')), file.filename),
      purpose: 'assistants',
    });
    ids.push(uploaded.id);
    await db
      .insertInto('vector_store_files')
      .values({
        project_id: DEFAULT_PROJECT_ID,
        vector_store_id: storeId,
        id: uploaded.id,
        created_at: now,
        status,
        last_error: null,
        attributes: null,
        chunking_strategy: '{}',
        usage_bytes: 0,
        batch_id: null,
        ingestion_id: `ing_${uploaded.id}`,
      })
      .execute();
    await db
      .insertInto('vector_store_chunks')
      .values(
        file.chunks.map((text, i) => ({
          id: `${storeId}:${uploaded.id}:${i}`,
          project_id: DEFAULT_PROJECT_ID,
          vector_store_id: storeId,
          file_id: uploaded.id,
          chunk_index: i,
          text,
          token_count: 10,
        })),
      )
      .execute();
  }
  return ids;
}

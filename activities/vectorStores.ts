import { ApplicationFailure, Context } from '@temporalio/activity';
import type { IngestionKey } from '../src/store/repositories/vectorStores';
import type { ChunkingSettings } from '../src/temporal/ingestionShared';
import { IngestError } from '../src/vectorStores/extract/errors';
import { chunkInThread, extractInThread } from '../src/vectorStores/ingestThreads';
import type { ActivityDeps } from './index';

/** Chunks embedded per request to the embeddings endpoint. */
const EMBED_BATCH = 64;

/** Beyond this the file is not indexed (OpenAI's limit was 5,000,000 tokens per file). */
const MAX_FILE_TOKENS = 5_000_000;

/** What a step tells the workflow: go on, or stop (the file has ended, or is no longer this ingestion's). */
export type StepResult = 'next' | 'stop';

/**
 * The steps of one file's ingestion (workflows/vectorStoreIngestion.ts). Each reads what the step before it
 * stored and writes its own result in one transaction conditional on the file still being this ingestion's,
 * so a step retried after a crash redoes its work and replaces what the crashed attempt wrote.
 */
/** Heartbeats every second while `work` runs on a thread (the activity's own loop is free to send them). */
async function heartbeating<T>(work: Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export function vectorStoreActivities({ store, search }: ActivityDeps) {
  const repo = store.vectorStores;

  async function fail(key: IngestionKey, error: IngestError): Promise<StepResult> {
    await repo.end(key, 'failed', { code: error.code, message: error.message });
    return 'stop';
  }

  return {
    /**
     * Waits for the file's row: the API starts the workflow first and writes the row right after, so a row
     * that never appears (the API died in between) ends the ingestion with nothing written.
     */
    async claimVectorStoreFile(key: IngestionKey): Promise<StepResult> {
      // The store is written before any ingestion starts: without it, it was deleted, and nothing is to wait for.
      if (!(await repo.findStore(key.projectId, key.vectorStoreId))) return 'stop';
      const row = await repo.findFile(key.projectId, key.vectorStoreId, key.fileId);
      if (row?.ingestion_id === key.ingestionId) return row.status === 'in_progress' ? 'next' : 'stop';
      throw ApplicationFailure.retryable(
        `vector store file ${key.fileId} of ingestion ${key.ingestionId} not written yet`,
      );
    },

    /** Reads the file and stores its text (on a thread: parsers are CPU-bound). */
    async extractVectorStoreFile(key: IngestionKey): Promise<StepResult> {
      if (!(await repo.ingestionRow(key))) return 'stop';
      const opened = await store.files.open(key.projectId, key.fileId);
      if (!opened) {
        return fail(
          key,
          new IngestError('invalid_file', `The file ${key.fileId} was deleted before it could be indexed.`),
        );
      }
      const parts: Buffer[] = [];
      for await (const part of opened.stream) {
        parts.push(part as Buffer);
        Context.current().heartbeat();
      }
      let text: string;
      try {
        text = await heartbeating(
          extractInThread(
            { filename: opened.row.filename, mimeType: opened.row.mime_type, bytes: Buffer.concat(parts) },
            Context.current().cancellationSignal,
          ),
        );
      } catch (error) {
        if (error instanceof IngestError) return fail(key, error);
        throw error;
      }
      return (await repo.saveContent(key, text)) ? 'next' : 'stop';
    },

    /** Chunks the stored text and indexes the chunks for keyword search (replacing an earlier attempt's). */
    async chunkVectorStoreFile(input: IngestionKey & { chunking: ChunkingSettings }): Promise<StepResult> {
      const text = await repo.content(input);
      if (text === undefined || !(await repo.ingestionRow(input))) return 'stop';
      const chunks = await heartbeating(chunkInThread(text, input.chunking, Context.current().cancellationSignal));
      const tokens = chunks.reduce((sum, chunk) => sum + chunk.tokens, 0);
      if (tokens > MAX_FILE_TOKENS) {
        return fail(
          input,
          new IngestError('invalid_file', `The file has ${tokens} tokens; at most ${MAX_FILE_TOKENS} can be indexed.`),
        );
      }
      return (await repo.replaceChunks(input, chunks)) ? 'next' : 'stop';
    },

    /**
     * Embeds the chunks and upserts their vectors (by chunk id) when an embeddings endpoint is configured. The
     * heartbeat carries the next chunk to embed, so a retry after a crash resumes there.
     */
    async embedVectorStoreFile(key: IngestionKey): Promise<StepResult> {
      const { embedder, vectors } = search ?? {};
      if (!embedder || !vectors) return 'next';
      const ctx = Context.current();
      let from = (ctx.info.heartbeatDetails as number | undefined) ?? 0;
      for (;;) {
        if (!(await repo.ingestionRow(key))) {
          await vectors.removeFile(key.vectorStoreId, key.fileId);
          return 'stop';
        }
        const page = await repo.chunkPage(key, from, EMBED_BATCH);
        if (page.length === 0) return 'next';
        const embeddings = await embedder.embed(
          page.map((chunk) => chunk.text),
          ctx.cancellationSignal,
        );
        await vectors.upsert(
          page.map((chunk, i) => ({
            chunkId: chunk.id,
            projectId: key.projectId,
            vectorStoreId: key.vectorStoreId,
            fileId: key.fileId,
            embedding: embeddings[i]!,
          })),
        );
        from = page[page.length - 1]!.chunk_index + 1;
        ctx.heartbeat(from);
      }
    },

    /** The file becomes searchable. */
    async completeVectorStoreFile(key: IngestionKey): Promise<StepResult> {
      await repo.complete(key);
      return 'stop';
    },

    /** The file ends failed or cancelled (if it is still this ingestion's), without anything indexed. */
    async endVectorStoreFile(
      input: IngestionKey & { status: 'failed' | 'cancelled'; error: { code: string; message: string } | null },
    ): Promise<void> {
      const ended = await repo.end(input, input.status, input.error);
      if (ended) await search?.vectors?.removeFile(input.vectorStoreId, input.fileId);
    },
  };
}

/**
 * Creating vector stores and adding files to them, with their ingestion started: used by the vector store
 * endpoints, and by whatever else makes stores. For file_search in runs (fsrun): `createVectorStoreWithFiles`
 * makes a store from an assistant's or thread's inline `tool_resources.file_search.vector_stores` entry, and
 * `addFilesToVectorStore` adds message attachments to a thread's store. Both check every file id in the
 * caller's project first (404 `No such File object`, with `param` as given) and write nothing if one is missing.
 */
import { newId, newObjectId } from '../ids';
import type { VectorStoreFileRow, VectorStoreRow } from '../store/repositories/vectorStores';
import { toJson } from '../store/json';
import type { ChunkingSettings, FileIngestion } from '../temporal/ingestionShared';
import { AUTO_CHUNKING } from '../vectorStores/chunking';
import type { Attributes } from '../vectorStores/types';
import type { ChunkingStrategyParam } from '../schemas/vectorStores';
import type { Store } from '../store';
import { nowSeconds, type RequestScope, type ServiceDeps, type VectorStoreEngines } from './context';
import { requireFiles, type FileRef } from './fileRefs';

/** What the vector store use cases need. */
export interface VectorStoreDeps extends VectorStoreEngines {
  store: Store;
}

/** The vector store part of the services' dependencies (`vectorStoreDeps(deps)` from any service). */
export function vectorStoreDeps(deps: ServiceDeps): VectorStoreDeps {
  return { store: deps.store, ...deps.vectorStores };
}

/** A file to add: its id, where the request named it (for a 404's `param`), its chunking and attributes. */
export interface FileToAdd {
  fileId: string;
  param: string;
  chunking?: ChunkingStrategyParam | undefined;
  attributes?: Attributes | null | undefined;
}

const DAY_SECONDS = 86_400;

export function chunkingSettings(param: ChunkingStrategyParam | undefined): ChunkingSettings {
  if (!param || param.type === 'auto') return AUTO_CHUNKING;
  return {
    maxChunkSizeTokens: param.static.max_chunk_size_tokens,
    chunkOverlapTokens: param.static.chunk_overlap_tokens,
  };
}

/** The strategy as the file object reports it (`auto` shows as the static strategy it stands for). */
function chunkingJson(settings: ChunkingSettings): string {
  return toJson({
    type: 'static',
    static: { max_chunk_size_tokens: settings.maxChunkSizeTokens, chunk_overlap_tokens: settings.chunkOverlapTokens },
  });
}

/** Creates a store and starts ingesting `files` into it (no batch). Returns the stored row. */
export async function createVectorStoreWithFiles(
  deps: VectorStoreDeps,
  scope: RequestScope,
  input: {
    name?: string | null;
    description?: string | null;
    metadata?: Record<string, string> | null;
    expiresAfterDays?: number | null;
    files: FileToAdd[];
  },
): Promise<VectorStoreRow> {
  await requireFiles(deps.store, scope, refsOf(input.files));
  const { id, createdAt } = newObjectId('vectorStore');
  const days = input.expiresAfterDays ?? null;
  const row = await deps.store.vectorStores.insertStore({
    project_id: scope.projectId,
    id,
    created_at: createdAt,
    name: input.name ?? null,
    description: input.description ?? null,
    metadata: toJson(input.metadata ?? {}),
    expires_after_days: days,
    expires_at: days === null ? null : createdAt + days * DAY_SECONDS,
    last_active_at: createdAt,
  });
  await startIngestion(deps, scope, row.id, input.files, null);
  return row;
}

/**
 * Adds files to an existing store and starts their ingestion: one file's workflow for a single file without a
 * batch, else a batch workflow with a child per file. `batchId`: the batch row to create with them.
 */
export async function addFilesToVectorStore(
  deps: VectorStoreDeps,
  scope: RequestScope,
  vectorStoreId: string,
  files: FileToAdd[],
  batchId: string | null = null,
): Promise<VectorStoreFileRow[]> {
  await requireFiles(deps.store, scope, refsOf(files));
  return startIngestion(deps, scope, vectorStoreId, files, batchId);
}

function refsOf(files: FileToAdd[]): FileRef[] {
  return files.map((file) => ({ id: file.fileId, param: file.param }));
}

async function startIngestion(
  deps: VectorStoreDeps,
  scope: RequestScope,
  vectorStoreId: string,
  files: FileToAdd[],
  batchId: string | null,
): Promise<VectorStoreFileRow[]> {
  const now = nowSeconds();
  // The same file named twice is added once (the last entry's settings win).
  const unique = [...new Map(files.map((file) => [file.fileId, file])).values()];
  const ingestions: FileIngestion[] = unique.map((file) => ({
    fileId: file.fileId,
    ingestionId: newId('ingestion'),
    chunking: chunkingSettings(file.chunking),
  }));
  // Workflows first, rows second (see temporal/ingestionEngine.ts).
  const base = { projectId: scope.projectId, vectorStoreId, ...deps.settings };
  if (batchId === null && ingestions.length === 1) {
    await deps.ingestion.startFile({ ...base, ...ingestions[0]! });
  } else if (ingestions.length > 0) {
    await deps.ingestion.startBatch(batchId ?? newId('ingestion'), { ...base, batchId, files: ingestions });
  }
  const rows = ingestions.map((ingestion, i) => ({
    project_id: scope.projectId,
    vector_store_id: vectorStoreId,
    id: ingestion.fileId,
    created_at: now,
    status: 'in_progress',
    last_error: null,
    attributes: unique[i]!.attributes ? toJson(unique[i]!.attributes) : null,
    chunking_strategy: chunkingJson(ingestion.chunking),
    usage_bytes: 0,
    batch_id: batchId,
    ingestion_id: ingestion.ingestionId,
  }));
  await deps.store.vectorStores.addFiles(
    rows,
    batchId === null
      ? undefined
      : {
          project_id: scope.projectId,
          id: batchId,
          vector_store_id: vectorStoreId,
          created_at: now,
          status: 'in_progress',
        },
  );
  await deps.store.vectorStores.touch(scope.projectId, vectorStoreId, now);
  return rows;
}

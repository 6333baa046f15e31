/**
 * Definitions the API and the ingestion workflows share (pure values and types only: workflow code imports
 * this module).
 */
export const FILE_INGESTION_WORKFLOW = 'vectorStoreFileWorkflow';
export const BATCH_INGESTION_WORKFLOW = 'vectorStoreBatchWorkflow';

export interface ChunkingSettings {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

export interface FileIngestion {
  fileId: string;
  /** The workflow id of the file's ingestion, also written on its row: only this ingestion may write there. */
  ingestionId: string;
  chunking: ChunkingSettings;
}

export interface IngestionSettings {
  /** A worker that dies mid-step is noticed after this long and the step is retried elsewhere. */
  heartbeatTimeoutMs: number;
  /** Files of one batch ingested at once. */
  concurrency: number;
}

export interface FileIngestionInput extends FileIngestion, IngestionSettings {
  projectId: string;
  vectorStoreId: string;
}

export interface BatchIngestionInput extends IngestionSettings {
  projectId: string;
  vectorStoreId: string;
  /** The batch's id (null for the files of a store's create request, which have no batch). */
  batchId: string | null;
  files: FileIngestion[];
}

/**
 * How a file's ingestion ended. `ended`: a step ended it (the file could not be indexed, or was removed or
 * cancelled meanwhile); `gone`: its row never appeared or was no longer this ingestion's.
 */
export type IngestionOutcome = 'completed' | 'ended' | 'failed' | 'cancelled' | 'gone';

import type { Db } from '../store/db';
// Placeholder of the shared contract until branch `vs` lands it (its version wins on merge).
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}
export interface VectorRow {
  chunkId: string;
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  embedding: number[];
}
export interface VectorIndex {
  upsert(rows: VectorRow[]): Promise<void>;
  removeFile(vectorStoreId: string, fileId: string): Promise<void>;
  removeStore(vectorStoreId: string): Promise<void>;
  nearest(req: {
    projectId: string;
    vectorStoreIds: string[];
    embedding: number[];
    limit: number;
  }): Promise<Array<{ chunkId: string; distance: number }>>;
}
export interface SearchDeps {
  db: Db;
  embedder?: Embedder;
  vectors?: VectorIndex;
}

import type { Db } from '../store/db';

/**
 * The shared contract of vector-store search (issue 10): the API's search endpoint, the file_search tool in
 * runs, and the embeddings/vector-index implementations all meet here. Add fields; never rename.
 */
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;
export type ComparisonFilter = { type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; key: string; value: AttributeValue };
/** The spec's `in`/`nin` comparisons: the attribute is (not) one of the listed values. */
export type MembershipFilter = { type: 'in' | 'nin'; key: string; value: AttributeValue[] };
export type CompoundFilter = {
  type: 'and' | 'or';
  filters: Array<ComparisonFilter | MembershipFilter | CompoundFilter>;
};
export type Filter = ComparisonFilter | MembershipFilter | CompoundFilter;

export interface SearchRequest {
  projectId: string;
  vectorStoreIds: string[];
  queries: string[];
  maxNumResults: number;
  filters?: Filter;
  scoreThreshold?: number;
  ranker?: string;
}

export interface SearchHit {
  chunkId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  attributes: Attributes;
  text: string;
  score: number /* 0..1 */;
}

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
  upsert(rows: VectorRow[]): Promise<void>; // idempotent by chunkId
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

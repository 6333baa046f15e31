import type { VectorIndex, VectorRow } from '../types';

/** One database's vector SQL; `ManagedVectorIndex` adds the checks and the lazy table creation around it. */
export interface VectorBackend extends Omit<VectorIndex, 'upsert'> {
  /** `sqlite-vec` or `pgvector`, for logs. */
  readonly name: string;
  /** The table of vectors (named in the advice when stored vectors conflict with the settings). */
  readonly table: string;
  readonly placeholder: (n: number) => string;
  /** Why vectors cannot be stored here (extension missing), or undefined. */
  unavailable(): Promise<string | undefined>;
  /** Creates the vector table (and its indexes) for this many dimensions; idempotent. */
  createTable(dimensions: number): Promise<void>;
  upsert(rows: VectorRow[]): Promise<void>;
}

import { ApplicationFailure } from '@temporalio/common';
import type { VectorIndex, VectorRow } from '../types';
import type { VectorBackend } from './backend';
import { claimSettings, conflictAdvice, readSettings, settingsConflict } from './settings';
import type { SqlRunner } from './sqlRunner';

export type IndexState =
  | { kind: 'ready'; dimensions: number }
  /** No dimensions configured and no vector stored yet: the first vectors written fix the table's size. */
  | { kind: 'unsized' }
  /** Vectors cannot be used (no extension, or stored vectors of another model/size); search is keyword-only. */
  | { kind: 'disabled'; reason: string };

/**
 * A vector index that checks, once per process, that vectors can be stored and that the stored ones were made
 * by the configured model at the configured size, and creates the vector table (whose column type depends on
 * the size) when the size is known. Until then, and whenever the index is disabled, searches find nothing
 * here (the keyword list still answers) and writes are skipped.
 */
export class ManagedVectorIndex implements VectorIndex {
  /** Resolves once the checks ran; never rejects (a failed check disables the index with its reason). */
  readonly ready: Promise<IndexState>;
  private state: IndexState = { kind: 'unsized' };
  private sizing: Promise<IndexState> | undefined;

  constructor(
    private readonly backend: VectorBackend,
    private readonly runner: SqlRunner,
    private readonly configured: { model: string; dimensions: number | undefined },
  ) {
    this.ready = this.check().then(
      (state) => (this.state = state),
      (error: unknown) =>
        (this.state = {
          kind: 'disabled',
          reason: `the vector index could not be checked: ${(error as Error).message}`,
        }),
    );
  }

  get name(): string {
    return this.backend.name;
  }

  private async check(): Promise<IndexState> {
    const missing = await this.backend.unavailable();
    if (missing) return { kind: 'disabled', reason: missing };
    const stored = await readSettings(this.runner, this.backend.placeholder);
    const conflict = settingsConflict(stored, this.configured);
    if (conflict) return { kind: 'disabled', reason: `${conflict}: ${conflictAdvice(this.backend.table)}` };
    const dimensions = stored?.dimensions ?? this.configured.dimensions;
    return dimensions === undefined ? { kind: 'unsized' } : this.size(dimensions);
  }

  /** Records the size (unless another process recorded one first) and creates the table for it. */
  private async size(dimensions: number): Promise<IndexState> {
    const stored = await claimSettings(this.runner, this.backend.placeholder, {
      model: this.configured.model,
      dimensions,
    });
    const conflict = settingsConflict(stored, { model: this.configured.model, dimensions });
    if (conflict) return { kind: 'disabled', reason: `${conflict}: ${conflictAdvice(this.backend.table)}` };
    await this.backend.createTable(stored.dimensions);
    return { kind: 'ready', dimensions: stored.dimensions };
  }

  async upsert(rows: VectorRow[]): Promise<void> {
    if (rows.length === 0) return;
    let state = await this.ready;
    if (state.kind === 'unsized') {
      this.sizing ??= this.size(rows[0]!.embedding.length);
      state = this.state = await this.sizing;
    }
    // Disabled: search is keyword-only and the vectors would never be read.
    if (state.kind !== 'ready') return;
    const wrong = rows.find((row) => row.embedding.length !== state.dimensions);
    if (wrong) {
      throw ApplicationFailure.nonRetryable(
        `An embedding of ${wrong.embedding.length} dimensions cannot go into the ${state.dimensions}-dimension vector index (model ${this.configured.model})`,
        'EmbeddingsMismatch',
      );
    }
    await this.backend.upsert(rows);
  }

  async removeFile(vectorStoreId: string, fileId: string): Promise<void> {
    if ((await this.ready, this.state.kind) === 'ready') await this.backend.removeFile(vectorStoreId, fileId);
  }

  async removeStore(vectorStoreId: string): Promise<void> {
    if ((await this.ready, this.state.kind) === 'ready') await this.backend.removeStore(vectorStoreId);
  }

  async nearest(req: Parameters<VectorIndex['nearest']>[0]): Promise<Array<{ chunkId: string; distance: number }>> {
    await this.ready;
    const state = this.state;
    if (state.kind !== 'ready') return [];
    if (req.embedding.length !== state.dimensions) {
      throw new Error(
        `The query embedding has ${req.embedding.length} dimensions; the vector index holds ${state.dimensions}`,
      );
    }
    return this.backend.nearest(req);
  }
}

import type {
  FileCounts,
  VectorStoreFileBatchRow,
  VectorStoreFileRow,
  VectorStoreRow,
} from '../store/repositories/vectorStores';
import { fromJson } from '../store/json';
import type { Attributes } from '../vectorStores/types';

/** Objects of the vector store endpoints as the spec describes them (reference §2.8–2.10). */

export interface StaticChunking {
  type: 'static';
  static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number };
}

export function storeStatus(
  row: VectorStoreRow,
  counts: FileCounts,
  now: number,
): 'expired' | 'in_progress' | 'completed' {
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  return counts.in_progress > 0 ? 'in_progress' : 'completed';
}

export function vectorStoreObject(
  row: VectorStoreRow,
  totals: { counts: FileCounts; usageBytes: number },
  now: number,
) {
  return {
    id: row.id,
    object: 'vector_store' as const,
    created_at: row.created_at,
    name: row.name ?? '',
    usage_bytes: totals.usageBytes,
    file_counts: totals.counts,
    status: storeStatus(row, totals.counts, now),
    expires_after:
      row.expires_after_days === null ? null : { anchor: 'last_active_at' as const, days: row.expires_after_days },
    expires_at: row.expires_at,
    last_active_at: row.last_active_at,
    metadata: fromJson<Record<string, string>>(row.metadata),
  };
}

export function vectorStoreFileObject(row: VectorStoreFileRow) {
  return {
    id: row.id,
    object: 'vector_store.file' as const,
    usage_bytes: row.usage_bytes,
    created_at: row.created_at,
    vector_store_id: row.vector_store_id,
    status: row.status as 'in_progress' | 'completed' | 'cancelled' | 'failed',
    last_error: fromJson<{ code: string; message: string }>(row.last_error),
    // `auto` is reported as the static strategy it stands for (the response side has no `auto`).
    chunking_strategy: fromJson<StaticChunking>(row.chunking_strategy),
    attributes: fromJson<Attributes>(row.attributes),
  };
}

/** A batch is `in_progress` until none of its files is, then `completed` (or `cancelled` once cancelled). */
export function fileBatchObject(row: VectorStoreFileBatchRow, counts: FileCounts) {
  const status = row.status === 'cancelled' ? 'cancelled' : counts.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: row.id,
    object: 'vector_store.files_batch' as const,
    created_at: row.created_at,
    vector_store_id: row.vector_store_id,
    status,
    file_counts: counts,
  };
}

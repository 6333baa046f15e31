import type { ToolResources } from '../schemas/common';
import { fromJson, toJson } from '../store/json';

/** The stored shape: only the lists that were given, no inline vector stores (refused at validation). */
type StoredToolResources = {
  code_interpreter?: { file_ids: string[] };
  file_search?: { vector_store_ids: string[] };
};

function normalise(input: ToolResources): StoredToolResources {
  const out: StoredToolResources = {};
  if (input.code_interpreter) out.code_interpreter = { file_ids: input.code_interpreter.file_ids ?? [] };
  if (input.file_search) out.file_search = { vector_store_ids: input.file_search.vector_store_ids ?? [] };
  return out;
}

export function toolResourcesJson(input: ToolResources | null | undefined): string | null {
  return input == null ? null : toJson(normalise(input));
}

/** On modify, each given list replaces the stored one; lists not given are kept; `null` clears all. */
export function mergeToolResources(stored: string | null, input: ToolResources | null): string | null {
  if (input === null) return null;
  return toJson({ ...(fromJson<StoredToolResources>(stored) ?? {}), ...normalise(input) });
}

import type { ToolResources } from '../schemas/common';
import { fromJson, toJson } from '../store/json';

/** The stored shape: only the lists that were given, no inline vector stores (refused at validation). */
type StoredToolResources = {
  code_interpreter?: { file_ids: string[] };
  file_search?: { vector_store_ids: string[] };
};

type Kind = keyof StoredToolResources;

/** Each resource the input sets (a null list is an empty one), and each it clears with an explicit null. */
function normalise(input: ToolResources): { set: StoredToolResources; cleared: Kind[] } {
  const set: StoredToolResources = {};
  const cleared: Kind[] = [];
  if (input.code_interpreter) set.code_interpreter = { file_ids: input.code_interpreter.file_ids ?? [] };
  else if (input.code_interpreter === null) cleared.push('code_interpreter');
  if (input.file_search) set.file_search = { vector_store_ids: input.file_search.vector_store_ids ?? [] };
  else if (input.file_search === null) cleared.push('file_search');
  return { set, cleared };
}

export function toolResourcesJson(input: ToolResources | null | undefined): string | null {
  return input == null ? null : toJson(normalise(input).set);
}

/**
 * On modify, each given resource replaces the stored one; resources not given are kept; a resource given as
 * `null` is removed; `tool_resources: null` clears all.
 */
export function mergeToolResources(stored: string | null, input: ToolResources | null): string | null {
  if (input === null) return null;
  const { set, cleared } = normalise(input);
  const merged: StoredToolResources = { ...(fromJson<StoredToolResources>(stored) ?? {}), ...set };
  for (const kind of cleared) delete merged[kind];
  return toJson(merged);
}

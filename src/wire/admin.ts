import type { ProviderSpec } from '../model/providerFile';
import type { ApiKeyRow } from '../store/repositories/apiKeys';
import type { ProjectRow } from '../store/repositories/projects';

/** Admin API objects. A provider's key and an API key's hash never appear in any of them. */

export function projectObject(row: ProjectRow) {
  return {
    id: row.id,
    object: 'project' as const,
    name: row.name,
    created_at: row.created_at,
    rate_limits: { requests_per_minute: row.rpm_limit ?? null, active_runs: row.active_runs_limit ?? null },
  };
}

/** `value` only in the answer that created the key: it is never stored and cannot be shown again. */
export function apiKeyObject(row: ApiKeyRow, value?: string) {
  return {
    id: row.id,
    object: 'api_key' as const,
    project_id: row.project_id,
    name: row.name,
    redacted_value: row.redacted,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
    ...(value === undefined ? {} : { value }),
  };
}

export function providerObject(spec: ProviderSpec) {
  return {
    id: spec.id,
    object: 'model_provider' as const,
    source: spec.source,
    project_id: spec.projectId,
    name: spec.name,
    model: spec.model,
    base_url: spec.baseURL,
    has_api_key: spec.apiKey !== undefined,
    context_window: spec.contextWindow ?? null,
    vision: spec.vision ?? null,
    embeddings_model: spec.embeddingsModel ?? null,
    created_at: spec.createdAt,
  };
}

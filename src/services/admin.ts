import type { Updateable } from 'kysely';
import { generateApiKey, hashApiKey, redactKey } from '../auth/keys';
import { badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ProviderSpec } from '../model/providerFile';
import { orderEntries, specFromRow } from '../model/providers';
import type {
  CreateApiKeyBody,
  CreateProjectBody,
  CreateProviderBody,
  ModifyProjectBody,
  ModifyProviderBody,
} from '../schemas/admin';
import type { Store } from '../store';
import type { ModelProviderTable, ProjectTable } from '../store/schema';
import { apiKeyObject, projectObject, providerObject } from '../wire/admin';
import { listEnvelope } from '../wire/objects';
import { nowSeconds } from './context';

export interface AdminDeps {
  store: Store;
  /** The settings file's provider entries and the catch-all, listed beside the stored ones (read-only). */
  providerFile: { entries: ProviderSpec[]; fallback: ProviderSpec | null };
}

/**
 * Projects, API keys and the model provider table: what the admin HTTP API and the `threadline projects` /
 * `threadline keys` commands manage (the CLI calls these directly on the database, no server needed).
 */
export function adminService({ store, providerFile }: AdminDeps) {
  async function requireProject(id: string) {
    const row = await store.projects.find(id);
    if (!row) throw notFound('project', id);
    return row;
  }

  async function requireStoredProvider(id: string) {
    const row = await store.providers.find(id);
    if (row) return row;
    if ([...providerFile.entries, providerFile.fallback].some((spec) => spec?.id === id)) {
      throw badRequest(
        `Provider '${id}' comes from the server's settings (its providers file or OPENAI_*); edit them there.`,
      );
    }
    throw notFound('model provider', id);
  }

  return {
    async createProject(body: CreateProjectBody) {
      const { id, createdAt } = newObjectId('project');
      await store.projects.insert({
        id,
        name: body.name,
        created_at: createdAt,
        rpm_limit: body.rate_limits?.requests_per_minute ?? null,
        active_runs_limit: body.rate_limits?.active_runs ?? null,
      });
      return projectObject(await requireProject(id));
    },

    async listProjects() {
      return listEnvelope((await store.projects.list()).map(projectObject), false);
    },

    async retrieveProject(id: string) {
      return projectObject(await requireProject(id));
    },

    async modifyProject(id: string, body: ModifyProjectBody) {
      await requireProject(id);
      const changes: Updateable<ProjectTable> = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.rate_limits?.requests_per_minute !== undefined) changes.rpm_limit = body.rate_limits.requests_per_minute;
      if (body.rate_limits?.active_runs !== undefined) changes.active_runs_limit = body.rate_limits.active_runs;
      return projectObject((await store.projects.update(id, changes))!);
    },

    /** The only answer that carries the key itself (`value`): only its hash is kept. */
    async createApiKey(projectId: string, body: CreateApiKeyBody) {
      await requireProject(projectId);
      const value = generateApiKey();
      const { id, createdAt } = newObjectId('apiKey');
      await store.apiKeys.insert({
        id,
        project_id: projectId,
        name: body.name ?? null,
        key_hash: hashApiKey(value),
        redacted: redactKey(value),
        created_at: createdAt,
        revoked_at: null,
      });
      return apiKeyObject((await store.apiKeys.find(id))!, value);
    },

    async listApiKeys(projectId?: string) {
      if (projectId !== undefined) await requireProject(projectId);
      return listEnvelope(
        (await store.apiKeys.list(projectId)).map((row) => apiKeyObject(row)),
        false,
      );
    },

    /** Takes effect at the key's next request, in every API process (keys are looked up per request). */
    async revokeApiKey(id: string) {
      const row = await store.apiKeys.revoke(id, nowSeconds());
      if (!row) throw notFound('API key', id);
      return apiKeyObject(row);
    },

    /** Every entry, in the order the table tries them for a project-less lookup: stored, file, catch-all. */
    async listProviders() {
      const stored = (await store.providers.list()).map(specFromRow);
      const all = orderEntries([...stored, ...providerFile.entries], providerFile.fallback);
      return listEnvelope(all.map(providerObject), false);
    },

    async retrieveProvider(id: string) {
      const row = await store.providers.find(id);
      const spec = row ? specFromRow(row) : [...providerFile.entries, providerFile.fallback].find((s) => s?.id === id);
      if (!spec) throw notFound('model provider', id);
      return providerObject(spec);
    },

    async createProvider(body: CreateProviderBody) {
      if (body.project_id) await requireProject(body.project_id);
      const { id, createdAt } = newObjectId('provider');
      await store.providers.insert({
        id,
        project_id: body.project_id ?? null,
        name: body.name ?? null,
        model: body.model,
        base_url: body.base_url,
        api_key: body.api_key ?? null,
        context_window: body.context_window ?? null,
        vision: body.vision === undefined ? null : body.vision ? 1 : 0,
        embeddings_model: body.embeddings_model ?? null,
        created_at: createdAt,
      });
      return providerObject(specFromRow((await store.providers.find(id))!));
    },

    async modifyProvider(id: string, body: ModifyProviderBody) {
      await requireStoredProvider(id);
      const changes: Updateable<ModelProviderTable> = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.model !== undefined) changes.model = body.model;
      if (body.base_url !== undefined) changes.base_url = body.base_url;
      if (body.api_key !== undefined) changes.api_key = body.api_key;
      if (body.context_window !== undefined) changes.context_window = body.context_window;
      if (body.vision !== undefined) changes.vision = body.vision === null ? null : body.vision ? 1 : 0;
      if (body.embeddings_model !== undefined) changes.embeddings_model = body.embeddings_model;
      return providerObject(specFromRow((await store.providers.update(id, changes))!));
    },

    async deleteProvider(id: string) {
      await requireStoredProvider(id);
      await store.providers.delete(id);
      return { id, object: 'model_provider.deleted' as const, deleted: true };
    },
  };
}

export type AdminService = ReturnType<typeof adminService>;

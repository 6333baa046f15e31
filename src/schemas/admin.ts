import { z } from 'zod';
import { ProviderOptions } from '../model/providerFile';

/** Request bodies of the admin API (`/admin/v1/…`); the CLI builds the same objects. */

const Limit = z.number().int().min(0).nullable().optional();

/** A project's overrides of the server's rate-limit settings; `null` goes back to the setting, 0 = no limit. */
export const RateLimitsBody = z.strictObject({
  requests_per_minute: Limit,
  active_runs: Limit,
});

export const CreateProjectBody = z.strictObject({
  name: z.string().min(1).max(256),
  rate_limits: RateLimitsBody.optional(),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

export const ModifyProjectBody = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  rate_limits: RateLimitsBody.optional(),
});
export type ModifyProjectBody = z.infer<typeof ModifyProjectBody>;

export const CreateApiKeyBody = z.strictObject({
  name: z.string().min(1).max(256).nullable().optional(),
});
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const ListApiKeysQuery = z.strictObject({
  project_id: z.string().min(1).optional(),
});

export const CreateProviderBody = z.strictObject({
  ...ProviderOptions,
  /** The project the entry serves; absent or null: every project. */
  project_id: z.string().min(1).nullable().optional(),
});
export type CreateProviderBody = z.infer<typeof CreateProviderBody>;

/** Absent fields stay; `null` clears an optional one (`api_key: null` removes the stored key). */
export const ModifyProviderBody = z.strictObject({
  name: ProviderOptions.name.nullable(),
  model: ProviderOptions.model.optional(),
  base_url: ProviderOptions.base_url.optional(),
  api_key: ProviderOptions.api_key.nullable(),
  context_window: ProviderOptions.context_window.nullable(),
  vision: ProviderOptions.vision.nullable(),
  embeddings_model: ProviderOptions.embeddings_model.nullable(),
});
export type ModifyProviderBody = z.infer<typeof ModifyProviderBody>;

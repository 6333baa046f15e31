import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { Logger } from '../logger';
import type { ProviderSpec } from './providerFile';

/** A model as `GET /v1/models` lists it (OpenAI's Model object). */
export interface ListedModel {
  id: string;
  created: number;
  owned_by: string;
}

const FRESH_MS = 60_000;
const TIMEOUT_MS = 3_000;

interface Entry {
  models: ListedModel[];
  at: number;
  pending?: Promise<ListedModel[]>;
}

/**
 * What each provider endpoint says it serves (its own `GET /models`), remembered for a minute: pattern
 * entries list the matching models from here. An endpoint that does not answer lists nothing (or what it
 * listed last time); it never makes `/v1/models` fail.
 */
export class UpstreamModels {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly clientFor: (spec: ProviderSpec) => OpenAI,
    private readonly logger: Logger,
  ) {}

  async list(spec: ProviderSpec): Promise<ListedModel[]> {
    const key = cacheKey(spec);
    const entry = this.cache.get(key);
    if (entry && Date.now() - entry.at < FRESH_MS) return entry.models;
    if (entry?.pending) return entry.pending;
    const pending = this.fetch(spec).then(
      (models) => {
        this.cache.set(key, { models, at: Date.now() });
        return models;
      },
      (error: unknown) => {
        this.logger.debug({ provider: spec.name ?? spec.id, err: describe(error) }, 'could not list models');
        // Keep the last good list, and do not ask again for a while.
        const models = entry?.models ?? [];
        this.cache.set(key, { models, at: Date.now() });
        return models;
      },
    );
    this.cache.set(key, { models: entry?.models ?? [], at: entry?.at ?? 0, pending });
    return pending;
  }

  /** Asks each distinct endpoint once and logs whether it answered (never its key). */
  async probe(specs: ProviderSpec[]): Promise<void> {
    const seen = new Set<string>();
    await Promise.all(
      specs.map(async (spec) => {
        const key = cacheKey(spec);
        if (seen.has(key)) return;
        seen.add(key);
        const where = { provider: spec.name ?? spec.id, baseURL: spec.baseURL };
        try {
          const models = await this.fetch(spec);
          this.cache.set(key, { models, at: Date.now() });
          this.logger.info({ ...where, models: models.length }, 'model provider reachable');
        } catch (error) {
          this.logger.warn({ ...where, err: describe(error) }, 'model provider not reachable');
        }
      }),
    );
  }

  private async fetch(spec: ProviderSpec): Promise<ListedModel[]> {
    const models: ListedModel[] = [];
    const page = await this.clientFor(spec).models.list({ timeout: TIMEOUT_MS, maxRetries: 0 });
    for await (const model of page) {
      models.push({
        id: model.id,
        created: typeof model.created === 'number' ? model.created : 0,
        owned_by: typeof model.owned_by === 'string' ? model.owned_by : (spec.name ?? spec.id),
      });
      if (models.length >= 10_000) break;
    }
    return models;
  }
}

function cacheKey(spec: ProviderSpec): string {
  return `${spec.baseURL}\n${spec.apiKey ?? ''}`;
}

/** The failure without anything an endpoint might echo back of the key. */
function describe(error: unknown): string {
  if (error instanceof APIError && typeof error.status === 'number') return `HTTP ${error.status}`;
  return error instanceof Error
    ? error.name + (error.message ? `: ${error.message.slice(0, 200)}` : '')
    : String(error);
}

import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { instrumentedFetch } from '../observability/modelCalls';
import type { Store } from '../store';
import type { ModelProviderRow } from '../store/repositories/providers';
import { createModelClient } from './client';
import { OPENAI_BASE_URL, type ProviderSpec } from './providerFile';
import { UpstreamModels, type ListedModel } from './upstreamModels';

export interface ProviderRegistryOptions {
  store: Store;
  /** The settings file's entries. */
  fileEntries: ProviderSpec[];
  /** The catch-all entry, or null when there is none. */
  fallback: ProviderSpec | null;
  /** The context window of entries that name none (THREADLINE_MODEL_CONTEXT_TOKENS). */
  defaultContextWindow: number;
  logger: Logger;
  metrics?: Metrics;
}

/** What a model call needs from the table: a client for the provider and the provider's options. */
export interface ResolvedProvider {
  spec: ProviderSpec;
  client: OpenAI;
  contextWindowTokens: number;
  /** The request as this provider takes it (image parts left out for a provider without vision). */
  adapt(request: ChatCompletionCreateParamsStreaming): ChatCompletionCreateParamsStreaming;
}

const NO_IMAGES = '[image omitted: this model does not accept images]';

export function isPattern(model: string): boolean {
  return model.includes('*') || model.includes('?');
}

/** Glob match: `*` is any run of characters (also none), `?` exactly one; everything else is literal. */
export function modelMatches(pattern: string, model: string): boolean {
  if (!isPattern(pattern)) return pattern === model;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(model);
}

/**
 * The order entries are tried in, first match wins: the project's own entries before global ones; within
 * those, exact names before patterns; then entries added through the admin API before the file's; then in
 * the order they were added (or listed). The catch-all comes last.
 */
export function orderEntries(entries: ProviderSpec[], fallback: ProviderSpec | null): ProviderSpec[] {
  const rank = (e: ProviderSpec) =>
    (e.projectId === null ? 4 : 0) + (isPattern(e.model) ? 2 : 0) + (e.source === 'file' ? 1 : 0);
  const ordered = entries.map((entry, index) => ({ entry, index }));
  ordered.sort((a, b) => rank(a.entry) - rank(b.entry) || a.index - b.index);
  return [...ordered.map((o) => o.entry), ...(fallback ? [fallback] : [])];
}

export function specFromRow(row: ModelProviderRow): ProviderSpec {
  return {
    id: row.id,
    source: 'admin',
    name: row.name,
    projectId: row.project_id,
    model: row.model,
    baseURL: row.base_url,
    apiKey: row.api_key ?? undefined,
    contextWindow: row.context_window ?? undefined,
    vision: row.vision === null ? undefined : row.vision === 1,
    embeddingsModel: row.embeddings_model ?? undefined,
    createdAt: row.created_at,
  };
}

/** An entry that cannot serve anyone yet: the OpenAI endpoint without a key. */
export function isUnconfiguredOpenAI(spec: ProviderSpec | null): boolean {
  return spec !== null && spec.baseURL.replace(/\/+$/, '') === OPENAI_BASE_URL && !spec.apiKey;
}

/**
 * The model provider table, for the worker (which endpoint serves a run's model) and the API (which models a
 * project can use). Admin entries are read from the database on every lookup — one small query — so an edit
 * made through any API process applies to the very next model call everywhere.
 */
export function createProviderRegistry(options: ProviderRegistryOptions) {
  const { store, fileEntries, fallback, logger } = options;
  const clients = new Map<string, OpenAI>();
  const upstream = new UpstreamModels((spec) => clientFor(spec), logger);
  const bootTime = Math.floor(Date.now() / 1000);

  function clientFor(spec: ProviderSpec): OpenAI {
    const key = `${spec.baseURL}\n${spec.apiKey ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = createModelClient({ baseURL: spec.baseURL, apiKey: spec.apiKey });
      clients.set(key, client);
    }
    return client;
  }

  async function entriesFor(projectId: string): Promise<ProviderSpec[]> {
    const stored = (await store.providers.forProject(projectId)).map(specFromRow);
    const fromFile = fileEntries.filter((e) => e.projectId === null || e.projectId === projectId);
    return orderEntries([...stored, ...fromFile], fallback);
  }

  async function resolve(projectId: string, model: string): Promise<ProviderSpec | undefined> {
    return (await entriesFor(projectId)).find((entry) => modelMatches(entry.model, model));
  }

  return {
    entriesFor,
    resolve,

    /**
     * The provider for a run's model call. No entry serving the model is a configuration problem no retry
     * can fix: the run fails at once, its `last_error` saying what to configure.
     */
    async forRun(run: { project_id: string; id: string; thread_id: string; model: string }): Promise<ResolvedProvider> {
      const spec = await resolve(run.project_id, run.model);
      if (!spec) {
        throw ApplicationFailure.create({
          type: 'ModelNotConfigured',
          message: `No model provider serves the model '${run.model}' for this project. Add a provider entry for it (THREADLINE_PROVIDERS_FILE or POST /admin/v1/providers), or use a model the project's provider table serves (GET /v1/models).`,
          nonRetryable: true,
        });
      }
      const client = clientFor(spec).withOptions({
        fetch: instrumentedFetch(options.metrics, {
          projectId: run.project_id,
          runId: run.id,
          threadId: run.thread_id,
          model: run.model,
          provider: spec.name ?? spec.id,
          baseURL: spec.baseURL,
        }),
      });
      return {
        spec,
        client,
        contextWindowTokens: spec.contextWindow ?? options.defaultContextWindow,
        adapt: (request) => (spec.vision === false ? withoutImages(request) : request),
      };
    },

    /** The embeddings model (and a client for it) the project's first entry naming one offers. */
    async embeddingsFor(projectId: string): Promise<{ client: OpenAI; model: string; spec: ProviderSpec } | undefined> {
      const spec = (await entriesFor(projectId)).find((entry) => entry.embeddingsModel !== undefined);
      return spec ? { client: clientFor(spec), model: spec.embeddingsModel!, spec } : undefined;
    },

    /**
     * The models a project can use, each once, credited to the entry that would serve it: exact names as
     * configured, and for patterns the models their endpoint lists (`GET /models`, cached for a minute) that
     * match. A model the table would route elsewhere is not listed under the wrong entry.
     */
    async listModels(projectId: string): Promise<ListedModel[]> {
      const entries = await entriesFor(projectId);
      const listed = new Map<string, ListedModel>();
      const owner = (spec: ProviderSpec) => spec.name ?? spec.id;
      for (const spec of entries) {
        const candidates: ListedModel[] = isPattern(spec.model)
          ? (await upstream.list(spec)).filter((m) => modelMatches(spec.model, m.id))
          : [{ id: spec.model, created: spec.createdAt || bootTime, owned_by: owner(spec) }];
        for (const model of candidates) {
          if (listed.has(model.id)) continue;
          if (entries.find((e) => modelMatches(e.model, model.id)) !== spec) continue;
          listed.set(model.id, model);
        }
      }
      return [...listed.values()].sort((a, b) => a.id.localeCompare(b.id));
    },

    /** Every entry, stored ones included, in no particular order. */
    async allEntries(): Promise<ProviderSpec[]> {
      return [...fileEntries, ...(await store.providers.list()).map(specFromRow), ...(fallback ? [fallback] : [])];
    },

    /** Asks each endpoint of `specs` for its models once and logs which answered (at boot). */
    async probe(specs: ProviderSpec[]): Promise<void> {
      await upstream.probe(specs.filter((spec) => !isUnconfiguredOpenAI(spec)));
    },
  };
}

export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;

function withoutImages(request: ChatCompletionCreateParamsStreaming): ChatCompletionCreateParamsStreaming {
  const messages = request.messages.map((message) => {
    if (message.role !== 'user' || !Array.isArray(message.content)) return message;
    const text = message.content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
    const dropped = text.length < message.content.length;
    return { ...message, content: [...text, ...(dropped ? [NO_IMAGES] : [])].join('\n') };
  });
  return { ...request, messages };
}

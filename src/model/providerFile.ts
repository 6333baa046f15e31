import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';

/**
 * One entry of the model provider table: which model names (an exact name or a glob) an OpenAI-compatible
 * endpoint serves, with what key and options. Entries come from three places — the OPENAI_BASE_URL /
 * OPENAI_API_KEY catch-all (`default`), the settings file (`file`) and the admin API (`admin`, stored in the
 * database) — and look the same once loaded.
 */
export interface ProviderSpec {
  id: string;
  source: 'default' | 'file' | 'admin';
  name: string | null;
  /** null: every project. */
  projectId: string | null;
  /** An exact model name, or a glob where `*` is any run of characters and `?` one character. */
  model: string;
  baseURL: string;
  /** Never returned by any API, never logged. */
  apiKey: string | undefined;
  contextWindow: number | undefined;
  /** false: image parts are left out of prompts sent to this provider. */
  vision: boolean | undefined;
  /** The embeddings model for file search on this provider. */
  embeddingsModel: string | undefined;
  createdAt: number;
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** The options an entry may carry, the same in the file and in the admin API. */
export const ProviderOptions = {
  name: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(256),
  base_url: z.url(),
  api_key: z.string().min(1).optional(),
  context_window: z.number().int().min(1024).optional(),
  vision: z.boolean().optional(),
  embeddings_model: z.string().min(1).max(256).optional(),
};

const FileEntry = z.strictObject({
  ...ProviderOptions,
  /** The name of an environment variable holding the key, so the file itself carries no secret. */
  api_key_env: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
});
type FileEntry = z.infer<typeof FileEntry>;

const DefaultEntry = FileEntry.omit({ model: true, project: true });

const ProviderFile = z.strictObject({
  default: DefaultEntry.nullable().optional(),
  providers: z.array(FileEntry).default([]),
});

export interface LoadedProviderFile {
  entries: ProviderSpec[];
  /** undefined: the file leaves the OPENAI_* catch-all alone; null: the file removes it. */
  fallback: ProviderSpec | null | undefined;
}

/** The catch-all entry made of OPENAI_BASE_URL and OPENAI_API_KEY, as every run used before the table. */
export function defaultProvider(baseURL: string | undefined, apiKey: string | undefined): ProviderSpec {
  return {
    id: 'default',
    source: 'default',
    name: 'default',
    projectId: null,
    model: '*',
    baseURL: baseURL ?? OPENAI_BASE_URL,
    apiKey,
    contextWindow: undefined,
    vision: undefined,
    embeddingsModel: undefined,
    createdAt: 0,
  };
}

/**
 * Reads the provider table file (YAML, or JSON, which YAML reads too). `api_key_env` is resolved against
 * `env` here, at boot, so a missing variable is reported with the settings rather than at the first run.
 */
export function loadProviderFile(file: string, env: NodeJS.ProcessEnv): LoadedProviderFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`THREADLINE_PROVIDERS_FILE=${JSON.stringify(file)}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    throw new Error(
      `THREADLINE_PROVIDERS_FILE=${JSON.stringify(file)}: not valid YAML or JSON: ${(error as Error).message}`,
    );
  }
  const parsed = ProviderFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const where = (path: PropertyKey[]) =>
      path.reduce<string>(
        (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
        '',
      );
    const lines = parsed.error.issues.map((i) => `  ${where(i.path) || '(file)'}: ${i.message}`);
    throw new Error(`THREADLINE_PROVIDERS_FILE=${JSON.stringify(file)}: invalid provider table:\n${lines.join('\n')}`);
  }
  const keyOf = (entry: Omit<FileEntry, 'model'>, where: string): string | undefined => {
    if (entry.api_key !== undefined && entry.api_key_env !== undefined) {
      throw new Error(`THREADLINE_PROVIDERS_FILE=${JSON.stringify(file)}: ${where} has both api_key and api_key_env`);
    }
    if (entry.api_key_env === undefined) return entry.api_key;
    const value = env[entry.api_key_env]?.trim();
    if (!value) {
      throw new Error(
        `THREADLINE_PROVIDERS_FILE=${JSON.stringify(file)}: ${where} reads its key from ${entry.api_key_env}, which is not set`,
      );
    }
    return value;
  };
  const entries = parsed.data.providers.map(
    (entry, index): ProviderSpec => ({
      id: `file:${entry.name ?? index + 1}`,
      source: 'file',
      name: entry.name ?? null,
      projectId: entry.project ?? null,
      model: entry.model,
      baseURL: entry.base_url,
      apiKey: keyOf(entry, `providers[${index}]`),
      contextWindow: entry.context_window,
      vision: entry.vision,
      embeddingsModel: entry.embeddings_model,
      createdAt: 0,
    }),
  );
  const fallbackEntry = parsed.data.default;
  const fallback =
    fallbackEntry === undefined
      ? undefined
      : fallbackEntry === null
        ? null
        : {
            ...defaultProvider(fallbackEntry.base_url, keyOf(fallbackEntry, 'default')),
            name: fallbackEntry.name ?? 'default',
            contextWindow: fallbackEntry.context_window,
            vision: fallbackEntry.vision,
            embeddingsModel: fallbackEntry.embeddings_model,
          };
  return { entries, fallback };
}

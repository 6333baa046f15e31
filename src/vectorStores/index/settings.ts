import type { SqlRunner } from './sqlRunner';

export interface IndexSettings {
  model: string;
  dimensions: number;
}

/**
 * Why stored vectors cannot be used with the configured embedder, or undefined when they can. Vectors of two
 * models (or two sizes of one model) do not compare: mixing them would rank nonsense, so the index is left
 * untouched and search falls back to keywords until the operator decides.
 */
export function settingsConflict(
  stored: IndexSettings | undefined,
  configured: { model: string; dimensions: number | undefined },
): string | undefined {
  if (!stored) return undefined;
  if (stored.model !== configured.model) {
    return `the vector index holds vectors of model ${stored.model} (${stored.dimensions} dimensions) but THREADLINE_EMBEDDINGS_MODEL is ${configured.model}`;
  }
  if (configured.dimensions !== undefined && configured.dimensions !== stored.dimensions) {
    return `the vector index holds ${stored.dimensions}-dimension vectors of ${stored.model} but THREADLINE_EMBEDDINGS_DIMENSIONS is ${configured.dimensions}`;
  }
  return undefined;
}

/** What to do about a conflict, for the boot log. */
export function conflictAdvice(table: string): string {
  return `set the embeddings settings back, or drop the stored vectors (DROP TABLE ${table}; DELETE FROM vector_index_settings;) and re-add the files to their stores to embed them again; until then search is keyword-only`;
}

const SETTINGS_ID = 'embeddings';

export async function readSettings(
  runner: SqlRunner,
  placeholder: (n: number) => string,
): Promise<IndexSettings | undefined> {
  const [row] = await runner.query<{ model: string; dimensions: number | string }>(
    `SELECT model, dimensions FROM vector_index_settings WHERE id = ${placeholder(1)}`,
    [SETTINGS_ID],
  );
  return row ? { model: row.model, dimensions: Number(row.dimensions) } : undefined;
}

/** Records the settings unless another process did first; returns what is stored either way. */
export async function claimSettings(
  runner: SqlRunner,
  placeholder: (n: number) => string,
  settings: IndexSettings,
): Promise<IndexSettings> {
  const p = placeholder;
  await runner.query(
    `INSERT INTO vector_index_settings (id, model, dimensions, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}) ON CONFLICT (id) DO NOTHING`,
    [SETTINGS_ID, settings.model, settings.dimensions, Math.floor(Date.now() / 1000)],
  );
  return (await readSettings(runner, placeholder))!;
}

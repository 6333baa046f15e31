import type { FileSearchToolCall } from 'openai/resources/beta/threads/runs/steps';

/** The fields of a vector store search hit (src/vectorStores/types.ts `SearchHit`) that a run's call uses. */
export interface Hit {
  chunkId: string;
  fileId: string;
  filename: string;
  text: string;
  score: number;
}

/**
 * One call's results from its queries' hits (each query searched on its own, in parallel): a chunk found by
 * several queries counts once, at its best score; best first (ties in a fixed order, so a retried activity
 * numbers the same results the same way), at most `max`.
 */
export function mergeHits(perQuery: Hit[][], max: number): Hit[] {
  const best = new Map<string, Hit>();
  for (const hits of perQuery) {
    for (const hit of hits) {
      const seen = best.get(hit.chunkId);
      if (!seen || hit.score > seen.score) best.set(hit.chunkId, hit);
    }
  }
  return [...best.values()]
    .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0))
    .slice(0, max);
}

/** The queries in a call's arguments: `{"queries": [...]}`, a lone `query`, or bare text from a model that sent no JSON. */
export function queriesOf(args: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return args.trim() === '' ? [] : [args.trim()];
  }
  if (typeof parsed === 'string') return parsed.trim() === '' ? [] : [parsed];
  if (parsed === null || typeof parsed !== 'object') return [];
  const { queries, query } = parsed as { queries?: unknown; query?: unknown };
  const list = Array.isArray(queries) ? queries : typeof queries === 'string' ? [queries] : [];
  if (typeof query === 'string') list.push(query);
  // Bounded: a model looping on queries must not fan out into hundreds of searches.
  return [...new Set(list.filter((q): q is string => typeof q === 'string' && q.trim() !== ''))].slice(0, 10);
}

/** The declared tool's settings, with OpenAI's defaults. */
export interface SearchSettings {
  maxNumResults: number;
  ranker: 'auto' | 'default_2024_08_21';
  scoreThreshold: number;
}

export const DEFAULT_MAX_NUM_RESULTS = 20;

/** OpenAI's default `max_num_results`: 20, but 5 for gpt-3.5-turbo models (their smaller context). */
export function defaultMaxNumResults(model: string | undefined): number {
  return model?.startsWith('gpt-3.5-turbo') ? 5 : DEFAULT_MAX_NUM_RESULTS;
}

export function searchSettings(
  declared: { file_search?: FileSearchDeclared } | undefined,
  model?: string,
): SearchSettings {
  const options = declared?.file_search;
  return {
    maxNumResults: options?.max_num_results ?? defaultMaxNumResults(model),
    ranker: options?.ranking_options?.ranker ?? 'auto',
    scoreThreshold: options?.ranking_options?.score_threshold ?? 0,
  };
}

interface FileSearchDeclared {
  max_num_results?: number;
  ranking_options?: { ranker?: 'auto' | 'default_2024_08_21'; score_threshold: number };
}

/** The call as its step shows it: the ranking used and each result with its text (stripped unless `include[]`). */
export function searchCall(id: string, settings: SearchSettings, hits: Hit[]): FileSearchToolCall {
  return {
    id,
    type: 'file_search',
    file_search: {
      ranking_options: { ranker: settings.ranker, score_threshold: settings.scoreThreshold },
      results: hits.map((hit) => ({
        file_id: hit.fileId,
        file_name: hit.filename,
        score: hit.score,
        content: [{ type: 'text', text: hit.text }],
      })),
    },
  };
}

/** The step details as shown without `include[]=…file_search.results[*].content`: results without `content`. */
export function withoutResultContent<T>(details: T): T {
  const d = details as { type?: string; tool_calls?: Array<{ type: string; file_search?: { results?: object[] } }> };
  if (d?.type !== 'tool_calls' || !d.tool_calls?.some((c) => c.type === 'file_search' && c.file_search?.results)) {
    return details;
  }
  return {
    ...d,
    tool_calls: d.tool_calls.map((call) =>
      call.type === 'file_search' && call.file_search?.results
        ? {
            ...call,
            file_search: {
              ...call.file_search,
              results: call.file_search.results.map((r) => {
                const { content: _content, ...rest } = r as { content?: unknown };
                return rest;
              }),
            },
          }
        : call,
    ),
  } as T;
}

/**
 * How many of the results (best first) the model is given: as many as fit in `budget` tokens together
 * (`tokens[i]`: what result i costs in the output), and at least the best one. The rest are left out of the
 * output and the step alike, so every marker the model sees names a result the step shows.
 */
export function resultsWithin(tokens: number[], budget: number): number {
  let used = 0;
  for (let i = 0; i < tokens.length; i++) {
    used += tokens[i]!;
    if (used > budget) return Math.max(1, i);
  }
  return tokens.length;
}

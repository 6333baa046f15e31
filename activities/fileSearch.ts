import type { Store } from '../src/store';
import { fromJson } from '../src/store/json';
import { callNumber, searchOutputText } from '../src/tools/citations';
import type { FileSearchExtras } from '../src/tools/fileSearchTool';
import {
  mergeHits,
  queriesOf,
  resultsWithin,
  searchCall,
  searchSettings,
  type Hit,
} from '../src/tools/fileSearchResults';
import type { DeclaredTool, ServerToolExecutor, ToolResult, ToolType } from '../src/tools';
import { allInOrder } from '../src/settled';

/** What one search asks the vector stores (the fields of `SearchRequest` in src/vectorStores/types.ts). */
export interface RunSearchRequest {
  projectId: string;
  vectorStoreIds: string[];
  queries: string[];
  maxNumResults: number;
  scoreThreshold?: number;
  ranker?: string;
}

export type SearchFn = (request: RunSearchRequest) => Promise<Hit[]>;

type Resources = { file_search?: { vector_store_ids?: string[] } } | null;

/**
 * The vector stores a run searches: its assistant's and its thread's `tool_resources.file_search`, read when
 * asked (a run does not snapshot them, as OpenAI: a store attached to the thread mid-run is searched by the
 * run's next call; code_interpreter's files are read the same way). Assistant's first, each once.
 */
export async function runVectorStoreIds(
  store: Store,
  projectId: string,
  assistantId: string,
  threadId: string,
): Promise<string[]> {
  // Both at once: this runs before every model step where file_search is available (and before each search).
  const [assistant, thread] = await allInOrder([
    store.assistants.find(projectId, assistantId),
    store.threads.find(projectId, threadId),
  ]);
  return [
    ...new Set([
      ...(fromJson<Resources>(assistant?.tool_resources ?? null)?.file_search?.vector_store_ids ?? []),
      ...(fromJson<Resources>(thread?.tool_resources ?? null)?.file_search?.vector_store_ids ?? []),
    ]),
  ];
}

/**
 * file_search calls, run by `runServerTool` on the run worker: each query searched on its own (in parallel)
 * over the run's vector stores with the declared tool's `max_num_results` and `ranking_options`, the hits
 * merged and numbered for citation (citations.ts). Deterministic in what the database holds, so a retried
 * activity records the same result under the same numbers.
 */
/**
 * What sizes a call's output to the run's model: the tokens one call's results may take (a share of the
 * model's context window: a run's own tool outputs are never truncated from its prompt, so 20 long chunks
 * must not overflow a small local model), and a token counter.
 */
export interface OutputBudget {
  tokensFor(run: { project_id: string; id: string; thread_id: string; model: string }): Promise<number>;
  count(texts: string[]): Promise<number[]>;
}

export function fileSearchExecutor(store: Store, search: SearchFn, budget?: OutputBudget): ServerToolExecutor {
  return async (request): Promise<ToolResult> => {
    const run = await store.runs.findById(request.projectId, request.runId);
    const declared = fromJson<DeclaredTool[]>(run?.tools ?? '[]').find((tool) => tool.type === 'file_search');
    const settings = searchSettings(declared, run?.model);
    const steps = await store.runSteps.listForRun(request.projectId, request.runId);
    const counted = steps
      .filter((step) => step.type === 'tool_calls')
      .map((step) => ({
        id: step.id,
        callCount: fromJson<{ tool_calls: unknown[] }>(step.step_details).tool_calls.length,
      }));
    const own = steps.find((step) => step.id === request.stepId);
    const ownCalls = own ? fromJson<{ tool_calls: Array<{ id: string }> }>(own.step_details).tool_calls : [];
    const number = callNumber(
      counted,
      request.stepId,
      Math.max(
        0,
        ownCalls.findIndex((c) => c.id === request.call.id),
      ),
    );
    const queries = queriesOf(request.arguments);
    const vectorStoreIds = await runVectorStoreIds(store, request.projectId, request.assistantId, request.threadId);

    let note: string | undefined;
    let hits: Hit[] = [];
    if (queries.length === 0) note = 'No query was given: call file_search with {"queries": ["…"]}.';
    else if (vectorStoreIds.length === 0) note = 'There are no files to search in this conversation.';
    else {
      await untilIngested(store, request.projectId, vectorStoreIds, request);
      const perQuery = await Promise.all(
        queries.map((query) =>
          search({
            projectId: request.projectId,
            vectorStoreIds,
            queries: [query],
            maxNumResults: settings.maxNumResults,
            scoreThreshold: settings.scoreThreshold,
            ranker: settings.ranker,
          }),
        ),
      );
      request.heartbeat();
      hits = mergeHits(perQuery, settings.maxNumResults);
      if (budget && run && hits.length > 1) {
        const costs = await budget.count(hits.map((hit) => `${hit.filename} ${hit.text}`));
        hits = hits.slice(0, resultsWithin(costs, await budget.tokensFor(run)));
      }
      await touchSearched(store, request.projectId, vectorStoreIds);
    }
    const extras: FileSearchExtras = { number, fileIds: hits.map((hit) => hit.fileId) };
    return {
      output: searchOutputText(
        number,
        queries,
        hits.map((hit) => ({ fileName: hit.filename, score: hit.score, text: hit.text })),
        note,
      ),
      call: searchCall(request.call.id, settings, hits),
      arguments: request.arguments,
      extras,
    };
  };
}

/**
 * A run's search is activity on its stores: `last_active_at` moves, and so does the expiry of a store that
 * expires after inactivity (a thread's own store lives 7 days past its last use). An expired store stays
 * expired (it was not searched). Recorded at most once a minute, as the search endpoint does.
 */
async function touchSearched(store: Store, projectId: string, vectorStoreIds: string[]): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  for (const id of vectorStoreIds) {
    const row = await store.vectorStores.findStore(projectId, id);
    if (!row || (row.expires_at !== null && row.expires_at <= now)) continue;
    if (now - row.last_active_at >= ACTIVITY_RESOLUTION_SECONDS) await store.vectorStores.touch(projectId, id, now);
  }
}

const ACTIVITY_RESOLUTION_SECONDS = 60;

/** How long a search waits for files still being ingested into the run's stores (OpenAI: up to 60 s). */
const INGESTION_WAIT_MS = 60_000;
const INGESTION_POLL_MS = 200;

/**
 * Waits, heartbeating, while any file of the stores is still `in_progress` (attachments and inline stores
 * start ingesting as the thread is made; OpenAI's runs polled for them up to 60 s). Past that the search
 * goes on with what is indexed. Stops at once when the run is cancelled.
 */
async function untilIngested(
  store: Store,
  projectId: string,
  vectorStoreIds: string[],
  request: { heartbeat(): void; signal: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + INGESTION_WAIT_MS;
  while (Date.now() < deadline && !request.signal.aborted) {
    const pending = await store.db
      .selectFrom('vector_store_files')
      .select('id')
      .where('project_id', '=', projectId)
      .where('vector_store_id', 'in', vectorStoreIds)
      .where('status', '=', 'in_progress')
      .limit(1)
      .executeTakeFirst();
    if (!pending) return;
    request.heartbeat();
    await new Promise((resolve) => setTimeout(resolve, INGESTION_POLL_MS));
  }
}

/**
 * The built-ins a run's model step may be offered: the worker's, less file_search while the run has no vector
 * store to search — none named, or only ones deleted or expired (an assistant declaring file_search with no
 * files gets a plain chat, not a tool that can only answer "nothing to search"). Read at each model step, so a
 * store attached mid-run is offered at the next one.
 */
export async function availableForRun(
  store: Store,
  available: ReadonlySet<ToolType>,
  run: { project_id: string; assistant_id: string; thread_id: string },
): Promise<ReadonlySet<ToolType>> {
  if (!available.has('file_search')) return available;
  const now = Math.floor(Date.now() / 1000);
  for (const id of await runVectorStoreIds(store, run.project_id, run.assistant_id, run.thread_id)) {
    const row = await store.vectorStores.findStore(run.project_id, id);
    if (row && (row.expires_at === null || row.expires_at > now)) return available;
  }
  return new Set([...available].filter((type) => type !== 'file_search'));
}

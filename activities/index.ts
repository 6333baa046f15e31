import type { Logger } from '../src/logger';
import type { ProviderRegistry } from '../src/model/providers';
import type { TokenCounter } from '../src/model/tokenPool';
import type { Store } from '../src/store';
import type { ServerToolExecutor, ToolType } from '../src/tools';
import type { ServerToolRegistry } from '../src/tools/server/registry';
import { codeCallActivities, sandboxRoutingActivities } from './codeInterpreter';
import { modelActivities } from './model';
import { persistenceActivities } from './persistence';
import { serverFunctionActivities } from './serverFunctions';
import { templateActivities } from './templates';
import { toolActivities } from './tools';
import { vectorStoreActivities } from './vectorStores';
import type { SearchDeps } from '../src/vectorStores/types';

export interface ModelSettings {
  /** A stream silent this long is abandoned and retried (a hung endpoint must not hold a run forever). */
  idleTimeoutMs: number;
}

/** The built-in tools this worker can run; a run offers the model only these (besides its functions). */
export interface ToolServices {
  executors: Partial<Record<'code_interpreter' | 'file_search', ServerToolExecutor>>;
  available: ReadonlySet<ToolType>;
  /** Extension: the operator's server-side functions (a declared function of that name runs on the server). */
  serverFunctions?: ServerToolRegistry;
}

/**
 * `executors`: built-ins run by `runServerTool` on this worker. `routed`: built-ins the run workflow routes
 * elsewhere itself (code_interpreter, to the sandbox workers). Both are offered to the model.
 */
export function toolServices(
  executors: ToolServices['executors'] = {},
  serverFunctions?: ServerToolRegistry,
  routed: ToolType[] = [],
): ToolServices {
  const available = new Set([...(Object.keys(executors) as ToolType[]), ...routed]);
  return { executors, available, serverFunctions };
}

export interface ActivityDeps {
  store: Store;
  logger: Logger;
  model: ModelSettings;
  tools: ToolServices;
  /** Which endpoint serves a run's model, for its project (src/model/providers.ts). */
  providers: ProviderRegistry;
  /** Counts tokens off the event loop (prompt fitting; completions the endpoint reported no usage for). */
  tokens: TokenCounter;
  /** Vector-store search and ingestion: the database, and the embedder and vector index when configured. */
  search?: SearchDeps;
}

/**
 * Activities come from one factory so the worker wires real dependencies and tests inject their own at the
 * same seam; workflows type their proxies with `ReturnType<typeof createActivities>`.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...persistenceActivities(deps),
    ...modelActivities(deps),
    ...toolActivities(deps),
    ...serverFunctionActivities(deps),
    ...templateActivities(deps),
    ...sandboxRoutingActivities(deps),
    ...codeCallActivities(deps),
    ...vectorStoreActivities(deps),
  };
}

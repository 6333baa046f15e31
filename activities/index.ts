import type { Logger } from '../src/logger';
import type { ModelEndpoint } from '../src/model/client';
import type { TokenCounter } from '../src/model/tokenPool';
import type { Store } from '../src/store';
import { modelActivities } from './model';
import { persistenceActivities } from './persistence';

export interface ModelSettings {
  endpoint: ModelEndpoint;
  contextWindowTokens: number;
  /** A stream silent this long is abandoned and retried (a hung endpoint must not hold a run forever). */
  idleTimeoutMs: number;
}

export interface ActivityDeps {
  store: Store;
  logger: Logger;
  model: ModelSettings;
  /** Counts tokens off the event loop (prompt fitting; completions the endpoint reported no usage for). */
  tokens: TokenCounter;
}

/**
 * Activities come from one factory so the worker wires real dependencies and tests inject their own at the
 * same seam; workflows type their proxies with `ReturnType<typeof createActivities>`.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...persistenceActivities(deps),
    ...modelActivities(deps),
  };
}

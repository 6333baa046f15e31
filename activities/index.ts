import type { Logger } from '../src/logger';
import type { ModelEndpoint } from '../src/model/client';
import type { Store } from '../src/store';
import { sandboxRoutingActivities } from './codeInterpreter';
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
}

/**
 * Activities come from one factory so the worker wires real dependencies and tests inject their own at the
 * same seam; workflows type their proxies with `ReturnType<typeof createActivities>`.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...persistenceActivities(deps),
    ...modelActivities(deps),
    ...sandboxRoutingActivities(deps),
  };
}

import type { Logger } from '../src/logger';
import type { ProviderRegistry } from '../src/model/providers';
import type { Store } from '../src/store';
import { modelActivities } from './model';
import { persistenceActivities } from './persistence';

export interface ModelSettings {
  /** A stream silent this long is abandoned and retried (a hung endpoint must not hold a run forever). */
  idleTimeoutMs: number;
}

export interface ActivityDeps {
  store: Store;
  logger: Logger;
  model: ModelSettings;
  /** Which endpoint serves a run's model, for its project (src/model/providers.ts). */
  providers: ProviderRegistry;
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

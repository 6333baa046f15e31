import type { Logger } from '../src/logger';
import type { Store } from '../src/store';

export interface ActivityDeps {
  store: Store;
  logger: Logger;
}

/**
 * Activities come from one factory so the worker wires real dependencies and tests inject their own at the
 * same seam; workflows type their proxies with `ReturnType<typeof createActivities>`.
 */
export function createActivities(deps: ActivityDeps) {
  void deps;
  return {};
}

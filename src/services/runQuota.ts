import { RateLimitError } from '../errors';
import type { Store } from '../store';
import type { RequestScope } from './context';

/** How long a client refused for too many active runs is asked to wait before it tries again. */
const RETRY_AFTER_SECONDS = 2;

/**
 * The concurrent-runs limit of the request's key: its active runs are counted in the database (every API
 * process sees the same runs) when a run is about to be created. Two creations racing for the last slot can
 * both pass, so a key may briefly hold one run per racing request over its limit; it can never keep
 * starting more.
 */
export async function assertRunCapacity(store: Store, scope: RequestScope): Promise<void> {
  const max = scope.maxActiveRuns ?? 0;
  if (max <= 0 || scope.apiKeyId === undefined) return;
  const active = await store.rateLimits.activeRuns(scope.projectId, scope.apiKeyId);
  if (active >= max) {
    throw new RateLimitError(
      `Rate limit reached for active runs on this API key: Limit ${max}, Active ${active}. Wait for a run to finish (or cancel one), then try again.`,
      RETRY_AFTER_SECONDS,
    );
  }
}

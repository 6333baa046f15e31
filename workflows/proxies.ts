import { ActivityCancellationType, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { RunWorkflowInput } from '../src/temporal/shared';

export type Activities = ReturnType<typeof createActivities>;

const PERSIST = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
} as const;

/** The activity proxies a run uses, with the retry and timeout policies its input carries. */
export function runActivities(input: RunWorkflowInput) {
  return {
    model: proxyActivities<Activities>({
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: input.heartbeatTimeoutMs,
      // Wait for the model call to stop (and save what it had) before cleaning up, so the partial message
      // is written once, by the call that produced it.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: {
        initialInterval: input.modelRetry.initialIntervalMs,
        backoffCoefficient: 2,
        maximumInterval: '30 seconds',
        maximumAttempts: input.modelRetry.maximumAttempts,
      },
    }),
    /** Short database writes: local activities, no server round trip each. */
    db: proxyLocalActivities<Activities>(PERSIST),
    /** Built-in tools executed on the server (file_search, and code_interpreter's fallback path). */
    tools: proxyActivities<Activities>({
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: input.heartbeatTimeoutMs,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3 },
    }),
  };
}

/**
 * The same writes as regular activities, for the one that must not run ahead of the history. A shorter
 * start-to-close than the local ones: the server hands it eagerly to the worker that scheduled it, and if that
 * worker dies holding it, nothing but this timeout moves it on (30 s stalled a run in the crash benchmark).
 * Patched although timeouts are not part of replay's command matching: runs started before keep the 30 s they
 * were started with. `current`: the run is on today's shape (RUN_SHAPE in run.ts): 2 s, as a write takes
 * milliseconds and a timeout only retries the idempotent write (a kill holding it cost 5 s more than the
 * heartbeat-timed ones in the crash trace, `ab.js crashtrace`); the older patch is then not asked for at all,
 * so new runs do not record its marker.
 */
export function durableWrites(current: boolean) {
  if (current) return proxyActivities<Activities>({ ...PERSIST, startToCloseTimeout: '2 seconds' });
  return proxyActivities<Activities>(
    patched('durable-write-5s-timeout') ? { ...PERSIST, startToCloseTimeout: '5 seconds' } : PERSIST,
  );
}

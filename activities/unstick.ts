import { Context } from '@temporalio/activity';
import type { Logger } from '../src/logger';

/**
 * A retried attempt of a run's regular activity (the model call, a built-in tool, a durable write) most often
 * means the worker that ran the earlier attempt died: its heartbeat or start-to-close timed out. That worker
 * also has the run's workflow cached, so the workflow task that follows this attempt would be offered to its
 * sticky queue first and wait out the sticky schedule-to-start timeout (1 s) before another worker got it
 * (bench/FINDINGS.md, round 2, section 8). Resetting stickiness now sends that task to the normal queue. When
 * the earlier worker is in fact alive (the attempt failed on a model fault), the cost is one history replay on
 * whichever worker takes the task. Best effort and not awaited: the attempt's own work never waits for it or
 * fails with it.
 */
export function unstickAfterRetry(logger: Logger): void {
  const ctx = Context.current();
  const { attempt, isLocal, workflowExecution, workflowNamespace } = ctx.info;
  // A local activity's retries run on the worker that has the workflow cached, alive: nothing to move.
  if (attempt <= 1 || isLocal || !workflowExecution || !workflowNamespace) return;
  let client;
  try {
    client = ctx.client;
  } catch {
    return; // a test's MockActivityEnvironment without a client
  }
  client.workflowService
    .resetStickyTaskQueue({ namespace: workflowNamespace, execution: workflowExecution })
    .catch((error: unknown) =>
      logger.debug({ err: error, workflowId: workflowExecution.workflowId }, 'resetting stickiness failed'),
    );
}

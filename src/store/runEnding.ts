import { messageStatus, stepStatus } from '../streaming/events';
import type { RunError } from '../temporal/shared';
import { messageObject } from '../wire/objects';
import { runStepObject } from '../wire/runs';
import type { Store } from './index';
import { toJson } from './json';

export interface OpenItemsEnding {
  projectId: string;
  runId: string;
  stepStatus: 'cancelled' | 'expired' | 'failed';
  messageReason: 'run_cancelled' | 'run_expired' | 'run_failed';
  lastError: RunError | null;
  at: number;
}

const STAMP = { cancelled: 'cancelled_at', expired: 'expired_at', failed: 'failed_at' } as const;

/**
 * When a run ends early: its open step takes the run's fate and its unfinished message becomes incomplete.
 * Conditional on the rows still being open, so it is safe to repeat (the workflow's cleanup, or the API
 * reconciling a run whose workflow vanished). Logs what it closed, message first, then its step: the
 * inside-out order the streams use (reference §4.6).
 */
export async function closeOpenRunItems(store: Store, ending: OpenItemsEnding): Promise<void> {
  await store.runSteps.closeOpen(ending.projectId, ending.runId, {
    status: ending.stepStatus,
    [STAMP[ending.stepStatus]]: ending.at,
    last_error: ending.lastError && ending.stepStatus === 'failed' ? toJson(stepError(ending.lastError)) : null,
  });
  await store.messages.closeOpenForRun(ending.projectId, ending.runId, {
    status: 'incomplete',
    incomplete_at: ending.at,
    incomplete_details: toJson({ reason: ending.messageReason }),
  });
  // Everything this ending closed, now or in an earlier try that died before logging: the log's keys make
  // repeats no-ops, and an item closed for another reason (a message cut at max_tokens) was logged then.
  const reason = JSON.stringify({ reason: ending.messageReason });
  const messages = (await store.messages.forRun(ending.projectId, ending.runId)).filter(
    (m) => m.status === 'incomplete' && m.incomplete_details === reason,
  );
  const steps = (await store.runSteps.listForRun(ending.projectId, ending.runId)).filter(
    (step) => step.status === ending.stepStatus,
  );
  await store.runEvents.append(ending.runId, [
    ...messages.map((m) => messageStatus(messageObject(m))),
    ...steps.map((step) => stepStatus(runStepObject(step))),
  ]);
}

/** Step errors only know `server_error` and `rate_limit_exceeded`. */
function stepError(error: RunError): { code: 'server_error' | 'rate_limit_exceeded'; message: string } {
  return {
    code: error.code === 'rate_limit_exceeded' ? 'rate_limit_exceeded' : 'server_error',
    message: error.message,
  };
}

import type { RunError, RunState } from '../src/temporal/shared';
import { fromJson, toJson } from '../src/store/json';
import type { ActivityDeps } from './index';

type StoredToolCall = {
  id: string;
  type: 'function';
  function: { name: string; arguments: string; output: string | null };
};

/**
 * Short database writes the run workflow makes on every transition (run as local activities: no server
 * round trip each). Each is idempotent: version-guarded, or conditional on the row still being open.
 */
export function persistenceActivities({ store }: ActivityDeps) {
  return {
    async persistRun(input: { projectId: string; runId: string; state: RunState }): Promise<void> {
      await store.runs.applyState(input.projectId, input.runId, input.state);
    },

    /** The tool_calls step completes when the outputs arrive, each `function.output` filled in. */
    async completeToolStep(input: {
      projectId: string;
      stepId: string;
      outputs: Array<{ tool_call_id: string; output: string }>;
      completedAt: number;
    }): Promise<void> {
      const step = await store.runSteps.findById(input.projectId, input.stepId);
      if (!step || step.status !== 'in_progress') return;
      const details = fromJson<{ type: 'tool_calls'; tool_calls: StoredToolCall[] }>(step.step_details);
      const byId = new Map(input.outputs.map((o) => [o.tool_call_id, o.output]));
      for (const call of details.tool_calls) call.function.output = byId.get(call.id) ?? call.function.output;
      await store.runSteps.updateIfOpen(input.projectId, input.stepId, {
        status: 'completed',
        completed_at: input.completedAt,
        step_details: toJson(details),
      });
    },

    /** When a run ends early: its open step gets the run's fate, its unfinished message becomes incomplete. */
    async closeOpenItems(input: {
      projectId: string;
      runId: string;
      stepStatus: 'cancelled' | 'expired' | 'failed';
      messageReason: string;
      lastError: RunError | null;
      at: number;
    }): Promise<void> {
      const stamp = { cancelled: 'cancelled_at', expired: 'expired_at', failed: 'failed_at' } as const;
      await store.runSteps.closeOpen(input.projectId, input.runId, {
        status: input.stepStatus,
        [stamp[input.stepStatus]]: input.at,
        last_error: input.lastError && input.stepStatus === 'failed' ? toJson(stepError(input.lastError)) : null,
      });
      await store.messages.closeOpenForRun(input.projectId, input.runId, {
        status: 'incomplete',
        incomplete_at: input.at,
        incomplete_details: toJson({ reason: input.messageReason }),
      });
    },
  };
}

/** Step errors only know `server_error` and `rate_limit_exceeded`. */
function stepError(error: RunError): { code: 'server_error' | 'rate_limit_exceeded'; message: string } {
  return {
    code: error.code === 'rate_limit_exceeded' ? 'rate_limit_exceeded' : 'server_error',
    message: error.message,
  };
}

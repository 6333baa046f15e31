import type { RunState } from '../src/temporal/shared';
import { closeOpenRunItems, type OpenItemsEnding } from '../src/store/runEnding';
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
    async closeOpenItems(input: OpenItemsEnding): Promise<void> {
      await closeOpenRunItems(store, input);
    },
  };
}

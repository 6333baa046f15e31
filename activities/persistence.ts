import { runStatus, stepStatus } from '../src/streaming/events';
import type { RunState } from '../src/temporal/shared';
import { runObjectAt, runStepObject } from '../src/wire/runs';
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
    /**
     * Writes the snapshot and logs its `thread.run.<status>` event, keyed by version: a retried or replayed
     * persist logs nothing twice. The event shows this snapshot even if the row has moved on since.
     */
    async persistRun(input: { projectId: string; runId: string; state: RunState }): Promise<void> {
      const row = await store.runs.findById(input.projectId, input.runId);
      if (!row) return;
      // One transaction: a client that reads the new status (and e.g. streams a submission from it) always
      // finds its event in the log.
      await store.runEvents.append(input.runId, [runStatus(runObjectAt(row, input.state), input.state.version)], {
        alongside: (trx) => store.runs.applyState(input.projectId, input.runId, input.state, trx),
      });
    },

    /** The tool_calls step completes when the outputs arrive, each `function.output` filled in. */
    async completeToolStep(input: {
      projectId: string;
      stepId: string;
      outputs: Array<{ tool_call_id: string; output: string }>;
      completedAt: number;
    }): Promise<void> {
      const step = await store.runSteps.findById(input.projectId, input.stepId);
      if (!step) return;
      if (step.status !== 'in_progress') {
        // Completed by an earlier attempt that died before logging it: log it now (a no-op if it was).
        if (step.status === 'completed') await store.runEvents.append(step.run_id, [stepStatus(runStepObject(step))]);
        return;
      }
      const details = fromJson<{ type: 'tool_calls'; tool_calls: StoredToolCall[] }>(step.step_details);
      const byId = new Map(input.outputs.map((o) => [o.tool_call_id, o.output]));
      for (const call of details.tool_calls) call.function.output = byId.get(call.id) ?? call.function.output;
      await store.runSteps.updateIfOpen(input.projectId, input.stepId, {
        status: 'completed',
        completed_at: input.completedAt,
        step_details: toJson(details),
      });
      const completed = await store.runSteps.findById(input.projectId, input.stepId);
      if (completed) await store.runEvents.append(completed.run_id, [stepStatus(runStepObject(completed))]);
    },

    /** When a run ends early: its open step gets the run's fate, its unfinished message becomes incomplete. */
    async closeOpenItems(input: OpenItemsEnding): Promise<void> {
      await closeOpenRunItems(store, input);
    },
  };
}

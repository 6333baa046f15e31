import { runStatus, stepStatus } from '../src/streaming/events';
import type { RunState } from '../src/temporal/shared';
import { runObjectAt, runStepObject } from '../src/wire/runs';
import { closeOpenRunItems, type OpenItemsEnding } from '../src/store/runEnding';
import { fromJson, toJson } from '../src/store/json';
import type { Store } from '../src/store';
import type { RunRow } from '../src/store/repositories/runs';
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
    /** Writes the run's snapshot with its event (see persistRunState). */
    async persistRun(input: { projectId: string; runId: string; state: RunState }): Promise<void> {
      const row = await store.runs.findById(input.projectId, input.runId);
      if (row) await persistRunState(store, row, input.state);
    },

    /** After tool outputs: the tool_calls step completes, then the run's `queued` snapshot is written. */
    async resumeRun(input: ToolStepCompletion & { runId: string; state: RunState }): Promise<void> {
      await completeToolStep(store, input);
      const row = await store.runs.findById(input.projectId, input.runId);
      if (row) await persistRunState(store, row, input.state);
    },

    /** The tool_calls step completes when the outputs arrive (runs started before resumeRun existed). */
    completeToolStep: (input: ToolStepCompletion) => completeToolStep(store, input),

    /** When a run ends early: its open step gets the run's fate, its unfinished message becomes incomplete. */
    async closeOpenItems(input: OpenItemsEnding): Promise<void> {
      await closeOpenRunItems(store, input);
    },
  };
}

interface ToolStepCompletion {
  projectId: string;
  stepId: string;
  outputs: Array<{ tool_call_id: string; output: string }>;
  completedAt: number;
}

/**
 * Writes a run snapshot and logs its `thread.run.<status>` event in one transaction (keyed by version, so a
 * retried or replayed write logs nothing twice): a client that reads the new status, and e.g. streams a
 * submission from it, always finds its event in the log. The event shows this snapshot even if the row has
 * moved on since.
 */
export async function persistRunState(store: Store, row: RunRow, state: RunState): Promise<void> {
  await store.runEvents.append(row.id, [runStatus(runObjectAt(row, state), state.version)], {
    alongside: (trx) => store.runs.applyState(row.project_id, row.id, state, trx),
  });
}

/** The tool_calls step completes when the outputs arrive, each `function.output` filled in. */
async function completeToolStep(store: Store, input: ToolStepCompletion): Promise<void> {
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
}

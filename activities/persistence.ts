import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import { runStatus, stepStatus } from '../src/streaming/events';
import type { ResumeRun, RunState, ToolStepCompletion } from '../src/temporal/shared';
import { runObjectAt, runStepObject } from '../src/wire/runs';
import { closeOpenRunItems, type OpenItemsEnding } from '../src/store/runEnding';
import { fromJson, toJson } from '../src/store/json';
import type { Store } from '../src/store';
import type { RunRow } from '../src/store/repositories/runs';
import type { RunStepRow } from '../src/store/repositories/runSteps';
import { SERVER_SOURCE } from '../src/store/repositories/toolOutputs';
import type { ActivityDeps } from './index';
import { unstickAfterRetry } from './unstick';

/**
 * Short database writes the run workflow makes on every transition (run as local activities: no server
 * round trip each). Each is idempotent: version-guarded, or conditional on the row still being open.
 */
export function persistenceActivities({ store, logger }: ActivityDeps) {
  return {
    /** Writes the run's snapshot with its event (see persistRunState). */
    async persistRun(input: { projectId: string; runId: string; state: RunState }): Promise<void> {
      unstickAfterRetry(logger); // as a regular activity (durableDb) its worker may have died holding it
      const row = await store.runs.findById(input.projectId, input.runId);
      if (row) await persistRunState(store, row, input.state);
    },

    /**
     * After tool outputs, as an activity of its own: runs recorded before the model call did this itself
     * (run-shape-2026-12, workflows/run.ts).
     */
    async resumeRun(input: ResumeRun): Promise<void> {
      unstickAfterRetry(logger);
      const row = await store.runs.findById(input.projectId, input.runId);
      if (row) await recordOutputs(store, row, input);
    },

    /**
     * The tool_calls step completes: when the client's outputs arrive (runs started before resumeRun existed),
     * or when a step of built-in calls only has run them all.
     */
    completeToolStep: (input: ToolStepCompletion) => completeToolStep(store, input),

    /**
     * Extension: before a step that mixes server-run and client calls waits for the client, the results the
     * server already has show on the (still open) step, as its deltas showed them.
     */
    async showServerResults(input: { projectId: string; stepId: string }): Promise<void> {
      const step = await store.runSteps.findById(input.projectId, input.stepId);
      if (step?.status !== 'in_progress') return;
      const details = await detailsWithResults(store, step, new Map());
      await store.runSteps.updateIfOpen(input.projectId, input.stepId, { step_details: details });
    },

    /** When a run ends early: its open step gets the run's fate, its unfinished message becomes incomplete. */
    async closeOpenItems(input: OpenItemsEnding): Promise<void> {
      await closeOpenRunItems(store, input);
    },
  };
}

/**
 * Writes a run snapshot and logs its `thread.run.<status>` event in one transaction (keyed by version, so a
 * retried or replayed write logs nothing twice): a client that reads the new status, and e.g. streams a
 * submission from it, always finds its event in the log. The event shows this snapshot even if the row has
 * moved on since.
 */
export async function persistRunState(store: Store, row: RunRow, state: RunState): Promise<void> {
  await store.runEvents.append(row.id, [runStatus(runObjectAt(row, state), state.version)], {
    runState: { projectId: row.project_id, state },
  });
}

/** After tool outputs: the tool_calls step completes, then the run's `queued` snapshot is written. */
export async function recordOutputs(store: Store, row: RunRow, resume: ResumeRun): Promise<void> {
  await completeToolStep(store, resume);
  await persistRunState(store, row, resume.state);
}

/**
 * The tool_calls step completes with every call's result filled in: each client function's `output` from the
 * client, each call the server ran as its executor recorded it.
 */
async function completeToolStep(store: Store, input: ToolStepCompletion): Promise<void> {
  const step = await store.runSteps.findById(input.projectId, input.stepId);
  if (!step) return;
  if (step.status !== 'in_progress') {
    // Completed by an earlier attempt that died before logging it: log it now (a no-op if it was).
    if (step.status === 'completed') await store.runEvents.append(step.run_id, [stepStatus(runStepObject(step))]);
    return;
  }
  const outputs = new Map(input.outputs.map((o) => [o.tool_call_id, o.output]));
  if (input.storedAs !== undefined) {
    for (const row of await store.toolOutputs.forSource(input.projectId, step.run_id, input.storedAs)) {
      outputs.set(row.call_id, row.output);
    }
  }
  await store.runSteps.updateIfOpen(input.projectId, input.stepId, {
    status: 'completed',
    completed_at: input.completedAt,
    step_details: await detailsWithResults(store, step, outputs),
  });
  const completed = await store.runSteps.findById(input.projectId, input.stepId);
  if (completed) await store.runEvents.append(completed.run_id, [stepStatus(runStepObject(completed))]);
}

/**
 * The step's tool calls with what is known of their results: each client function's `output` from `outputs`,
 * each call the server ran (built-ins, server-side functions) as its executor recorded it.
 */
async function detailsWithResults(store: Store, step: RunStepRow, outputs: ReadonlyMap<string, string>) {
  const details = fromJson<{ type: 'tool_calls'; tool_calls: ToolCall[] }>(step.step_details);
  const ids = details.tool_calls.filter((call) => !outputs.has(call.id)).map((call) => call.id);
  const results = new Map(
    (await store.toolOutputs.forSource(step.project_id, step.run_id, SERVER_SOURCE, ids)).map((r) => [r.call_id, r]),
  );
  details.tool_calls = details.tool_calls.map((call) => {
    const recorded = results.get(call.id)?.call;
    if (recorded) return fromJson<ToolCall>(recorded);
    if (call.type === 'function') {
      return { ...call, function: { ...call.function, output: outputs.get(call.id) ?? call.function.output } };
    }
    return call;
  });
  return toJson(details);
}

import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import { runStatus, stepStatus } from '../src/streaming/events';
import type { NewRunEvent } from '../src/store/repositories/runEvents';
import type { ResumeRun, RunState, ToolStepCompletion } from '../src/temporal/shared';
import { runObjectAt, runStepObject } from '../src/wire/runs';
import { closeOpenRunItems, type OpenItemsEnding } from '../src/store/runEnding';
import { fromJson, toJson } from '../src/store/json';
import type { Store } from '../src/store';
import type { RunRow } from '../src/store/repositories/runs';
import type { RunStepRow } from '../src/store/repositories/runSteps';
import { SERVER_SOURCE, type ToolOutputRow } from '../src/store/repositories/toolOutputs';
import { allInOrder } from '../src/settled';
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
  await persistRunStates(store, row, [state]);
}

/**
 * Several snapshots in a row (e.g. `queued`, then `in_progress`), after `before` (e.g. the step that
 * completed), in one append: one transaction and, on PostgreSQL, one round trip. Each snapshot's event is
 * logged as it was; the row gets the last one (an earlier one is already superseded).
 */
export async function persistRunStates(
  store: Store,
  row: RunRow,
  states: RunState[],
  before: NewRunEvent[] = [],
): Promise<void> {
  const last = states.at(-1);
  const events = [...before, ...states.map((state) => runStatus(runObjectAt(row, state), state.version))];
  await store.runEvents.append(row.id, events, last ? { runState: { projectId: row.project_id, state: last } } : {});
}

/** After tool outputs (older runs' `resumeRun`): the tool_calls step completes, then the run's `queued` snapshot. */
async function recordOutputs(store: Store, row: RunRow, resume: ResumeRun): Promise<void> {
  const completed = await toolStepCompletion(store, resume);
  await persistRunStates(store, row, [resume.state], completed?.events);
}

/**
 * The tool_calls step completes with every call's result filled in: each client function's `output` from the
 * client, each call the server ran as its executor recorded it. Its event is logged here.
 */
async function completeToolStep(store: Store, input: ToolStepCompletion): Promise<void> {
  const completed = await toolStepCompletion(store, input);
  if (completed) await store.runEvents.append(completed.runId, completed.events);
}

/**
 * Completes the step (only while it is open) and returns its `completed` event for the caller to log:
 * undefined if the step is gone, no event if it ended otherwise (e.g. cancelled). A step completed by an
 * earlier attempt that died before logging it gets its event now (a no-op to log if it was logged).
 */
export async function toolStepCompletion(
  store: Store,
  input: ToolStepCompletion,
  recorded?: Promise<ToolOutputRow[]>,
): Promise<{ runId: string; events: NewRunEvent[] } | undefined> {
  // What the step's completion reads, at once: the step, the client's stored outputs (when the run id is
  // known up front) and the server's results (`recorded`: all of the run's, when the caller reads them anyway).
  const [step, storedEarly, recordedRows] = await allInOrder([
    store.runSteps.findById(input.projectId, input.stepId),
    input.storedAs !== undefined && input.runId !== undefined
      ? store.toolOutputs.forSource(input.projectId, input.runId, input.storedAs)
      : Promise.resolve(undefined),
    recorded ?? Promise.resolve(undefined),
  ]);
  if (!step) return undefined;
  const logged = (row: RunStepRow | undefined) => ({
    runId: step.run_id,
    events: row?.status === 'completed' ? [stepStatus(runStepObject(row))] : [],
  });
  if (step.status !== 'in_progress') return logged(step);
  const outputs = new Map(input.outputs.map((o) => [o.tool_call_id, o.output]));
  const [stored, results] = await allInOrder([
    storedEarly || input.storedAs === undefined
      ? Promise.resolve(storedEarly ?? [])
      : store.toolOutputs.forSource(input.projectId, step.run_id, input.storedAs),
    recordedRows
      ? Promise.resolve(new Map(recordedRows.map((r) => [r.call_id, r.call])))
      : serverResults(store, step, outputs),
  ]);
  for (const row of stored) outputs.set(row.call_id, row.output);
  const changes = {
    status: 'completed',
    completed_at: input.completedAt,
    step_details: withResults(step, outputs, results),
  };
  const updated = await store.runSteps.updateIfOpen(input.projectId, input.stepId, changes);
  // Updated: the row is what was read plus these changes. Not: another writer got there first; read it.
  return logged(updated ? { ...step, ...changes } : await store.runSteps.findById(input.projectId, input.stepId));
}

/**
 * The step's tool calls with what is known of their results: each client function's `output` from `outputs`,
 * each call the server ran (built-ins, server-side functions) as its executor recorded it.
 */
async function detailsWithResults(store: Store, step: RunStepRow, outputs: ReadonlyMap<string, string | undefined>) {
  return withResults(step, outputs, await serverResults(store, step, outputs));
}

/** What the server recorded for the step's calls the client does not answer (`outputs` names those it does). */
async function serverResults(
  store: Store,
  step: RunStepRow,
  outputs: ReadonlyMap<string, unknown>,
): Promise<Map<string, string | null>> {
  const ids = callsOf(step)
    .filter((call) => !outputs.has(call.id))
    .map((call) => call.id);
  const rows = await store.toolOutputs.forSource(step.project_id, step.run_id, SERVER_SOURCE, ids);
  return new Map(rows.map((r) => [r.call_id, r.call]));
}

/** The step's details with `outputs` on its function calls and the server's recorded calls in place. */
function withResults(
  step: RunStepRow,
  outputs: ReadonlyMap<string, string | undefined>,
  recorded: ReadonlyMap<string, string | null>,
): string {
  const details = fromJson<{ type: 'tool_calls'; tool_calls: ToolCall[] }>(step.step_details);
  details.tool_calls = details.tool_calls.map((call) => {
    const result = outputs.has(call.id) ? undefined : recorded.get(call.id);
    if (result) return fromJson<ToolCall>(result);
    if (call.type === 'function') {
      return { ...call, function: { ...call.function, output: outputs.get(call.id) ?? call.function.output } };
    }
    return call;
  });
  return toJson(details);
}

const callsOf = (step: RunStepRow) => fromJson<{ tool_calls: ToolCall[] }>(step.step_details).tool_calls;

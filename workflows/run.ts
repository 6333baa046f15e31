import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  RunStatusKey,
  cancelRunUpdate,
  getRunQuery,
  submitToolOutputsUpdate,
  toolOutputsSignal,
  type RunError,
  type RunState,
  type RunWorkflowInput,
  type ResumeRun,
  type ServerToolCall,
  type ToolOutputsPayload,
} from '../src/temporal/shared';
import { durableWrites, runActivities } from './proxies';
import { mintId } from './ids';
import {
  cancelProblem,
  endingOf,
  initialMachine,
  outputsProblem,
  reduce,
  toRunError,
  type RunEvent,
} from './runMachine';
import { runServerCall } from './serverTools';

/**
 * The first write after an Update (tool outputs, cancel) is a regular activity, not a local one. An Update is
 * accepted only when the workflow task that ran its handler is committed; a local activity runs before that,
 * so when the task was lost (its worker killed, or timed out) together with the Update, the database already
 * said `queued` (or `cancelled`) for a run whose workflow, replayed, was still waiting for its outputs. The
 * crash loop (test/integration/crashLoop.test.ts) found such runs. Runs started before this marker replay as
 * they ran.
 */
const UPDATE_EFFECTS_AFTER_COMMIT = 'update-effects-after-commit';

/**
 * Every run started from this version on takes today's shape at once: this one marker stands for the four
 * patches before it (durable-write-5s-timeout, model-call-writes-in-progress, update-effects-after-commit,
 * waiting-step-shows-server-results), which new runs no longer record. Each patch costs a marker and an upsert
 * of TemporalChangeVersion in the history (the SDK's core adds it), and each upsert a visibility write on the
 * server. Runs recorded before it carry no such marker, read `false` here once at their start, and replay
 * through the separate patches as they ran. It also marks the quieter status mirror (showStatus).
 */
const RUN_SHAPE = 'run-shape-2026-11';

/**
 * The shape after RUN_SHAPE, and everything RUN_SHAPE stands for: after tool outputs the next model call
 * records them (the tool_calls step completes, the run is queued) as its first act, instead of a write
 * activity of its own before it. That was one activity task and one workflow task per tool round, between
 * the client's outputs and the next model request. The guarantee of UPDATE_EFFECTS_AFTER_COMMIT holds: the
 * model call is a regular activity too, scheduled by the task that accepted the outputs. A run recorded on
 * RUN_SHAPE reads `false` here and replays through `resumeRun`.
 */
const RUN_SHAPE_OUTPUTS_IN_MODEL_CALL = 'run-shape-2026-12';

const seconds = () => Math.floor(Date.now() / 1000);

/**
 * One Assistants run, start to end: call the model; run the built-in tools it calls; hand function calls to
 * the client through `requires_action`; loop until the model answers in text, the step budget is spent, the
 * run is cancelled, or it expires. This function only sequences: what each happening does to the run is
 * `runMachine.ts`, and every read and write of messages, steps and the run row is an activity keyed by ids
 * minted here.
 */
export async function runWorkflow(input: RunWorkflowInput): Promise<RunState> {
  // Read once, at the first activation: later in a run that started before it, a fresh patched() call would
  // answer true once replay is over and mix the two shapes.
  // New runs record only the newest marker: `||` does not ask for the older one once the newer answers true.
  const outputsInModelCall = patched(RUN_SHAPE_OUTPUTS_IN_MODEL_CALL);
  const current = outputsInModelCall || patched(RUN_SHAPE);
  const { model, db } = runActivities(input);
  const durableDb = durableWrites(current);
  const ids = { projectId: input.projectId, runId: input.runId };
  let m = initialMachine(input.expiresAt);
  const apply = (event: RunEvent): RunState => {
    m = reduce(m, event);
    return { ...m.run };
  };
  const loop = new CancellationScope();

  /**
   * Mirrors the status into the Temporal UI (commands only, no round trip). Each upsert is a history event and
   * a visibility write on the server, so runs on today's shape upsert only a change, and skip `queued`: the
   * start shows it, and after tool outputs it lasts one activity until the next step shows `in_progress` (the
   * mirror lags the API by that long; the API is the source of truth). Older runs upserted every time.
   */
  let shown: string = 'queued';
  function showStatus(): void {
    const status = m.run.status;
    setCurrentDetails(`**${status}** · ${input.runId} on ${input.threadId}`);
    if (current && (status === shown || status === 'queued')) return;
    upsertSearchAttributes([{ key: RunStatusKey, value: status }]);
    shown = status;
  }

  /**
   * Writes the current snapshot (version-guarded) and mirrors the status into the Temporal UI. `durable`: the
   * change came from an Update, whose acceptance is only committed with the workflow task (see
   * UPDATE_EFFECTS_AFTER_COMMIT).
   */
  async function persistCurrent(durable = false): Promise<void> {
    showStatus();
    // A local activity writes before its workflow task is committed, so the database can run ahead of the
    // history. For `requires_action` that is not harmless: a client that reads it and submits outputs while a
    // new worker is still replaying would be refused. A regular activity only runs once the task that decided
    // it is in the history, so that write never gets ahead of what the validators will see.
    const writer = durable || m.run.status === 'requires_action' ? durableDb : db;
    await writer.persistRun({ ...ids, state: { ...m.run } });
  }

  async function transition(event: RunEvent): Promise<void> {
    // A step that finished just as a cancel or the expiry arrived must not move the run on (to completed, or
    // requires_action) on its way out: finish() decides how the run ends.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('run loop cancelled');
    apply(event);
    await persistCurrent();
  }

  const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
  setHandler(getRunQuery, () => ({ ...m.run }));
  setHandler(submitToolOutputsUpdate, (payload) => apply({ type: 'outputs_accepted', payload }), {
    validator: (payload: ToolOutputsPayload) => {
      const problem = outputsProblem(m, payload, Date.now());
      if (problem) throw refuse('InvalidToolOutputs', problem);
    },
  });
  setHandler(toolOutputsSignal, (payload: ToolOutputsPayload) => {
    // A signal cannot be refused like an update, and a throw here would fail every workflow task from now
    // on: whatever arrives, a bad one is logged and ignored.
    const problem = outputsProblem(m, payload, Date.now());
    if (problem) log.warn('ignored invalid submit_tool_outputs signal', { runId: input.runId, problem });
    else apply({ type: 'outputs_accepted', payload });
  });
  setHandler(
    cancelRunUpdate,
    () => {
      const snapshot = apply({ type: 'cancel_requested' });
      loop.cancel();
      return snapshot;
    },
    {
      validator: () => {
        const problem = cancelProblem(m);
        if (problem) throw refuse('RunNotCancellable', problem);
      },
    },
  );

  async function agentLoop(): Promise<void> {
    if (input.unsupportedTools?.length) {
      // Only runs started before the tool seam carry this list; they failed this way and replay so.
      throw ApplicationFailure.create({
        type: 'UnsupportedTool',
        message: `This server cannot run the ${input.unsupportedTools.join(' and ')} tool yet; remove it from the assistant or the run's tools.`,
        nonRetryable: true,
      });
    }
    // Runs started before this patch wrote `in_progress` with a local activity of its own and completed the
    // tool step and re-queued with two more; they replay that way. New runs save those round trips: the model
    // call writes `in_progress` as its first act, and after outputs it records them first too
    // (RUN_SHAPE_OUTPUTS_IN_MODEL_CALL; runs on RUN_SHAPE alone resume with one `resumeRun` activity).
    const fewerRoundTrips = current || patched('model-call-writes-in-progress');
    /** Tool outputs accepted but not yet recorded: the next model call records them first. */
    let resume: ResumeRun | undefined;
    for (let step = 1; ; step++) {
      let startState: RunState | undefined;
      if (fewerRoundTrips) {
        if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('run loop cancelled');
        const before = m.run.version;
        apply({ type: 'model_step_started', at: seconds() });
        // Between rounds of built-in tools the run is still in progress: nothing new to write or show.
        if (m.run.version !== before) {
          startState = { ...m.run };
          showStatus();
        }
      } else {
        await transition({ type: 'model_step_started', at: seconds() });
      }
      const result = await model.callModel({
        ...(resume ? { resume } : {}),
        runState: startState,
        ...ids,
        threadId: input.threadId,
        assistantId: input.assistantId,
        messageStepId: mintId('step_'),
        toolStepId: mintId('step_'),
        messageId: mintId('msg_'),
        // Past the step budget the model may only answer in text: a looping model cannot run forever.
        toolChoiceNone: step > input.maxSteps,
        promptTokensUsed: m.usage.prompt_tokens,
        completionTokensUsed: m.usage.completion_tokens,
      });
      resume = undefined;
      apply({ type: 'usage_reported', usage: result.usage });
      if (result.kind === 'incomplete') return transition({ type: 'incomplete', reason: result.reason });
      if (result.kind === 'message') return transition({ type: 'completed', at: seconds() });

      // Built-in tools run first, in parallel; their results land on the step in the database.
      const serverCalls: ServerToolCall[] = result.serverCalls ?? [];
      await Promise.all(serverCalls.map((call) => runServerCall(input, result.stepId, call)));
      if (result.toolCalls.length === 0) {
        // Only built-in calls: the step completes and the model goes on, the run still in progress.
        await db.completeToolStep({ ...ids, stepId: result.stepId, outputs: [], completedAt: seconds() });
        continue;
      }
      // The waiting step shows what the server already answered. Patched: a history recorded while built-in
      // executors were being added may have waited without this write.
      if (serverCalls.length > 0 && (current || patched('waiting-step-shows-server-results'))) {
        await db.showServerResults({ projectId: input.projectId, stepId: result.stepId });
      }
      await transition({ type: 'tool_calls_pending', calls: result.toolCalls });
      await condition(() => m.outputs !== null);
      const accepted = m.outputs ?? { outputs: [], storedAs: undefined };
      const completion = { ...ids, stepId: result.stepId, outputs: accepted.outputs, completedAt: seconds() };
      if (accepted.storedAs !== undefined) Object.assign(completion, { storedAs: accepted.storedAs });
      if (outputsInModelCall) {
        showStatus();
        // The tool_calls step completes, then the run is queued again (the resumed stream's first events):
        // written by the next model call before its `in_progress`.
        resume = { ...completion, state: { ...m.run } };
      } else if (fewerRoundTrips) {
        showStatus();
        // The tool_calls step completes, then the run is queued again (the resumed stream's first events).
        const resumer = current || patched(UPDATE_EFFECTS_AFTER_COMMIT) ? durableDb : db;
        await resumer.resumeRun({ ...completion, state: { ...m.run } });
      } else if (patched('tool-step-completes-before-queued')) {
        // Runs started before streaming persisted the other way round and must replay as they ran.
        await db.completeToolStep(completion);
        await persistCurrent(); // 'queued', set by the handler that accepted the outputs
      } else {
        await persistCurrent();
        await db.completeToolStep(completion);
      }
      apply({ type: 'outputs_recorded' });
    }
  }

  // Expiry is a durable timer racing the whole loop: at expires_at whatever the run is doing stops.
  const expiry = new CancellationScope();
  void expiry
    .run(() => sleep(Math.max(1, input.expiresAt * 1000 - Date.now())))
    .then(
      () => {
        apply({ type: 'expiry_reached' });
        loop.cancel();
      },
      () => undefined, // the run ended first and cancelled the timer
    );

  try {
    await loop.run(agentLoop);
  } catch (error) {
    await CancellationScope.nonCancellable(() => finish(error));
  } finally {
    expiry.cancel();
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return { ...m.run };

  /** Ends the run after the loop threw; how it ends is the machine's call (`endingOf`). */
  async function finish(error: unknown): Promise<void> {
    const at = seconds();
    const close = (
      stepStatus: 'cancelled' | 'expired' | 'failed',
      messageReason: 'run_cancelled' | 'run_expired' | 'run_failed',
      lastError: RunError | null,
    ) => db.closeOpenItems({ ...ids, stepStatus, messageReason, lastError, at });
    switch (endingOf(m, { cancellation: isCancellation(error) || loop.consideredCancelled })) {
      case 'already-ended':
        return persistCurrent();
      case 'cancelled': {
        // A cancel update already showed `cancelling`; one requested from the Temporal UI shows it now.
        const byUpdate = m.run.status === 'cancelling';
        if (!byUpdate) apply({ type: 'cancel_requested' });
        await persistCurrent(byUpdate && (current || patched(UPDATE_EFFECTS_AFTER_COMMIT)));
        await close('cancelled', 'run_cancelled', null);
        return transition({ type: 'cancelled', at });
      }
      case 'expired':
        await close('expired', 'run_expired', null);
        return transition({ type: 'expired' });
      case 'failed': {
        const lastError = toRunError(error);
        log.warn('run failed', { runId: input.runId, error: lastError.message });
        await close('failed', 'run_failed', lastError);
        return transition({ type: 'failed', at, error: lastError });
      }
    }
  }
}
